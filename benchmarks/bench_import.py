"""Time ``import fmlib`` and ``from fmlib import FMClassifier`` in fresh
processes, alternating between checkouts (e.g. this one and the main one).

Run from the repository root::

    python benchmarks/bench_import.py                      # this checkout only
    python benchmarks/bench_import.py --compare ../main    # interleaved with another

Each statement runs in a new interpreter with ``PYTHONPATH`` set to the
checkout, round-robin over the checkouts, 8 times; printed are the medians
of the wall time and of the child's CPU time (user + system, which leaves
out time other processes held the core), and the cumulative ``-X importtime``
of ``fmlib`` with the number of modules ``import fmlib`` loads.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STATEMENTS = ("import fmlib", "from fmlib import FMClassifier")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", metavar="CHECKOUT", help="another checkout to alternate with")
    ap.add_argument("--repeats", type=int, default=8)
    args = ap.parse_args(argv)
    trees = {"this": Path(__file__).resolve().parents[1]}
    if args.compare:
        trees["other"] = Path(args.compare).resolve()
    results = {}
    for _ in range(args.repeats):
        for statement in STATEMENTS:
            for name, tree in trees.items():
                env = dict(os.environ, PYTHONPATH=str(tree))
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", statement], env=env, check=True, cwd="/")
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                results.setdefault((statement, name), []).append((wall, cpu))
    for (statement, name), runs in results.items():
        print(f"{statement:32s} {name:5s} ({trees[name]}): wall median "
              f"{statistics.median(w for w, _ in runs):.3f} s, CPU median "
              f"{statistics.median(c for _, c in runs):.3f} s (n={len(runs)})")
    for name, tree in trees.items():
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fmlib"],
                             env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                             text=True, cwd="/").stderr
        lines = [line for line in err.splitlines() if line.startswith("import time:")]
        fmlib_line = [line for line in lines if line.rstrip().endswith("| fmlib")][-1]
        print(f"-X importtime {name}: {fmlib_line.split('|')[1].strip()} us cumulative for "
              f"fmlib, {len(lines) - 1} modules imported")


if __name__ == "__main__":
    main()
