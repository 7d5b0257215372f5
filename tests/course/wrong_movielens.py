"""Plausible wrong answers to the code exercises of book/movielens.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``, the
diagnosis of that mistake (and not the diagnosis of another).
"""

WRONG_ANSWERS = {
    "ml-implicit": [
        {
            # normalises by the number of films (a mean), not its square root
            "code": '''import numpy as np
import scipy.sparse as sp


def implicit_feedback(user_index, film_index, n_users, n_films):
    """Users x films: 1/sqrt(|N(u)|) in the columns of u's films."""
    rated = sp.csr_matrix(
        (np.ones(len(user_index)), (user_index, film_index)),
        shape=(n_users, n_films))
    n_rated = np.diff(rated.indptr)
    return sp.diags(1 / np.maximum(n_rated, 1)) @ rated
''',
            "hint": "Your entries are 1/|N(u)|, a mean",
        },
        {
            # scales the columns (films) instead of the rows (users)
            "code": '''import numpy as np
import scipy.sparse as sp


def implicit_feedback(user_index, film_index, n_users, n_films):
    """Users x films: 1/sqrt(|N(u)|) in the columns of u's films."""
    rated = sp.csr_matrix(
        (np.ones(len(user_index)), (user_index, film_index)),
        shape=(n_users, n_films)).tocsc()
    n_raters = np.diff(rated.indptr)
    return rated @ sp.diags(1 / np.sqrt(np.maximum(n_raters, 1)))
''',
            "hint": "scaled by the number of users who rated each film",
        },
    ],
    "ml-ndcg": [
        {
            # the ideal DCG sums every relevant item, not only the k best
            "code": '''import numpy as np


def ndcg_at_k(scores, relevance, k):
    """NDCG@k of ranking by decreasing score, for gains `relevance`."""
    relevance = np.asarray(relevance, dtype=float)
    discount = 1 / np.log2(np.arange(2, len(relevance) + 2))
    ranked = relevance[np.argsort(-np.asarray(scores, dtype=float))][:k]
    ideal = np.sort(relevance)[::-1]
    dcg = ranked @ discount[:len(ranked)]
    return float(dcg / (ideal @ discount[:len(ideal)]))
''',
            "hint": "both DCGs stop at position k",
        },
        {
            # argsort without the minus: the lowest scores come first
            "code": '''import numpy as np


def ndcg_at_k(scores, relevance, k):
    """NDCG@k of ranking by decreasing score, for gains `relevance`."""
    relevance = np.asarray(relevance, dtype=float)
    discount = 1 / np.log2(np.arange(2, k + 2))
    ranked = relevance[np.argsort(np.asarray(scores, dtype=float))][:k]
    ideal = np.sort(relevance)[::-1][:k]
    dcg = ranked @ discount[:len(ranked)]
    return float(dcg / (ideal @ discount[:len(ideal)]))
''',
            "hint": "Your ranking puts the lowest scores first",
        },
        {
            # discounts rank r by 1/log2(r): rank 1 divides by zero
            "code": '''import numpy as np


def ndcg_at_k(scores, relevance, k):
    """NDCG@k of ranking by decreasing score, for gains `relevance`."""
    relevance = np.asarray(relevance, dtype=float)
    with np.errstate(divide="ignore"):
        discount = 1 / np.log2(np.arange(1, k + 1))
    ranked = relevance[np.argsort(-np.asarray(scores, dtype=float))][:k]
    ideal = np.sort(relevance)[::-1][:k]
    dcg = ranked @ discount[:len(ranked)]
    return float(dcg / (ideal @ discount[:len(ideal)]))
''',
            "hint": "divides by log2(1) = 0",
        },
    ],
    "ml-split": [
        {
            # forgets the pairs of features within the user part and the film part
            "code": '''import numpy as np


def all_pair_scores(w0, w, V, X_users, X_films):
    """FM output for every (user row, film row) pair, from the parts."""
    X_users = np.asarray(X_users, dtype=float)
    X_films = np.asarray(X_films, dtype=float)
    return (w0 + (X_users @ w)[:, None] + (X_films @ w)[None, :]
            + (X_users @ V) @ (X_films @ V).T)
''',
            "hint": "Your scores lack the pairs within each part",
        },
        {
            # adds the two parts' full outputs (each with w0) and w0 again
            "code": '''import numpy as np


def all_pair_scores(w0, w, V, X_users, X_films):
    """FM output for every (user row, film row) pair, from the parts."""
    def part(X):
        sums = X @ V
        squares = (X**2) @ np.sum(V**2, axis=1)
        within = 0.5 * (np.sum(sums**2, axis=1) - squares)
        return w0 + X @ w + within, sums

    user_part, user_sums = part(np.asarray(X_users, dtype=float))
    film_part, film_sums = part(np.asarray(X_films, dtype=float))
    return (user_part[:, None] + film_part[None, :]
            + user_sums @ film_sums.T)
''',
            "hint": "too high by exactly w0",
        },
    ],
}
