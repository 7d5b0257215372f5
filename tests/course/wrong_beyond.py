"""Plausible wrong answers to the code exercises of book/beyond_classification.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``, the
diagnosis of that mistake (and not the diagnosis of another).
"""

WRONG_ANSWERS = {
    "beyond-mf-predict": [
        {
            # reads the item's weight and factors from row `item`, a user's row
            "code": '''def mf_predict(fm, n_users, user, item):
    """Biased-MF prediction w0 + b_u + b_i + <p_u, q_i> of a fitted FM."""
    return float(fm.intercept_ + fm.coef_[user] + fm.coef_[item]
                 + fm.factors_[user] @ fm.factors_[item])
''',
            "hint": "the item columns come after the n_users user columns",
        },
        {
            # forgets the global bias w0
            "code": '''def mf_predict(fm, n_users, user, item):
    """Biased-MF prediction w0 + b_u + b_i + <p_u, q_i> of a fitted FM."""
    item_row = n_users + item
    return float(fm.coef_[user] + fm.coef_[item_row]
                 + fm.factors_[user] @ fm.factors_[item_row])
''',
            "hint": "the global bias w0 is missing",
        },
    ],
    "beyond-new-user": [
        {
            # keeps only the interactions of the age group, forgetting (item, genre)
            "code": '''def new_user_predict(fm, item, age, genre):
    """FM prediction without a user column: item, age group, genre."""
    ci = n_users + item
    ca = n_users + n_items + age
    cg = n_users + n_items + n_ages + genre
    V = fm.factors_
    bias = fm.intercept_ + fm.coef_[ci] + fm.coef_[ca] + fm.coef_[cg]
    return float(bias + V[ca] @ (V[ci] + V[cg]))
''',
            "hint": "the (item, genre) pair is one of them",
        },
        {
            # starts the genre block right after the items, on top of the ages
            "code": '''def new_user_predict(fm, item, age, genre):
    """FM prediction without a user column: item, age group, genre."""
    ci = n_users + item
    ca = n_users + n_items + age
    cg = n_users + n_items + genre
    V = fm.factors_
    bias = (fm.intercept_ + fm.coef_[ci] + fm.coef_[ca] + fm.coef_[cg]
            + V[ci] @ V[cg])
    return float(bias + V[ca] @ (V[ci] + V[cg]))
''',
            "hint": "the genre block starts after all n_ages age columns",
        },
    ],
    "beyond-als-step": [
        {
            # the unpenalised least-squares value
            "code": '''import numpy as np


def als_factor_step(X, y, w0, w, V, j, f, reg):
    """The minimiser of the penalised squared error in V[j, f] alone."""
    X, V = np.asarray(X, dtype=float), np.array(V, dtype=float)
    h = X[:, j] * (X @ V[:, f] - V[j, f] * X[:, j])
    sums = X @ V
    y_hat = w0 + X @ w + 0.5 * np.sum(sums**2 - (X**2) @ (V**2), axis=1)
    y_without = y_hat - V[j, f] * h
    return float(h @ (y - y_without) / (h @ h))
''',
            "hint": "Your update ignores the penalty",
        },
        {
            # the penalty is not multiplied by the number of rows with feature j
            "code": '''import numpy as np


def als_factor_step(X, y, w0, w, V, j, f, reg):
    """The minimiser of the penalised squared error in V[j, f] alone."""
    X, V = np.asarray(X, dtype=float), np.array(V, dtype=float)
    h = X[:, j] * (X @ V[:, f] - V[j, f] * X[:, j])
    sums = X @ V
    y_hat = w0 + X @ w + 0.5 * np.sum(sums**2 - (X**2) @ (V**2), axis=1)
    y_without = y_hat - V[j, f] * h
    return float(h @ (y - y_without) / (h @ h + reg))
''',
            "hint": "the lazy penalty counts the samples",
        },
        {
            # uses the full residual, with the current V[j, f] still in it
            "code": '''import numpy as np


def als_factor_step(X, y, w0, w, V, j, f, reg):
    """The minimiser of the penalised squared error in V[j, f] alone."""
    X, V = np.asarray(X, dtype=float), np.array(V, dtype=float)
    h = X[:, j] * (X @ V[:, f] - V[j, f] * X[:, j])
    sums = X @ V
    y_hat = w0 + X @ w + 0.5 * np.sum(sums**2 - (X**2) @ (V**2), axis=1)
    count = np.count_nonzero(X[:, j])
    return float(h @ (y - y_hat) / (h @ h + reg * count))
''',
            "hint": "Your residual still contains the current V[j, f]",
        },
    ],
}
