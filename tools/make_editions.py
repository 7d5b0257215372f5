"""Write the course editions of the book: one notebook per chapter.

The student edition replaces every exercise solution by a stub (the
function's signature and docstring, then nbgrader's ``# YOUR CODE HERE`` and
``raise NotImplementedError()``), hides the written solutions and gives each
written exercise an answer cell; the instructor edition keeps the solutions.
The nbgrader edition is an nbgrader course folder: each chapter an assignment
in ``source/``, whose solutions sit between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` inside the function bodies, whose self-checks are locked
test cells with points and whose written answers are graded by hand;
``nbgrader generate_assignment`` turns it into the student edition. All have
their outputs cleared, the MyST exercise markup turned into plain Markdown
that Jupyter renders, and are zipped together with fmlib's source so that a
JupyterHub or an LMS needs nothing else.

Usage::

    python tools/make_editions.py --out _build/editions

It never deletes what it did not write: ``OUT/student``, ``OUT/instructor``
and ``OUT/nbgrader`` are replaced only if they carry the tool's marker file (``.fmlib-edition.json``)
and nothing in them changed since (``--force`` replaces changed ones). Each
edition is written beside its place and swapped in whole, after a scan that
fails the run if any solution text would reach the student edition. A chapter
whose exercises cannot be read without guessing (an unclosed fence, a solution
under the wrong exercise, a syntax error) is refused with its file and line.
"""

import argparse
import ast
import contextlib
import copy
import ctypes
import functools
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import textwrap
import tokenize
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
EDITIONS = ("student", "instructor", "nbgrader")
# What nbgrader's ClearSolutions writes for a solution region of a Python
# cell, and for a written answer: the student edition uses exactly the same.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_POINTS = 1      # nbgrader points of each self-check cell (autograded)
WRITTEN_POINTS = 1    # nbgrader points of each written answer (graded by hand)
NBGRADER_SCHEMA = 3

