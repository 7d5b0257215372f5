"""Typical wrong answers to the code exercises of book/inside_fmlib.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``, the
part of the diagnosis that answer's mistake gets.
"""

_SGD_STEP = '''import numpy as np

import fmlib


def sgd_step(data, indices, y, w0, w, V, learning_rate, reg_linear,
             reg_factors):
    """One SGD step of the log loss on one sparse sample; return the new w0."""
    s = np.zeros(V.shape[1])
    squares = 0.0
    y_hat = w0
    for j, x in zip(indices, data):
        y_hat += w[j] * x
        s += V[j] * x
        squares += x * x * (V[j] @ V[j])
    y_hat += 0.5 * (s @ s - squares)
    g = learning_rate * fmlib.logistic_loss_grad(y_hat, y)
{body}
'''

WRONG_ANSWERS = {
    "inside-loss-slope": [
        {   # the textbook formulas: exp(800) overflows
            "code": '''import numpy as np


def loss_and_slope(y_hat, y):
    """Log loss of the output y_hat for the label y in {0, 1}, and its slope."""
    probability = 1.0 / (1.0 + np.exp(-y_hat))
    loss = -np.log(probability) if y == 1 else -np.log(1.0 - probability)
    return np.array([loss, probability - y])
''',
            "hint": "an exponential overflowed",
        },
        {   # y - sigma instead of sigma - y
            "code": '''import numpy as np


def loss_and_slope(y_hat, y):
    """Log loss of the output y_hat for the label y in {0, 1}, and its slope."""
    e = np.exp(-abs(y_hat))
    probability = (1.0 if y_hat >= 0 else e) / (1.0 + e)
    signed_margin = y_hat if y == 1 else -y_hat
    loss = np.log1p(e) - min(signed_margin, 0.0)
    return np.array([loss, y - probability])
''',
            "hint": "Your slope has the wrong sign",
        },
        {   # the signed margin of the other label
            "code": '''import numpy as np


def loss_and_slope(y_hat, y):
    """Log loss of the output y_hat for the label y in {0, 1}, and its slope."""
    e = np.exp(-abs(y_hat))
    probability = (1.0 if y_hat >= 0 else e) / (1.0 + e)
    signed_margin = y_hat if y == 0 else -y_hat
    loss = np.log1p(e) - min(signed_margin, 0.0)
    return np.array([loss, probability - y])
''',
            "hint": "the loss of the other label",
        },
    ],
    "inside-sgd-step": [
        {   # the penalty shrinks every parameter, not only the present ones
            "code": _SGD_STEP.format(body='''    w -= learning_rate * reg_linear * w
    V -= learning_rate * reg_factors * V
    for j, x in zip(indices, data):
        w[j] -= g * x
        V[j] -= g * x * (s - V[j] * x)
    return w0 - g'''),
            "hint": "A weight w[j] of a feature absent from the sample changed",
        },
        {   # the gradient x_j * s_f keeps feature j's interaction with itself
            "code": _SGD_STEP.format(body='''    for j, x in zip(indices, data):
        w[j] -= g * x + learning_rate * reg_linear * w[j]
        V[j] -= g * x * s + learning_rate * reg_factors * V[j]
    return w0 - g'''),
            "hint": "s_f contains feature j's own term",
        },
        {   # updates w and V but hands back the old intercept
            "code": _SGD_STEP.format(body='''    for j, x in zip(indices, data):
        w[j] -= g * x + learning_rate * reg_linear * w[j]
        V[j] -= g * x * (s - V[j] * x) + learning_rate * reg_factors * V[j]
    return w0'''),
            "hint": "You returned the intercept you were given",
        },
    ],
}
