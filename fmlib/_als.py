"""Compiled kernels: coordinate descent ("ALS") sweeps over CSR + CSC arrays.

After Rendle, Gantner, Freudenthaler and Schmidt-Thieme (SIGIR 2011) and
libFM. The FM output is linear in each single parameter ``theta``:
``y_hat(x) = g(x) + theta * h(x)`` where ``h = d y_hat / d theta`` does not
depend on ``theta``:

* intercept ``w0``: ``h(x) = 1``;
* linear weight ``w[j]``: ``h(x) = x_j``;
* factor ``V[j, f]``: ``h(x) = x_j * (q_f(x) - V[j, f] * x_j)`` with
  ``q_f(x) = sum_l V[l, f] x_l``.

Objective
---------
With sample weights ``s_i``, the objective a sweep decreases is

.. math::

    \\sum_i s_i \\ell(\\hat y_i, y_i)
    + \\frac12 \\sum_j c_j \\Big(\\lambda_w w_j^2
      + \\lambda_V \\sum_f V_{j,f}^2\\Big),
    \\qquad c_j = \\sum_{i:\\, x_{ij} \\neq 0} s_i ,

with ``lambda_w = reg_linear``, ``lambda_V = reg_factors`` and the intercept
not penalised. ``c_j`` makes this the objective the SGD kernels' *lazy* L2
penalty approximates (a parameter is shrunk once per sample that has its
feature), so ``reg_linear``/``reg_factors`` mean the same for every solver;
and it keeps the objective exact under sample weights (a weight of 2 is the
same sample twice, a weight of 0 the sample removed).

Updates
-------
For the squared loss (``loss_kind == SQUARED``) the objective is quadratic in
``theta``, and one coordinate step minimises it exactly:

.. math::

    \\theta \\leftarrow \\theta - \\frac{\\sum_i s_i (\\hat y_i - y_i) h_i
        + \\lambda c\\, \\theta}{\\sum_i s_i h_i^2 + \\lambda c}.

For the logistic loss it is one Newton step of the same shape, the
residual replaced by ``sigmoid(y_hat) - y`` and the curvature ``l''`` by its
upper bound 1/4 (as polylearn does): the step then minimises a quadratic
upper bound of the objective, so it never increases the objective. With the
exact curvature ``p (1 - p)`` the step overshoots where the predictions are
confident, and diverged on unscaled data (breast cancer, wine, digits). A
coordinate with zero denominator (feature absent, no penalty) is left
unchanged.

When the intercept is fitted and feature ``j`` is non-zero in at least half
the samples, ``w[j]`` and each ``V[j, f]`` are stepped jointly with ``w0``
(the same Newton step in two variables, ``h = 1`` for ``w0``): a dense
feature far from zero mean is strongly correlated with the intercept, and
one-at-a-time steps would zigzag between the two. The joint step reads every
sample, ``O(n) <= O(2 nnz_j)``, so the sweep stays ``O(k nnz)``. The NumPy
reference is ``fmlib.reference.als_coordinate_update``.

Order and cost
--------------
One sweep visits ``w0``, then ``w[0..p-1]``, then for each factor ``f`` the
column ``V[:, f]`` feature by feature (libFM's order). The margins
``y_hat_i`` and, per factor, the sums ``q_f(x_i)`` are cached and updated
after each step, so a sweep costs ``O(k nnz)``. Both caches are rebuilt from
the parameters at the start of each sweep (and ``q_f`` at the start of each
factor), so rounding does not accumulate across sweeps.
"""

import numpy as np

from ._jit import njit
from ._kernels import LOGISTIC, predict

# Columns of the per-sample work array: margin, q_f, weight, label. Kept side
# by side so that a column's step reads one cache line per sample.
_MARGIN, _Q, _WEIGHT, _LABEL = 0, 1, 2, 3

# upper bound of the log loss's second derivative p (1 - p)
_LOGISTIC_CURVATURE = 0.25


@njit(cache=True)
def _sigmoid(z):
    e = np.exp(-abs(z))
    inv = 1.0 / (1.0 + e)
    return inv if z >= 0.0 else e * inv


@njit(cache=True)
def _slope_curvature(loss_kind, margin, label):
    """First derivative of the loss in the margin, and the curvature used."""
    if loss_kind == LOGISTIC:
        return _sigmoid(margin) - label, _LOGISTIC_CURVATURE
    return margin - label, 1.0


@njit(cache=True)
def _column_sums(col_data, col_indptr, col_rows, j, v, is_factor, work, loss_kind):
    """Sums over column ``j`` of ``s g h``, ``s c h**2`` and ``s c h``, where
    ``g``/``c`` are the loss's slope/curvature and ``h = x`` (weights) or
    ``h = x (q_f - v x)`` (factors, ``work[:, _Q]`` holding ``q_f``)."""
    gradient = 0.0
    curvature = 0.0
    cross = 0.0
    for p in range(col_indptr[j], col_indptr[j + 1]):
        i = col_rows[p]
        x = col_data[p]
        h = x * (work[i, _Q] - v * x) if is_factor else x
        slope, c = _slope_curvature(loss_kind, work[i, _MARGIN], work[i, _LABEL])
        s = work[i, _WEIGHT]
        gradient += s * slope * h
        curvature += s * c * h * h
        cross += s * c * h
    return gradient, curvature, cross


@njit(cache=True)
def _all_sums(work, loss_kind):
    """Sums over every sample of ``s g`` and ``s c`` (the intercept's)."""
    gradient = 0.0
    curvature = 0.0
    for i in range(work.shape[0]):
        slope, c = _slope_curvature(loss_kind, work[i, _MARGIN], work[i, _LABEL])
        s = work[i, _WEIGHT]
        gradient += s * slope
        curvature += s * c
    return gradient, curvature


