"""Plausible wrong answers to the code exercises of book/beyond_classification.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``.
"""

WRONG_ANSWERS = {
    "beyond-onehot": {
        # forgets to shift the item columns past the user columns
        "code": '''import numpy as np
import scipy.sparse as sp


def one_hot_pairs(users, items, n_users, n_items):
    """CSR matrix whose row r has a 1 in column users[r] and in column n_users + items[r]."""
    users, items = np.asarray(users), np.asarray(items)
    n_rows = users.size
    indices = np.column_stack([users, items]).ravel()
    indptr = np.arange(0, 2 * n_rows + 1, 2)
    data = np.ones(2 * n_rows)
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_users + n_items))
''',
        "hint": "the item columns come after all the user columns",
    },
    "beyond-mf-predict": {
        # reads the item's weight and factors from row `item`, which is a user's row
        "code": '''def mf_predict(fm, n_users, user, item):
    """Biased-MF prediction w0 + b_u + b_i + <p_u, q_i> from a fitted FMRegressor."""
    return float(fm.intercept_ + fm.coef_[user] + fm.coef_[item]
                 + fm.factors_[user] @ fm.factors_[item])
''',
        "hint": "coef_[n_users + item]",
    },
    "beyond-new-user": {
        # keeps only the interactions of the age group, forgetting (item, genre)
        "code": '''def new_user_predict(fm, item, age, genre):
    """FM prediction for a user without an id column: item, age group and genre only."""
    ci = n_users + item
    ca = n_users + n_items + age
    cg = n_users + n_items + n_ages + genre
    V = fm.factors_
    bias = fm.intercept_ + fm.coef_[ci] + fm.coef_[ca] + fm.coef_[cg]
    return float(bias + V[ca] @ (V[ci] + V[cg]))
''',
        "hint": "three pairs interact",
    },
}
