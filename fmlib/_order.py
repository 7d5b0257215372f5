"""The order in which an SGD epoch visits the training rows.

``"rows"`` is a uniformly random permutation of the rows, the textbook SGD
order. On data larger than the CPU caches it makes every row, and every
factor row ``V[j]`` it touches, a cache miss: the epoch waits on memory.

``"blocks"`` cuts the rows (in their stored order) into blocks of
:data:`BLOCK_SIZE` consecutive rows, visits the blocks in a random order and
the rows of each block in a random order. Every row is still visited once
per epoch, the order is new in every epoch and depends on the seed, and the
rows of a block arrive in random order; but the rows of a block are adjacent
in memory, so the hardware streams them instead of missing on each. What is
lost: rows that are close in the file stay close in the epoch (within 64
positions), so data sorted by label or by time (rows in blocks that differ
from the rest) get a less mixed order than ``"rows"`` gives. Shuffle such
data once before ``fit`` (e.g. ``sklearn.utils.shuffle``).
"""

import numpy as np

from . import _kernels

__all__ = ["BLOCK_SIZE", "SHUFFLE_MODES", "epoch_order", "resolve_shuffle"]

#: Rows per block of the ``"blocks"`` order. Measured on the 1,000,000 x
#: 100,000 matrix of benchmarks/bench_sgd.py (k = 10): blocks of 64 rows
#: (about 20 KiB of non-zeros) gave most of the gain of sequential access.
BLOCK_SIZE = 64

SHUFFLE_MODES = ("rows", "blocks")


def resolve_shuffle(shuffle, X, factors):
    """The order mode of an epoch: ``False``, ``"rows"`` or ``"blocks"``.

    ``shuffle=True`` means ``"blocks"`` when the rows, weights and factors an
    epoch touches (:func:`fmlib._kernels.working_set_bytes`) exceed
    :data:`fmlib._kernels.PREFETCH_MIN_BYTES` (8 MiB), where the random row
    order waits on memory, and ``"rows"`` below, where it does not. The
    choice depends on the data's size only (not on the machine or on Numba),
    so a seed gives the same model everywhere.
    """
    if isinstance(shuffle, str):
        return shuffle
    if not shuffle:
        return False
    if _kernels.working_set_bytes(X, factors) >= _kernels.PREFETCH_MIN_BYTES:
        return "blocks"
    return "rows"


def block_shuffled(rows, rng, block_size=BLOCK_SIZE):
    """``rows`` as randomly ordered blocks of ``block_size`` consecutive
    entries, each block in random order (see the module docstring).

    Draws the permutation of the blocks, then one uniform number per row,
    from ``rng`` (a ``numpy.random.RandomState``).
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n_rows = rows.shape[0]
    n_blocks = -(-n_rows // block_size)
    block_perm = rng.permutation(n_blocks).astype(np.int64)
    keys = rng.random_sample(n_rows)
    order = np.empty(n_rows, dtype=np.int64)
    # what the kernel indexes, checked before it runs (block_perm and keys
    # come from NumPy, but the kernel trusts them without bounds checks)
    if not (block_perm.shape == (n_blocks,) and keys.shape == (n_rows,)
            and (n_blocks == 0 or (block_perm.min() == 0 and block_perm.max() == n_blocks - 1))
            and ((keys >= 0) & (keys < 1)).all()):
        raise ValueError("internal error: inconsistent block order")
    _kernels.fill_block_order(rows, block_perm, int(block_size), keys, order)
    return order


def epoch_order(mode, rows, rng):
    """The rows of one epoch in the order of ``mode`` (from :func:`resolve_shuffle`)."""
    if mode is False:
        return rows
    if mode == "rows":
        return rng.permutation(rows)
    return block_shuffled(rows, rng)
