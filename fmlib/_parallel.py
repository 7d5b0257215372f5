"""Threads over row ranges: parallel prediction and lock-free ("Hogwild!")
SGD epochs.

The kernels these run (``fmlib._kernels.predict_rows`` and
``sgd_epoch_shared``) release the GIL (``nogil=True``), so Python threads run
them on both cores at once. Where the kernels run as plain Python (Numba
missing or disabled) threads would only take turns on the GIL, so everything
here runs on the calling thread instead: same results, one core.

The calling thread always runs the first part itself and only waits for the
others afterwards, so ``n_jobs=1`` starts no thread at all.
"""

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels
from ._jit import JIT_ENABLED

__all__ = ["check_n_jobs", "effective_n_jobs", "predict", "sgd_epoch"]

# Below this many rows per thread (prediction or a training epoch) a thread
# costs more than it saves: on SMS (4,180 rows) a two-thread epoch measured
# 3-7x slower than one thread (benchmarks/bench_sgd.py, loaded machine).
MIN_ROWS_PER_THREAD = 10_000


def _n_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def check_n_jobs(n_jobs):
    """Validate ``n_jobs`` (scikit-learn's convention); raise naming it."""
    if n_jobs is None:
        return
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(
            f"n_jobs must be None or an int (1 for one thread, -1 for all cores), "
            f"got {n_jobs!r}.")
    if n_jobs == 0:
        raise ValueError(
            "n_jobs=0 runs nothing: use n_jobs=None or 1 for one thread, a positive int "
            "for that many threads, or -1 for all cores (-2 for all but one).")


def effective_n_jobs(n_jobs):
    """Number of threads to use: None and 1 give 1, -1 all CPUs this process
    may run on, -2 all but one, ... (at least 1); 1 without Numba."""
    check_n_jobs(n_jobs)
    if n_jobs is None or not JIT_ENABLED:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        return max(1, _n_cpus() + 1 + n_jobs)
    return n_jobs


def _run_parts(task, parts):
    """Run ``task(part)`` for every part, the first on this thread; return the
    results in order."""
    if len(parts) == 1:
        return [task(parts[0])]
    with ThreadPoolExecutor(max_workers=len(parts) - 1) as pool:
        futures = [pool.submit(task, part) for part in parts[1:]]
        first = task(parts[0])
        return [first] + [f.result() for f in futures]


def _split(n, n_parts):
    """``n_parts`` contiguous ``(start, stop)`` ranges covering ``range(n)``."""
    bounds = np.linspace(0, n, n_parts + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def predict(X, w0, w, V, out, n_jobs):
    """FM outputs of all rows of CSR ``X`` into ``out``, with the rows split
    over ``n_jobs`` threads (checked arrays only: the caller runs
    ``fmlib._validation.check_kernel_arrays`` first). Each row is computed
    alone, so the output is bit-identical for every ``n_jobs``."""
    n_rows = X.shape[0]
    n_threads = max(1, min(effective_n_jobs(n_jobs), n_rows // MIN_ROWS_PER_THREAD))
    prefetch = _kernels.wants_prefetch(X, V)
    slices = _kernels.factor_slices(V)  # the same for every thread
    w0 = float(w0)

    def task(part):
        _kernels.predict_rows(X.data, X.indptr, X.indices, w0, w, slices, out, part[0],
                              part[1], prefetch)

    _run_parts(task, _split(n_rows, n_threads))


def sgd_epoch(X, y, sample_weight, order, params, learning_rate, reg_linear, reg_factors,
              fit_intercept, loss_kind, n_jobs):
    """One SGD epoch over ``order`` on ``params = [w0, w, V, ...]`` in place.

    With one thread (also whenever a thread would get fewer than
    :data:`MIN_ROWS_PER_THREAD` rows) this is ``fmlib._kernels.sgd_epoch``,
    bit for bit. With more, ``order`` is cut into ``n_jobs`` contiguous parts, one per thread,
    all updating the same ``w``, ``V`` and intercept without locks: an update
    may read parameters another thread is writing, or overwrite its update
    of the same feature. With sparse rows two threads rarely touch the same
    feature at once, so SGD still converges (Niu et al., 2011), but the
    result depends on the threads' timing: not reproducible, even with a
    fixed ``random_state``.

    Returns ``(weighted_loss, finished)``; ``finished`` is False when a
    prediction became non-finite in any part (divergence).
    """
    n_threads = max(1, min(effective_n_jobs(n_jobs), len(order) // MIN_ROWS_PER_THREAD))
    prefetch = _kernels.wants_prefetch(X, params[2])
    args = (float(learning_rate), float(reg_linear), float(reg_factors), bool(fit_intercept),
            loss_kind, prefetch)
    if n_threads == 1:
        w0, total, n_done = _kernels.sgd_epoch(
            X.data, X.indptr, X.indices, y, sample_weight, order, params[0], params[1],
            params[2], *args)
        params[0] = w0
        return total, n_done == len(order)
    intercept = np.array([float(params[0])])

    def task(part):
        chunk = order[part[0]:part[1]]
        total, n_done = _kernels.sgd_epoch_shared(
            X.data, X.indptr, X.indices, y, sample_weight, chunk, intercept, params[1],
            params[2], *args)
        return total, n_done == len(chunk)

    results = _run_parts(task, _split(len(order), n_threads))
    params[0] = float(intercept[0])
    return sum(r[0] for r in results), all(r[1] for r in results)
