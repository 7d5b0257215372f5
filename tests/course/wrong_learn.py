"""Plausible wrong answers to the code exercises of book/learning.md.

Each exercise has a list of typical mistakes, each with a part of the
diagnosis its self-check must print (and the other mistakes' must not).
"""

_HEADER = '''import numpy as np

import fmlib


'''

WRONG_ANSWERS = {
    "learn-grad-v": [
        {   # forgets the -V[i, f] x_i**2 term: counts the self-interaction
            "code": _HEADER + '''def log_loss_grad_V(x, y, w0, w, V):
    """Gradient of the log loss of one sample with respect to V."""
    slope = fmlib.sigmoid(fmlib.fm_predict(x, w0, w, V)) - y
    s = x @ V
    return slope * np.outer(x, s)
''',
            "hint": "Your gradient keeps the self-interaction",
        },
        {   # the slope written the other way round: y - sigmoid(y_hat)
            "code": _HEADER + '''def log_loss_grad_V(x, y, w0, w, V):
    """Gradient of the log loss of one sample with respect to V."""
    slope = y - fmlib.sigmoid(fmlib.fm_predict(x, w0, w, V))
    s = x @ V
    return slope * (np.outer(x, s) - V * (x**2)[:, None])
''',
            "hint": "Your gradient has the wrong sign",
        },
        {   # the gradient of the model output, not of the loss
            "code": _HEADER + '''def log_loss_grad_V(x, y, w0, w, V):
    """Gradient of the log loss of one sample with respect to V."""
    s = x @ V
    return np.outer(x, s) - V * (x**2)[:, None]
''',
            "hint": "the chain rule's factor sigmoid(y_hat) - y is missing",
        },
    ],
    "learn-zero-init": [
        {   # sums the rows' gradients instead of averaging them
            "code": _HEADER + '''def mean_log_loss_grad_V(X, y, w0, w, V):
    """Gradient of the mean log loss over the rows of X w.r.t. V."""
    slope = fmlib.sigmoid(fmlib.fm_predict(X, w0, w, V)) - y
    S = X @ V
    return X.T @ (slope[:, None] * S) - V * ((X**2).T @ slope)[:, None]
''',
            "hint": "it sums over the rows instead of taking the mean",
        },
        {   # forgets the self-interaction term
            "code": _HEADER + '''def mean_log_loss_grad_V(X, y, w0, w, V):
    """Gradient of the mean log loss over the rows of X w.r.t. V."""
    slope = fmlib.sigmoid(fmlib.fm_predict(X, w0, w, V)) - y
    return X.T @ (slope[:, None] * (X @ V)) / X.shape[0]
''',
            "hint": "Your gradient keeps the self-interaction",
        },
    ],
    "learn-sgd-squared": [
        {   # regularises every feature at every step, not only those present
            "code": _HEADER + '''def sgd_step_squared(x, y, w0, w, V, learning_rate, reg_linear,
                     reg_factors):
    """One SGD step on the squared loss; returns the new (w0, w, V)."""
    g = fmlib.fm_predict(x, w0, w, V) - y
    d_V = np.outer(x, x @ V) - V * (x**2)[:, None]
    w_new = w - learning_rate * (g * x + reg_linear * w)
    V_new = V - learning_rate * (g * d_V + reg_factors * V)
    return w0 - learning_rate * g, w_new, V_new
''',
            "hint": "the penalty is not lazy",
        },
        {   # residual the wrong way round: y - y_hat
            "code": _HEADER + '''def sgd_step_squared(x, y, w0, w, V, learning_rate, reg_linear,
                     reg_factors):
    """One SGD step on the squared loss; returns the new (w0, w, V)."""
    g = y - fmlib.fm_predict(x, w0, w, V)
    d_V = np.outer(x, x @ V) - V * (x**2)[:, None]
    present = x != 0
    w_new, V_new = w.copy(), V.copy()
    w_new[present] -= learning_rate * (g * x[present]
                                       + reg_linear * w[present])
    V_new[present] -= learning_rate * (g * d_V[present]
                                       + reg_factors * V[present])
    return w0 - learning_rate * g, w_new, V_new
''',
            "hint": "Your step goes uphill",
        },
    ],
    "learn-sgd-fit": [
        {   # shrinks every parameter at every step
            "code": _HEADER + '''def sgd_fit(X, y, V_init, orders, learning_rate, reg_linear, reg_factors):
    """SGD on the log loss over the rows of X; returns (w0, w, V)."""
    w0, w, V = 0.0, np.zeros(X.shape[1]), V_init.copy()
    for order in orders:
        for i in order:
            g = fmlib.sigmoid(fmlib.fm_predict(X[i], w0, w, V)) - y[i]
            _, d_w, d_V = fmlib.fm_gradient(X[i], w0, w, V)
            w0 -= learning_rate * g
            w -= learning_rate * (g * d_w + reg_linear * w)
            V -= learning_rate * (g * d_V + reg_factors * V)
    return w0, w, V
''',
            "hint": "which no row contains, changed",
        },
        {   # visits the rows in their stored order, ignoring orders
            "code": _HEADER + '''def sgd_fit(X, y, V_init, orders, learning_rate, reg_linear, reg_factors):
    """SGD on the log loss over the rows of X; returns (w0, w, V)."""
    w0, w, V = 0.0, np.zeros(X.shape[1]), V_init.copy()
    for epoch in range(len(orders)):
        for i in range(X.shape[0]):
            x = X[i]
            g = fmlib.sigmoid(fmlib.fm_predict(x, w0, w, V)) - y[i]
            _, d_w, d_V = fmlib.fm_gradient(x, w0, w, V)
            present = x != 0
            w0 -= learning_rate * g
            w[present] -= learning_rate * (g * d_w[present]
                                           + reg_linear * w[present])
            V[present] -= learning_rate * (g * d_V[present]
                                           + reg_factors * V[present])
    return w0, w, V
''',
            "hint": "it ignores orders",
        },
    ],
}
