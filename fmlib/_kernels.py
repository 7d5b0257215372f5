"""Compiled kernels: SGD epochs and batch prediction over CSR arrays.

Plain ``@njit(cache=True)`` functions over NumPy arrays, with no Python
objects, so that they compile once per array signature and the compiled code
is reused from Numba's on-disk cache in later processes. Where Numba is
missing or disabled, :mod:`fmlib._jit` leaves them as plain Python (the same
code, much slower; the prefetch hints become no-ops). They index without
bounds checks: callers run :func:`fmlib._validation.check_kernel_arrays`
first.

Layout
------
The factors ``V`` are stored as ``(n_features, n_factors)``, C-contiguous, so
the ``k`` factors of one feature are adjacent in memory: visiting a non-zero
``x_j`` reads (and later writes) one contiguous row ``V[j]``. Each sample makes
two passes over its non-zeros, one to predict and one to update, each running
over the ``k`` factors of a feature in the innermost loop.

Because SGD visits the rows in a random order, the hardware cannot guess
which memory comes next; when the data do not fit in cache, ``sgd_epoch``
tells it, with software prefetches of the next rows' non-zeros and factor
rows while the current row is computed (see :func:`wants_prefetch`).

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

from ._jit import JIT_ENABLED, njit
from ._jit import prefetch as _prefetch

SQUARED = 0
LOGISTIC = 1

# Below about this many bytes of rows, weights and factors, the working set
# stays in cache and prefetching only adds instructions; above it, random-order
# epochs wait on memory and prefetching pays (measured on the synthetic matrices
# of benchmarks/bench_sgd.py: 1.2 ns vs 0.9 ns per non-zero x factor at 1 MiB,
# 1.4 ns vs 3.2 ns at 20 MiB, 2.1 ns vs 6.2 ns at 80 MiB, k = 10).
PREFETCH_MIN_BYTES = 8 * 2**20


def wants_prefetch(X, V):
    """Whether an epoch over CSR matrix ``X`` with factors ``V`` should prefetch
    (never when the kernels run as plain Python, where a hint only costs time)."""
    if not JIT_ENABLED:
        return False
    working_set = X.data.nbytes + X.indices.nbytes + V.nbytes + V.shape[0] * 8
    return working_set >= PREFETCH_MIN_BYTES

# Reassociation lets LLVM vectorise the sums over factors; "nnan"/"ninf" are
# deliberately left out so that the finiteness checks below are kept.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, fastmath=_FASTMATH)
def _prefetch_ahead(n, order, data, indptr, indices, w, V):
    """Software pipeline over the rows to come (the row order is random, so the
    hardware prefetchers cannot guess it): the ``indptr`` entry of row
    ``n + 3``, the non-zeros of row ``n + 2``, and the ``w``/``V`` entries of
    row ``n + 1``, each fetched while row ``n`` is being computed."""
    n_rows = order.shape[0]
    if n + 3 < n_rows:
        _prefetch(indptr, order[n + 3])
    if n + 2 < n_rows:
        r = order[n + 2]
        a = indptr[r]
        b = indptr[r + 1]
        if b > a:
            for p in range(a, b, 8):  # 8 float64 per 64-byte line
                _prefetch(data, p)
            for p in range(a, b, 16):  # 16 int32 per line
                _prefetch(indices, p)
            _prefetch(data, b - 1)
            _prefetch(indices, b - 1)
    if n + 1 < n_rows:
        k = V.shape[1]
        r = order[n + 1]
        for p in range(indptr[r], indptr[r + 1]):
            j = indices[p]
            _prefetch(w, j)
            for f in range(0, k, 8):
                _prefetch(V, j * k + f)
            _prefetch(V, j * k + k - 1)


@njit(cache=True, fastmath=_FASTMATH)
def _loss_and_slope(loss_kind, y_hat, y):
    """Loss of one sample and its derivative with respect to ``y_hat``."""
    if loss_kind == LOGISTIC:
        # exp of a non-positive number never overflows, and this one exp
        # serves both the loss, log(1 + e^-|m|) + max(-signed margin, 0),
        # and the sigmoid
        e = np.exp(-abs(y_hat))
        inv = 1.0 / (1.0 + e)
        probability = inv if y_hat >= 0.0 else e * inv
        signed_margin = y_hat if y > 0.5 else -y_hat
        return np.log1p(e) - min(signed_margin, 0.0), probability - y
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
        norm2 = 0.0   # |V[j]|^2: a reduction local to this non-zero
        for f in range(n_factors):
            v = V[j, f]
            sums[f] += v * x
            norm2 += v * v
        squares += norm2 * (x * x)
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
              learning_rate, reg_linear, reg_factors, fit_intercept, loss_kind,
              prefetch=True):
    """One epoch of SGD over the rows of a CSR matrix, in the given order.

    ``w`` and ``V`` are updated in place. The intercept is a float, so it is
    returned rather than updated in place. ``prefetch`` asks for software
    prefetching of the rows to come (worth it for data larger than the cache).

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
    shrink = 1.0 - learning_rate * reg_factors
    weighted_loss = 0.0
    for n_done in range(order.shape[0]):
        i = order[n_done]
        if prefetch:
            _prefetch_ahead(n_done, order, data, indptr, indices, w, V)
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
            c = shrink + gx * x
            for f in range(n_factors):
                # V - gx * (sums[f] - V * x) - lr * reg * V, as one FMA
                V[j, f] = V[j, f] * c - gx * sums[f]
    return w0, weighted_loss, order.shape[0]
