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
confident, and diverged on unscaled data (breast cancer, wine, digits). The
bound is built once per feature (at the margins before ``w[j]``'s step) and
the ``k + 1`` steps of that feature's parameters are taken on it: the slope
of sample ``i`` is ``sigmoid(m0_i) - y_i + (m_i - m0_i) / 4``, which costs
one ``exp`` per non-zero per sweep instead of one per non-zero and factor,
and still never increases the objective (each step decreases a bound that
touches the objective where the feature's steps start). For the squared
loss the "bound" is the objective itself. A coordinate with zero denominator
(feature absent, no penalty) is left unchanged.

When the intercept is fitted and feature ``j`` is non-zero in at least half
the samples, ``w[j]`` and each ``V[j, f]`` are stepped jointly with ``w0``
(the same Newton step in two variables, ``h = 1`` for ``w0``): a dense
feature far from zero mean is strongly correlated with the intercept, and
one-at-a-time steps would zigzag between the two. The joint step reads every
sample, ``O(n) <= O(2 nnz_j)``, so the sweep stays ``O(k nnz)``. The NumPy
reference is ``fmlib.reference.als_sweep`` (one step: ``als_coordinate_update``; one
feature's steps: ``als_feature_update``).

Order and cost
--------------
One sweep visits ``w0``, then feature by feature ``w[j], V[j, 0], ...,
V[j, k-1]`` (feature-major; libFM goes factor-major, ``V[:, f]`` for each
``f``: both are coordinate descent, and this order lets one feature's
``k + 1`` steps work on its non-zeros gathered once into small contiguous
buffers). The margins ``y_hat_i`` and the sums ``Q[i, f] = sum_l V[l, f]
x_il`` are cached and updated after each step, so a sweep costs
``O(k nnz)``. Both caches are rebuilt from the parameters at the start of
each sweep, so rounding does not accumulate across sweeps.
"""

import numpy as np

from ._jit import njit
from ._kernels import _FASTMATH, LOGISTIC

# upper bound of the log loss's second derivative p (1 - p)
_LOGISTIC_CURVATURE = 0.25


@njit(cache=True)
def _sigmoid(z):
    e = np.exp(-abs(z))
    inv = 1.0 / (1.0 + e)
    return inv if z >= 0.0 else e * inv


@njit(cache=True, fastmath=_FASTMATH)
def _rebuild_caches(data, indptr, indices, w0, w, V, margin, Q):
    """``Q[i] = sum_j V[j] x_ij`` and the margins, from the parameters."""
    n_factors = V.shape[1]
    for i in range(indptr.shape[0] - 1):
        for f in range(n_factors):
            Q[i, f] = 0.0
        linear = w0
        squares = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            x = data[p]
            linear += w[j] * x
            norm2 = 0.0
            for f in range(n_factors):
                Q[i, f] += V[j, f] * x
                norm2 += V[j, f] * V[j, f]
            squares += norm2 * x * x
        pairwise = 0.0
        for f in range(n_factors):
            pairwise += Q[i, f] * Q[i, f]
        margin[i] = linear + 0.5 * (pairwise - squares)


@njit(cache=True)
def _step(gradient, hessian, joint, g0, a0, cross):
    """Newton step ``(delta_w0, delta_theta)``: in ``theta`` alone, or jointly
    with ``w0`` (2x2 system ``[[a0, cross], [cross, hessian]]``)."""
    if joint:
        det = a0 * hessian - cross * cross
        if det > 1e-12 * a0 * hessian:
            return ((-g0 * hessian + cross * gradient) / det,
                    (-gradient * a0 + cross * g0) / det)
    if hessian > 0.0:
        return 0.0, -gradient / hessian
    return 0.0, 0.0


@njit(cache=True, fastmath=_FASTMATH)
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
        False when a margin or parameter became non-finite.
    """
    n_samples = indptr.shape[0] - 1
    n_features, n_factors = V.shape
    logistic = loss_kind == LOGISTIC
    kappa = _LOGISTIC_CURVATURE if logistic else 1.0
    margin = np.empty(n_samples)
    Q = np.empty((n_samples, n_factors))
    _rebuild_caches(data, indptr, indices, w0, w, V, margin, Q)
    total_weight = 0.0
    for i in range(n_samples):
        if not np.isfinite(margin[i]):
            return w0, np.inf, False
        total_weight += sample_weight[i]

    # intercept: h = 1 for every sample, not penalised
    if fit_intercept:
        gradient = 0.0
        for i in range(n_samples):
            slope = _sigmoid(margin[i]) - y[i] if logistic else margin[i] - y[i]
            gradient += sample_weight[i] * slope
        if total_weight > 0.0:
            delta = -gradient / (kappa * total_weight)
            w0 += delta
            for i in range(n_samples):
                margin[i] += delta

    # one feature at a time, its non-zeros gathered into contiguous buffers
    longest = 0
    for j in range(n_features):
        longest = max(longest, col_indptr[j + 1] - col_indptr[j])
    xs = np.empty(longest)
    ws = np.empty(longest)
    slope0 = np.empty(longest)   # loss slope at the margins where the feature starts
    moved = np.empty(longest)    # margin change since then
    Qs = np.empty((n_factors, longest))
    for j in range(n_features):
        start = col_indptr[j]
        m = col_indptr[j + 1] - start
        if m == 0:
            continue
        for t in range(m):
            i = col_rows[start + t]
            xs[t] = col_data[start + t]
            ws[t] = sample_weight[i]
            slope0[t] = _sigmoid(margin[i]) - y[i] if logistic else margin[i] - y[i]
            moved[t] = 0.0
            for f in range(n_factors):
                Qs[f, t] = Q[i, f]
        # a dense feature steps jointly with w0; the intercept's gradient needs
        # every sample's slope once (O(n) <= O(2 m)), then only the changes
        joint = fit_intercept and 2 * m >= n_samples
        slope_sum_all = 0.0
        weight_in = 0.0
        moved_out = 0.0  # margin change of the samples outside the column (w0 only)
        if joint:
            for i in range(n_samples):
                slope = _sigmoid(margin[i]) - y[i] if logistic else margin[i] - y[i]
                slope_sum_all += sample_weight[i] * slope
            for t in range(m):
                weight_in += ws[t]
        weight_out = total_weight - weight_in
        for c in range(n_factors + 1):
            # c == 0: w[j] with h = x; c == f + 1: V[j, f] with h = x (q_f - v x)
            if c == 0:
                theta = w[j]
                penalty = reg_linear * penalty_counts[j]
            else:
                theta = V[j, c - 1]
                penalty = reg_factors * penalty_counts[j]
            gradient = penalty * theta
            hessian = penalty
            cross = 0.0
            moved_in = 0.0
            if c == 0:
                for t in range(m):
                    sh = ws[t] * xs[t]
                    gradient += sh * (slope0[t] + kappa * moved[t])
                    hessian += kappa * sh * xs[t]
                    cross += kappa * sh
                    moved_in += ws[t] * moved[t]
            else:
                for t in range(m):
                    x = xs[t]
                    h = x * (Qs[c - 1, t] - theta * x)
                    sh = ws[t] * h
                    gradient += sh * (slope0[t] + kappa * moved[t])
                    hessian += kappa * sh * h
                    cross += kappa * sh
                    moved_in += ws[t] * moved[t]
            g0 = slope_sum_all + kappa * (moved_in + moved_out * weight_out)
            delta0, delta = _step(gradient, hessian, joint, g0, kappa * total_weight, cross)
            if delta0 != 0.0:
                w0 += delta0
                moved_out += delta0
            if c == 0:
                for t in range(m):
                    moved[t] += delta0 + delta * xs[t]
            elif delta != 0.0 or delta0 != 0.0:
                for t in range(m):
                    x = xs[t]
                    moved[t] += delta0 + delta * x * (Qs[c - 1, t] - theta * x)
                    Qs[c - 1, t] += delta * x
            if c == 0:
                w[j] = theta + delta
            else:
                V[j, c - 1] = theta + delta
        # write the caches back
        if moved_out != 0.0:
            for i in range(n_samples):
                margin[i] += moved_out
        for t in range(m):
            i = col_rows[start + t]
            margin[i] += moved[t] - moved_out
            for f in range(n_factors):
                Q[i, f] = Qs[f, t]

    weighted_loss = 0.0
    for i in range(n_samples):
        mi = margin[i]
        if not np.isfinite(mi):
            return w0, np.inf, False
        if logistic:
            signed_margin = mi if y[i] > 0.5 else -mi
            loss = np.log1p(np.exp(-abs(mi))) - min(signed_margin, 0.0)
        else:
            residual = mi - y[i]
            loss = 0.5 * residual * residual
        weighted_loss += sample_weight[i] * loss
    if not (np.isfinite(w0) and np.isfinite(w).all() and np.isfinite(V).all()):
        return w0, np.inf, False
    return w0, weighted_loss, True
