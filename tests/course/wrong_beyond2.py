"""Plausible wrong answers to the code exercises of book/beyond_degree2.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``.
"""

WRONG_ANSWERS = {
    "b2-anova-sparse": {
        # updates the degrees from low to high, so a[t - 1] already holds
        # feature j and subsets reuse it (terms like p_j^2 x_j^2 creep in)
        "code": '''def anova_sparse(indices, values, p, degree):
    """A^degree(p, x) for sparse x, with O(degree) memory."""
    a = [1.0] + [0.0] * degree
    for j, x_j in zip(indices, values):
        px = p[j] * x_j
        for t in range(1, degree + 1):
            a[t] += px * a[t - 1]
    return float(a[degree])
''',
        "hint": "Loop over the degrees from the highest down",
    },
    "b2-ffm-forward": {
        # uses each feature's vector for its own field, not the partner's
        "code": '''def ffm_predict(indices, values, field, w0, w, W):
    """FFM output for one sparse sample: pairs of non-zeros only."""
    y_hat = w0 + float(np.dot(w[indices], values))
    for a in range(len(indices)):
        for b in range(a + 1, len(indices)):
            i, j = indices[a], indices[b]
            y_hat += W[i, field[i]] @ W[j, field[j]] * values[a] * values[b]
    return float(y_hat)
''',
        "hint": "with its vector for the field of j",
    },
    "b2-als-update": {
        # solves for a correction from the full residual, but returns it as
        # the new weight: w_l's own contribution is never taken out
        "code": '''import fmlib


def als_weight_update(X, y, w0, w, V, l, reg):
    """Closed-form minimiser of the penalised squared loss in w_l."""
    x_l = X[:, l]
    residual = y - fmlib.fm_predict(X, w0, w, V)
    return float(x_l @ residual / (x_l @ x_l + reg))
''',
        "hint": "without w_l's own contribution",
    },
    "b2-embedding-bag": {
        # half the squared norm of the sum, without removing the self-pairs
        "code": '''import numpy as np


def fm_embedding_bag(indices, values, offsets, w0, w, V):
    """FM outputs from an embedding bag: lookups and per-sample sums."""
    weighted = values[:, None] * V[indices]
    out = np.empty(len(offsets) - 1)
    for s in range(len(out)):
        bag = slice(offsets[s], offsets[s + 1])
        total = weighted[bag].sum(axis=0)
        out[s] = w0 + w[indices[bag]] @ values[bag] + 0.5 * total @ total
    return out
''',
        "hint": "never paired with itself",
    },
}