_EXERCISE = re.compile(
    r"^(?P<fence>:{3,}|`{3,}|~{3,})\{exercise\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
# The admonitions a chapter may use; the editions show them as a quoted
# paragraph that starts with the admonition's title, as the site does.
_ADMONITION = re.compile(
    r"^(?P<fence>:{3,}|`{3,}|~{3,})\{(?P<kind>note|tip|hint|important|warning|caution|attention|seealso)\}"
    r"[ \t]*(?P<title>[^\n]*)\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_ADMONITION_TITLES = {"seealso": "See also"}
_WRITTEN_SOLUTION = re.compile(
    r"^(?P<fence>:{3,}|`{3,}|~{3,})\{solution\}[ \t]*(?P<label>\S+)[^\n]*\n(?:(?::[^\n]*\n))*(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_SOLUTION_START = re.compile(
    r"^(?P<fence>:{3,}|`{3,}|~{3,})\{solution-start\}[ \t]*(?P<label>\S+)[^\n]*\n(?:(?::[^\n]*\n))*(?P=fence)[ \t]*$",
    re.M,
)
_SOLUTION_END = re.compile(r"^(?P<fence>:{3,}|`{3,}|~{3,})\{solution-end\}[^\n]*\n(?P=fence)[ \t]*$", re.M)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)


class EditionError(ValueError):
    """A chapter breaks the exercise conventions of CONTRIBUTING.md."""


def toc_pages(root=ROOT):
    """Every page of the book, in the order of ``_toc.yml``, as paths."""
    toc_file = Path(root) / "_toc.yml"
    toc = _read_yaml(toc_file)
    if not isinstance(toc, dict) or not toc.get("root"):
        raise EditionError(f"{toc_file}: no `root:` entry naming the book's first page (for example "
                           "`root: book/intro`); see https://jupyterbook.org/en/stable/structure/toc.html")
    files = [toc["root"]]
    for part in toc.get("parts", [toc]):
        entries = (part.get("chapters") or []) if isinstance(part, dict) else None
        if not isinstance(entries, list):
            raise EditionError(f"{toc_file}: every part needs a list of `chapters:` ({part!r} is not).")
        for entry in entries:
            if isinstance(entry, dict) and "file" in entry:
                files.append(entry["file"])
            elif not (isinstance(entry, dict) and "url" in entry):   # links to other sites have no page
                raise EditionError(f"{toc_file}: the chapter entry {entry!r} has no `file:`.")
    pages = [Path(root) / f"{name}.md" for name in files]
    missing = [str(page) for page in pages if not page.is_file()]
    if missing:
        raise EditionError(f"{toc_file} lists pages that do not exist: {', '.join(missing)}; "
                           "fix the names (without the .md) or add the files.")
    return pages


def _read_yaml(path):
    """Parse a YAML file; an EditionError naming the file and line if it is missing or malformed."""
    try:
        return yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise EditionError(f"{path}: cannot be read ({error.strerror}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise EditionError(f"{path}{where}: malformed YAML ({problem}); fix the file.") from None


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

    Each top-level function keeps its decorators, its signature as written
    (defaults and annotations included: that is the signature) and its
    docstring; everything after the signature's colon (comments, the body,
    nested functions and classes) is replaced by nbgrader's stub,
    ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` (so that the
    student edition and the assignment nbgrader generates from the source
    edition are the same). The stub is compiled, and its signatures compared
    with the solution's, before it is returned.

    Parameters
    ----------
    source : str
        The solution cell: only imports and top-level function definitions.
    label : str
        The exercise label, named in the stub's error.

    Returns
    -------
    str

    Raises
    ------
    EditionError
        If the cell does not parse, holds anything but imports and function
        definitions, or its stub would not compile.
    """
    return _make_stub(source, label)


def _make_stub(source, label):
    """What :func:`stub_source` returns (the nbgrader edition's check uses it directly)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise EditionError(
            f"the solution of exercise {label!r} has a syntax error at line {error.lineno} of its "
            f"cell: {error.msg}. Fix the solution cell so that it runs."
        ) from None
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.append(ast.get_source_segment(source, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kept.append(_function_stub(source, tokens, node, label))
        else:
            raise EditionError(
                f"the solution of exercise {label!r} has a top-level {type(node).__name__} "
                f"at line {node.lineno}; a solution cell may only hold imports and function "
                "definitions (see CONTRIBUTING.md)."
            )
    stub = "\n\n\n".join(kept) + "\n"
    _check_stub(tree, stub, label)
    return stub


def _signature_end(tokens, node):
    """(row, column) just after the colon that ends the signature of ``node``."""
    depth, lambdas = 0, 0
    for token in tokens:
        if token.start < (node.lineno, node.col_offset):
            continue
        if token.type == tokenize.NAME and token.string == "lambda" and depth == 0:
            lambdas += 1
        elif token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
            elif token.string == ":" and depth == 0:
                if lambdas == 0:
                    return token.end
                lambdas -= 1
    raise EditionError(f"cannot find the end of the signature of {node.name}.")


def _segment(lines, start, end):
    """The source text between two (row, column) positions (rows from 1)."""
    (row0, col0), (row1, col1) = start, end
    if row0 == row1:
        return lines[row0 - 1][col0:col1]
    return "".join([lines[row0 - 1][col0:]] + lines[row0:row1 - 1] + [lines[row1 - 1][:col1]])


def _function_parts(source, tokens, node):
    """What a stub and a marked copy of function ``node`` keep: ``(lines,
    colon, decorators, signature, first statement, has_docstring, indent)``."""
    lines = source.splitlines(keepends=True)
    colon = _signature_end(tokens, node)
    decorators = [f"@{ast.get_source_segment(source, d)}\n" for d in node.decorator_list]
    signature = _segment(lines, (node.lineno, node.col_offset), colon)
    first = node.body[0]
    has_docstring = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                     and isinstance(first.value.value, str))
    # The body's own indentation if it starts on a line of its own, else four spaces.
    indent = "    "
    if first.lineno > colon[0]:
        indent = re.match(r"[ \t]*", lines[first.lineno - 1]).group(0) or indent
    return lines, colon, decorators, signature, first, has_docstring, indent


def _function_stub(source, tokens, node, label):
    lines, colon, decorators, signature, first, has_docstring, indent = _function_parts(
        source, tokens, node)
    body = []
    if has_docstring:
        body.append(indent + ast.get_source_segment(source, first) + "\n")
    body.append("".join(f"{indent}{line}\n" for line in CODE_STUB.split("\n")).rstrip("\n"))
    return "".join(decorators) + signature + "\n" + "".join(body)


def _check_stub(tree, stub, label):
    """Compile the stub; check it defines the solution's functions with the same signatures."""
    try:
        compile(stub, f"<stub of exercise {label}>", "exec", dont_inherit=True)
        stub_tree = ast.parse(stub)
    except SyntaxError as error:
        raise EditionError(
            f"the stub written for exercise {label!r} does not compile ({error.msg} at its line "
            f"{error.lineno}); simplify the signature in the solution cell."
        ) from None

    def signatures(module):
        return [(type(n).__name__, n.name, ast.dump(n.args), ast.dump(n.returns) if n.returns else None,
                 [ast.dump(d) for d in n.decorator_list], ast.get_docstring(n, clean=False))
                for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    if signatures(stub_tree) != signatures(tree):
        raise EditionError(f"the stub written for exercise {label!r} does not keep the solution's "
                           "signatures; report this as a bug of tools/make_editions.py.")
    for node in stub_tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            statements = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
            if len(statements) != 1 or not isinstance(statements[0], ast.Raise):
                raise EditionError(f"the stub written for exercise {label!r} keeps code of {node.name}; "
                                   "report this as a bug of tools/make_editions.py.")


def marked_solution_source(source, label):
    """The nbgrader source edition of a solution cell: the solution, its bodies marked.

    Each top-level function keeps its decorators, signature and docstring
    outside the markers; the rest of its body sits between
    ``### BEGIN SOLUTION`` and ``### END SOLUTION``, indented as the body, so
    that ``nbgrader generate_assignment`` writes exactly :func:`stub_source`.
    Imports stay as they are. Checked before it is returned: the marked cell
    parses to the same code as the solution (the markers are comments), and
    clearing its regions as nbgrader does gives the student's stub.

    Parameters
    ----------
    source : str
        The solution cell: only imports and top-level function definitions.
    label : str
        The exercise label, named in errors.

    Returns
    -------
    str

    Raises
    ------
    EditionError
        As :func:`stub_source`, or if the marked cell would not give the stub.
    """
    stub = _make_stub(source, label)   # checks the cell's form first
    tree = ast.parse(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.append(ast.get_source_segment(source, node))
        else:
            kept.append(_function_marked(source, tokens, node))
    marked = "\n\n\n".join(kept) + "\n"
    try:
        same_code = ast.dump(ast.parse(marked)) == ast.dump(tree)
    except SyntaxError:
        same_code = False
    if not same_code or clear_solutions(marked) != stub:
        raise EditionError(f"the nbgrader source of exercise {label!r} would not give the student's stub "
                           f"(does its code contain {BEGIN_SOLUTION[4:]!r} or {END_SOLUTION[4:]!r}?); "
                           "report this as a bug of tools/make_editions.py if not.")
    return marked


def _function_marked(source, tokens, node):
    """A function with its body (after the docstring) between nbgrader's solution markers."""
    lines, colon, decorators, signature, first, has_docstring, indent = _function_parts(
        source, tokens, node)
    head = [indent + ast.get_source_segment(source, first) + "\n"] if has_docstring else []
    row, column = (first.end_lineno, first.end_col_offset) if has_docstring else colon
    rest_of_line = lines[row - 1][column:].strip()
    if has_docstring:
        rest_of_line = rest_of_line.removeprefix(";").strip()
    # The body: what follows the signature (or docstring) on its line, then whole lines to the end.
    body = ([indent + rest_of_line + "\n"] if rest_of_line else []) + lines[row:node.end_lineno]
    body = "".join(body).rstrip("\n") + "\n"
    return ("".join(decorators) + signature + "\n" + "".join(head)
            + f"{indent}{BEGIN_SOLUTION}\n{body}{indent}{END_SOLUTION}")


def clear_solutions(source, stub=CODE_STUB):
    """What nbgrader's ClearSolutions makes of a cell's solution regions (for the tool's own check).

    Each region from a line holding ``BEGIN SOLUTION`` to one holding
    ``END SOLUTION`` becomes ``stub``, indented as the first marker.
    """
    out, inside = [], False
    for line in source.split("\n"):
        if BEGIN_SOLUTION[4:] in line:
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + stub_line for stub_line in stub.split("\n"))
            inside = True
        elif END_SOLUTION[4:] in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


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
        self.path = Path(path)
        text = self.path.read_text()
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
        if numbers.exercises_seen > len(numbers.exercises):
            raise EditionError(f"{numbers.path}: the editions find more exercises than tools/book_numbers.py "
                               f"numbers ({len(numbers.exercises)}); report this as a bug of the tools.")
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

    def admonition(match):
        title = match.group("title").strip() or _ADMONITION_TITLES.get(
            match.group("kind"), match.group("kind").capitalize())
        body = textwrap.dedent(match.group("body")).strip()
        return "\n".join("> " + line if line else ">"
                         for line in f"**{title}.** {body}".splitlines())

    markdown = _EXERCISE.sub(exercise, markdown)
    markdown = _ADMONITION.sub(admonition, markdown)
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

    notebook = jupytext.reads(text, fmt="md:myst")
    if not any(cell.cell_type == "markdown" and _EVAL.search(cell.source) for cell in notebook.cells):
        return {}   # the text quotes no value: nothing to run
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    # The kernel's own log (its start-up warnings, Numba's messages) is not the
    # tool's output: it goes to a file, quoted only if running the chapter fails.
    with tempfile.TemporaryFile("w+") as kernel_log:
        try:
            with client.setup_kernel(stdout=kernel_log, stderr=kernel_log):
                return _run_for_values(client, notebook, path)
        except EditionError:
            raise
        except Exception as error:   # the kernel did not start or died: say so, with its log
            kernel_log.seek(0)
            log = kernel_log.read().strip()[-2000:]
            raise EditionError(f"{Path(path).name}: running the chapter for the numbers its text quotes "
                               f"failed ({type(error).__name__}: {error})"
                               + (f"; the kernel's log ends with:\n{log}" if log else ".")) from None


def _run_for_values(client, notebook, path):
    """Execute the cells of ``notebook`` in ``client``'s kernel; return ``{cell index: {name: text}}``."""
    from nbclient.exceptions import CellExecutionError

    values = {}
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


def make_edition(path, student, values=None, nbgrader=False):
    """Read a chapter and return its student, instructor or nbgrader source notebook.

    Parameters
    ----------
    path : Path
        A MyST Markdown chapter.
    student : bool
        Whether to stub the solutions (ignored when ``nbgrader``).
    values : dict, optional
        What :func:`prose_values` returns for the chapter; computed (by
        running the chapter once, then cached) when not given.
    nbgrader : bool
        Write the nbgrader source edition: the text as the student's (no
        written solutions), each solution cell whole with its function bodies
        between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, each
        self-check a locked test cell worth ``CHECK_POINTS``, and each written
        exercise's answer cell holding the written solution, graded by hand
        (``WRITTEN_POINTS``). ``nbgrader generate_assignment`` turns it into
        the student edition's exercise cells.

    Returns
    -------
    nbformat.NotebookNode
        With every cell's exercise label in ``metadata["fmlib"]["exercise"]``
        for cells tagged ``solution`` or ``self-check`` and for the answer
        cells of written exercises (``metadata["fmlib"]["answer"]`` true;
        in the student and nbgrader editions only, after the exercise); the
        text carries the computed numbers, and the exercises, figures and
        equations the site's numbers. Only the nbgrader edition carries
        ``metadata["nbgrader"]``.
    """
    path = Path(path)
    hide = student or nbgrader   # the text as the student sees it
    values = prose_values(path) if values is None else values
    notebook = jupytext.read(path)
    numbers = ChapterNumbers(path, root=path.resolve().parents[1])
    cells, label, seen_ids = [], None, set()

    def grade_id(kind):
        base = f"{label}-{kind}"
        name, count = base, 1
        while name in seen_ids:
            count += 1
            name = f"{base}-{count}"
        seen_ids.add(name)
        return name

    for index, cell in enumerate(notebook.cells):
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags:
            continue  # notebook-only numbering and captions: the editions write their own
        if cell.cell_type == "markdown":
            # A written exercise's answer cell goes right after its {solution}: split the cell there.
            for segment, answered, written in _split_after_written_solutions(cell.source):
                labels = exercise_labels(segment)
                label = labels[-1] if labels else label
                text = _plain_markdown(segment, numbers, hide, values.get(index, {}))
                if text:
                    part = nbformat.v4.new_markdown_cell(text, metadata=copy.deepcopy(cell.metadata))
                    cells.append(part)
                if answered and hide:
                    label = answered
                    model = _plain_markdown(written, numbers, False, values.get(index, {})) if nbgrader else ""
                    answer = nbformat.v4.new_markdown_cell(
                        model if nbgrader else TEXT_STUB,
                        metadata={"fmlib": {"exercise": answered, "answer": True}})
                    if nbgrader:
                        answer.metadata["nbgrader"] = _nbgrader_metadata(
                            grade_id("answer"), solution=True, points=WRITTEN_POINTS)
                    cells.append(answer)
            continue
        elif _is_bookkeeping(cell):
            continue  # the text already carries the numbers
        elif SOLUTION_TAG in tags or SELF_CHECK_TAG in tags:
            if label is None:
                raise EditionError(f"{path.name}: a {tags} cell comes before any exercise.")
            cell.metadata["fmlib"] = {"exercise": label}
            if SOLUTION_TAG in tags and nbgrader:
                cell.source = marked_solution_source(cell.source, f"{numbers.exercise_of_label[label]}")
                cell.metadata.pop("jupyter", None)  # the student's cell is open
                cell.metadata["nbgrader"] = _nbgrader_metadata(grade_id("solution"), solution=True)
            elif SOLUTION_TAG in tags and student:
                cell.source = stub_source(cell.source, f"{numbers.exercise_of_label[label]}")
                cell.metadata.pop("jupyter", None)  # the student's cell is open
            elif SELF_CHECK_TAG in tags and nbgrader:
                cell.metadata["nbgrader"] = _nbgrader_metadata(grade_id("check"), points=CHECK_POINTS)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
        figure = cell.metadata.get("mystnb", {}).get("figure") if cell.cell_type == "code" else None
        if figure:
            number = numbers.figures[figure["name"]]
            cells.append(nbformat.v4.new_markdown_cell(f"**Fig. {number}:** {figure['caption'].strip()}"))
    if numbers.exercises_seen != len(numbers.exercises):
        raise EditionError(f"{path}: the editions number {numbers.exercises_seen} exercises, tools/book_numbers.py "
                           f"{len(numbers.exercises)}, so the numbers would differ from the site's; "
                           "report this as a bug of the tools.")
    for cell in cells:     # the split cells get ids of their own, as nbformat 4.5 wants
        if "id" in cell:
            del cell["id"]
    notebook.cells = cells
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                       "language": "python", "name": "python3"}
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    for position, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{position}"
    return notebook


def _nbgrader_metadata(grade_id, solution=False, points=None):
    """nbgrader's cell metadata: a solution cell (points None), a test cell, or a graded answer."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": NBGRADER_SCHEMA, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _split_after_written_solutions(markdown):
    """Cut a Markdown cell after each written ``{solution}`` block.

    Yields ``(text, label, solution)``: each piece, and for a piece that ends
    with a written solution, that exercise's label and the solution's block
    (else None, None).
    """
    position = 0
    for match in _WRITTEN_SOLUTION.finditer(markdown):
        yield markdown[position:match.end()], match.group("label"), match.group(0)
        position = match.end()
    if position == 0 or markdown[position:].strip():
        yield markdown[position:], None, None


def written_exercises(path):
    """Labels of a chapter's written exercises: those with a ``{solution}`` block, in order."""
    text = Path(path).read_text()
    return [match.group("label") for match in _WRITTEN_SOLUTION.finditer(text)]


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


def assignment_name(path, root=ROOT):
    """The chapter's nbgrader assignment: its edition file name without ``.ipynb``."""
    return edition_filename(path, root).removesuffix(".ipynb")


_NBGRADER_ADVICE = """This folder is an nbgrader course folder: `source/` holds one assignment per
chapter, each self-check a locked test cell with points, each written
exercise an answer cell graded by hand. It holds the solutions: never give
it to students. Copy `source/` and `nbgrader_config.py` into your course
folder, then `nbgrader generate_assignment <assignment>` writes the student
notebook to `release/`. The book's page "For instructors" gives the whole
workflow (release, collect, autograde, export, feedback)."""

_NBGRADER_CONFIG = """# nbgrader's configuration for the book's course folder (written by
# tools/make_editions.py). Set the course id your JupyterHub uses.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "fm-book"
# The chapters need fmlib and their data: install the instructor edition's
# requirements.txt in the grading environment, and set FMLIB_DATA_HOME where
# the machine has no internet. A chapter runs in well under a minute.
c.Execute.timeout = 600
"""


# --- Reading a chapter's exercises, independently of jupytext and of the rendering above -------
#
# The editions are only as safe as the tool's reading of the exercise markup. This reader walks
# the raw Markdown line by line, the way MyST does (fences, directives, code cells), and refuses
# a chapter whose solutions it cannot file under an exercise without guessing. Its result is then
# compared with what jupytext and make_edition made of the same chapter, and it lists the text
# that the leak scan looks for in the student edition.

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^[ \t]*\{(?P<name>[^}\s]+)\}[ \t]*(?P<args>.*?)[ \t]*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
_CELL_BREAK = re.compile(r"^\+\+\+([ \t].*)?$")   # jupytext's line between two Markdown cells
_EXERCISE_DIRECTIVES = ("exercise", "solution", "solution-start", "solution-end")


class _Chapter:
    """What ``_read_chapter`` found in a chapter (line numbers count from 1)."""

    def __init__(self, path, lines):
        self.path, self.lines = path, lines
        self.cells = []              # code cells: dict(line, tags, source, label)
        self.solution_lines = set()  # lines holding solution text
        self.fragments = []          # (line, "code" or "text", solution text)
        self.shown = []              # what the stubs show of the solutions: imports, signatures, docstrings

    def where(self, line):
        return f"{self.path}, line {line}"

    def allowed_text(self):
        """The chapter without its solutions, plus what a stub shows: text the student may see."""
        kept = [text for number, text in enumerate(self.lines, start=1) if number not in self.solution_lines]
        return "\n".join(kept + self.shown)


def _closes(line, fence):
    """Whether ``line`` is a closing fence for an opening ``fence`` (same character, as long or longer)."""
    stripped = line.strip()
    return (len(stripped) >= len(fence) and set(stripped) == {fence[0]}
            and len(line) - len(line.lstrip(" ")) <= 3)


def _options(chapter, start, yaml_values=True):
    """Parse the options after a directive or code cell line; return (options, first body line index).

    A code cell's ``:key: value`` options are YAML (``:tags: [solution]``); a
    directive's are plain strings, as Sphinx reads them.
    """
    lines, options, index = chapter.lines, {}, start
    if index < len(lines) and lines[index].strip() == "---":
        end = next((k for k in range(index + 1, len(lines)) if lines[k].strip() == "---"), None)
        if end is None:
            raise EditionError(f"{chapter.where(index + 1)}: the options block opened by --- is not "
                               "closed by a --- line.")
        try:
            options = yaml.safe_load("\n".join(lines[index + 1:end])) or {}
        except yaml.YAMLError as error:
            raise EditionError(f"{chapter.where(index + 1)}: malformed YAML in the options block "
                               f"({getattr(error, 'problem', error)}).") from None
        if not isinstance(options, dict):
            raise EditionError(f"{chapter.where(index + 1)}: the options block is not a mapping of names to values.")
        return options, end + 1
    while index < len(lines) and _OPTION.match(lines[index]):
        match = _OPTION.match(lines[index])
        try:
            options[match["key"]] = (yaml.safe_load(match["value"]) if yaml_values and match["value"]
                                     else match["value"].strip() or None)
        except yaml.YAMLError as error:
            raise EditionError(f"{chapter.where(index + 1)}: malformed value of the option "
                               f":{match['key']}: ({getattr(error, 'problem', error)}).") from None
        index += 1
    return options, index


def _read_chapter(path):
    """Read and check the exercises of a chapter; raise EditionError for anything ambiguous.

    Parameters
    ----------
    path : Path
        A MyST Markdown chapter.

    Returns
    -------
    _Chapter
    """
    path = Path(path)
    try:
        chapter = _Chapter(path, path.read_text().split("\n"))
    except (OSError, UnicodeDecodeError) as error:
        raise EditionError(f"{path}: cannot be read ({error}).") from None
    lines, index = chapter.lines, 0
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if end is None:
            raise EditionError(f"{chapter.where(1)}: the header opened by --- is not closed by a --- line.")
        index = end + 1
    events, stack = [], []   # stack: the directives open at this line
    while index < len(lines):
        line = lines[index]
        if stack and _closes(line, stack[-1]["fence"]):
            opened = stack.pop()
            if opened["name"] in _EXERCISE_DIRECTIVES:
                if line.strip() != opened["fence"]:
                    raise EditionError(f"{chapter.where(index + 1)}: the fence closing the {{{opened['name']}}} "
                                       f"of line {opened['line']} is longer than its opening "
                                       f"{opened['fence']!r}; make them the same.")
                events.append(("close", opened, index + 1))
            index += 1
            continue
        match = _FENCE.match(line)
        if match and match["fence"][0] == "`" and "`" in match["info"]:
            match = None            # ```inline code``` at the start of a line, not a fence (CommonMark)
        directive = _DIRECTIVE.match(match["info"]) if match else None
        if match and directive and directive["name"] == "code-cell" and match["fence"][0] != ":":
            if stack:
                raise EditionError(
                    f"{chapter.where(stack[-1]['line'])}: the {{{stack[-1]['name']}}} fence "
                    f"{stack[-1]['fence']!r} is not closed before the code cell at line {index + 1}; "
                    f"close it with a line {stack[-1]['fence']!r} (a code cell cannot be inside it).")
            options, body = _options(chapter, index + 1)
            end = next((k for k in range(body, len(lines)) if _closes(lines[k], match["fence"])), None)
            # A fence with a name inside a cell is the next cell or a directive: this one was left open.
            inner = next((k for k in range(body, end if end is not None else len(lines))
                          if (m := _FENCE.match(lines[k])) and m["fence"][0] != ":" and m["info"].strip()), None)
            if end is None or inner is not None:
                raise EditionError(f"{chapter.where(index + 1)}: the code cell is not closed; end it with "
                                   f"a line {match['fence']!r}.")
            tags = options.get("tags") or []
            if not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
                raise EditionError(f"{chapter.where(index + 1)}: the cell's tags must be a list of names, "
                                   f"like `:tags: [solution]`, not {tags!r}.")
            cell = {"line": body + 1, "tags": tags, "source": "\n".join(lines[body:end]), "end": end}
            events.append(("cell", cell, index + 1))
            index = end + 1
            continue
        if match and directive and (match["fence"][0] == ":" or directive["name"] in _EXERCISE_DIRECTIVES):
            name = directive["name"]
            outer = next((d for d in stack if d["name"] in _EXERCISE_DIRECTIVES), None)
            if name in _EXERCISE_DIRECTIVES and outer:
                raise EditionError(f"{chapter.where(index + 1)}: a {{{name}}} inside the {{{outer['name']}}} "
                                   f"opened at line {outer['line']}; close that one first (is its fence "
                                   "missing?).")
            options, body = _options(chapter, index + 1, yaml_values=False)
            label = options.get("label") if name == "exercise" else (directive["args"].split() or [None])[0]
            label = None if label is None else str(label)
            opened = {"name": name, "fence": match["fence"], "line": index + 1, "label": label, "body": body}
            stack.append(opened)
            events.append(("open", opened, index + 1))
            index = body
            continue
        if match and match["fence"][0] != ":":
            # A literal block (```python, ```{math}): its lines are text, never markup.
            end = next((k for k in range(index + 1, len(lines)) if _closes(lines[k], match["fence"])), None)
            if end is None:
                raise EditionError(f"{chapter.where(index + 1)}: the block opened by {match['fence']!r} is "
                                   f"never closed; end it with a line {match['fence']!r}.")
            events.append(("text", index + 1, end + 1))
            index = end + 1
            continue
        if line.strip() and not _CELL_BREAK.match(line):
            events.append(("text", index + 1, index + 1))
        index += 1
    if stack:
        raise EditionError(f"{chapter.where(stack[-1]['line'])}: the {{{stack[-1]['name']}}} fence "
                           f"{stack[-1]['fence']!r} is never closed; close it with a line {stack[-1]['fence']!r}.")
    _file_solutions(chapter, events)
    return chapter


def _file_solutions(chapter, events):
    """File every solution under its exercise, refusing rather than guessing."""
    exercise, start = None, None   # the last exercise (label, line); the open {solution-start}
    for kind, item, line in events:
        name = item["name"] if kind in ("open", "close") else kind
        if kind == "open" and name == "exercise":
            if start:
                raise EditionError(f"{chapter.where(line)}: an exercise starts before the {{solution-end}} "
                                   f"of the {{solution-start}} at line {start[1]}; add the {{solution-end}}.")
            exercise = (item["label"], line)
        elif kind == "open" and name in ("solution-start", "solution"):
            if not item["label"]:
                raise EditionError(f"{chapter.where(line)}: the {{{name}}} names no exercise; write the "
                                   f"exercise's label after it, as in `:::{{{name}}} <label>`.")
            if exercise is None:
                raise EditionError(f"{chapter.where(line)}: the {{{name}}} of {item['label']!r} comes before "
                                   "any exercise; put it after its exercise.")
            if item["label"] != exercise[0]:
                raise EditionError(
                    f"{chapter.where(line)}: the {{{name}}} names {item['label']!r}, but the exercise "
                    f"before it (line {exercise[1]}) is {exercise[0]!r}; a solution follows its own "
                    "exercise: fix the label or move the solution.")
            if name == "solution-start":
                if start:
                    raise EditionError(f"{chapter.where(line)}: a {{solution-start}} before the "
                                       f"{{solution-end}} of the one at line {start[1]}.")
                start = (item["label"], line)
        elif kind == "open" and name == "solution-end":
            if not start:
                raise EditionError(f"{chapter.where(line)}: a {{solution-end}} without a {{solution-start}} "
                                   "before it.")
            start = None
        elif kind == "close" and name == "solution":
            # A written solution: its body is solution text (code, in its code blocks).
            literal = None
            for number in range(item["body"] + 1, line):
                text = chapter.lines[number - 1]
                chapter.solution_lines.add(number)
                fence = _FENCE.match(text)
                if literal is None and fence and fence["fence"][0] != ":":
                    literal = fence["fence"]
                elif literal is not None and _closes(text, literal):
                    literal = None
                else:
                    chapter.fragments.append((number, "text" if literal is None else "code", text))
        elif kind == "text" and start:
            raise EditionError(
                f"{chapter.where(item)}: text between the {{solution-start}} of line {start[1]} and its "
                "{solution-end}; the student edition hides only the solution cells there, so this would "
                "show. Move it into the solution cell as comments, or into a {solution} block.")
        elif kind == "cell":
            _file_cell(chapter, item, exercise, start, line)
    if start:
        raise EditionError(f"{chapter.where(start[1])}: the {{solution-start}} of {start[0]!r} has no "
                           "{solution-end}; add one after its solution cells.")


def _file_cell(chapter, cell, exercise, start, line):
    tags = cell["tags"]
    if SOLUTION_TAG in tags:
        if exercise is None:
            raise EditionError(f"{chapter.where(line)}: a solution cell before any exercise; put it after "
                               "its exercise, between {solution-start} and {solution-end}.")
        if not start:
            raise EditionError(f"{chapter.where(line)}: the solution cell is not between a "
                               f"{{solution-start}} and a {{solution-end}} of exercise {exercise[0]!r}; "
                               "it would be filed by guessing: add them around it.")
        cell["label"] = start[0]
        source = cell["source"]
        try:
            compile(source, str(chapter.path), "exec", dont_inherit=True)
        except SyntaxError as error:
            raise EditionError(
                f"{chapter.where(cell['line'] + (error.lineno or 1) - 1)}: syntax error in the solution of "
                f"exercise {start[0]!r}: {error.msg}. A solution cell is plain Python (no IPython "
                "magics); fix it so that it runs.") from None
        try:
            stub_source(source, start[0])
        except EditionError as error:
            raise EditionError(f"{chapter.where(line)}: {error}") from None
        chapter.shown.extend(_shown_parts(source))
        for number in range(cell["line"], cell["end"] + 1):
            chapter.solution_lines.add(number)
        chapter.fragments.extend((cell["line"] + offset, "code", text)
                                 for offset, text in _solution_code(source))
    elif start:
        raise EditionError(f"{chapter.where(line)}: a code cell between the {{solution-start}} of line "
                           f"{start[1]} and its {{solution-end}} that is not tagged `solution`; the student "
                           "edition would show it. Tag it, or move it after the {solution-end}.")
    elif SELF_CHECK_TAG in tags:
        if exercise is None or exercise[0] is None:
            raise EditionError(f"{chapter.where(line)}: a self-check cell with no labelled exercise before "
                               "it; put it after its exercise (which needs a :label:).")
        cell["label"] = exercise[0]
    chapter.cells.append(cell)


def _solution_code(source):
    """The solution's own text, as (line offset in the cell, text) pairs.

    Every line of the cell, and every statement of every function body (so the
    body of a one-line ``def f(x): return ...`` counts on its own). Lines that
    the stub keeps (imports, signatures, docstrings) are among them; the leak
    scan ignores those because the stub shows them anyway.
    """
    pieces = list(enumerate(source.split("\n")))
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement in node.body:
                if statement is node.body[0] and ast.get_docstring(node, clean=False) is not None:
                    continue
                segment = ast.get_source_segment(source, statement) or ""
                pieces.extend((statement.lineno - 1 + k, text) for k, text in enumerate(segment.split("\n")))
    return pieces


def _shown_parts(source):
    """What a stub may show of a solution cell: imports, decorators, signatures, docstrings.

    Computed from the solution itself, not from the stub, so that a stub that
    keeps too much is still caught by the leak scan.
    """
    tree = ast.parse(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    parts = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            parts.append(ast.get_source_segment(source, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.extend("@" + ast.get_source_segment(source, d) for d in node.decorator_list)
            parts.append(_segment(lines, (node.lineno, node.col_offset), _signature_end(tokens, node)))
            if ast.get_docstring(node, clean=False) is not None:
                parts.append(ast.get_source_segment(source, node.body[0]))
    return parts


def _check_chapter_cells(chapter):
    """Compare the reader's solution cells with jupytext's reading of the chapter."""
    try:
        notebook = jupytext.read(chapter.path)
    except Exception as error:   # jupytext raises many kinds; the user needs the file and the reason
        raise EditionError(f"{chapter.path}: jupytext cannot read it ({type(error).__name__}: {error}).") from None
    theirs = [cell.source.strip() for cell in notebook.cells
              if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])]
    ours = [cell for cell in chapter.cells if SOLUTION_TAG in cell["tags"]]
    for position, cell in enumerate(ours):
        if position >= len(theirs) or theirs[position] != cell["source"].strip():
            raise EditionError(f"{chapter.where(cell['line'])}: jupytext reads the cells of this chapter "
                               "differently around this solution cell; check the fences above it.")
    if len(theirs) != len(ours):
        raise EditionError(f"{chapter.path}: jupytext finds {len(theirs)} solution cells, the editions tool "
                           f"{len(ours)}; check the fences of the exercises.")


def _check_filing(chapter, notebook, edition):
    """Check that make_edition filed every solution and self-check cell where the reader did."""
    theirs = [cell.metadata.get("fmlib", {}).get("exercise") for cell in notebook.cells
              if cell.cell_type == "code" and {SOLUTION_TAG, SELF_CHECK_TAG} & set(cell.metadata.get("tags", []))]
    ours = [cell for cell in chapter.cells if {SOLUTION_TAG, SELF_CHECK_TAG} & set(cell["tags"])]
    for position, cell in enumerate(ours):
        if position >= len(theirs) or theirs[position] != cell["label"]:
            found = theirs[position] if position < len(theirs) else "nothing"
            raise EditionError(f"{chapter.where(cell['line'])}: the {edition} edition files this cell under "
                               f"{found!r}, but it belongs to exercise {cell['label']!r}; check the "
                               "exercise's fence and :label: above it.")
    if len(theirs) != len(ours):
        raise EditionError(f"{chapter.path}: the {edition} edition has {len(theirs)} solution and "
                           f"self-check cells, the chapter {len(ours)}.")


# --- The leak scan --------------------------------------------------------------------------------

_TRIVIAL_CODE = {"else:", "try:", "finally:", "pass", "return", "return None", "continue", "break",
                 "raise", "\"\"\"", "'''"}


def _normalise(text):
    """Every line with its runs of whitespace made single spaces."""
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _words(text):
    return re.findall(r"\w+", text)


_WINDOW = 6   # a written solution leaks if six of its words in a row reach the student


def _windows(words):
    return {tuple(words[k:k + _WINDOW]) for k in range(len(words) - _WINDOW + 1)}


def _strings(value):
    """Every string in a JSON document (a notebook: sources, metadata, outputs)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_leaks(chapters_read, student_notebooks):
    """Solution text of the chapters that appears in the student notebooks.

    Parameters
    ----------
    chapters_read : list of _Chapter
        What ``_read_chapter`` found in every chapter.
    student_notebooks : dict
        Name of a student notebook -> its JSON text.

    Returns
    -------
    list of str
        One line per leak: where the solution text is, and in which notebook it was found.
        A line of code counts if, with its whitespace normalised, it has at least six
        characters that are not spaces; a line of text if it has at least four words
        (longer lines: if any six of its words in a row reach the student). Text that
        also occurs in the chapters outside their solutions or in the stubs
        (signatures, docstrings, imports) is not a leak.
    """
    allowed = "\n".join(chapter.allowed_text() for chapter in chapters_read)
    allowed_code, allowed_words = _normalise(allowed), _words(allowed)
    allowed_runs, allowed_windows = " " + " ".join(allowed_words) + " ", _windows(allowed_words)
    students = {}
    for name, text in student_notebooks.items():
        joined = "\n".join(_strings(json.loads(text)))
        words = _words(joined)
        students[name] = (_normalise(joined), " " + " ".join(words) + " ", _windows(words))
    leaks, seen = [], set()
    for chapter in chapters_read:
        for line, kind, text in chapter.fragments:
            if kind == "code":
                key = " ".join(text.split())
                if (len(key.replace(" ", "")) < 6 or key in _TRIVIAL_CODE or not re.search(r"\w", key)
                        or key in allowed_code):
                    continue
                found = [name for name, (code, _, _) in students.items() if key in code]
            else:
                words = _words(text)
                if len(words) < 4:
                    continue
                if len(words) < _WINDOW:
                    key = " ".join(words)
                    if f" {key} " in allowed_runs:
                        continue
                    found = [name for name, (_, runs, _) in students.items() if f" {key} " in runs]
                else:
                    windows = _windows(words) - allowed_windows
                    found = [name for name, (_, _, seen) in students.items() if windows & seen]
            for name in found:
                if (chapter.path, line, name) not in seen:   # a line and its statement: one leak
                    seen.add((chapter.path, line, name))
                    leaks.append(f"{chapter.where(line)} ({text.strip()[:60]!r}) is in {name}")
    return leaks


def _check_no_leaks(chapters_read, folder, archive):
    """Raise EditionError if solution text is in the student folder or its zip."""
    notebooks = {f"student/{path.name}": path.read_text() for path in sorted(Path(folder).glob("*.ipynb"))}
    with zipfile.ZipFile(archive) as zf:
        notebooks.update({f"{Path(archive).name.split('.new-')[0].lstrip('.')}:{name}": zf.read(name).decode()
                          for name in zf.namelist() if name.endswith(".ipynb")})
    leaks = find_leaks(chapters_read, notebooks)
    if leaks:
        raise EditionError("solution text reached the student edition, which was therefore not written:\n  "
                           + "\n  ".join(leaks[:10]) + ("\n  ..." if len(leaks) > 10 else ""))


# --- Writing an edition without ever losing a folder ----------------------------------------------

MARKER = ".fmlib-edition.json"
_WRITTEN_BY = "tools/make_editions.py"
_STAGING = re.compile(r"\.(student|instructor|nbgrader)\.(new|old)-[0-9a-f]+-[0-9a-f]+")
_RENAME_EXCHANGE = 2   # linux/fs.h: swap two paths in one step


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _files(folder):
    """Files below ``folder``, except the marker and Python's caches (which Python rewrites)."""
    return sorted(path for path in Path(folder).rglob("*")
                  if path.is_file() and path.name != MARKER and "__pycache__" not in path.parts
                  and path.suffix != ".pyc")


def _write_marker(folder, edition, files=None):
    """Mark ``folder`` as the tool's own: the only kind of folder it ever replaces."""
    (Path(folder) / MARKER).write_text(json.dumps({
        "written_by": _WRITTEN_BY, "edition": edition,
        "note": "make_editions.py replaces this folder on every run; do not keep your work in it.",
        "files": files,
    }, indent=1) + "\n")


def _check_replaceable(folder, edition, force):
    """Raise EditionError unless ``folder`` is absent or is an edition the tool wrote, unchanged."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or not folder.is_dir():
        raise EditionError(f"{folder} exists and is not a folder that make_editions.py wrote; it is left "
                           "as it is. Move it away or choose another --out.")
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        marker = None
    if not (isinstance(marker, dict) and marker.get("written_by") == _WRITTEN_BY
            and marker.get("edition") == edition):
        raise EditionError(f"{folder} exists and was not written by make_editions.py (it has no {MARKER}); "
                           "it is left as it is. Move it away (or delete it if nothing in it is needed), or "
                           "choose another --out.")
    if force:
        return
    written = set((marker.get("files") or {}).values())
    # A file is safe to delete if its content is one the tool wrote (Jupyter's checkpoints are copies).
    unknown = [str(path.relative_to(folder)) for path in _files(folder) if _digest(path) not in written]
    if unknown:
        raise EditionError(f"{folder} holds files that make_editions.py did not write or that changed since: "
                           f"{', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}; the folder is left "
                           "as it is. Move those files out, or run again with --force to replace them.")


def _check_archive_replaceable(archive, edition):
    if not os.path.lexists(archive):
        return
    ours = archive.is_file() and not archive.is_symlink() and zipfile.is_zipfile(archive)
    if ours:
        with zipfile.ZipFile(archive) as zf:
            ours = zf.comment == _archive_comment(edition)
    if not ours:
        raise EditionError(f"{archive} exists and was not written by make_editions.py; it is left as it "
                           "is. Move it away or choose another --out.")


def _archive_comment(edition):
    return f"fmlib course, {edition} edition, written by {_WRITTEN_BY}".encode()


@contextlib.contextmanager
def _locked(out):
    """Hold a lock on ``out`` so that two runs never write the same editions at once."""
    try:
        import fcntl
    except ImportError:     # Windows: no lock, the renames below are still safe
        yield
        return
    with open(out / ".make_editions.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EditionError(f"another make_editions.py run is writing to {out}; wait for it to end.") from None
        yield


def _staging_name(out, edition, kind):
    return out / f".{edition}.{kind}-{os.getpid():x}-{secrets.token_hex(4)}"


def _remove_stale(out):
    """Remove what an interrupted run left: its own staging folders and zips, nothing else."""
    for path in out.iterdir():
        if _STAGING.fullmatch(path.name) and path.is_dir() and not path.is_symlink() \
                and (path / MARKER).is_file():
            shutil.rmtree(path)
        elif re.fullmatch(r"\.fm-book-(student|instructor|nbgrader)\.zip\.new-[0-9a-f]+-[0-9a-f]+", path.name) \
                and path.is_file() and not path.is_symlink():
            path.unlink()


def _exchange(first, second):
    """Swap two paths in one step (Linux's renameat2); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):   # not Linux, or a C library without it
        return False
    at_cwd = -100
    return renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE) == 0


def _swap_into_place(staged, target, old):
    """Put ``staged`` at ``target``; return where the old folder went (None if there was none).

    The swap is one step where the system allows it; otherwise two renames, undone if
    interrupted in between, so ``target`` is always the old edition or the new one, whole.
    """
    if not os.path.lexists(target):
        os.rename(staged, target)
        return None
    if _exchange(staged, target):
        return staged
    os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        os.rename(old, target)
        raise
    return old


def _stage(out, edition, notebooks, root, readme):
    """Write an edition into a new hidden folder beside its place, and its zip; return both."""
    folder = _staging_name(out, edition, "new")
    archive = out / f".fm-book-{edition}.zip.new-{os.getpid():x}-{secrets.token_hex(4)}"
    folder.mkdir()
    try:
        _write_edition_files(folder, archive, edition, notebooks, root, readme)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if archive.exists():
            archive.unlink()
        raise
    return folder, archive


def _write_edition_files(folder, archive, edition, notebooks, root, readme):
    """Write the notebooks, fmlib, the README and the marker into ``folder``, then zip them."""
    _write_marker(folder, edition)          # marks it as the tool's own even if the run is killed
    for name, notebook in notebooks:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / name)
        # read from the kernel's working folder: sharp (2x) figures with white
        # backgrounds, as on the site and in Binder
        if (root / "book" / "matplotlibrc").is_file():
            shutil.copy(root / "book" / "matplotlibrc", (folder / name).parent / "matplotlibrc")
    if edition == "nbgrader":
        (folder / "nbgrader_config.py").write_text(_NBGRADER_CONFIG)
    shutil.copytree(root / "fmlib", folder / "fmlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # requirements.txt reads binder/requirements.txt, then installs fmlib
    for name in ("pyproject.toml", "requirements.txt", "binder/requirements.txt"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, folder / name)
    (folder / "README.md").write_text(readme)
    _write_marker(folder, edition, {str(path.relative_to(folder)): _digest(path) for path in _files(folder)})
    with zipfile.ZipFile(archive, "x", zipfile.ZIP_DEFLATED) as zf:
        zf.comment = _archive_comment(edition)
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.name != MARKER:
                zf.write(file, Path(f"fm-book-{edition}") / file.relative_to(folder))


def write_editions(out, root=ROOT, force=False):
    """Write the editions (notebooks, then a zip each) under ``out``.

    ``student/`` and ``instructor/`` hold one notebook per chapter;
    ``nbgrader/`` is an nbgrader course folder with the source edition of
    every chapter as an assignment (``source/<assignment>/<notebook>``, see
    :func:`make_edition`) and an ``nbgrader_config.py``.
    Every chapter is read and checked first, and the editions are written to
    hidden folders beside ``out/student``, ``out/instructor`` and
    ``out/nbgrader``; the student
    edition is scanned for solution text; only then do the new folders take
    the old ones' places, each in one step. An existing folder is replaced only
    if this tool wrote it (it holds ``.fmlib-edition.json``) and nothing in it
    changed since (unless ``force``); anything else is left as it is, with an
    :class:`EditionError`.

    Parameters
    ----------
    out : str or Path
        The folder that receives ``student/``, ``instructor/``, ``nbgrader/`` and their zips.
    root : Path
        The book: ``_toc.yml``, ``_config.yml``, the chapters and ``fmlib/``.
    force : bool
        Replace an edition folder the tool wrote even if files in it changed.

    Returns
    -------
    dict
        ``{edition: (folder, archive)}``.

    Raises
    ------
    EditionError
        If a chapter breaks the exercise conventions, the book's YAML is
        malformed, an output is not the tool's to replace, or solution text
        would reach the student edition.
    """
    out, root = Path(out), Path(root)
    config = _read_yaml(root / "_config.yml")
    if not isinstance(config, dict) or not isinstance(config.get("title"), str):
        raise EditionError(f"{root / '_config.yml'}: no `title:`; the editions' READMEs need the book's title.")
    title = config["title"]
    advice = {
        "student": "Each exercise has a cell that raises `NotImplementedError`: replace it with "
                   "your code, then run the self-check cell below it.",
        "instructor": "The solutions are filled in; every self-check cell should print a tick.",
        "nbgrader": _NBGRADER_ADVICE,
    }
    # Refuse an output that is not the tool's before running the chapters (minutes on the real
    # book); checked again under the lock, just before anything is replaced.
    if os.path.lexists(out) and not out.is_dir():
        raise EditionError(f"{out} exists and is not a folder; choose another --out.")
    for edition in EDITIONS:
        _check_replaceable(out / edition, edition, force)
        _check_archive_replaceable(out / f"fm-book-{edition}.zip", edition)
    chapters_read, notebooks = [], {edition: [] for edition in EDITIONS}
    for path in chapters(root):
        chapter = _read_chapter(path)
        _check_chapter_cells(chapter)
        chapters_read.append(chapter)
        for edition in EDITIONS:
            notebook = make_edition(path, student=edition == "student", nbgrader=edition == "nbgrader")
            nbformat.validate(notebook)
            _check_filing(chapter, notebook, edition)
            name = edition_filename(path, root)
            if edition == "nbgrader":   # nbgrader's course layout: source/<assignment>/<notebook>
                name = f"source/{assignment_name(path, root)}/{name}"
            notebooks[edition].append((name, notebook))
    if os.path.lexists(out) and not out.is_dir():
        raise EditionError(f"{out} exists and is not a folder; choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    written, staged = {}, []
    with _locked(out):
        for edition in EDITIONS:
            _check_replaceable(out / edition, edition, force)
            _check_archive_replaceable(out / f"fm-book-{edition}.zip", edition)
        _remove_stale(out)
        try:
            for edition in EDITIONS:
                readme = _README.format(title=title, edition=edition, advice=advice[edition])
                staged.append((edition, *_stage(out, edition, notebooks[edition], root, readme)))
            # The last check, on exactly what will be published: no solution text for students.
            _check_no_leaks(chapters_read, staged[0][1], staged[0][2])
            for edition, folder, archive in staged:
                _check_replaceable(out / edition, edition, force)   # again: Jupyter may have saved meanwhile
                old = _swap_into_place(folder, out / edition, _staging_name(out, edition, "old"))
                os.replace(archive, out / f"fm-book-{edition}.zip")
                if old is not None:
                    shutil.rmtree(old)
                written[edition] = (out / edition, out / f"fm-book-{edition}.zip")
        finally:
            for _, folder, archive in staged:
                if folder.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                if archive.exists():
                    archive.unlink()
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "editions"),
                        help="output folder (default: _build/editions)")
    parser.add_argument("--force", action="store_true",
                        help="replace edition folders this tool wrote even if files in them changed")
    parser.add_argument("--book", default=str(ROOT),
                        help="the book's folder, with _toc.yml and fmlib/ (default: this repository)")
    args = parser.parse_args(argv)
    try:
        written = write_editions(args.out, root=Path(args.book), force=args.force)
    except EditionError as error:
        sys.exit(f"make_editions: {error}")
    for edition, (folder, archive) in written.items():
        count = len(list(folder.rglob("*.ipynb")))
        print(f"{edition}: {count} notebooks in {folder}, zipped as {archive}")
    print("checked: no solution text in the student edition")


if __name__ == "__main__":
    main()
