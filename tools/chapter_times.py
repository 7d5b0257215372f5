"""Measure how long each chapter takes to run, top to bottom, in a fresh kernel.

Each chapter (the notebooks of ``_toc.yml``, or the names given) is read with
jupytext and executed as the site build and JupyterLab's *Run All* do: a new
kernel, the chapter's folder as working directory. The wall-clock seconds
from the first cell to the last are printed, and written as JSON with
``--json``. An instructor runs it on the machine the students will use (a
JupyterHub's, Binder's) to know what a chapter costs there.

Usage::

    python tools/chapter_times.py                      # every chapter
    python tools/chapter_times.py intro linear_models  # some of them
    python tools/chapter_times.py --json _build/chapter_times.json
"""

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import jupytext
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_editions  # noqa: E402

ROOT = make_editions.ROOT


def run_seconds(path, timeout=600):
    """Seconds that running the chapter at ``path`` takes, from kernel start to the last cell.

    Parameters
    ----------
    path : Path
        A MyST Markdown chapter.
    timeout : float
        Seconds any one cell may run.

    Returns
    -------
    (float, float)
        Seconds for the whole run (kernel start included), and for the cells alone.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell fails: a chapter that does not run has no time.
    """
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        cells_start = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        end = time.perf_counter()
    return end - start, end - cells_start


def measure(paths, timeout=600):
    """``{chapter stem: {"seconds": total, "cells_seconds": cells only}}``, in order."""
    return {Path(path).stem: dict(zip(("seconds", "cells_seconds"), run_seconds(path, timeout)))
            for path in paths}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter names (default: every chapter)")
    parser.add_argument("--json", help="also write the times, with the machine's description, to this file")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default 600)")
    args = parser.parse_args(argv)
    every = {path.stem: path for path in make_editions.chapters(ROOT)}
    unknown = [name for name in args.chapters if name not in every]
    if unknown:
        sys.exit(f"chapter_times: no chapter {', '.join(unknown)}; the chapters are {', '.join(every)}")
    paths = [every[name] for name in args.chapters] if args.chapters else list(every.values())
    times = {}
    for path in paths:
        times.update(measure([path], args.timeout))
        print(f"{path.stem:28s} {times[path.stem]['seconds']:6.1f} s  "
              f"(cells {times[path.stem]['cells_seconds']:.1f} s)", flush=True)
    if args.json:
        record = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                              "python": platform.python_version()},
                  "chapters": times}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
