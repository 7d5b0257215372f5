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
import functools
import re
import shutil
import sys
import textwrap
import zipfile
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_numbers  # noqa: E402

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


_EVAL = re.compile(r"\{eval\}`([^`]+)`")
_ROLE = re.compile(r"\{(?P<role>[a-z]+(?::[a-z]+)?)\}`(?P<text>[^`]*)`")
# a labelled display equation, "$$ ... $$ (label)", possibly indented in a list item
_LABELLED_MATHS = re.compile(
    r"^(?P<indent>[ \t]*)\$\$(?P<body>(?:(?!\$\$).)*?)\$\$[ \t]*\((?P<label>[^)\s]+)\)[ \t]*$", re.M | re.S)
# what Sphinx numbers: display maths "$$ ... $$" with a label, and amsmath
# environments (not starred) outside "$$", each once
_DISPLAY_MATHS = re.compile(r"(?P<dollars>^[ \t]*\$\$(?:(?!\$\$).)*?\$\$(?P<label>[ \t]*\([^)\s]+\))?)"
                            r"|(?P<amsmath>^[ \t]*\\begin\{(?:equation|align|gather|multline|alignat|flalign)\})",
                            re.M | re.S)
_SECTION_LABEL = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*\n+#+[ \t]+(?P<title>[^\n]+)", re.M)
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+?)\.md(?P<anchor>#[^)\s]*)?\)")
_PYTHON_ROLES = {"func", "class", "meth", "mod", "attr", "obj", "data", "exc",
                 "py:func", "py:class", "py:meth", "py:mod", "py:attr", "py:obj"}


class ChapterNumbers:
    """What the site calls the exercises, figures, equations and sections of a chapter.

    Parameters
    ----------
    path : Path
        The chapter.
    root : Path
        The book's root (``_toc.yml``).
    """

    def __init__(self, path, root=ROOT):
        text = Path(path).read_text()
        prefixes = book_numbers.chapter_prefixes(root)
        self.prefix = prefixes[Path(path).stem]
        self.exercises = [number for _, number in book_numbers.exercise_numbers(text, self.prefix)]
        self.exercise_of_label = {label: number for label, number
                                  in book_numbers.exercise_numbers(text, self.prefix) if label}
        self.figures = book_numbers.figure_numbers(text, self.prefix)
        self.equations = {}
        markdown = "\n\n".join(cell.source for cell in jupytext.reads(text, fmt="md:myst").cells
                                if cell.cell_type == "markdown")
        number = 0
        for match in _DISPLAY_MATHS.finditer(markdown):
            if match.group("amsmath") or match.group("label"):
                number += 1
            if match.group("label"):
                label = match.group("label").strip().strip("()")
                self.equations[label] = f"{self.prefix}{number}"
        self.sections = {m.group("label"): m.group("title").strip() for m in _SECTION_LABEL.finditer(text)}
        self.files = {page.stem: edition_filename(page, root) for page in chapters(root)}
        self.exercises_seen = 0


def edition_filename(path, root=ROOT):
    """The notebook's file name in the editions: the site's chapter number, then the name.

    ``02_factorization_machine.ipynb`` for chapter 2; ``00_intro.ipynb`` for
    the (unnumbered) first page, so the files sort as the site lists them.
    """
    number = book_numbers.chapter_number(path, root)
    return f"{int(number or 0):02d}_{Path(path).stem}.ipynb"


def _resolve_roles(markdown, numbers, values):
    """Every MyST role of a Markdown cell, as the text the site shows."""

    def role(match):
        name, text = match.group("role"), match.group("text")
        explicit = re.match(r"(?P<title>.*?)\s*<(?P<target>[^>]+)>$", text, re.S)
        target = explicit.group("target") if explicit else text
        if name == "eval":
            if target not in values:
                raise EditionError(f"{{eval}}`{target}` has no value: is it assigned before the text?")
            return values[target]
        if name == "numref":
            number = numbers.figures.get(target)
            if number is None:
                raise EditionError(f"{{numref}}`{text}` names no figure of the chapter")
            return explicit.group("title").replace("%s", number) if explicit else f"Fig. {number}"
        if name == "eq":
            if target not in numbers.equations:
                raise EditionError(f"{{eq}}`{text}` names no numbered equation of the chapter")
            return f"({numbers.equations[target]})"
        if name == "ref":
            if explicit:
                return explicit.group("title")
            if target in numbers.exercise_of_label:  # sphinx-exercise: "Exercise 4.3"
                return f"Exercise {numbers.exercise_of_label[target]}"
            if target not in numbers.sections:
                raise EditionError(f"{{ref}}`{text}` names no section or exercise of the chapter")
            return numbers.sections[target]
        if name in _PYTHON_ROLES:
            shown = explicit.group("title") if explicit else target
            if shown.startswith("~"):
                shown = shown.rsplit(".", 1)[-1]
            return f"`{shown}`"
        raise EditionError(f"the role {{{name}}} has no plain-Markdown rendering in the editions")

    return _ROLE.sub(role, markdown)


def _resolve_links(markdown, numbers):
    """Links to the book's pages: to the edition's notebook, or plain text."""

    def link(match):
        stem = Path(match.group("target")).name
        if stem in numbers.files:
            return f"[{match.group('text')}]({numbers.files[stem]})"
        return match.group("text")  # a page the editions do not carry (the references)

    return _LINK.sub(link, markdown)


def _plain_markdown(markdown, numbers, student, values=None):
    """Turn a chapter's MyST Markdown into Markdown that any Jupyter renders.

    Exercises get the site's numbers ("Exercise 2.1"), roles become the text
    the site shows, labelled equations get their number as a ``\tag``.
    """
    def exercise(match):
        numbers.exercises_seen += 1
        number = numbers.exercises[numbers.exercises_seen - 1]
        return f"**Exercise {number}**\n\n" + match.group("body").strip()

    def solution_title(label):
        number = numbers.exercise_of_label.get(label)
        if number is None:
            raise EditionError(f"a solution names the exercise {label!r}, which the chapter does not define")
        return f"**Solution to Exercise {number}**"

    def written_solution(match):
        if student:
            return ""
        return solution_title(match.group("label")) + "\n\n" + textwrap.dedent(match.group("body")).strip()

    def solution_start(match):
        return "" if student else solution_title(match.group("label"))

    def labelled_maths(match):
        number = numbers.equations[match.group("label")]
        indent = match.group("indent")
        return f"{indent}$${match.group('body').rstrip()} \\tag{{{number}}}\n{indent}$$"

    markdown = _EXERCISE.sub(exercise, markdown)
    markdown = _WRITTEN_SOLUTION.sub(written_solution, markdown)
    markdown = _SOLUTION_START.sub(solution_start, markdown)
    markdown = _SOLUTION_END.sub("", markdown)
    markdown = _LABELLED_MATHS.sub(labelled_maths, markdown)
    markdown = _resolve_roles(markdown, numbers, values or {})
    markdown = _resolve_links(markdown, numbers)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip()


def _is_bookkeeping(cell):
    """A hidden cell that only formats numbers for the prose (``x = quote(...)``)."""
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "fmlib.prose":
            continue
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "quote"):
            continue
        return False
    return bool(tree.body)


