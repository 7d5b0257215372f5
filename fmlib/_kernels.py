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
from ._jit import prefetch_stream as _prefetch_stream

SQUARED = 0
LOGISTIC = 1

# Below about this many bytes of rows, weights and factors, the working set
# stays in cache and prefetching only adds instructions; above it, random-order
# epochs wait on memory and prefetching pays (measured on the synthetic matrices
# of benchmarks/bench_sgd.py: 1.2 ns vs 0.9 ns per non-zero x factor at 1 MiB,
# 1.4 ns vs 3.2 ns at 20 MiB, 2.1 ns vs 6.2 ns at 80 MiB, k = 10).
PREFETCH_MIN_BYTES = 8 * 2**20


def working_set_bytes(X, V):
    """Bytes of the non-zeros of CSR matrix ``X``, factors ``V`` and linear
    weights that one epoch (or one prediction pass) touches."""
    return X.data.nbytes + X.indices.nbytes + V.nbytes + V.shape[0] * 8


def wants_prefetch(X, V):
    """Whether an epoch over CSR matrix ``X`` with factors ``V`` should prefetch
    (never when the kernels run as plain Python, where a hint only costs time)."""
    if not JIT_ENABLED:
        return False
    return working_set_bytes(X, V) >= PREFETCH_MIN_BYTES

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


# Prediction reads the factors of a model in slices of this many columns when
# the factor table is at least PREFETCH_MIN_BYTES and has at least two slices'
# worth of columns: a whole pass over the rows per slice, so that the factors
# each pass reads in random order (16 columns of 100,000 features: 12.8 MB)
# stay in cache instead of the whole table. On a 1M x 100k matrix, two
# threads, the kernel took 0.39 ns per non-zero x factor sliced against 0.52
# unsliced at k = 32, 0.40 against 0.68 at k = 64; at k = 24 the zero-padded
# second slice made it slower (0.46 against 0.42), so k < 32 is not sliced.
SLICE_WIDTH = 16


def _zeros_aligned(shape):
    """Zero float64 array starting on a 64-byte cache-line boundary (NumPy
    only promises 16): then each 16-factor row of a slice is two whole lines,
    not parts of three (measured 1.29x faster prediction at k = 32)."""
    size = int(np.prod(shape))
    buffer = np.zeros(size + 8)
    start = (-buffer.ctypes.data % 64) // 8  # NumPy aligns to at least 8 bytes
    return buffer[start:start + size].reshape(shape)


