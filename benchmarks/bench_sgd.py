"""Time one SGD epoch of fmlib's kernel against the seed layout and a memory floor.

Run from the repository root::

    python benchmarks/bench_sgd.py            # full run (a few minutes on 2 cores)
    python benchmarks/bench_sgd.py --quick    # smoke run, well under a minute
    python benchmarks/bench_sgd.py --only sms # or --only large

See benchmarks/README.md for what is measured and the targets.
"""

import argparse
import csv
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# Hyper-parameters of the timed epochs: small enough that no contender diverges.
INIT_STD = 0.01
LEARNING_RATE = 0.01
REG = 0.01  # fmlib's reg (penalty reg/2 * theta^2); the seed gets REG / 2 (it uses 2*reg*theta)

CONTENDERS = ("seed", "fmlib", "floor")

# Targets from the issue: (data, k) -> minimum seed/fmlib speed-up.
SPEEDUP_TARGETS = {("sms", 10): 3.0, ("sms", 64): 6.0, ("large", 10): 3.0, ("large", 32): 5.0}
FLOOR_TARGET = 2.0  # fmlib within 2x of the floor, on the large matrix
FIRST_FIT_TARGET = 0.5  # seconds, first fit in a fresh process with the cache warm


# --------------------------------------------------------------------- data
def _sms_path():
    candidates = []
    env = os.environ.get("FMLIB_DATA_HOME")
    if env:
        p = Path(env)
        candidates.append(p / "SMSSpamCollection" if p.is_dir() else p)
    candidates += [REPO.parent / "shared" / "data" / "SMSSpamCollection",
                   Path("/work/shared/data/SMSSpamCollection")]
    for p in candidates:
        if p.is_file():
            return p
    raise FileNotFoundError(
        "SMSSpamCollection not found; set FMLIB_DATA_HOME to the folder holding it. "
        f"Tried: {', '.join(map(str, candidates))}")


def _as_binary(y):
    y = np.asarray(y)
    if y.dtype.kind in "OUS":
        return (y == "spam").astype(np.float64)
    return y.astype(np.float64)


def _from_experiment(result):
    """Pull (X_train, y_train) out of whatever sms_spam_experiment returns."""
    for xa, ya in (("X_train", "y_train"), ("Xtr", "ytr")):
        if isinstance(result, dict) and xa in result:
            return result[xa], result[ya]
        if hasattr(result, xa):
            return getattr(result, xa), getattr(result, ya)
    if isinstance(result, tuple) and len(result) >= 4 and sp.issparse(result[0]):
        return result[0], result[2]  # train_test_split order
    raise TypeError(f"unrecognised return value of type {type(result).__name__}")


def load_sms():
    """The SMS TF-IDF training matrix (CSR, float64, int32 indices) and 0/1 labels.

    Uses ``fmlib.datasets.sms_spam_experiment`` when fmlib has it (pointed at
    the folder of the local copy, no download), else the same recipe by hand.
    """
    source = None
    path = _sms_path()
    try:
        from fmlib import datasets
        fn = getattr(datasets, "sms_spam_experiment", None)
    except ImportError:
        fn = None
    if fn is not None:
        try:
            try:
                result = fn(data_home=str(path.parent), download=False)
            except TypeError:
                result = fn()
            X, y = _from_experiment(result)
            source = f"fmlib.datasets.sms_spam_experiment(data_home={str(path.parent)!r})"
        except Exception as exc:  # noqa: BLE001 - fall back to the recipe below
            print(f"  (sms_spam_experiment unusable here: {exc!r}; using the recipe)")
    if source is None:
        import pandas as pd
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.model_selection import train_test_split

        df = pd.read_csv(path, sep="\t", header=None, quoting=csv.QUOTE_NONE,
                         names=["label", "message"])
        y_all = (df["label"] == "spam").to_numpy()
        msg_train, _, y, _ = train_test_split(df["message"].to_numpy(), y_all,
                                              test_size=0.25, random_state=1)
        X = TfidfVectorizer(min_df=2, max_df=0.5).fit_transform(msg_train)
        source = (f"{path} ({len(df)} rows, QUOTE_NONE), split test_size=0.25 random_state=1, "
                  "TfidfVectorizer(min_df=2, max_df=0.5)")
    X = sp.csr_matrix(X, dtype=np.float64)
    X.sum_duplicates()
    X.sort_indices()
    X.indices = X.indices.astype(np.int32, copy=False)
    X.indptr = X.indptr.astype(np.int32, copy=False)
    return X, _as_binary(y), source


