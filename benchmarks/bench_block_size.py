"""Time one SGD epoch on the large synthetic matrix of bench_sgd.py in the
per-row random order and in block orders of several block sizes (k = 10).

Run from the repository root::

    python benchmarks/bench_block_size.py          # 1,000,000 x 100,000, 3 repeats
    python benchmarks/bench_block_size.py --quick  # 100,000 x 20,000

Interleaved round-robin; CPU time of the process (the kernel is
single-threaded, so this leaves out time other processes held the core).
This is how ``fmlib._order.BLOCK_SIZE`` was chosen.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sgd import make_large  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from fmlib import _kernels as K, _order

    shape = (100_000, 20_000, 20) if args.quick else (1_000_000, 100_000, 20)
    X, y = make_large(*shape)
    k = 10
    V0 = np.random.default_rng(0).normal(0, 0.01, (X.shape[1], k))
    sw = np.ones(X.shape[0])
    rows = np.arange(X.shape[0])
    orders = {"rows": np.random.RandomState(0).permutation(rows)}
    for size in (16, 64, 256, 1024, 4096):
        orders[size] = _order.block_shuffled(rows, np.random.RandomState(0), size)
    prefetch = K.wants_prefetch(X, V0)
    times = {}
    for _ in range(3):
        for name, order in orders.items():
            w, V = np.zeros(X.shape[1]), V0.copy()
            c0 = time.process_time()
            K.sgd_epoch(X.data, X.indptr, X.indices, y, sw, order, 0.0, w, V,
                        0.01, 0.01, 0.01, True, K.LOGISTIC, prefetch)
            times.setdefault(name, []).append(time.process_time() - c0)
    base = np.median(times["rows"])
    print(f"{X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}, k = {k}; CPU medians of 3")
    for name, t in times.items():
        t = np.median(t)
        print(f"  {str(name):>5s}  {t:.3f} s  {t / X.nnz / k * 1e9:5.2f} ns/(nz*k)  "
              f"rows/this {base / t:.2f}x")


if __name__ == "__main__":
    main()
