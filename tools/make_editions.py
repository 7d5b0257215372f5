"""Write the course editions of the book: one notebook per chapter.

The student edition replaces every exercise solution by a stub (the
function's signature and docstring, then ``raise NotImplementedError``) and
hides the written solutions; the instructor edition keeps them. Both have
their outputs cleared, the MyST exercise markup turned into plain Markdown
that Jupyter renders, and are zipped together with fmlib's source so that a
JupyterHub or an LMS needs nothing else.

Usage::

    python tools/make_editions.py --out _build/editions
"""

import argparse
import ast
import re
import shutil
import sys
import textwrap
import zipfile
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
SELF_CHECK_TAG = "self-check"

_EXERCISE = re.compile(
    r"^(?P<fence>:{3,})\{exercise\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_WRITTEN_SOLUTION = re.compile(
    r"^(?P<fence>:{3,})\{solution\}[ \t]*(?P<label>\S+)[^\n]*\n(?:(?::[^\n]*\n))*(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_SOLUTION_START = re.compile(
    r"^(?P<fence>:{3,})\{solution-start\}[ \t]*(?P<label>\S+)[^\n]*\n(?:(?::[^\n]*\n))*(?P=fence)[ \t]*$",
    re.M,
)
_SOLUTION_END = re.compile(r"^(?P<fence>:{3,})\{solution-end\}[^\n]*\n(?P=fence)[ \t]*$", re.M)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)


class EditionError(ValueError):
    """A chapter breaks the exercise conventions of CONTRIBUTING.md."""


def toc_pages(root=ROOT):
    """Every page of the book, in the order of ``_toc.yml``, as paths."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", [toc])
                            for entry in part.get("chapters", [])]
    return [root / f"{name}.md" for name in files]


def chapters(root=ROOT):
    """The pages that are notebooks (their header has a kernelspec), in order."""
    return [path for path in toc_pages(root)
            if "kernelspec:" in path.read_text().split("\n---", 1)[0]]


def exercise_labels(markdown):
    """Labels of the exercises defined in a Markdown cell, in order."""
    return [_LABEL.search(m.group("options")).group(1)
            for m in _EXERCISE.finditer(markdown) if _LABEL.search(m.group("options"))]


def stub_source(source, label):
    """The student's version of a solution cell: imports and function stubs.

    Parameters
    ----------
    source : str
        The solution cell: only imports and top-level function definitions.
    label : str
        The exercise label, named in the stub's error.

    Returns
    -------
    str
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.append(ast.get_source_segment(source, node))
        elif isinstance(node, ast.FunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            body = node.body
            has_docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                             and isinstance(body[0].value.value, str))
            header_end = body[0].end_lineno if has_docstring else body[0].lineno - 1
            header = "\n".join(lines[first - 1:header_end])
            indent = re.match(r"\s*", lines[body[0].lineno - 1]).group(0) or "    "
            kept.append(
                f"{header}\n{indent}# your code here\n"
                f'{indent}raise NotImplementedError("Exercise {label}: write {node.name} here.")'
            )
        else:
            raise EditionError(
                f"the solution of exercise {label!r} has a top-level {type(node).__name__} "
                f"at line {node.lineno}; a solution cell may only hold imports and function "
                "definitions (see CONTRIBUTING.md)."
            )
    return "\n\n\n".join(kept) + "\n"


def _plain_markdown(markdown, numbering, student):
    """Turn sphinx-exercise markup into Markdown that Jupyter renders."""

    def exercise(match):
        label = _LABEL.search(match.group("options"))
        number = numbering.setdefault(label.group(1) if label else match.start(), len(numbering) + 1)
        return f"**Exercise {number}** " + (f"(`{label.group(1)}`)" if label else "") + "\n\n" + match.group("body").strip()

    def written_solution(match):
        if student:
            return ""
        return "**Solution.** " + textwrap.dedent(match.group("body")).strip()

    markdown = _EXERCISE.sub(exercise, markdown)
    markdown = _WRITTEN_SOLUTION.sub(written_solution, markdown)
    markdown = _SOLUTION_START.sub("" if student else "**Solution:**", markdown)
    markdown = _SOLUTION_END.sub("", markdown)
    return markdown.strip()


def make_edition(path, student):
    """Read a chapter and return its student or instructor notebook.

    Parameters
    ----------
    path : Path
        A MyST Markdown chapter.
    student : bool
        Whether to stub the solutions.

    Returns
    -------
    nbformat.NotebookNode
        With every cell's exercise label in ``metadata["fmlib"]["exercise"]``
        for cells tagged ``solution`` or ``self-check``.
    """
    notebook = jupytext.read(path)
    cells, numbering, label = [], {}, None
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            labels = exercise_labels(cell.source)
            label = labels[-1] if labels else label
            cell.source = _plain_markdown(cell.source, numbering, student)
            if not cell.source:
                continue
        elif SOLUTION_TAG in tags or SELF_CHECK_TAG in tags:
            if label is None:
                raise EditionError(f"{path.name}: a {tags} cell comes before any exercise.")
            cell.metadata["fmlib"] = {"exercise": label}
            if SOLUTION_TAG in tags and student:
                cell.source = stub_source(cell.source, label)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    notebook.cells = cells
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                       "language": "python", "name": "python3"}
    return notebook


_README = """# {title}: {edition} edition

One notebook per chapter of the book. To run them:

    python -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt
    jupyter lab

{advice}

The SMS spam data is downloaded and verified on first use; without internet,
place the file `SMSSpamCollection` in a folder and set `FMLIB_DATA_HOME` to it
(see `fmlib.datasets.load_sms_spam`).
"""


def write_editions(out, root=ROOT):
    """Write both editions (notebooks, then a zip each) under ``out``."""
    out = Path(out)
    title = yaml.safe_load((root / "_config.yml").read_text())["title"]
    advice = {
        "student": "Each exercise has a cell that raises `NotImplementedError`: replace it with "
                   "your code, then run the self-check cell below it.",
        "instructor": "The solutions are filled in; every self-check cell should print a tick.",
    }
    written = {}
    for edition in ("student", "instructor"):
        folder = out / edition
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for number, path in enumerate(chapters(root), start=1):
            notebook = make_edition(path, student=edition == "student")
            nbformat.validate(notebook)
            nbformat.write(notebook, folder / f"{number:02d}_{path.stem}.ipynb")
        shutil.copytree(root / "fmlib", folder / "fmlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # requirements.txt reads binder/requirements.txt, then installs fmlib
        for name in ("pyproject.toml", "requirements.txt", "binder/requirements.txt"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / name, folder / name)
        (folder / "README.md").write_text(_README.format(title=title, edition=edition,
                                                         advice=advice[edition]))
        archive = out / f"fm-book-{edition}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    zf.write(file, Path(f"fm-book-{edition}") / file.relative_to(folder))
        written[edition] = (folder, archive)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "editions"),
                        help="output folder (default: _build/editions)")
    args = parser.parse_args(argv)
    try:
        written = write_editions(args.out)
    except EditionError as error:
        sys.exit(f"make_editions: {error}")
    for edition, (folder, archive) in written.items():
        count = len(list(folder.glob("*.ipynb")))
        print(f"{edition}: {count} notebooks in {folder}, zipped as {archive}")


if __name__ == "__main__":
    main()