@njit(cache=True)
def _coordinate_steps(col_data, col_indptr, col_rows, j, theta, is_factor, penalty,
                      work, loss_kind, joint):
    """Steps ``(delta_w0, delta_theta)`` for one coordinate (see the module doc)."""
    gradient, curvature, cross = _column_sums(col_data, col_indptr, col_rows, j, theta,
                                              is_factor, work, loss_kind)
    gradient += penalty * theta
    curvature += penalty
    if joint:
        # 2x2 Newton system in (w0, theta): [[a, cross], [cross, curvature]]
        g0, a = _all_sums(work, loss_kind)
        det = a * curvature - cross * cross
        if det > 1e-12 * a * curvature:
            return ((-g0 * curvature + cross * gradient) / det,
                    (-gradient * a + cross * g0) / det)
    if curvature > 0.0:
        return 0.0, -gradient / curvature
    return 0.0, 0.0


@njit(cache=True)
def als_sweep(data, indptr, indices, col_data, col_indptr, col_rows, y, sample_weight,
              penalty_counts, w0, w, V, reg_linear, reg_factors, fit_intercept, loss_kind):
    """One coordinate-descent sweep over every parameter; ``w`` and ``V`` in place.

    Parameters
    ----------
    data, indptr, indices : ndarray
        The training matrix in canonical CSR form (rows).
    col_data, col_indptr, col_rows : ndarray
        The same matrix in CSC form (columns), with explicit zeros removed.
    y, sample_weight : ndarray of shape (n_samples,)
        Targets (0/1 labels for the logistic loss) and non-negative weights.
    penalty_counts : ndarray of shape (n_features,)
        ``c_j``, the summed weight of the samples where feature ``j`` is
        non-zero.
    w0 : float
        Intercept (returned, not updated in place).
    w : ndarray of shape (n_features,)
    V : ndarray of shape (n_features, n_factors), C-contiguous
    reg_linear, reg_factors : float
    fit_intercept : bool
    loss_kind : int
        ``SQUARED`` or ``LOGISTIC`` from ``fmlib._kernels``.

    Returns
    -------
    w0 : float
        The updated intercept.
    weighted_loss : float
        ``sum_i s_i * loss_i`` at the parameters after the sweep (no penalty).
    finite : bool
        False when a margin became non-finite; the sweep stops there.
    """
    n_samples = indptr.shape[0] - 1
    n_features, n_factors = V.shape
    work = np.empty((n_samples, 4))
    margin = np.empty(n_samples)
    predict(data, indptr, indices, w0, w, V, margin)
    for i in range(n_samples):
        if not np.isfinite(margin[i]):
            return w0, np.inf, False
        work[i, _MARGIN] = margin[i]
        work[i, _WEIGHT] = sample_weight[i]
        work[i, _LABEL] = y[i]

    # intercept: h = 1 for every sample, not penalised
    if fit_intercept:
        gradient, curvature = _all_sums(work, loss_kind)
        if curvature > 0.0:
            delta = -gradient / curvature
            w0 += delta
            for i in range(n_samples):
                work[i, _MARGIN] += delta

    # linear weights: h = x_j
    for j in range(n_features):
        joint = fit_intercept and 2 * (col_indptr[j + 1] - col_indptr[j]) >= n_samples
        delta0, delta = _coordinate_steps(col_data, col_indptr, col_rows, j, w[j], False,
                                          reg_linear * penalty_counts[j], work, loss_kind,
                                          joint)
        if delta0 != 0.0:
            w0 += delta0
            for i in range(n_samples):
                work[i, _MARGIN] += delta0
        if delta != 0.0:
            w[j] += delta
            for p in range(col_indptr[j], col_indptr[j + 1]):
                work[col_rows[p], _MARGIN] += delta * col_data[p]

    # factors, one column V[:, f] at a time
    for f in range(n_factors):
        for i in range(n_samples):
            q = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                q += V[indices[p], f] * data[p]
            work[i, _Q] = q
        for j in range(n_features):
            v = V[j, f]
            joint = fit_intercept and 2 * (col_indptr[j + 1] - col_indptr[j]) >= n_samples
            delta0, delta = _coordinate_steps(col_data, col_indptr, col_rows, j, v, True,
                                              reg_factors * penalty_counts[j], work,
                                              loss_kind, joint)
            if delta0 != 0.0:
                w0 += delta0
                for i in range(n_samples):
                    work[i, _MARGIN] += delta0
            if delta != 0.0:
                V[j, f] = v + delta
                for p in range(col_indptr[j], col_indptr[j + 1]):
                    i = col_rows[p]
                    x = col_data[p]
                    # h uses the old v; q_f - v x (the other features) is unchanged
                    work[i, _MARGIN] += delta * x * (work[i, _Q] - v * x)
                    work[i, _Q] += delta * x
        if not np.isfinite(V[:, f]).all():
            return w0, np.inf, False

    weighted_loss = 0.0
    for i in range(n_samples):
        m = work[i, _MARGIN]
        if not np.isfinite(m):
            return w0, np.inf, False
        s = work[i, _WEIGHT]
        if loss_kind == LOGISTIC:
            signed_margin = m if work[i, _LABEL] > 0.5 else -m
            weighted_loss += s * (np.log1p(np.exp(-abs(m))) - min(signed_margin, 0.0))
        else:
            residual = m - work[i, _LABEL]
            weighted_loss += s * 0.5 * residual * residual
    return w0, weighted_loss, True
