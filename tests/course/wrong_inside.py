"""Deliberately wrong answers to the code exercises of book/inside_fmlib.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``.
"""

WRONG_ANSWERS = {
    "inside-factor-sums": {
        # adds the factor rows of the columns present, but forgets the values x_j
        "code": '''import numpy as np


def factor_sums(data, indices, indptr, V):
    """Return X @ V for the CSR matrix X = (data, indices, indptr)."""
    n_samples, k = len(indptr) - 1, V.shape[1]
    S = np.zeros((n_samples, k))
    for i in range(n_samples):
        for p in range(indptr[i], indptr[i + 1]):
            S[i] += V[indices[p]]
    return S
''',
        "hint": "add each value times the row V[j]",
    },
    "inside-predict-csr": {
        # keeps the self-interactions: 0.5 * sum_f s_f**2 without the squares
        "code": '''import numpy as np


def predict_csr(data, indices, indptr, w0, w, V):
    """FM output for every row of the CSR matrix (data, indices, indptr)."""
    n_samples = len(indptr) - 1
    out = np.empty(n_samples)
    for i in range(n_samples):
        s = np.zeros(V.shape[1])
        y_hat = w0
        for p in range(indptr[i], indptr[i + 1]):
            j, x = indices[p], data[p]
            y_hat += w[j] * x
            s += V[j] * x
        out[i] = y_hat + 0.5 * (s @ s)
    return out
''',
        "hint": "interaction with itself",
    },
}
