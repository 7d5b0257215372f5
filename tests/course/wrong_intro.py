"""Plausible wrong answers to the code exercises of book/intro.md.

For every code exercise, a list of wrong solution cells; with each in place
of the exercise's solution, the self-check must raise
fmlib.exercises.WrongAnswer with a message containing its own ``hint`` (a
part of the diagnosis of that mistake) and none of the others'.
"""

_ONE_HOT_HEAD = '''import numpy as np
import scipy.sparse as sp


def one_hot(codes, sizes):
    """One-hot CSR matrix of integer codes, one block of columns per field."""
    codes = np.asarray(codes)
    m, n_fields = codes.shape
    rows = np.repeat(np.arange(m), n_fields)
'''
_ONE_HOT_TAIL = '''    data = np.ones(m * n_fields)
    return sp.csr_matrix((data, (rows, cols)), shape=(m, int(np.sum(sizes))))
'''

_AUC_HEAD = '''import numpy as np


def auc(scores, labels):
    """Chance that a random positive outscores a random negative."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    positive, negative = scores[labels == 1], scores[labels == 0]
'''

WRONG_ANSWERS = {
    "intro-one-hot": [
        {
            # the codes used as column numbers in every field: fields overlap
            "code": _ONE_HOT_HEAD + "    cols = codes.ravel()\n" + _ONE_HOT_TAIL,
            "hint": "the fields share columns",
        },
        {
            # offset by the size of the field just before, not of all before
            "code": _ONE_HOT_HEAD
            + "    offsets = np.concatenate([[0], np.asarray(sizes)[:-1]])\n"
            + "    cols = (codes + offsets).ravel()\n" + _ONE_HOT_TAIL,
            "hint": "right for two fields, wrong from the third",
        },
        {
            # columns flattened field by field, rows sample by sample
            "code": _ONE_HOT_HEAD
            + "    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])\n"
            + "    cols = (codes + offsets).T.ravel()\n" + _ONE_HOT_TAIL,
            "hint": "landed in other samples' rows",
        },
    ],
    "intro-auc": [
        {
            # only strict wins: ties are dropped instead of counting as half
            "code": _AUC_HEAD
            + "    return float(np.mean(positive[:, None] > negative[None, :]))\n",
            "hint": "ties count as nothing",
        },
        {
            # ties counted as whole wins
            "code": _AUC_HEAD
            + "    return float(np.mean(positive[:, None] >= negative[None, :]))\n",
            "hint": "ties count as whole wins",
        },
        {
            # the negative's wins counted: 1 - AUC
            "code": _AUC_HEAD
            + "    lower = np.mean(positive[:, None] < negative[None, :])\n"
            + "    tied = np.mean(positive[:, None] == negative[None, :])\n"
            + "    return float(lower + 0.5 * tied)\n",
            "hint": "1 minus the AUC",
        },
    ],
}