def make_large(n_rows, n_features, nnz_per_row, seed=0):
    """Random CSR matrix, ~nnz_per_row non-zeros per row, labels with a planted signal.

    Columns are uniform at random; duplicates within a row are dropped, so a
    row has nnz_per_row non-zeros or slightly fewer. Values are uniform in
    [0.1, 1). Labels are 1 where a sparse linear score (a random weight vector
    on a random 10% of the features) plus logistic noise is positive.
    """
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, n_features, size=(n_rows, nnz_per_row), dtype=np.int32)
    cols.sort(axis=1)
    keep = np.ones(cols.shape, dtype=bool)
    keep[:, 1:] = cols[:, 1:] != cols[:, :-1]
    counts = keep.sum(axis=1)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = cols[keep]
    del cols, keep
    data = rng.uniform(0.1, 1.0, size=indices.shape[0])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_features))
    X.has_sorted_indices = True
    beta = np.where(rng.random(n_features) < 0.1, rng.normal(0.0, 3.0, n_features), 0.0)
    score = X @ beta
    score -= np.median(score)
    y = (score + rng.logistic(size=n_rows) > 0).astype(np.float64)
    return X, y


# --------------------------------------------------------------------- kernels
_FMLIB_KERNELS = None  # module whose sgd_epoch is timed as "fmlib"; see --kernels


def _load_kernels(path):
    """Import a candidate kernels file (same API as fmlib/_kernels.py) by path."""
    import importlib.util

    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # Numba's cache locates functions by module
    spec.loader.exec_module(module)
    return module


def _kernels():
    global _FMLIB_KERNELS
    if _FMLIB_KERNELS is None:
        from fmlib import _kernels as module

        _FMLIB_KERNELS = module
    from seed_layout import floor_epoch, seed_sgd_epoch

    return _FMLIB_KERNELS, seed_sgd_epoch, floor_epoch


class Problem:
    """One (matrix, k): initial parameters, per-contender work buffers, runners."""

    def __init__(self, name, X, y01, k, seed=0):
        self.name, self.X, self.k = name, X, k
        self.y01 = y01
        self.y_pm = 2.0 * y01 - 1.0
        self.sw = np.ones(X.shape[0])
        rng = np.random.default_rng(seed)
        self.order = rng.permutation(X.shape[0]).astype(np.int64)
        n_features = X.shape[1]
        self.V0 = np.ascontiguousarray(rng.normal(0.0, INIT_STD, size=(n_features, k)))
        self.VT0 = np.ascontiguousarray(self.V0.T)  # the seed's (k, n_features) layout
        self.w0_init = 0.0
        self.w_init = np.zeros(n_features)
        # work buffers, refilled (untimed) before each timed epoch
        self.w = {c: np.empty(n_features) for c in CONTENDERS}
        self.V = {"seed": np.empty_like(self.VT0), "fmlib": np.empty_like(self.V0),
                  "floor": np.empty_like(self.V0)}
        self.result = {}

    @property
    def nnz(self):
        return int(self.X.indptr[-1])

    def reset(self, c):
        np.copyto(self.w[c], self.w_init)
        np.copyto(self.V[c], self.VT0 if c == "seed" else self.V0)

    def run(self, c, order=None):
        """Run one epoch of contender ``c`` on its buffers; return (seconds, mean loss)."""
        K, seed_epoch, floor_epoch = _kernels()
        X = self.X
        order = self.order if order is None else order
        if c == "seed":
            t0 = time.perf_counter()
            b, total = seed_epoch(X.data, X.indptr, X.indices, self.y_pm, order,
                                  self.w0_init, self.w[c], self.V[c],
                                  LEARNING_RATE, REG / 2, REG / 2)
            dt = time.perf_counter() - t0
            self.result[c] = (b, total / len(order), len(order))
        elif c == "fmlib":
            # prefetch as the estimator would (an older --kernels copy may lack the choice)
            extra = (K.wants_prefetch(X, self.V[c]),) if hasattr(K, "wants_prefetch") else ()
            t0 = time.perf_counter()
            b, total, n_done = K.sgd_epoch(X.data, X.indptr, X.indices, self.y01, self.sw,
                                           order, self.w0_init, self.w[c], self.V[c],
                                           LEARNING_RATE, REG, REG, True, K.LOGISTIC, *extra)
            dt = time.perf_counter() - t0
            self.result[c] = (b, total / len(order), n_done)
        else:
            t0 = time.perf_counter()
            chk = floor_epoch(X.data, X.indptr, X.indices, order, self.w[c], self.V[c])
            dt = time.perf_counter() - t0
            self.result[c] = (0.0, chk, len(order))
        return dt

    def check(self, c):
        """Whether the epoch just run stayed finite (loss, intercept and parameters)."""
        b, loss, n_done = self.result[c]
        return bool(np.isfinite(b) and np.isfinite(loss) and n_done == len(self.order)
                    and np.isfinite(self.w[c]).all() and np.isfinite(self.V[c]).all())

    def agreement(self):
        """Max |difference| between the seed's and fmlib's parameters after the timed epoch(s).

        With the seed's reg set to half fmlib's they compute the same update,
        so this is only rounding.
        """
        return max(float(np.max(np.abs(self.w["seed"] - self.w["fmlib"]))),
                   float(np.max(np.abs(self.V["seed"].T - self.V["fmlib"]))),
                   abs(self.result["seed"][0] - self.result["fmlib"][0]))


