"""The factorization machine in plain NumPy: the formulas the book derives.

These functions are written for reading, not for speed. The compiled kernels
in ``fmlib._kernels`` are tested against them.

Notation: a sample ``x`` has ``n`` features; ``w0`` is the intercept, ``w``
the ``n`` linear weights and ``V`` the ``(n, k)`` matrix whose row ``V[i]`` is
the latent factor vector of feature ``i``. The model is

.. math::

    \\hat y(x) = w_0 + \\sum_i w_i x_i
               + \\sum_{i<j} \\langle v_i, v_j \\rangle x_i x_j .
"""

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = [
    "fm_predict_naive",
    "fm_predict",
    "fm_gradient",
    "sigmoid",
    "logistic_loss",
    "logistic_loss_grad",
    "squared_loss",
    "squared_loss_grad",
]


def fm_predict_naive(x, w0, w, V):
    """FM output for one sample by the definition: a loop over feature pairs.

    Costs ``O(k n^2)`` for ``n`` features and ``k`` factors.

    Parameters
    ----------
    x : array-like of shape (n_features,)
        One dense sample.
    w0 : float
        Intercept.
    w : ndarray of shape (n_features,)
        Linear weights.
    V : ndarray of shape (n_features, n_factors)
        Latent factors, one row per feature.

    Returns
    -------
    float
        ``w0 + sum_i w_i x_i + sum_{i<j} <V[i], V[j]> x_i x_j``.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    y_hat = w0 + float(np.dot(w, x))
    for i in range(n):
        for j in range(i + 1, n):
            y_hat += float(np.dot(V[i], V[j])) * x[i] * x[j]
    return y_hat


def fm_predict(X, w0, w, V):
    """FM output for every row of ``X`` in ``O(k n)`` per row.

    Uses the identity

    .. math::

        \\sum_{i<j} \\langle v_i, v_j \\rangle x_i x_j
        = \\frac12 \\sum_{f=1}^k \\Big[ \\big(\\sum_i v_{i,f} x_i\\big)^2
          - \\sum_i v_{i,f}^2 x_i^2 \\Big].

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features) or (n_features,)
        Samples; a 1-D array is one sample.
    w0 : float
        Intercept.
    w : ndarray of shape (n_features,)
        Linear weights.
    V : ndarray of shape (n_features, n_factors)
        Latent factors, one row per feature.

    Returns
    -------
    ndarray of shape (n_samples,), or float for a 1-D ``x``
    """
    if sp.issparse(X):
        X = sp.csr_array(X, dtype=float)
        squared = X.multiply(X)
    else:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            return float(fm_predict(X[None, :], w0, w, V)[0])
        squared = X * X
    sums = np.asarray(X @ V)
    pairwise = 0.5 * (np.sum(sums**2, axis=1) - np.asarray(squared @ (V**2)).sum(axis=1))
    return w0 + np.asarray(X @ w).ravel() + pairwise


def fm_gradient(x, w0, w, V):
    """Gradient of the FM output for one sample with respect to its parameters.

    Parameters
    ----------
    x : array-like of shape (n_features,)
        One dense sample.
    w0 : float
        Intercept (the gradient does not depend on it; kept for symmetry).
    w : ndarray of shape (n_features,)
        Linear weights (likewise unused).
    V : ndarray of shape (n_features, n_factors)
        Latent factors.

    Returns
    -------
    d_w0 : float
        Always 1.
    d_w : ndarray of shape (n_features,)
        Equal to ``x``.
    d_V : ndarray of shape (n_features, n_factors)
        ``d_V[i, f] = x_i * sum_j V[j, f] x_j - V[i, f] * x_i**2``.
    """
    x = np.asarray(x, dtype=float)
    sums = x @ V
    d_V = np.outer(x, sums) - V * (x**2)[:, None]
    return 1.0, x.copy(), d_V


def _real_array(value, name):
    """``value`` as a float64 array, if it holds real numbers only."""
    array = np.asarray(value)
    if array.dtype.kind == "O":
        # Python ints beyond int64, Fractions...: numbers, but not None
        if all(isinstance(v, numbers.Real) for v in array.flat):
            return array.astype(float)
    elif array.dtype.kind in "biuf":
        return array.astype(float, copy=False)
    raise TypeError(
        f"{name} must be real numbers (a float or an array of floats), got "
        f"{type(value).__name__}" + (f" of {array.dtype}" if array.dtype.kind != "O" else "")
    )


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, without overflow for any ``z``.

    Parameters
    ----------
    z : float or array-like
        Real numbers (bool, int or float).

    Returns
    -------
    float or ndarray

    Raises
    ------
    TypeError
        If ``z`` is not real numbers: None, a string, complex numbers or
        other objects (which ``np.asarray(z, dtype=float)`` would turn into
        NaN, or parse, or cut to their real part).
    """
    z = _real_array(z, "z")
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()]


def logistic_loss(margin, y):
    """Log loss of a raw FM output (the margin) for labels in {0, 1}.

    Equal to ``-log(sigmoid(margin))`` when ``y = 1`` and
    ``-log(1 - sigmoid(margin))`` when ``y = 0``, computed as
    ``log(1 + exp(-s * margin))`` with ``s = 2 y - 1`` in a form that neither
    overflows nor loses precision for large ``|margin|``.

    Parameters
    ----------
    margin : float or array-like
        The FM output ``y_hat``.
    y : float or array-like
        Labels, 0 or 1.

    Returns
    -------
    float or ndarray
    """
    signed = (2.0 * np.asarray(y, dtype=float) - 1.0) * np.asarray(margin, dtype=float)
    return np.logaddexp(0.0, -signed)[()]


def logistic_loss_grad(margin, y):
    """Derivative of :func:`logistic_loss` with respect to the margin.

    Parameters
    ----------
    margin : float or array-like
    y : float or array-like
        Labels, 0 or 1.

    Returns
    -------
    float or ndarray
        ``sigmoid(margin) - y``.
    """
    return (sigmoid(margin) - np.asarray(y, dtype=float))[()]


def squared_loss(y_hat, y):
    """Half the squared error, ``(y_hat - y)**2 / 2``.

    Parameters
    ----------
    y_hat : float or array-like
    y : float or array-like

    Returns
    -------
    float or ndarray
    """
    residual = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)
    return (0.5 * residual**2)[()]


def squared_loss_grad(y_hat, y):
    """Derivative of :func:`squared_loss` with respect to ``y_hat``: ``y_hat - y``.

    Parameters
    ----------
    y_hat : float or array-like
    y : float or array-like

    Returns
    -------
    float or ndarray
    """
    return (np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float))[()]
