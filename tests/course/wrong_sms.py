"""Plausible wrong answers to the code exercises of book/sms_spam.md.

Each exercise label maps to a list of wrong solutions (the whole solution
cell), each with a part of the diagnosis its self-check must give.
"""

WRONG_ANSWERS = {
    "sms-nearest-words": [
        {
            # ranks by the raw inner product: long vectors win whatever
            # their direction
            "code": '''import numpy as np


def nearest_words(V, i, n):
    """Indices of the n rows of V most cosine-similar to row i."""
    V = np.asarray(V, dtype=float)
    similarity = V @ V[i]
    similarity[i] = -np.inf
    return np.argsort(-similarity, kind="stable")[:n]
''',
            "hint": "long vectors win whatever their direction",
        },
        {
            # forgets to leave the word itself out
            "code": '''import numpy as np


def nearest_words(V, i, n):
    """Indices of the n rows of V most cosine-similar to row i."""
    V = np.asarray(V, dtype=float)
    lengths = np.linalg.norm(V, axis=1)
    similarity = (V @ V[i]) / (lengths * lengths[i])
    return np.argsort(-similarity, kind="stable")[:n]
''',
            "hint": "Your first answer is the word itself",
        },
    ],
    "sms-rank-auc": [
        {
            # ordinal ranks: tied scores get different ranks
            "code": '''import numpy as np


def auc_by_ranks(scores, labels):
    """ROC AUC by the Mann-Whitney rank formula; ties get average ranks."""
    labels = np.asarray(labels)
    ranks = np.argsort(np.argsort(scores, kind="stable")) + 1
    n_pos = int(np.sum(labels == 1))
    n_neg = labels.size - n_pos
    rank_sum = ranks[labels == 1].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
''',
            "hint": "Tied scores got different ranks",
        },
        {
            # ranks the scores from the highest down
            "code": '''import numpy as np
from scipy.stats import rankdata


def auc_by_ranks(scores, labels):
    """ROC AUC by the Mann-Whitney rank formula; ties get average ranks."""
    labels = np.asarray(labels)
    ranks = rankdata(-np.asarray(scores))
    n_pos = int(np.sum(labels == 1))
    n_neg = labels.size - n_pos
    rank_sum = ranks[labels == 1].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
''',
            "hint": "Your answer is 1 - AUC",
        },
        {
            # forgets the smallest possible rank sum
            "code": '''import numpy as np
from scipy.stats import rankdata


def auc_by_ranks(scores, labels):
    """ROC AUC by the Mann-Whitney rank formula; ties get average ranks."""
    labels = np.asarray(labels)
    ranks = rankdata(scores)
    n_pos = int(np.sum(labels == 1))
    n_neg = labels.size - n_pos
    return float(ranks[labels == 1].sum() / (n_pos * n_neg))
''',
            "hint": "the smallest possible R+, is not subtracted",
        },
    ],
    "sms-choose-k": [
        {
            # takes "neg_log_loss" for a loss: the worst k wins
            "code": '''import numpy as np
from sklearn.model_selection import cross_val_score

import fmlib


def choose_n_factors(X, y, candidates, cv):
    """The k in candidates with the best mean cross-validated log loss."""
    mean_scores = [
        cross_val_score(fmlib.FMClassifier(n_factors=k, random_state=0),
                        X, y, cv=cv, scoring="neg_log_loss").mean()
        for k in candidates]
    return candidates[int(np.argmin(mean_scores))]
''',
            "hint": "is already negated, greater is better",
        },
        {
            # scores each k on the data it was fitted to
            "code": '''import numpy as np
from sklearn.metrics import log_loss

import fmlib


def choose_n_factors(X, y, candidates, cv):
    """The k in candidates with the best mean cross-validated log loss."""
    losses = []
    for k in candidates:
        model = fmlib.FMClassifier(n_factors=k, random_state=0).fit(X, y)
        losses.append(log_loss(y, model.predict_proba(X)[:, 1]))
    return candidates[int(np.argmin(losses))]
''',
            "hint": "best on the data it was fitted to",
        },
        {
            # returns the position in the list
            "code": '''import numpy as np
from sklearn.model_selection import cross_val_score

import fmlib


def choose_n_factors(X, y, candidates, cv):
    """The k in candidates with the best mean cross-validated log loss."""
    mean_scores = [
        cross_val_score(fmlib.FMClassifier(n_factors=k, random_state=0),
                        X, y, cv=cv, scoring="neg_log_loss").mean()
        for k in candidates]
    return int(np.argmax(mean_scores))
''',
            "hint": "the position of the best candidate",
        },
    ],
}