def bench_problem(prob, repeats):
    # small problems are timed as the second of two consecutive epochs
    steady = prob.X.data.nbytes + prob.V0.nbytes < 64 * 2**20
    # warm-up: compile (or load from cache) and touch the data; not timed
    for c in CONTENDERS:
        prob.reset(c)
        prob.run(c, prob.order[: min(len(prob.order), 2000)])
    times = {c: [] for c in CONTENDERS}
    finite = {c: True for c in CONTENDERS}
    for _ in range(repeats):
        for c in CONTENDERS:  # round-robin: seed, fmlib, floor, seed, ...
            prob.reset(c)
            gc.collect()
            if steady:
                # In training, an epoch follows an epoch: data that fit in cache
                # are still there. Without this untimed epoch, each contender
                # would start with the cache the previous contender left.
                prob.run(c)
            times[c].append(prob.run(c))
            finite[c] &= prob.check(c)
    med = {c: float(np.median(times[c])) for c in CONTENDERS}
    upd = prob.nnz * prob.k
    return {
        "data": prob.name, "k": prob.k, "n_rows": prob.X.shape[0],
        "n_features": prob.X.shape[1], "nnz": prob.nnz, "repeats": repeats,
        "median_s": med,
        "min_s": {c: float(np.min(times[c])) for c in CONTENDERS},
        "ns_per_update": {c: med[c] / upd * 1e9 for c in CONTENDERS},
        "seed_over_fmlib": med["seed"] / med["fmlib"],
        "fmlib_over_floor": med["fmlib"] / med["floor"],
        "finite": finite,
        "loss": {c: prob.result[c][1] for c in ("seed", "fmlib")},
        "max_param_diff": prob.agreement(),
    }


def print_problem(r):
    print(f"\n[{r['data']}] {r['n_rows']:,} x {r['n_features']:,}, nnz {r['nnz']:,}, "
          f"k = {r['k']}, {r['repeats']} interleaved repeats")
    for c in CONTENDERS:
        print(f"  {c:6s} median {r['median_s'][c] * 1e3:10.2f} ms  (min "
              f"{r['min_s'][c] * 1e3:9.2f} ms)  {r['ns_per_update'][c]:6.2f} ns per nz x factor"
              f"  finite: {r['finite'][c]}")
    print(f"  seed/fmlib = {r['seed_over_fmlib']:.2f}x   fmlib/floor = {r['fmlib_over_floor']:.2f}x")
    print(f"  mean log loss of the epoch: seed {r['loss']['seed']:.6f}, fmlib "
          f"{r['loss']['fmlib']:.6f}; max |param diff| seed vs fmlib {r['max_param_diff']:.2e}")


