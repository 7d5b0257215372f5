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
    "als_objective",
    "als_coordinate_update",
    "als_sweep",
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


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, without overflow for any ``z``.

    Parameters
    ----------
    z : float or array-like

    Returns
    -------
    float or ndarray
    """
    z = np.asarray(z, dtype=float)
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


# ---------------------------------------------------------------- coordinate descent (ALS)


def _dense_problem(X, y, sample_weight):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return X, y, s


def _loss_slope_curvature(loss, margin, y):
    """Loss, its derivative in the margin, and the curvature the ALS step
    uses: the second derivative (1) for the squared loss, its upper bound
    1/4 for the log loss."""
    if loss == "squared":
        return squared_loss(margin, y), squared_loss_grad(margin, y), np.ones_like(margin)
    if loss == "logistic":
        return logistic_loss(margin, y), sigmoid(margin) - y, np.full_like(margin, 0.25)
    raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}.")


def als_objective(X, y, w0, w, V, reg_linear, reg_factors, loss="squared", sample_weight=None):
    """The objective the ALS solver decreases.

    .. math::

        \\sum_i s_i \\ell(\\hat y_i, y_i)
        + \\frac12 \\sum_j c_j \\Big(\\lambda_w w_j^2
          + \\lambda_V \\sum_f V_{j,f}^2\\Big),
        \\qquad c_j = \\sum_{i:\\, x_{ij} \\neq 0} s_i :

    each parameter is penalised once per (weighted) sample that has its
    feature, the penalty SGD's lazy shrinkage applies; the intercept is not
    penalised.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets; 0/1 labels for the logistic loss.
    w0 : float
    w : ndarray of shape (n_features,)
    V : ndarray of shape (n_features, n_factors)
    reg_linear, reg_factors : float
        ``lambda_w`` and ``lambda_V``.
    loss : {"squared", "logistic"}, default="squared"
        ``(y_hat - y)**2 / 2`` or the log loss of :func:`logistic_loss`.
    sample_weight : array-like of shape (n_samples,), default=None
        ``s_i``; all ones when None.

    Returns
    -------
    float
    """
    X, y, s = _dense_problem(X, y, sample_weight)
    losses, _, _ = _loss_slope_curvature(loss, fm_predict(X, w0, w, V), y)
    counts = s @ (X != 0)
    penalty = counts @ (reg_linear * w**2 + reg_factors * np.sum(V**2, axis=1))
    return float(s @ losses + 0.5 * penalty)


def als_coordinate_update(X, y, w0, w, V, parameter, reg_linear, reg_factors,
                          loss="squared", sample_weight=None, fit_intercept=True):
    """One coordinate step of the ALS solver, computed from scratch.

    The FM output is linear in any single parameter ``theta``:
    ``y_hat = g + theta * h`` with ``h = d y_hat / d theta`` free of
    ``theta`` (``1`` for ``w0``, ``x_j`` for ``w_j``,
    ``x_j (sum_l V[l, f] x_l - V[j, f] x_j)`` for ``V[j, f]``). The step is

    .. math::

        \\theta \\leftarrow \\theta - \\frac{\\sum_i s_i \\ell'(\\hat y_i) h_i
            + \\lambda c\\, \\theta}{\\sum_i s_i \\kappa_i h_i^2 + \\lambda c},

    a Newton step on the one-parameter objective of :func:`als_objective`
    with curvature ``kappa``: ``l'' = 1`` for the squared loss, where the
    step is that objective's exact minimum; for the log loss the bound
    ``l'' <= 1/4`` (as polylearn does), which makes the step a minimiser of
    a quadratic upper bound, so the objective never increases (with the
    true ``l''`` the step overshoots and diverges on unscaled data).
    A zero denominator leaves ``theta`` unchanged.

    When ``fit_intercept`` and feature ``j`` is non-zero in at least half
    the samples, ``w_j`` or ``V[j, f]`` is stepped jointly with ``w0``: the
    same Newton step in the two variables ``(w0, theta)`` (``h = 1`` for
    ``w0``). For a dense feature far from zero mean, ``w0`` and ``theta``
    are strongly correlated and one-at-a-time steps would zigzag; for a
    sparse feature the joint step would cost more than the coordinate's own
    ``O(nnz_j)``.

    Parameters
    ----------
    X, y, w0, w, V, reg_linear, reg_factors, loss, sample_weight
        As in :func:`als_objective`.
    parameter : "intercept", ("linear", j) or ("factor", j, f)
        Which parameter to update.
    fit_intercept : bool, default=True
        Whether ``w0`` may move with ``theta`` (see above).

    Returns
    -------
    w0 : float
    w : ndarray of shape (n_features,)
        A new array (the inputs are not modified).
    V : ndarray of shape (n_features, n_factors)
        A new array.
    """
    X, y, s = _dense_problem(X, y, sample_weight)
    w = np.array(w, dtype=float)
    V = np.array(V, dtype=float)
    _, slope, curvature = _loss_slope_curvature(loss, fm_predict(X, w0, w, V), y)
    if parameter == "intercept":
        denominator = s @ curvature
        step = -(s @ slope) / denominator if denominator > 0 else 0.0
        return float(w0 + step), w, V
    if parameter[0] == "linear":
        j = parameter[1]
        theta, h = w[j], X[:, j]
        penalty = reg_linear * s @ (X[:, j] != 0)
    elif parameter[0] == "factor":
        j, f = parameter[1], parameter[2]
        theta = V[j, f]
        h = X[:, j] * (X @ V[:, f] - V[j, f] * X[:, j])
        penalty = reg_factors * s @ (X[:, j] != 0)
    else:
        raise ValueError(f"unknown parameter {parameter!r}")
    gradient = s @ (slope * h) + penalty * theta
    hessian = s @ (curvature * h**2) + penalty
    step0, step = 0.0, (-gradient / hessian if hessian > 0 else 0.0)
    if fit_intercept and 2 * np.count_nonzero(X[:, j]) >= X.shape[0]:
        cross = s @ (curvature * h)
        system = np.array([[s @ curvature, cross], [cross, hessian]])
        det = system[0, 0] * hessian - cross**2
        if det > 1e-12 * system[0, 0] * hessian:
            step0, step = np.linalg.solve(system, -np.array([s @ slope, gradient]))
    w0 = w0 + step0
    if parameter[0] == "linear":
        w[j] += step
    else:
        V[j, f] += step
    return float(w0), w, V


def als_sweep(X, y, w0, w, V, reg_linear, reg_factors, loss="squared",
              sample_weight=None, fit_intercept=True):
    """One sweep of :func:`als_coordinate_update` over every parameter.

    The order is libFM's: ``w0`` (if ``fit_intercept``), then ``w_1 ... w_p``,
    then for each factor ``f`` the column ``V[1, f] ... V[p, f]``.

    Parameters
    ----------
    X, y, w0, w, V, reg_linear, reg_factors, loss, sample_weight
        As in :func:`als_objective`.
    fit_intercept : bool, default=True
        Whether to update ``w0``.

    Returns
    -------
    w0 : float
    w : ndarray of shape (n_features,)
    V : ndarray of shape (n_features, n_factors)
    """
    args = (reg_linear, reg_factors, loss, sample_weight, fit_intercept)
    if fit_intercept:
        w0, w, V = als_coordinate_update(X, y, w0, w, V, "intercept", *args)
    n_features, n_factors = np.shape(V)
    for j in range(n_features):
        w0, w, V = als_coordinate_update(X, y, w0, w, V, ("linear", j), *args)
    for f in range(n_factors):
        for j in range(n_features):
            w0, w, V = als_coordinate_update(X, y, w0, w, V, ("factor", j, f), *args)
    return float(w0), np.asarray(w, dtype=float), np.asarray(V, dtype=float)