@functools.lru_cache(maxsize=None)
def _prose_values(path, text, timeout=600):
    """Run the chapter as JupyterLab does and read every ``{eval}`` where the text quotes it.

    Code cells run in order in a fresh kernel (in the chapter's folder); at
    each Markdown cell, its ``{eval}`` names are evaluated as
    ``user_expressions``, as jupyterlab-myst does. Returns ``{cell index:
    {name: text}}``; cached per chapter text.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = jupytext.reads(text, fmt="md:myst")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    values = {}
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    raise EditionError(f"{Path(path).name}: cell {index} failed while reading "
                                       f"the numbers the text quotes:\n{error}") from None
                continue
            names = sorted(set(_EVAL.findall(cell.source)))
            if not names:
                continue
            msg_id = client.kc.execute("", store_history=False,
                                       user_expressions={name: name for name in names})
            reply = client.wait_for_reply(msg_id, cell)
            found = {}
            for name, result in reply["content"]["user_expressions"].items():
                if result.get("status") != "ok":
                    raise EditionError(f"{Path(path).name}: {{eval}}`{name}` in cell {index} failed: "
                                       f"{result.get('ename')}: {result.get('evalue')}")
                # what myst-nb and jupyterlab-myst display: text/plain, less
                # one pair of matching quotes around it
                found[name] = re.sub(r"^([\"'])(.*)\1$", r"\2", result["data"]["text/plain"])
            values[index] = found
    return values


def prose_values(path):
    """``{cell index: {name: text}}``: the numbers a chapter's text quotes (see _prose_values)."""
    path = Path(path).resolve()
    return _prose_values(path, path.read_text())


def make_edition(path, student, values=None):
    """Read a chapter and return its student or instructor notebook.

    Parameters
    ----------
    path : Path
        A MyST Markdown chapter.
    student : bool
        Whether to stub the solutions.
    values : dict, optional
        What :func:`prose_values` returns for the chapter; computed (by
        running the chapter once, then cached) when not given.

    Returns
    -------
    nbformat.NotebookNode
        With every cell's exercise label in ``metadata["fmlib"]["exercise"]``
        for cells tagged ``solution`` or ``self-check``; the text carries
        the computed numbers, and the exercises, figures and equations the
        site's numbers.
    """
    path = Path(path)
    values = prose_values(path) if values is None else values
    notebook = jupytext.read(path)
    numbers = ChapterNumbers(path, root=path.resolve().parents[1])
    cells, label = [], None
    for index, cell in enumerate(notebook.cells):
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags:
            continue  # notebook-only numbering and captions: the editions write their own
        if cell.cell_type == "markdown":
            labels = exercise_labels(cell.source)
            label = labels[-1] if labels else label
            cell.source = _plain_markdown(cell.source, numbers, student, values.get(index, {}))
            if not cell.source:
                continue
        elif _is_bookkeeping(cell):
            continue  # the text already carries the numbers
        elif SOLUTION_TAG in tags or SELF_CHECK_TAG in tags:
            if label is None:
                raise EditionError(f"{path.name}: a {tags} cell comes before any exercise.")
            cell.metadata["fmlib"] = {"exercise": label}
            if SOLUTION_TAG in tags and student:
                cell.source = stub_source(cell.source, f"{numbers.exercise_of_label[label]}")
                cell.metadata.pop("jupyter", None)  # the student's cell is open
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
        figure = cell.metadata.get("mystnb", {}).get("figure") if cell.cell_type == "code" else None
        if figure:
            number = numbers.figures[figure["name"]]
            cells.append(nbformat.v4.new_markdown_cell(f"**Fig. {number}:** {figure['caption'].strip()}"))
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
        for path in chapters(root):
            notebook = make_edition(path, student=edition == "student")
            nbformat.validate(notebook)
            nbformat.write(notebook, folder / edition_filename(path, root))
        shutil.copytree(root / "fmlib", folder / "fmlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("pyproject.toml", "requirements.txt"):
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