# --------------------------------------------------------------------- first fit
def fit_child():
    """Run in a subprocess: load the SMS data, then time the first FMClassifier().fit."""
    X, y, _ = load_sms()
    from fmlib import FMClassifier, _kernels

    t0 = time.perf_counter()
    FMClassifier(random_state=0).fit(X, y)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    FMClassifier(random_state=0).fit(X, y)
    second = time.perf_counter() - t0
    stats = _kernels.sgd_epoch.stats
    print(json.dumps({"first": first, "second": second,
                      "cache_hits": sum(stats.cache_hits.values()),
                      "cache_misses": sum(stats.cache_misses.values())}))


def bench_first_fit():
    runs = []
    for _ in range(2):  # the first run warms Numba's on-disk cache, the second is measured
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--fit-child"],
                             capture_output=True, text=True, check=True, cwd=str(REPO))
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


# --------------------------------------------------------------------- predict
def bench_predict(X, prob):
    """decision_function on the large matrix with fitted attributes set directly."""
    from fmlib import FMClassifier

    est = FMClassifier(n_factors=prob.k)
    est.classes_ = np.array([0.0, 1.0])
    est.n_features_in_ = X.shape[1]
    est.intercept_ = float(prob.result["fmlib"][0])
    est.coef_ = prob.w["fmlib"].copy()
    est.factors_ = prob.V["fmlib"].copy()
    est.decision_function(X[:1000])  # warm-up (kernel from cache)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        margin = est.decision_function(X)
        times.append(time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    margin = est.decision_function(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "k": prob.k, "time_s": float(np.median(times)), "peak_bytes": peak,
        "out_bytes": margin.nbytes, "x_bytes": X.data.nbytes + X.indices.nbytes + X.indptr.nbytes,
        "dense_bytes": X.shape[0] * X.shape[1] * 8, "finite": bool(np.isfinite(margin).all()),
    }


# --------------------------------------------------------------------- main
def _mb(b):
    return f"{b / 2**20:,.1f} MiB"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smaller synthetic matrix and fewer repeats (smoke run)")
    ap.add_argument("--only", choices=["sms", "large"], help="run only one data set")
    ap.add_argument("--no-fit", action="store_true", help="skip the fresh-process fit timing")
    ap.add_argument("--kernels", metavar="FILE",
                    help="time sgd_epoch from this file (a modified copy of fmlib/_kernels.py) "
                         "as the 'fmlib' contender, to try a kernel change; the fit and "
                         "predict timings still use the installed fmlib")
    ap.add_argument("--fit-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.fit_child:
        return fit_child()

    import numba

    global _FMLIB_KERNELS
    if args.kernels:
        _FMLIB_KERNELS = _load_kernels(args.kernels)

    t_start = time.perf_counter()
    if args.quick:
        large_shape, sms_repeats, large_repeats = (100_000, 20_000, 20), 7, 3
    else:
        large_shape, sms_repeats, large_repeats = (1_000_000, 100_000, 20), 31, 5
    print(f"bench_sgd: python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"numba {numba.__version__}, {os.cpu_count()} CPUs"
          f"{', QUICK mode' if args.quick else ''}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(the machine should be otherwise idle)")
    print(f"'fmlib' contender: sgd_epoch from "
          f"{args.kernels if args.kernels else 'fmlib._kernels (installed fmlib)'}")
    print(f"epoch settings: init_std {INIT_STD}, learning_rate {LEARNING_RATE}, reg {REG} "
          "(seed: reg/2 with its 2*reg*theta, i.e. the same update); log loss; fixed row order")

    results, predicts, fit = [], [], None
    if args.only in (None, "sms"):
        t0 = time.perf_counter()
        X, y, source = load_sms()
        print(f"\nSMS training matrix from {source}: {X.shape[0]:,} x {X.shape[1]:,}, "
              f"nnz {X.nnz:,}, {int(y.sum())} spam ({time.perf_counter() - t0:.1f} s)")
        for k in (10, 64):
            r = bench_problem(Problem("sms", X, y, k), sms_repeats)
            print_problem(r)
            results.append(r)
        if not args.no_fit:
            runs = bench_first_fit()
            fit = runs[1]
            print(f"\n[first fit] FMClassifier(random_state=0).fit on SMS train, fresh process, "
                  f"Numba cache warm: {fit['first']:.3f} s (second fit in the same process "
                  f"{fit['second']:.3f} s; cache hits {fit['cache_hits']}, misses "
                  f"{fit['cache_misses']}; the cache-warming run took {runs[0]['first']:.3f} s)")

    if args.only in (None, "large"):
        t0 = time.perf_counter()
        X, y = make_large(*large_shape)
        print(f"\nsynthetic matrix: {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,} "
              f"({X.nnz / X.shape[0]:.2f} per row), {y.mean():.3f} positive "
              f"(built in {time.perf_counter() - t0:.1f} s)")
        for k in (10, 32):
            prob = Problem("large", X, y, k)
            r = bench_problem(prob, large_repeats)
            print_problem(r)
            results.append(r)
            p = bench_predict(X, prob)
            predicts.append(p)
            print(f"  predict: FMClassifier.decision_function on all {X.shape[0]:,} rows, k = {k}: "
                  f"{p['time_s']:.3f} s; tracemalloc peak {_mb(p['peak_bytes'])} (output "
                  f"{_mb(p['out_bytes'])}, X itself {_mb(p['x_bytes'])}, a dense X would be "
                  f"{_mb(p['dense_bytes'])}); finite: {p['finite']}")
            del prob

    # ----------------------------------------------------------------- summary
    print("\n" + "=" * 100)
    print("SUMMARY  (median seconds per epoch; ns per non-zero x factor in brackets)")
    print(f"{'data':6s} {'k':>3s} {'reps':>4s} {'seed':>17s} {'fmlib':>17s} {'floor':>17s} "
          f"{'seed/fmlib':>10s} {'fmlib/floor':>11s}  finite")
    for r in results:
        cells = [f"{r['median_s'][c]:8.4f} ({r['ns_per_update'][c]:5.2f})" for c in CONTENDERS]
        print(f"{r['data']:6s} {r['k']:3d} {r['repeats']:4d} {cells[0]:>17s} {cells[1]:>17s} "
              f"{cells[2]:>17s} {r['seed_over_fmlib']:9.2f}x {r['fmlib_over_floor']:10.2f}x  "
              f"{all(r['finite'].values())}")
    for p in predicts:
        print(f"predict large k={p['k']}: {p['time_s']:.3f} s, peak {_mb(p['peak_bytes'])} "
              f"(dense X would be {_mb(p['dense_bytes'])})")
    if fit:
        print(f"first fit (fresh process, cache warm), SMS: {fit['first']:.3f} s")

    print("\nTARGETS")
    for r in results:
        need = SPEEDUP_TARGETS.get((r["data"], r["k"]))
        if need is not None:
            ok = r["seed_over_fmlib"] >= need
            print(f"  {'MET ' if ok else 'MISS'}  fmlib >= {need:g}x faster than the seed layout, "
                  f"{r['data']} k={r['k']}: {r['seed_over_fmlib']:.2f}x")
        if r["data"] == "large":
            ok = r["fmlib_over_floor"] <= FLOOR_TARGET
            print(f"  {'MET ' if ok else 'MISS'}  fmlib within {FLOOR_TARGET:g}x of the floor, "
                  f"large k={r['k']}: {r['fmlib_over_floor']:.2f}x")
    if fit:
        ok = fit["first"] < FIRST_FIT_TARGET
        print(f"  {'MET ' if ok else 'MISS'}  first fit in a fresh process < {FIRST_FIT_TARGET} s: "
              f"{fit['first']:.3f} s")
    if args.quick:
        print("  (quick mode: the large-matrix targets are defined on the full 1,000,000 x "
              "100,000 matrix)")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"total wall time {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
