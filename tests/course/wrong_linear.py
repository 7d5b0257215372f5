"""Plausible wrong answers to the code exercises of book/linear_models.md.

For every exercise label, a list of typical wrong solutions: each replaces
the exercise's solution cell, and the self-check cell must then raise
fmlib.exercises.WrongAnswer with a diagnosis containing ``hint``.
"""

_PREDICT_HEADER = '''import numpy as np


def csr_linear_predict(data, indices, indptr, w, b):
    """Margins b + X @ w of the rows of the CSR matrix (data, indices,
    indptr)."""
    n_rows = len(indptr) - 1
'''

_COUNT_HEADER = '''import numpy as np
import scipy.sparse as sp


def count_cooccurring_pairs(X):
    """Number of column pairs i < j both non-zero in some row of X."""
'''

WRONG_ANSWERS = {
    "linear-csr-predict": [
        {
            # indexes the weights by the position in the row, not the column
            "code": _PREDICT_HEADER + '''    out = np.full(n_rows, float(b))
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            out[r] += data[p] * w[p - indptr[r]]
    return out
''',
            "hint": "the weight at its position within the row",
        },
        {
            # starts every row at zero: forgets the intercept
            "code": _PREDICT_HEADER + '''    out = np.zeros(n_rows)
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            out[r] += data[p] * w[indices[p]]
    return out
''',
            "hint": "the intercept is missing",
        },
    ],
    "linear-count-pairs": [
        {
            # multiplies the raw values: a pair whose products cancel is missed
            "code": _COUNT_HEADER + '''    X = sp.csr_matrix(X)
    counts = sp.triu(X.T @ X, k=1)
    return int(np.count_nonzero(counts.data))
''',
            "hint": "count presence, not values",
        },
        {
            # keeps the diagonal of B^T B
            "code": _COUNT_HEADER + '''    B = (sp.csr_matrix(X) != 0).astype(np.int64)
    counts = sp.triu(B.T @ B)
    return int(np.count_nonzero(counts.data))
''',
            "hint": "the diagonal i = j is still in",
        },
        {
            # counts both triangles: every pair twice
            "code": _COUNT_HEADER + '''    B = (sp.csr_matrix(X) != 0).astype(np.int64)
    counts = (B.T @ B).tolil()
    counts.setdiag(0)
    return int(np.count_nonzero(counts.tocsr().data))
''',
            "hint": "each pair was counted as (i, j) and as (j, i)",
        },
    ],
}