def factor_slices(V):
    """The factors ``V`` as the ``(n_slices, n_features, width)`` array that
    :func:`predict_rows` reads: ``V`` itself (a view, one slice) when it is
    small or has fewer than ``2 * SLICE_WIDTH`` columns; otherwise a copy in
    slices of :data:`SLICE_WIDTH` columns, the last one padded with zero
    columns (which add exactly 0 to every sum)."""
    n_features, n_factors = V.shape
    if n_factors < 2 * SLICE_WIDTH or V.nbytes < PREFETCH_MIN_BYTES:
        return V.reshape(1, n_features, n_factors)
    n_slices = -(-n_factors // SLICE_WIDTH)
    slices = _zeros_aligned((n_slices, n_features, SLICE_WIDTH))
    for s in range(n_slices):
        part = V[:, s * SLICE_WIDTH:(s + 1) * SLICE_WIDTH]
        slices[s, :, :part.shape[1]] = part
    return slices


@njit(cache=True, fastmath=_FASTMATH)
def _prefetch_factor_rows(indptr, indices, i, w, with_linear, slice_):
    """Ask for the factor-slice rows of row ``i``'s features, and their ``w``
    entries ``with_linear`` (prediction reads the rows in order, which the
    hardware follows by itself, but the features of a row are scattered over
    the factors)."""
    width = slice_.shape[1]
    for p in range(indptr[i], indptr[i + 1]):
        j = indices[p]
        if with_linear:
            _prefetch(w, j)
        for f in range(0, width, 8):
            _prefetch(slice_, j * width + f)
        _prefetch(slice_, j * width + width - 1)


@njit(cache=True, fastmath=_FASTMATH)
def _row_part(data, indices, start, stop, w0, w, with_linear, slice_, sums):
    """One CSR row's share of the FM output from one factor slice:
    ``(w0 + sum_j w_j x_j, sum_f (sum_j v_jf x_j)^2 - sum_j |v_j|^2 x_j^2)``
    over the slice's columns, the linear part only ``with_linear`` (else 0)."""
    width = slice_.shape[1]
    for f in range(width):
        sums[f] = 0.0
    linear = w0 if with_linear else 0.0  # summed in predict_row's order
    squares = 0.0
    for p in range(start, stop):
        j = indices[p]
        x = data[p]
        if with_linear:
            linear += w[j] * x
        norm2 = 0.0   # |V[j]|^2 over the slice: a reduction local to this non-zero
        for f in range(width):
            v = slice_[j, f]
            sums[f] += v * x
            norm2 += v * v
        squares += norm2 * (x * x)
    pairwise = 0.0
    for f in range(width):
        pairwise += sums[f] * sums[f]
    return linear, pairwise - squares


# How far ahead of the row being computed prediction asks for the matrix's
# non-zeros, which it reads once per slice (in non-zeros: 2 KiB of data).
STREAM_AHEAD = 256


@njit(cache=True, fastmath=_FASTMATH)
def _stream_ahead(data, indices, next_p, stop):
    """Ask, without displacing cached factors, for the ``data`` and
    ``indices`` entries from ``next_p`` up to ``stop`` (one hint per 64-byte
    line of ``data``; ``indices`` are no wider); return where to go on."""
    while next_p < stop:
        _prefetch_stream(data, next_p)
        _prefetch_stream(indices, next_p)
        next_p += 8
    return next_p


@njit(cache=True, fastmath=_FASTMATH, nogil=True)
def predict_rows(data, indptr, indices, w0, w, slices, out, first, last, prefetch):
    """Write the FM output of rows ``first`` to ``last - 1`` into ``out``.

    ``slices`` holds the factors as :func:`factor_slices` returns them. The
    first pass over the rows writes the linear part and the first slice's
    share of the pairwise term; each further slice adds its share in a pass of
    its own. A row's value depends only on that row and on ``slices``, so
    threads given disjoint row ranges (``nogil``) write exactly what one call
    over all rows writes. ``prefetch`` asks for the factor-slice rows of row
    ``i + 2`` while row ``i`` is computed, and streams the non-zeros
    :data:`STREAM_AHEAD` ahead without pushing the slice out of the cache.
    """
    sums = np.empty(slices.shape[2])
    n_entries = data.shape[0]
    for s in range(slices.shape[0]):
        slice_ = slices[s]
        next_p = indptr[first]
        for i in range(first, last):
            start = indptr[i]
            stop = indptr[i + 1]
            if prefetch:
                next_p = _stream_ahead(data, indices, max(next_p, start),
                                       min(stop + STREAM_AHEAD, n_entries))
                if i + 2 < last:
                    _prefetch_factor_rows(indptr, indices, i + 2, w, s == 0, slice_)
            linear, twice_pairwise = _row_part(data, indices, start, stop, w0, w, s == 0,
                                               slice_, sums)
            if s == 0:
                out[i] = linear + 0.5 * twice_pairwise
            else:
                out[i] += 0.5 * twice_pairwise


def predict(data, indptr, indices, w0, w, V, out):
    """Write the FM output for every row of a CSR matrix into ``out`` (one
    thread, no prefetching: what ``decision_function`` computes, bit for
    bit)."""
    predict_rows(data, indptr, indices, w0, w, factor_slices(V), out, 0,
                 indptr.shape[0] - 1, False)


@njit(cache=True)
def fill_block_order(rows, block_perm, block_size, keys, order):
    """Write into ``order`` the blocks of ``block_size`` consecutive entries
    of ``rows`` in the order ``block_perm``, each block shuffled (Fisher-Yates
    driven by the uniform numbers ``keys``, one per entry).

    ``block_perm`` must be a permutation of ``range(ceil(len(rows) /
    block_size))`` and ``keys`` in ``[0, 1)`` of the length of ``rows``
    (checked by the caller, ``fmlib._order``).
    """
    n = rows.shape[0]
    pos = 0
    for b in range(block_perm.shape[0]):
        src = block_perm[b] * block_size
        length = min(block_size, n - src)
        for t in range(length):
            order[pos + t] = rows[src + t]
        for t in range(length - 1, 0, -1):
            s = int(keys[pos + t] * (t + 1))
            if s > t:  # keys[...] < 1, so only by rounding; stay in the block
                s = t
            tmp = order[pos + t]
            order[pos + t] = order[pos + s]
            order[pos + s] = tmp
        pos += length


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
    intercept = np.empty(1)
    intercept[0] = w0
    weighted_loss, n_done = sgd_epoch_shared(
        data, indptr, indices, y, sample_weight, order, intercept, w, V, learning_rate,
        reg_linear, reg_factors, fit_intercept, loss_kind, prefetch)
    return intercept[0], weighted_loss, n_done


@njit(cache=True, fastmath=_FASTMATH, nogil=True)
def sgd_epoch_shared(data, indptr, indices, y, sample_weight, order, intercept, w, V,
                     learning_rate, reg_linear, reg_factors, fit_intercept, loss_kind,
                     prefetch):
    """:func:`sgd_epoch` with the intercept in the 1-element array ``intercept``
    (updated in place), without holding the GIL: threads that run it at once
    on disjoint parts of an order, on the same ``intercept``, ``w`` and ``V``,
    update them lock-free ("Hogwild!", Niu et al., 2011). One thread alone
    computes exactly what :func:`sgd_epoch` computes.

    Returns ``(weighted_loss, n_done)`` as :func:`sgd_epoch` does.
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
        y_hat = predict_row(data, indices, start, stop, intercept[0], w, V, sums)
        if not np.isfinite(y_hat):
            return weighted_loss, n_done
        loss, slope = _loss_and_slope(loss_kind, y_hat, y[i])
        weighted_loss += sample_weight[i] * loss
        g = learning_rate * sample_weight[i] * slope
        if fit_intercept:
            intercept[0] -= g
        for p in range(start, stop):
            j = indices[p]
            x = data[p]
            w[j] -= g * x + learning_rate * reg_linear * w[j]
            gx = g * x
            c = shrink + gx * x
            for f in range(n_factors):
                # V - gx * (sums[f] - V * x) - lr * reg * V, as one FMA
                V[j, f] = V[j, f] * c - gx * sums[f]
    return weighted_loss, order.shape[0]
