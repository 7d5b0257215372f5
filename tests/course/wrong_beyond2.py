"""Plausible wrong answers to the code exercises of book/beyond_degree2.md.

For each exercise label, a list of wrong solutions: each replaces the
exercise's solution cell, and the self-check cell must then raise
fmlib.exercises.WrongAnswer with a message containing its own ``hint`` (a
part of the diagnosis of that mistake) and none of the others'.
"""

_ANOVA = '''def anova_sparse(indices, values, p, degree):
    """A^degree(p, x) for sparse x, with O(degree) memory."""
    a = [1.0] + [0.0] * degree
    for position, (j, x_j) in enumerate(zip(indices, values)):
        px = {px}
        for t in {degrees}:
            a[t] += px * a[t - 1]
    return float(a[degree])
'''

_FFM = '''def ffm_predict(indices, values, field, w0, w, W):
    """FFM output for one sparse sample: pairs of non-zeros only."""
    y_hat = w0 + float(np.dot(w[indices], values))
    for a in range(len(indices)):
        for b in {partners}:
            if a == b:
                continue
            i, j = indices[a], indices[b]
            y_hat += {term}
    return float(y_hat)
'''

_ALS = '''import fmlib


def als_weight_update(X, y, w0, w, V, l, reg):
    """Closed-form minimiser of the penalised squared loss in w_l."""
    x_l = X[:, l]
    others = fmlib.fm_predict(X, w0, w, V) - w[l] * x_l
    {body}
'''

_BAG = '''import numpy as np


def fm_embedding_bag(indices, values, offsets, w0, w, V):
    """FM outputs from an embedding bag: lookups and per-sample sums."""
    weighted = values[:, None] * V[indices]
    out = np.empty(len(offsets) - 1)
    for s in range(len(out)):
        bag = slice(offsets[s], offsets[s + 1])
        total = weighted[bag].sum(axis=0)
        pairwise = {pairwise}
        out[s] = w0 + {linear} + pairwise
    return out
'''

_HALF = "0.5 * (total @ total - np.sum(weighted[bag] ** 2))"
_OWN = "W[i, field[j]] @ W[j, field[i]]"

WRONG_ANSWERS = {
    "b2-anova-sparse": [
        # degrees updated from low to high: a[t - 1] already holds feature j
        {"code": _ANOVA.format(px="p[j] * x_j",
                               degrees="range(1, degree + 1)"),
         "hint": "runs upwards"},
        # the values are forgotten: every non-zero counts as 1
        {"code": _ANOVA.format(px="p[j]", degrees="range(degree, 0, -1)"),
         "hint": "every non-zero set to 1"},
        # p read at the position in the list of non-zeros, not at feature j
        {"code": _ANOVA.format(px="p[position] * x_j",
                               degrees="range(degree, 0, -1)"),
         "hint": "position of the entry"},
    ],
    "b2-ffm-forward": [
        # each feature brings its vector for its own field
        {"code": _FFM.format(partners="range(a + 1, len(indices))",
                             term="W[i, field[i]] @ W[j, field[j]]"
                                  " * values[a] * values[b]"),
         "hint": "its own field"},
        # every pair visited in both orders
        {"code": _FFM.format(partners="range(len(indices))",
                             term=_OWN + " * values[a] * values[b]"),
         "hint": "counted in both orders"},
        # the inner products added without x_i x_j
        {"code": _FFM.format(partners="range(a + 1, len(indices))",
                             term=_OWN),
         "hint": "without the factor x_i x_j"},
    ],
    "b2-als-update": [
        # solved from the full residual: w_l's own contribution left in
        {"code": _ALS.format(body="residual = y - fmlib.fm_predict(X, w0, w, V)"
                                  "\n    return float(x_l @ residual"
                                  " / (x_l @ x_l + reg))"),
         "hint": "own contribution"},
        # the penalty left out of the normal equation
        {"code": _ALS.format(body="return float(x_l @ (y - others)"
                                  " / (x_l @ x_l))"),
         "hint": "penalty reg does not change it"},
        # returns the step instead of the new weight
        {"code": _ALS.format(body="new = x_l @ (y - others) / (x_l @ x_l + reg)"
                                  "\n    return float(new - w[l])"),
         "hint": "new minus old"},
    ],
    "b2-embedding-bag": [
        # half the squared norm of the sum: self-pairs not removed
        {"code": _BAG.format(pairwise="0.5 * total @ total",
                             linear="w[indices[bag]] @ values[bag]"),
         "hint": "pairs each entry with itself"},
        # the 1/2 forgotten
        {"code": _BAG.format(pairwise=_HALF.replace("0.5 * ", ""),
                             linear="w[indices[bag]] @ values[bag]"),
         "hint": "factor 1/2 is missing"},
        # linear term without the values
        {"code": _BAG.format(pairwise=_HALF,
                             linear="w[indices[bag]].sum()"),
         "hint": "without its value x_i"},
    ],
}
