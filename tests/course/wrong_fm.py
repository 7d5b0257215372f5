"""Plausible wrong answers to the code exercises of book/factorization_machine.md.

For every exercise label, a list of typical wrong solutions: each replaces
the exercise's solution cell, and the self-check cell must then raise
fmlib.exercises.WrongAnswer with a diagnosis containing ``hint``.
"""

_DENSE_HEADER = '''import numpy as np


def fm_predict_dense(X, w0, w, V):
    """FM outputs of the rows of a dense X, in O(k n) per row."""
    S = X @ V
'''

_ROW_HEADER = '''import numpy as np


def fm_predict_csr_row(data, indices, w0, w, V):
    """FM output of one sample from its non-zero values and their columns."""
'''

WRONG_ANSWERS = {
    "fm-batch-predict": [
        {
            # forgets the factor 1/2: counts every pair twice
            "code": _DENSE_HEADER + '''    Q = (X**2) @ (V**2)
    return w0 + X @ w + np.sum(S**2 - Q, axis=1)
''',
            "hint": "exactly twice the reference: the 1/2 is missing",
        },
        {
            # keeps the diagonal: half the full square, nothing subtracted
            "code": _DENSE_HEADER + '''    return w0 + X @ w + 0.5 * np.sum(S**2, axis=1)
''',
            "hint": "the diagonal i = j is still in",
        },
        {
            # squares the factors but not the values in the subtracted sum
            "code": _DENSE_HEADER + '''    Q = X @ (V**2)
    return w0 + X @ w + 0.5 * np.sum(S**2 - Q, axis=1)
''',
            "hint": "uses x_i where it needs x_i^2",
        },
    ],
    "fm-csr-row": [
        {
            # right formula, but on the densified row: reads every row of V
            "code": _ROW_HEADER + '''    x = np.zeros(V.shape[0])
    x[indices] = data
    s = x @ V
    q = (x**2) @ (V**2)
    return float(w0 + x @ w + 0.5 * np.sum(s**2 - q))
''',
            "hint": "did you densify the row",
        },
        {
            # sparse, but forgets the factor 1/2
            "code": _ROW_HEADER + '''    V_present = V[indices]
    s = data @ V_present
    q = (data**2) @ (V_present**2)
    return float(w0 + data @ w[indices] + np.sum(s**2 - q))
''',
            "hint": "exactly twice the reference: the 1/2 is missing",
        },
    ],
}
