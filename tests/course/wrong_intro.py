"""Plausible wrong answers to the code exercises of book/intro.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``.
"""

WRONG_ANSWERS = {
    "intro-one-hot": {
        # uses the codes as column numbers in every field: the fields overlap
        "code": '''import numpy as np
import scipy.sparse as sp


def one_hot(codes, sizes):
    """One-hot CSR matrix of integer codes, one block of columns per field."""
    codes = np.asarray(codes)
    m, n_fields = codes.shape
    rows = np.repeat(np.arange(m), n_fields)
    cols = codes.ravel()
    data = np.ones(m * n_fields)
    return sp.csr_matrix((data, (rows, cols)), shape=(m, int(np.sum(sizes))))
''',
        "hint": "add the offset sum(sizes[:f]) to its codes",
    },
    "intro-auc": {
        # counts only strict wins: ties are dropped instead of counting as half
        "code": '''import numpy as np


def auc(scores, labels):
    """Probability that a random positive outscores a random negative (ties: half)."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    positive, negative = scores[labels == 1], scores[labels == 0]
    return float(np.mean(positive[:, None] > negative[None, :]))
''',
        "hint": "a tie counts as half a win",
    },
}
