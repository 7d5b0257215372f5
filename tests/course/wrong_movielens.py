"""Plausible wrong answers to the code exercises of book/movielens.md."""

WRONG_ANSWERS = {
    "ml-implicit": {
        # normalises by the number of films (a mean) instead of its square root
        "code": '''import numpy as np
import scipy.sparse as sp


def implicit_feedback(user_index, film_index, n_users, n_films):
    """Users x films: 1/sqrt(|N(u)|) in the columns of the films user u rated."""
    rated = sp.csr_matrix((np.ones(len(user_index)), (user_index, film_index)),
                          shape=(n_users, n_films))
    n_rated = np.diff(rated.indptr)
    return sp.diags(1 / np.maximum(n_rated, 1)) @ rated
''',
        "hint": "1 / sqrt(number of films the user rated)",
    },
    "ml-ndcg": {
        # the ideal DCG sums every relevant item, not only the k best
        "code": '''import numpy as np


def ndcg_at_k(scores, relevance, k):
    """NDCG@k of ranking the items by decreasing score, for gains `relevance`."""
    relevance = np.asarray(relevance, dtype=float)
    discount = 1 / np.log2(np.arange(2, len(relevance) + 2))
    ranked = relevance[np.argsort(-np.asarray(scores, dtype=float))][:k]
    ideal = np.sort(relevance)[::-1]
    return float(ranked @ discount[:len(ranked)] / (ideal @ discount[:len(ideal)]))
''',
        "hint": "Both DCGs stop at position k",
    },
    "ml-split": {
        # forgets the pairs of features within the user part and within the film part
        "code": '''import numpy as np


def all_pair_scores(w0, w, V, X_users, X_films):
    """FM output for every (user row, film row) pair, from the two parts alone."""
    X_users = np.asarray(X_users, dtype=float)
    X_films = np.asarray(X_films, dtype=float)
    return (w0 + (X_users @ w)[:, None] + (X_films @ w)[None, :]
            + (X_users @ V) @ (X_films @ V).T)
''',
        "hint": "A part with several non-zeros has pairs of its own",
    },
}
