"""Plausible wrong answers to the code exercises of book/sms_spam.md."""

WRONG_ANSWERS = {
    "sms-nearest-words": {
        # ranks by the raw inner product: long vectors win whatever their direction
        "code": '''import numpy as np


def nearest_words(V, i, n):
    """Indices of the n rows of V most cosine-similar to row i (excluding i), best first."""
    V = np.asarray(V, dtype=float)
    similarity = V @ V[i]
    similarity[i] = -np.inf
    return np.argsort(-similarity, kind="stable")[:n]
''',
        "hint": "divides the inner product by both vectors' lengths",
    },
    "sms-rank-auc": {
        # ordinal ranks: tied scores get different ranks, so ties are not counted as half
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
        "hint": "Tied scores must share the average of their ranks",
    },
}
