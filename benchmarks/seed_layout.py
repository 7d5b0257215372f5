"""Baselines for ``bench_sgd.py``: the seed notebook's kernel layout, and a floor.

Nothing here is part of fmlib; these kernels exist only to be timed against
``fmlib._kernels.sgd_epoch``.

``seed_sgd_epoch``
    A re-implementation, written for this benchmark, of the way the original
    seed notebook laid out its SGD kernel:

    * the factors are stored ``(n_factors, n_features)``, so the ``k`` factors
      of one feature are ``n_features`` apart in memory;
    * per sample, a prediction function allocates two length-``k`` arrays
      (``summed`` and ``summed_squared``, with ``np.zeros``) and loops
      factor-outer / non-zero-inner, i.e. ``k`` passes over the row;
    * the update then does the intercept, the linear weights (one pass over
      the row), and the factors, again factor-outer / non-zero-inner;
    * labels are ``-1/+1``; the loss is ``log(exp(-y*pred) + 1)`` and its
      derivative ``-y / (exp(y*pred) + 1)``; the L2 terms are ``2*reg*param``.

    Unlike the seed, the updated intercept is returned (the seed dropped it),
    so that it does the same work as fmlib's kernel; the layout, the
    allocations and the loop order are kept as they were.

``floor_epoch``
    The memory traffic of an epoch with no FM arithmetic: for every row (in
    the same order), one pass reading ``V[j, :]`` for each non-zero, then one
    pass read-modify-writing ``V[j, :]`` and ``w[j]``. No SGD kernel that
    visits the factors of each non-zero twice can beat it by much.

``before_predict``
    fmlib's batch prediction as it was before issue 15 (commit a0fc381,
    unchanged until the factor slices): one thread, no prefetching, each row
    computed by one pass over its non-zeros and all ``k`` factors. Kept here
    so that the benchmark compares the prediction of today against that of
    before in one run.
"""

import numpy as np
from numba import njit

# Same flags as fmlib's kernels, so that the floor's reductions vectorise.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True)
def _seed_predict_one(data, indices, begin, end, bias, weights, factors_kn):
    """Seed-style prediction of one row; also returns the per-factor sums."""
    k = factors_kn.shape[0]
    summed = np.zeros(k)
    summed_squared = np.zeros(k)
    out = bias
    for q in range(begin, end):
        out += weights[indices[q]] * data[q]
    for f in range(k):
        for q in range(begin, end):
            prod = factors_kn[f, indices[q]] * data[q]
            summed[f] += prod
            summed_squared[f] += prod * prod
        out += 0.5 * (summed[f] * summed[f] - summed_squared[f])
    return out, summed


@njit(cache=True)
def seed_sgd_epoch(data, indptr, indices, y_pm, order, bias, weights, factors_kn,
                   learning_rate, reg_w, reg_v):
    """One SGD epoch in the seed layout; ``factors_kn`` is ``(k, n_features)``.

    ``y_pm`` holds labels in ``{-1, +1}``. ``weights`` and ``factors_kn`` are
    updated in place. Returns ``(bias, summed_loss)``.
    """
    k = factors_kn.shape[0]
    summed_loss = 0.0
    for t in range(order.shape[0]):
        r = order[t]
        begin = indptr[r]
        end = indptr[r + 1]
        label = y_pm[r]
        pred, summed = _seed_predict_one(data, indices, begin, end, bias,
                                         weights, factors_kn)
        summed_loss += np.log(np.exp(-label * pred) + 1.0)
        dloss = -label / (np.exp(label * pred) + 1.0)
        bias -= learning_rate * dloss
        for q in range(begin, end):
            j = indices[q]
            weights[j] -= learning_rate * (dloss * data[q] + 2.0 * reg_w * weights[j])
        for f in range(k):
            for q in range(begin, end):
                j = indices[q]
                xq = data[q]
                grad = dloss * xq * (summed[f] - factors_kn[f, j] * xq)
                factors_kn[f, j] -= learning_rate * (grad + 2.0 * reg_v * factors_kn[f, j])
    return bias, summed_loss


@njit(cache=True, fastmath=_FASTMATH)
def floor_epoch(data, indptr, indices, order, w, V):
    """Read, then read-modify-write, ``V[j, :]`` (and ``w[j]``) for every non-zero.

    ``V`` is ``(n_features, k)`` as in fmlib. Per row: a first pass sums each
    factor row ``V[j, :]`` (a short, vectorisable reduction per non-zero) into
    one number, then a second pass rewrites ``w[j]`` and ``V[j, :]`` as a
    contraction of themselves plus a term from that number, so, as in SGD,
    the writes of a row wait for its reads and nothing can be optimised away.
    The values stay bounded. Returns a checksum.
    """
    k = V.shape[1]
    checksum = 0.0
    for t in range(order.shape[0]):
        r = order[t]
        begin = indptr[r]
        end = indptr[r + 1]
        acc = 0.0
        for q in range(begin, end):
            j = indices[q]
            s = 0.0
            for f in range(k):
                s += V[j, f]
            acc += s * data[q]
        b = 1e-9 * acc
        for q in range(begin, end):
            j = indices[q]
            w[j] = w[j] * 0.999 + b
            for f in range(k):
                V[j, f] = V[j, f] * 0.999 + b
        checksum += acc
    return checksum


@njit(cache=True, fastmath=_FASTMATH)
def _before_predict_row(data, indices, start, stop, w0, w, V, sums):
    n_factors = V.shape[1]
    for f in range(n_factors):
        sums[f] = 0.0
    linear = w0
    squares = 0.0
    for p in range(start, stop):
        j = indices[p]
        x = data[p]
        linear += w[j] * x
        norm2 = 0.0
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
def before_predict(data, indptr, indices, w0, w, V, out):
    """fmlib's ``_kernels.predict`` before issue 15 (see the module docstring)."""
    sums = np.empty(V.shape[1])
    for i in range(indptr.shape[0] - 1):
        out[i] = _before_predict_row(data, indices, indptr[i], indptr[i + 1], w0, w, V, sums)
