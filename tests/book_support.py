"""Helpers shared by the tests of the book, the course editions, Binder and the site.

Building the book is slow, so :func:`build_site` builds it once per test
process, from cold (a fresh output folder, so a fresh execution cache), the
way CI does.
"""

import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

sys.path.insert(0, str(ROOT / "tools"))
import make_editions  # noqa: E402


def toc_files():
    """The pages of the book, in the order of ``_toc.yml``, as paths."""
    return make_editions.toc_pages(ROOT)


def chapter_files():
    """The pages that are notebooks (they have a kernelspec), in order."""
    return make_editions.chapters(ROOT)


def build_site():
    """Build the whole book from cold, strictly; return (html folder, seconds, log).

    Raises ``AssertionError`` with the build's output if it fails (and again,
    without building again, for every later caller).
    """
    html, seconds, log, returncode = _build_once()
    assert returncode == 0, f"the strict book build failed:\n{log[-20000:]}"
    return html, seconds, log


@functools.lru_cache(maxsize=None)
def _build_once():
    out = Path(tempfile.mkdtemp(prefix="fmlib-site-"))
    command = [str(BIN / "jupyter-book"), "build", str(ROOT), "--path-output", str(out),
               "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    return out / "_build" / "html", seconds, result.stdout + result.stderr, result.returncode


def execute(notebook, cwd, allow_errors=False, timeout=300):
    """Execute a notebook in a fresh kernel in ``cwd``; return it with outputs."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def execute_exercise_rounds(notebooks, cwd, timeout=300):
    """Execute variants of one notebook that differ only in their exercises.

    The cells before the first exercise cell (``solution`` or ``self-check``)
    are the same in every variant: they run once, in one fresh kernel; then
    each variant's cells from there on run in turn in the same kernel (the
    book's rule that no later cell uses what an exercise defines makes this
    the same as running each variant from the top, in a fraction of the
    time). Returns the notebooks with their outputs.
    """
    def is_exercise(cell):
        return {"solution", "self-check"} & set(cell.metadata.get("tags", []))

    first = next(i for i, cell in enumerate(notebooks[0].cells) if is_exercise(cell))
    prefix = [cell.source for cell in notebooks[0].cells[:first]]
    for notebook in notebooks[1:]:
        assert [cell.source for cell in notebook.cells[:first]] == prefix, (
            "the variants differ before their exercises")
    client = NotebookClient(notebooks[0], timeout=timeout, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        for index in range(first):
            client.execute_cell(notebooks[0].cells[index], index)
        for notebook in notebooks:
            client.nb = notebook   # nbclient writes outputs into client.nb's cells
            for index in range(first, len(notebook.cells)):
                client.execute_cell(notebook.cells[index], index)
    return notebooks


def errors(notebook):
    """(cell index, cell, error output) for every cell whose execution raised."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, cell, output))
    return found


def read_notebook(path):
    return nbformat.read(path, as_version=4)
