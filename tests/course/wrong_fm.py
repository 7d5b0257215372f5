"""Plausible wrong answers to the code exercises of book/factorization_machine.md."""

WRONG_ANSWERS = {
    "fm-batch-predict": {
        # forgets the factor 1/2: counts every pair twice
        "code": '''import numpy as np


def fm_predict_dense(X, w0, w, V):
    """FM outputs of the rows of a dense X, in O(k n) per row."""
    S = X @ V
    Q = (X**2) @ (V**2)
    return w0 + X @ w + np.sum(S**2 - Q, axis=1)
''',
        "hint": "the pairwise term is half of the sum over factors",
    },
    "fm-csr-row": {
        # right formula, but on the densified row: reads every row of V (NaN here)
        "code": '''import numpy as np


def fm_predict_csr_row(data, indices, w0, w, V):
    """FM output of one sample from its non-zero values and their feature indices."""
    x = np.zeros(V.shape[0])
    x[indices] = data
    s = x @ V
    q = (x**2) @ (V**2)
    return float(w0 + x @ w + 0.5 * np.sum(s**2 - q))
''',
        "hint": "Work with data, w[indices] and V[indices] only",
    },
}
