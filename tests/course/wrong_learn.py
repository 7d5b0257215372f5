"""Plausible wrong answers to the code exercises of book/learning.md."""

WRONG_ANSWERS = {
    "learn-grad-v": {
        # forgets the -V[i, f] x_i**2 term: counts the self-interaction
        "code": '''import numpy as np

import fmlib


def log_loss_grad_V(x, y, w0, w, V):
    """Gradient of the log loss of one sample with respect to V, shape (n, k)."""
    slope = fmlib.sigmoid(fmlib.fm_predict(x, w0, w, V)) - y
    s = x @ V
    return slope * np.outer(x, s)
''',
        "hint": "x_i * s_f - V[i, f] * x_i**2",
    },
    "learn-sgd-squared": {
        # regularises every feature at every step, not only those present
        "code": '''import numpy as np

import fmlib


def sgd_step_squared(x, y, w0, w, V, learning_rate, reg_linear, reg_factors):
    """One SGD step on the squared loss; returns the new (w0, w, V)."""
    y_hat = fmlib.fm_predict(x, w0, w, V)
    g = y_hat - y
    s = x @ V
    d_V = np.outer(x, s) - V * (x**2)[:, None]
    w_new = w - learning_rate * (g * x + reg_linear * w)
    V_new = V - learning_rate * (g * d_V + reg_factors * V)
    return w0 - learning_rate * g, w_new, V_new
''',
        "hint": "Shrink only the features present",
    },
}
