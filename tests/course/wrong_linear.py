"""Plausible wrong answers to the code exercises of book/linear_models.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``.
"""

WRONG_ANSWERS = {
    "linear-csr-predict": {
        # indexes the weights by the position in data instead of by the column number
        "code": '''import numpy as np


def csr_linear_predict(data, indices, indptr, w, b):
    """Margins b + X @ w of the rows of the CSR matrix (data, indices, indptr)."""
    n_rows = len(indptr) - 1
    out = np.full(n_rows, float(b))
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            out[r] += data[p] * w[p - indptr[r]]
    return out
''',
        "hint": "multiplies the weight of its column, w[indices[p]]",
    },
    "linear-count-pairs": {
        # multiplies the raw values: a pair whose products cancel is missed
        "code": '''import numpy as np
import scipy.sparse as sp


def count_cooccurring_pairs(X):
    """Number of column pairs i < j that are both non-zero in some row of X."""
    X = sp.csr_matrix(X)
    counts = sp.triu(X.T @ X, k=1)
    return int(np.count_nonzero(counts.data))
''',
        "hint": "Count presence, not values",
    },
}
