"""Compiled kernels: SGD epochs and batch prediction over CSR arrays.

Plain ``@njit(cache=True)`` functions over NumPy arrays, with no Python
objects, so that they compile once per array signature and the compiled code
is reused from Numba's on-disk cache in later processes.

Layout
------
The factors ``V`` are stored as ``(n_features, n_factors)``, C-contiguous, so
the ``k`` factors of one feature are adjacent in memory: visiting a non-zero
``x_j`` reads (and later writes) one contiguous row ``V[j]``. Each sample makes
two passes over its non-zeros, one to predict and one to update, each running
over the ``k`` factors of a feature in the innermost loop.

Conventions
-----------
``loss_kind`` selects the loss: ``SQUARED`` is ``(y_hat - y)**2 / 2`` and
``LOGISTIC`` is ``log(1 + exp(-y_hat))`` for ``y = 1`` and
``log(1 + exp(y_hat))`` for ``y = 0`` (labels are 0/1). The L2 penalty on a
parameter ``theta`` contributes ``reg * theta`` to its gradient, i.e. the
penalty is ``reg / 2 * theta**2``; like libFM, only the parameters of the
features present in a sample are shrunk at that sample ("lazy"
regularisation), and the intercept is not penalised.
"""

import numpy as np
from numba import njit

SQUARED = 0
LOGISTIC = 1

# Reassociation lets LLVM vectorise the sums over factors; "nnan"/"ninf" are
# deliberately left out so that the finiteness checks below are kept.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, fastmath=_FASTMATH)
def _softplus(z):
    # log(1 + exp(z)) without overflow for large |z|
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(cache=True, fastmath=_FASTMATH)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(cache=True, fastmath=_FASTMATH)
def _loss_and_slope(loss_kind, y_hat, y):
    """Loss of one sample and its derivative with respect to ``y_hat``."""
    if loss_kind == LOGISTIC:
        loss = _softplus(-y_hat) if y > 0.5 else _softplus(y_hat)
        return loss, _sigmoid(y_hat) - y
    residual = y_hat - y
    return 0.5 * residual * residual, residual


@njit(cache=True, fastmath=_FASTMATH)
def predict_row(data, indices, start, stop, w0, w, V, sums):
    """Prediction for one CSR row; leaves ``sum_j V[j, f] x_j`` in ``sums``."""
    n_factors = V.shape[1]
    for f in range(n_factors):
        sums[f] = 0.0
    linear = w0
    squares = 0.0
    for p in range(start, stop):
        j = indices[p]
        x = data[p]
        linear += w[j] * x
        for f in range(n_factors):
            t = V[j, f] * x
            sums[f] += t
            squares += t * t
    pairwise = 0.0
    for f in range(n_factors):
        pairwise += sums[f] * sums[f]
    return linear + 0.5 * (pairwise - squares)


@njit(cache=True, fastmath=_FASTMATH)
def predict(data, indptr, indices, w0, w, V, out):
    """Write the FM output for every row of a CSR matrix into ``out``."""
    sums = np.empty(V.shape[1])
    for i in range(indptr.shape[0] - 1):
        out[i] = predict_row(data, indices, indptr[i], indptr[i + 1], w0, w, V, sums)


@njit(cache=True, fastmath=_FASTMATH)
def sgd_epoch(data, indptr, indices, y, sample_weight, order, w0, w, V,
              learning_rate, reg_linear, reg_factors, fit_intercept, loss_kind):
    """One epoch of SGD over the rows of a CSR matrix, in the given order.

    ``w`` and ``V`` are updated in place. The intercept is a float, so it is
    returned rather than updated in place.

    Returns
    -------
    w0 : float
        The updated intercept.
    weighted_loss : float
        Sum over the visited samples of ``sample_weight * loss``, each loss
        evaluated with the parameters as they were just before that sample's
        update.
    n_done : int
        The number of samples processed. Less than ``len(order)`` when a
        prediction became non-finite (divergence): the epoch stops there,
        before that sample updates anything.
    """
    n_factors = V.shape[1]
    sums = np.empty(n_factors)
    weighted_loss = 0.0
    for n_done in range(order.shape[0]):
        i = order[n_done]
        start = indptr[i]
        stop = indptr[i + 1]
        y_hat = predict_row(data, indices, start, stop, w0, w, V, sums)
        if not np.isfinite(y_hat):
            return w0, weighted_loss, n_done
        loss, slope = _loss_and_slope(loss_kind, y_hat, y[i])
        weighted_loss += sample_weight[i] * loss
        g = learning_rate * sample_weight[i] * slope
        if fit_intercept:
            w0 -= g
        for p in range(start, stop):
            j = indices[p]
            x = data[p]
            w[j] -= g * x + learning_rate * reg_linear * w[j]
            gx = g * x
            for f in range(n_factors):
                v = V[j, f]
                # d y_hat / d V[j, f] = x_j * (sums[f] - V[j, f] * x_j)
                V[j, f] = v - gx * (sums[f] - v * x) - learning_rate * reg_factors * v
    return w0, weighted_loss, order.shape[0]
