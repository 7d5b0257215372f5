"""The course editions tool never loses a folder, never leaks a solution, and says what is wrong.

Issue 10, kind 8. Every test builds a small book in ``tmp_path`` (``_toc.yml``,
``_config.yml``, chapters written here, a one-line ``fmlib``); a chapter is
executed only if its text quotes a value (``{eval}``), which only the tests of
that run, so the module runs in seconds.
"""

import ast
import asyncio
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from book_support import ROOT, make_editions

EditionError = make_editions.EditionError
TOOL = ROOT / "tools" / "make_editions.py"

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

"""


def code_exercise(label, solution, prompt=None):
    """A code exercise in the four parts of CONTRIBUTING.md."""
    return f""":::{{exercise}}
:label: {label}

{prompt or f"Write the function of {label}."}
:::

::::{{solution-start}} {label}
:class: dropdown
::::

```{{code-cell}} ipython3
:tags: [solution]

{solution.strip()}
```

::::{{solution-end}}
::::

```{{code-cell}} ipython3
:tags: [self-check]

print("self-check of {label}")
```

"""


SOLUTION = '''def double(x):
    """Twice x."""
    twice = x * 2 + 0  # SECRET_DOUBLE_STEP
    return twice
'''


def make_book(root, chapters=None, toc=None, config='title: "A test book"\n'):
    """Write a small book under ``root``; return ``root``."""
    chapters = chapters or {"one": "Some prose.\n\n" + code_exercise("one-double", SOLUTION)}
    (root / "book").mkdir(parents=True)
    for name, body in chapters.items():
        (root / "book" / f"{name}.md").write_text(HEADER + f"# Chapter {name}\n\n" + body)
    names = list(chapters)
    if toc is None:
        toc = f"format: jb-book\nroot: book/{names[0]}\nchapters:\n" + "".join(
            f"  - file: book/{name}\n" for name in names[1:])
    (root / "_toc.yml").write_text(toc)
    (root / "_config.yml").write_text(config)
    (root / "fmlib").mkdir()
    (root / "fmlib" / "__init__.py").write_text('"""A stand-in for fmlib."""\n')
    (root / "pyproject.toml").write_text("[project]\nname = 'fmlib'\n")
    (root / "binder").mkdir()
    (root / "binder" / "requirements.txt").write_text("numpy\n")
    (root / "requirements.txt").write_text("-r binder/requirements.txt\n")
    return root


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "book")


def snapshot(folder):
    """Every file below ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def student_text(out):
    return "\n".join(p.read_text() for p in sorted((out / "student").glob("*.ipynb")))


def instructor_text(out):
    return "\n".join(p.read_text() for p in sorted((out / "instructor").glob("*.ipynb")))


def leftovers(out):
    """Hidden staging folders or zips a run left behind."""
    return [p.name for p in out.iterdir() if p.name.startswith((".student", ".instructor", ".nbgrader", ".fm-book"))]


# --- Never lose a folder ------------------------------------------------------------------------

def test_a_fresh_run_marks_its_folders_and_zips(book, tmp_path):
    out = tmp_path / "out"
    written = make_editions.write_editions(out, root=book)
    assert written == {edition: (out / edition, out / f"fm-book-{edition}.zip")
                       for edition in ("student", "instructor", "nbgrader")}
    for edition in ("student", "instructor", "nbgrader"):
        # nbgrader's course layout: source/<assignment>/<notebook>
        notebook = "source/00_one/00_one.ipynb" if edition == "nbgrader" else "00_one.ipynb"
        marker = json.loads((out / edition / make_editions.MARKER).read_text())
        assert marker["edition"] == edition
        assert notebook in marker["files"]
        with zipfile.ZipFile(out / f"fm-book-{edition}.zip") as zf:
            assert f"fm-book-{edition}/{notebook}" in zf.namelist()
            assert not any(name.endswith(make_editions.MARKER) for name in zf.namelist())
    assert "SECRET_DOUBLE_STEP" in instructor_text(out)
    assert "SECRET_DOUBLE_STEP" not in student_text(out)
    source = (out / "nbgrader" / "source" / "00_one" / "00_one.ipynb").read_text()
    assert "SECRET_DOUBLE_STEP" in source and "### BEGIN SOLUTION" in source
    assert (out / "nbgrader" / "nbgrader_config.py").is_file()
    assert leftovers(out) == []


def test_a_folder_the_tool_did_not_write_is_never_deleted(book, tmp_path):
    out = tmp_path / "out"
    (out / "student").mkdir(parents=True)
    (out / "student" / "my_marking.xlsx").write_bytes(b"a term of work")
    with pytest.raises(EditionError, match=r"was not written by make_editions.py.*Move it away"):
        make_editions.write_editions(out, root=book)
    assert snapshot(out / "student") == {"my_marking.xlsx": b"a term of work"}
    assert not (out / "instructor").exists(), "nothing is written when one folder is refused"
    assert not (out / "fm-book-student.zip").exists()


def test_an_instructor_folder_of_someone_else_is_refused_too(book, tmp_path):
    out = tmp_path / "out"
    (out / "instructor").mkdir(parents=True)
    (out / "instructor" / "answers.md").write_text("mine")
    with pytest.raises(EditionError, match="instructor exists and was not written"):
        make_editions.write_editions(out, root=book)
    assert (out / "instructor" / "answers.md").read_text() == "mine"
    assert not (out / "student").exists()


def test_a_file_or_a_link_in_the_way_is_left_alone(book, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "student").write_text("a file, not a folder")
    with pytest.raises(EditionError, match="is not a folder that make_editions.py wrote"):
        make_editions.write_editions(out, root=book)
    assert (out / "student").read_text() == "a file, not a folder"

    (out / "student").unlink()
    elsewhere = tmp_path / "elsewhere"
    make_editions.write_editions(elsewhere, root=book)     # a real, marked edition ...
    (out / "student").symlink_to(elsewhere / "student")   # ... behind a link: not replaced either
    before = snapshot(elsewhere / "student")
    with pytest.raises(EditionError, match="is not a folder that make_editions.py wrote"):
        make_editions.write_editions(out, root=book)
    assert (out / "student").is_symlink() and snapshot(elsewhere / "student") == before


def test_an_output_path_that_is_a_file_is_refused(book, tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    with pytest.raises(EditionError, match="is not a folder; choose another --out"):
        make_editions.write_editions(out, root=book)
    assert out.read_text() == "not a folder"


def test_a_zip_the_tool_did_not_write_is_left_alone(book, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with zipfile.ZipFile(out / "fm-book-student.zip", "w") as zf:
        zf.writestr("fm-book-student/notes.txt", "someone's own zip")
    before = (out / "fm-book-student.zip").read_bytes()
    with pytest.raises(EditionError, match="fm-book-student.zip exists and was not written"):
        make_editions.write_editions(out, root=book)
    assert (out / "fm-book-student.zip").read_bytes() == before
    assert not (out / "student").exists()


def test_the_tools_own_folder_is_replaced_whole(book, tmp_path):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    # A second chapter appears, then the first one is dropped: the rerun shows exactly the book.
    (book / "book" / "two.md").write_text(HEADER + "# Two\n\nMore prose.\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/two\n")
    make_editions.write_editions(out, root=book)
    for edition in ("student", "instructor"):
        assert sorted(p.name for p in (out / edition).glob("*.ipynb")) == ["00_two.ipynb"]
        with zipfile.ZipFile(out / f"fm-book-{edition}.zip") as zf:
            assert f"fm-book-{edition}/00_one.ipynb" not in zf.namelist()
    assert leftovers(out) == []


def test_work_saved_in_an_edition_folder_blocks_the_rerun_until_forced(book, tmp_path):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    notebook = out / "student" / "00_one.ipynb"
    notebook.write_text(notebook.read_text().replace("NotImplementedError(", "ValueError("))
    (out / "student" / "solutions_of_anna.py").write_text("def double(x): return 2 * x\n")
    with pytest.raises(EditionError, match=r"00_one.ipynb.*solutions_of_anna.py.*--force"):
        make_editions.write_editions(out, root=book)
    assert (out / "student" / "solutions_of_anna.py").exists()
    assert "ValueError(" in notebook.read_text()

    make_editions.write_editions(out, root=book, force=True)
    assert not (out / "student" / "solutions_of_anna.py").exists()
    assert "ValueError(" not in notebook.read_text()


def test_jupyter_checkpoints_and_python_caches_do_not_block_a_rerun(book, tmp_path):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    checkpoints = out / "student" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "00_one-checkpoint.ipynb").write_bytes((out / "student" / "00_one.ipynb").read_bytes())
    (out / "student" / "fmlib" / "__pycache__").mkdir()
    (out / "student" / "fmlib" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0cache")
    make_editions.write_editions(out, root=book)
    assert not checkpoints.exists()


def test_a_forged_or_broken_marker_does_not_make_a_folder_replaceable(book, tmp_path):
    out = tmp_path / "out"
    (out / "student").mkdir(parents=True)
    (out / "student" / "thesis.tex").write_text("years of work")
    for marker in ["not json", json.dumps({"written_by": "someone else", "edition": "student"}),
                   json.dumps({"written_by": "tools/make_editions.py", "edition": "instructor"})]:
        (out / "student" / make_editions.MARKER).write_text(marker)
        with pytest.raises(EditionError, match="was not written by make_editions.py"):
            make_editions.write_editions(out, root=book, force=True)
        assert (out / "student" / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("stage", ["notebooks", "leak scan"])
def test_an_interrupted_run_keeps_the_old_editions_whole(book, tmp_path, monkeypatch, stage):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    before = {name: snapshot(out / name) for name in make_editions.EDITIONS}
    zips = {name: (out / f"fm-book-{name}.zip").read_bytes() for name in make_editions.EDITIONS}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if stage == "notebooks":
        calls = []
        real_write = nbformat.write

        def write_then_interrupt(*args, **kwargs):   # the instructor edition, half written
            calls.append(args)
            if len(calls) > 1:
                raise KeyboardInterrupt
            return real_write(*args, **kwargs)
        monkeypatch.setattr(make_editions.nbformat, "write", write_then_interrupt)
    else:
        monkeypatch.setattr(make_editions, "_check_no_leaks", interrupt)
    (book / "book" / "one.md").write_text((book / "book" / "one.md").read_text().replace("Some prose", "New prose"))
    with pytest.raises(KeyboardInterrupt):
        make_editions.write_editions(out, root=book)
    assert {name: snapshot(out / name) for name in make_editions.EDITIONS} == before
    assert {name: (out / f"fm-book-{name}.zip").read_bytes() for name in make_editions.EDITIONS} == zips
    assert leftovers(out) == []


def test_work_saved_while_the_tool_runs_is_not_lost(book, tmp_path, monkeypatch):
    """A notebook saved into the old edition after the first check is caught by the check before the swap."""
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    real_check = make_editions._check_no_leaks

    def save_while_running(*args):
        (out / "student" / "late_work.py").write_text("saved by Jupyter meanwhile")
        return real_check(*args)
    monkeypatch.setattr(make_editions, "_check_no_leaks", save_while_running)
    with pytest.raises(EditionError, match="late_work.py"):
        make_editions.write_editions(out, root=book)
    assert (out / "student" / "late_work.py").read_text() == "saved by Jupyter meanwhile"
    assert leftovers(out) == []


def test_an_interrupted_swap_puts_the_old_folder_back(book, tmp_path, monkeypatch):
    """Where the system cannot swap two folders in one step, the two renames are undone together."""
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    before = snapshot(out / "student")
    monkeypatch.setattr(make_editions, "_exchange", lambda first, second: False)
    real_rename = os.rename

    def rename(source, target):
        if Path(source).name.startswith(".student.new-"):
            raise KeyboardInterrupt   # after the old folder moved aside, before the new one arrives
        return real_rename(source, target)
    monkeypatch.setattr(make_editions.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        make_editions.write_editions(out, root=book)
    assert snapshot(out / "student") == before
    assert leftovers(out) == []


def test_the_swap_without_renameat2_still_replaces(book, tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    monkeypatch.setattr(make_editions, "_exchange", lambda first, second: False)
    (book / "book" / "one.md").write_text((book / "book" / "one.md").read_text().replace("Some prose", "New prose"))
    make_editions.write_editions(out, root=book)
    assert "New prose" in student_text(out) and leftovers(out) == []


def test_what_a_killed_run_left_is_cleaned_but_nothing_else(book, tmp_path):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    stale = out / ".student.new-1f2e-0a0b0c0d"          # the tool's name and its marker
    stale.mkdir()
    (stale / make_editions.MARKER).write_text("{}")
    (stale / "00_one.ipynb").write_text("{}")
    lookalike = out / ".student.old-2a-0b0c0d0e"       # the tool's name, but no marker: not the tool's
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("keep")
    stale_zip = out / ".fm-book-student.zip.new-1f2e-0a0b0c0d"
    stale_zip.write_bytes(b"partial")
    make_editions.write_editions(out, root=book)
    assert not stale.exists() and not stale_zip.exists()
    assert (lookalike / "keep.txt").read_text() == "keep"


def test_two_runs_at_once_are_refused(book, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".make_editions.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)       # another run holds the lock
        with pytest.raises(EditionError, match="another make_editions.py run is writing"):
            make_editions.write_editions(out, root=book)
    assert not (out / "student").exists()


def test_published_folders_follow_the_umask(book, tmp_path):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        make_editions.write_editions(out, root=book)
    finally:
        os.umask(old)
    assert (out / "student").stat().st_mode & 0o777 == 0o755
    assert (out / "fm-book-student.zip").stat().st_mode & 0o777 == 0o644


def test_main_refuses_with_a_message_and_a_non_zero_exit(book, tmp_path):
    out = tmp_path / "out"
    (out / "student").mkdir(parents=True)
    (out / "student" / "notes.txt").write_text("mine")
    result = subprocess.run([sys.executable, str(TOOL), "--book", str(book), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.startswith("make_editions: ") and "Traceback" not in result.stderr
    assert "was not written by make_editions.py" in result.stderr
    assert (out / "student" / "notes.txt").read_text() == "mine"


# --- Stubs --------------------------------------------------------------------------------------

STUB_CASES = {
    "one-line def": "def f(x): return x * 7 + 1234567",
    "one-line def with a docstring": 'def f(x): """Seven x."""; return x * 7 + 1234567',
    "docstring on the def line": 'def f(x): """Seven x,\n   and more."""\n',
    "docstring then code on the def line": 'def f(x): """Seven x."""; y = 1234567\n',
    "comment after the signature": "def f(x):  # hint: 1234567\n    return x * 7\n",
    "comment lines in the body": "def f(x):\n    # use 1234567\n    return x * 7\n",
    "nested def and class": ("def f(x):\n    def g(y):\n        return y * 1234567\n"
                             "    class H:\n        k = 1234567\n    return g(x) + H.k\n"),
    "defaults that look like solutions": "def f(x, scale=sum([3, 4]), key=lambda v: v * 7):\n    return 1234567\n",
    "multi-line signature with comments": ("def f(x,  # the input\n      y=(1,\n         2),\n"
                                           "      ) -> int:  # 1234567\n    return 1234567\n"),
    "annotations": "def f(x: 'list[int]', *args: int, k: int = 3, **kw) -> dict:\n    return {1234567: x}\n",
    "decorators": ("import functools\n\n\n@functools.lru_cache(maxsize=None)  # 1234567\n"
                   "def f(x):\n    return x * 1234567\n"),
    "tab indentation": 'def f(x):\n\t"""Doc."""\n\treturn x * 1234567\n',
    "two functions and imports": ("import math\nfrom os import path as p\n\n\ndef f(x):\n    return math.pi * 1234567\n"
                                  "\n\ndef g(x):\n    return p.join(x, '1234567')\n"),
    "lambda in the return annotation": "def f(x) -> (lambda: int):\n    return 1234567\n",
    "a colon inside the defaults": "def f(x, table={'a': 1}, part=slice(1, 2)):\n    return table[x] * 1234567\n",
}


def same_signature(first, second):
    """Equal signatures, comparing default functions (lambdas) by their code."""
    def described(signature):
        return [(p.name, p.kind, p.annotation,
                 p.default.__code__.co_code if inspect.isfunction(p.default) else p.default)
                for p in signature.parameters.values()]
    return described(first) == described(second) and (
        first.return_annotation == second.return_annotation or inspect.isfunction(first.return_annotation))


@pytest.mark.parametrize("source", STUB_CASES.values(), ids=STUB_CASES.keys())
def test_the_stub_compiles_keeps_the_signature_and_hides_the_body(source):
    stub = make_editions.stub_source(source, "ex-7")
    assert "1234567" not in stub, stub
    solution_ns, stub_ns = {}, {}
    exec(compile(source, "<solution>", "exec"), solution_ns)
    exec(compile(stub, "<stub>", "exec"), stub_ns)
    for name, solution in solution_ns.items():
        if inspect.isfunction(solution):
            function = stub_ns[name]
            if hasattr(solution, "__wrapped__"):
                solution, function = solution.__wrapped__, function.__wrapped__
            assert same_signature(inspect.signature(function), inspect.signature(solution))
            assert function.__doc__ == solution.__doc__
            assert "# YOUR CODE HERE\n" in stub and "raise NotImplementedError()" in stub
            with pytest.raises(NotImplementedError):
                function(*[None] * sum(p.default is p.empty and p.kind <= p.POSITIONAL_OR_KEYWORD
                                       for p in inspect.signature(function).parameters.values()))


@pytest.mark.parametrize("module", ["textwrap", "functools", "asyncio.tasks", "dataclasses"])
def test_every_function_of_some_stdlib_modules_can_be_stubbed(module):
    """Real code in all its forms: each top-level function, as a solution cell, stubs and compiles."""
    source = Path(importlib.import_module(module).__file__).read_text()
    functions = [node for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert functions
    for node in functions:
        cell = "".join(f"@{ast.get_source_segment(source, d)}\n" for d in node.decorator_list)
        cell += ast.get_source_segment(source, node) + "\n"
        stub = make_editions.stub_source(cell, "ex-std")   # checks compile and signature itself
        body = [statement for statement in ast.parse(stub).body[0].body]
        assert isinstance(body[-1], ast.Raise) and len(body) <= 2, stub


def test_an_async_solution_gets_an_async_stub():
    stub = make_editions.stub_source("import asyncio\n\n\nasync def f(x):\n    await asyncio.sleep(0)\n"
                                     "    return x * 1234567\n", "ex-async")
    assert "1234567" not in stub and "async def f(x):" in stub
    namespace = {}
    exec(stub, namespace)
    assert inspect.iscoroutinefunction(namespace["f"])
    with pytest.raises(NotImplementedError):
        asyncio.run(namespace["f"](1))


def test_a_label_with_quotes_makes_a_stub_that_compiles():
    stub = make_editions.stub_source("def f(x):\n    return x\n", 'ex-"odd"\\label')
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


@pytest.mark.parametrize("broken_stub, message", [
    (lambda source, tokens, node, label: "def f(x)\n    raise NotImplementedError", "does not compile"),
    (lambda source, tokens, node, label: "def f():\n    raise NotImplementedError", "does not keep the solution's signatures"),
    (lambda source, tokens, node, label: "def f(x):\n    y = x\n    raise NotImplementedError", "keeps code of f"),
])
def test_every_stub_is_checked_before_it_is_used(monkeypatch, broken_stub, message):
    monkeypatch.setattr(make_editions, "_function_stub", broken_stub)
    with pytest.raises(EditionError, match=message):
        make_editions.stub_source("def f(x):\n    return x\n", "ex-8")


@pytest.mark.parametrize("source, message", [
    ("def f(x):\n    return (x\n", r"syntax error at line 2 of its cell"),
    ("%timeit 1\ndef f(x):\n    return x\n", "syntax error at line 1"),
    ("class Model:\n    pass\n", "top-level ClassDef at line 1"),
    ("x = 1\n\ndef f():\n    return x\n", "top-level Assign at line 1"),
    ('"""A module docstring."""\n', "top-level Expr at line 1"),
])
def test_a_cell_that_cannot_be_stubbed_is_refused(source, message):
    with pytest.raises(EditionError, match=message):
        make_editions.stub_source(source, "ex-3")


# --- Fence forms: written solutions in backtick fences are hidden too -------------------------

WRITTEN = {
    "colon fence": ":::{solution} talk\n:class: dropdown\n\nBecause SECRET_ANSWER_WORDS reach far.\n:::\n",
    "backtick fence": "```{solution} talk\n:class: dropdown\n\nBecause SECRET_ANSWER_WORDS reach far.\n```\n",
    "four backticks with code inside": ("````{solution} talk\n:class: dropdown\n\nBecause SECRET_ANSWER_WORDS reach far.\n\n"
                                        "```python\nprint('SECRET_ANSWER_CODE')\n```\n````\n"),
    "tildes": "~~~{solution} talk\nBecause SECRET_ANSWER_WORDS reach far.\n~~~\n",
}


@pytest.mark.parametrize("solution", WRITTEN.values(), ids=WRITTEN.keys())
@pytest.mark.parametrize("exercise_fence", [":::", "```"])
def test_written_solutions_in_every_fence_form_are_hidden(tmp_path, solution, exercise_fence):
    body = (f"{exercise_fence}{{exercise}}\n:label: talk\n\nDiscuss.\n{exercise_fence}\n\n{solution}\n"
            + code_exercise("after-talk", SOLUTION))
    book = make_book(tmp_path / "book", {"one": body})
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    assert "SECRET_ANSWER" not in student_text(out)
    assert "SECRET_ANSWER_WORDS" in instructor_text(out)
    assert "{exercise}" not in student_text(out) and "{solution}" not in student_text(out)
    notebook = nbformat.read(out / "student" / "00_one.ipynb", as_version=4)
    labels = [cell.metadata["fmlib"]["exercise"] for cell in notebook.cells
              if "fmlib" in cell.metadata and cell.cell_type == "code"]
    assert labels == ["after-talk", "after-talk"]
    # the written exercise gets an answer cell, right after its text
    answers = [index for index, cell in enumerate(notebook.cells) if cell.metadata.get("fmlib", {}).get("answer")]
    assert [notebook.cells[i].metadata["fmlib"]["exercise"] for i in answers] == ["talk"]
    assert notebook.cells[answers[0]].source == make_editions.TEXT_STUB
    assert "Discuss." in notebook.cells[answers[0] - 1].source
    # numbered as the site numbers them, whatever the fence (the root page is unnumbered)
    assert "**Exercise 1**" in student_text(out) and "**Exercise 2**" in student_text(out)
    assert "# YOUR CODE HERE" in student_text(out)


def test_inline_backticks_and_cell_breaks_are_not_markup(tmp_path):
    body = ("```inline code``` starts this line and opens no fence.\n\n"
            + code_exercise("ex-a", SOLUTION).replace("::::{solution-end}", "+++\n\n::::{solution-end}"))
    book = make_book(tmp_path / "book", {"one": body})
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    assert "SECRET_DOUBLE_STEP" not in student_text(out)


def test_a_code_exercise_in_backtick_fences(tmp_path):
    body = code_exercise("bt-double", SOLUTION).replace(":::{exercise}", "```{exercise}").replace(
        "of bt-double.\n:::", "of bt-double.\n```").replace("::::{solution-start} bt-double\n:class: dropdown\n::::",
                                                             "````{solution-start} bt-double\n:class: dropdown\n````")
    book = make_book(tmp_path / "book", {"one": body})
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    assert "SECRET_DOUBLE_STEP" not in student_text(out)
    assert "{solution-start}" not in student_text(out) and "{exercise}" not in student_text(out)
    assert "**Exercise 1**" in student_text(out)


# --- Clear errors instead of tracebacks or guesses ---------------------------------------------

def chapter_error(tmp_path, body, match):
    book = make_book(tmp_path / "book", {"one": body})
    with pytest.raises(EditionError, match=match) as raised:
        make_editions.write_editions(tmp_path / "out", root=book)
    assert not (tmp_path / "out" / "student").exists()
    return str(raised.value)


def line_of(body, text):
    """The line of ``text`` in the chapter file written by make_book."""
    full = HEADER + "# Chapter one\n\n" + body
    return full[:full.index(text)].count("\n") + 1


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    body = code_exercise("ex-a", "def f(x):\n    return (x +\n\ndef g():\n    pass\n")
    message = chapter_error(tmp_path, body, "syntax error in the solution of exercise 'ex-a'")
    assert f"one.md, line {line_of(body, 'def g():')}:" in message or \
        f"one.md, line {line_of(body, '    return (x +')}:" in message, message


def test_an_ipython_magic_in_a_solution_is_a_clear_error(tmp_path):
    body = code_exercise("ex-a", "%%time\ndef f(x):\n    return x\n")
    message = chapter_error(tmp_path, body, "no IPython magics")
    assert f"one.md, line {line_of(body, '%%time')}:" in message


def test_top_level_code_in_a_solution_names_the_line(tmp_path):
    body = code_exercise("ex-a", "answer = 42\n")
    message = chapter_error(tmp_path, body, "only hold imports and function definitions")
    assert "one.md, line" in message


def test_a_solution_start_under_the_wrong_exercise_is_refused(tmp_path):
    body = code_exercise("ex-a", SOLUTION).replace("{solution-start} ex-a", "{solution-start} ex-b")
    message = chapter_error(tmp_path, body, r"names 'ex-b', but the exercise before it .* is 'ex-a'")
    assert f"line {line_of(body, '::::{solution-start}')}:" in message


def test_a_written_solution_under_the_wrong_exercise_is_refused(tmp_path):
    body = (":::{exercise}\n:label: first\n\nDiscuss.\n:::\n\n:::{exercise}\n:label: second\n\nDiscuss more.\n:::\n\n"
            ":::{solution} first\nThe answer to the first one.\n:::\n")
    chapter_error(tmp_path, body, r"\{solution\} names 'first', but the exercise before it .* is 'second'")


@pytest.mark.parametrize("body, match", [
    ("::::{solution-start} ex-a\n::::\n\n```{code-cell} ipython3\n:tags: [solution]\n\ndef f(x):\n    return x\n```\n\n"
     "::::{solution-end}\n::::\n", "comes before any exercise"),
    ("```{code-cell} ipython3\n:tags: [solution]\n\ndef f(x):\n    return x\n```\n", "solution cell before any exercise"),
    (":::{solution} ex-a\nText.\n:::\n", "comes before any exercise"),
    ("```{code-cell} ipython3\n:tags: [self-check]\n\nprint(1)\n```\n", "self-check cell with no labelled exercise"),
])
def test_a_solution_before_any_exercise_is_refused(tmp_path, body, match):
    chapter_error(tmp_path, "Prose.\n\n" + body + "\n" + code_exercise("ex-z", SOLUTION), match)


def test_a_solution_cell_outside_its_start_and_end_is_refused(tmp_path):
    body = code_exercise("ex-a", SOLUTION) + (
        "```{code-cell} ipython3\n:tags: [solution]\n\ndef g(x):\n    return x\n```\n")
    chapter_error(tmp_path, body, r"not between a \{solution-start\} and a \{solution-end\} of exercise 'ex-a'")


@pytest.mark.parametrize("inside, match", [
    ("The trick is SECRET_TRICK.\n", "text between the {solution-start}"),
    ("```{code-cell} ipython3\nprint('SECRET_TRICK')\n```\n", "not tagged `solution`"),
])
def test_anything_but_solution_cells_between_start_and_end_is_refused(tmp_path, inside, match):
    body = code_exercise("ex-a", SOLUTION).replace("::::{solution-end}", inside + "\n::::{solution-end}")
    chapter_error(tmp_path, body, match)


@pytest.mark.parametrize("body, match", [
    (":::{exercise}\n:label: ex-a\n\nNo closing fence.\n\n```{code-cell} ipython3\nprint(1)\n```\n",
     r"the \{exercise\} fence ':::' is not closed before the code cell"),
    ("Prose.\n\n:::{exercise}\n:label: ex-a\n\nNo closing fence, to the end.\n",
     r"the \{exercise\} fence ':::' is never closed"),
    ("```{solution} ex-a\nunclosed secret\n\n```{code-cell} ipython3\n:tags: [solution]\n\ndef g(x):\n    return x\n```\n",
     r"the \{solution\} fence '```' is not closed before the code cell"),
    ("```{code-cell} ipython3\nprint(1)\n\n```{code-cell} ipython3\nprint(2)\n```\n", "the code cell is not closed"),
    ("```{code-cell} ipython3\nprint(1)\n", "the code cell is not closed"),
    ("```python\nprint(1)\n", "the block opened by '```' is never closed"),
    ("::::{solution-start} ex-a\n::::\n", r"has no \{solution-end\}"),
    ("::::{solution-end}\n::::\n", r"\{solution-end\} without a \{solution-start\}"),
    (":::{exercise}\n:label: ex-a\n\nText.\n::::\n", "longer than its opening"),
    (":::{solution}\nText.\n:::\n", "names no exercise"),
    (":::{exercise}\n:label: ex-b\n\n:::{solution} ex-b\nnested\n:::\n", r"inside the \{exercise\}"),
])
def test_broken_exercise_markup_is_refused_with_its_line(tmp_path, body, match):
    full = ":::{exercise}\n:label: ex-a\n\nFirst.\n:::\n\n" + body
    message = chapter_error(tmp_path, full, match)
    assert "one.md, line " in message


def test_an_exercise_label_the_renderer_cannot_see_is_refused(tmp_path):
    """The reader and make_edition must agree on every cell's exercise, or nothing is written."""
    body = code_exercise("ex-a", SOLUTION) + code_exercise("ex-b", SOLUTION.replace("double", "triple")).replace(
        ":::{exercise}\n:label: ex-b\n", ":::{exercise}\n---\nlabel: ex-b\n---\n")
    chapter_error(tmp_path, body, r"files this cell under 'ex-a', but it belongs to exercise 'ex-b'")


@pytest.mark.parametrize("toc, match", [
    ("root: [book/one\n", r"_toc.yml, line \d+, column \d+: malformed YAML"),
    ("format: jb-book\nchapters:\n  - file: book/one\n", "no `root:` entry"),
    ("", "no `root:` entry"),
    ("- book/one\n", "no `root:` entry"),
    ("root: book/one\nchapters:\n  - file: book/missing\n", "lists pages that do not exist"),
    ("root: book/one\nchapters:\n  - title: no file\n", "has no `file:`"),
    ("root: book/one\nparts:\n  - caption: A\n    chapters: book/one\n", "needs a list of `chapters:`"),
])
def test_a_broken_toc_is_a_clear_error(tmp_path, toc, match):
    book = make_book(tmp_path / "book", toc=toc)
    with pytest.raises(EditionError, match=match):
        make_editions.write_editions(tmp_path / "out", root=book)


@pytest.mark.parametrize("config, match", [
    ('title: "unclosed\n', r"_config.yml, line \d+, column \d+: malformed YAML"),
    ("author: nobody\n", "no `title:`"),
    ("just a string\n", "no `title:`"),
])
def test_a_broken_config_is_a_clear_error(tmp_path, config, match):
    book = make_book(tmp_path / "book", config=config)
    with pytest.raises(EditionError, match=match):
        make_editions.write_editions(tmp_path / "out", root=book)


def test_malformed_yaml_in_a_chapter_is_a_clear_error(tmp_path):
    chapter_error(tmp_path, code_exercise("ex-a", SOLUTION).replace(":tags: [solution]", ":tags: [solution"),
                  r"one.md, line \d+: malformed value of the option :tags:")
    book = make_book(tmp_path / "other")
    chapter = book / "book" / "one.md"
    chapter.write_text(chapter.read_text().replace("  language: python", "  language: [python"))
    with pytest.raises(EditionError, match="one.md: jupytext cannot read it"):
        make_editions.write_editions(tmp_path / "out2", root=book)


def test_a_missing_toc_is_a_clear_error(book, tmp_path):
    (book / "_toc.yml").unlink()
    with pytest.raises(EditionError, match="_toc.yml: cannot be read"):
        make_editions.write_editions(tmp_path / "out", root=book)


@pytest.mark.parametrize("broken", ["toc", "chapter"])
def test_main_reports_a_broken_book_without_a_traceback(tmp_path, broken):
    book = make_book(tmp_path / "book")
    if broken == "toc":
        (book / "_toc.yml").write_text("root: [\n")
    else:
        (book / "book" / "one.md").write_text((book / "book" / "one.md").read_text().replace("return twice", "return (twice"))
    result = subprocess.run([sys.executable, str(TOOL), "--book", str(book), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.startswith("make_editions: ") and "Traceback" not in result.stderr, result.stderr


# --- Values the text quotes: the chapter runs in a kernel, quietly -----------------------------

QUOTING = "```{code-cell} ipython3\nanswer = str(6 * 7)\n```\n\nThe answer is {eval}`answer`.\n\n"


def test_a_run_that_executes_chapters_prints_only_the_tools_lines(tmp_path):
    """The kernel's own log (its start-up warnings) is not shown to the person running the tool."""
    book = make_book(tmp_path / "book", {"one": QUOTING + code_exercise("one-double", SOLUTION)})
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(TOOL), "--book", str(book), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"student: 1 notebooks in {out / 'student'}, zipped as {out / 'fm-book-student.zip'}",
        f"instructor: 1 notebooks in {out / 'instructor'}, zipped as {out / 'fm-book-instructor.zip'}",
        f"nbgrader: 1 notebooks in {out / 'nbgrader'}, zipped as {out / 'fm-book-nbgrader.zip'}",
        "checked: no solution text in the student edition"]
    assert "The answer is 42." in student_text(out) and "{eval}" not in student_text(out)
    assert "SECRET_DOUBLE_STEP" not in student_text(out)


def test_a_chapter_that_fails_to_run_is_a_clear_error(tmp_path):
    body = "```{code-cell} ipython3\nanswer = 1 / 0\n```\n\nThe answer is {eval}`answer`.\n"
    book = make_book(tmp_path / "book", {"one": body})
    result = subprocess.run([sys.executable, str(TOOL), "--book", str(book), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.startswith("make_editions: one.md: cell "), result.stderr
    assert "ZeroDivisionError" in result.stderr and "IPKernelApp" not in result.stderr
    assert not (tmp_path / "out" / "student").exists()


def test_a_foreign_output_folder_is_refused_before_any_chapter_runs(tmp_path):
    """The refusal comes at once, not after minutes of running the book (this chapter would fail to run)."""
    body = "```{code-cell} ipython3\nanswer = 1 / 0\n```\n\nThe answer is {eval}`answer`.\n"
    book = make_book(tmp_path / "book", {"one": body})
    out = tmp_path / "out"
    (out / "instructor").mkdir(parents=True)
    (out / "instructor" / "answers.md").write_text("mine")
    with pytest.raises(EditionError, match="instructor exists and was not written"):
        make_editions.write_editions(out, root=book)
    assert (out / "instructor" / "answers.md").read_text() == "mine"


# --- The leak scan ------------------------------------------------------------------------------

def test_a_stub_that_leaks_stops_the_run_and_publishes_nothing(book, tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    before = snapshot(out / "student")
    monkeypatch.setattr(make_editions, "stub_source", lambda source, label: source)   # a broken stub writer
    (book / "book" / "one.md").write_text((book / "book" / "one.md").read_text().replace("Some prose", "New prose"))
    with pytest.raises(EditionError, match=r"(?s)solution text reached the student edition.*one.md, line \d+ "
                                           r"\('twice = x \* 2 \+ 0.*is in student/00_one.ipynb"):
        make_editions.write_editions(out, root=book)
    assert snapshot(out / "student") == before, "the leaking edition was not published"
    assert leftovers(out) == []


def test_a_written_solution_the_renderer_keeps_is_caught(tmp_path, monkeypatch):
    body = (":::{exercise}\n:label: talk\n\nDiscuss.\n:::\n\n"
            ":::{solution} talk\nThe interactions of rare pairs are estimated through shared factors.\n:::\n")
    book = make_book(tmp_path / "book", {"one": body})
    never = make_editions.re.compile(r"(?!x)x")
    monkeypatch.setattr(make_editions, "_WRITTEN_SOLUTION", never)   # a renderer that forgets to hide it
    with pytest.raises(EditionError, match="interactions of rare pairs"):
        make_editions.write_editions(tmp_path / "out", root=book)
    assert not (tmp_path / "out" / "student").exists()


def test_code_in_a_written_solution_is_scanned_as_code(tmp_path):
    body = (":::{exercise}\n:label: talk\n\nDiscuss.\n:::\n\n::::{solution} talk\nLike this:\n\n"
            "```python\nmodel.fit(X_secret)\n```\n::::\n")
    chapter_path = tmp_path / "one.md"
    chapter_path.write_text(HEADER + body)
    chapter = make_editions._read_chapter(chapter_path)
    leaking = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("model.fit(X_secret)")])
    leaks = make_editions.find_leaks([chapter], {"leaking": nbformat.writes(leaking)})
    assert len(leaks) == 1 and "model.fit(X_secret)" in leaks[0]


def test_main_exits_non_zero_when_the_scan_finds_a_leak(book, tmp_path):
    script = (f"import sys; sys.path.insert(0, {str(TOOL.parent)!r}); import make_editions as m; "
              "m.stub_source = lambda source, label: source; "
              f"m.main(['--book', {str(book)!r}, '--out', {str(tmp_path / 'out')!r}])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("make_editions: solution text reached the student edition")
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "student").exists()


def test_a_leak_in_the_zip_alone_is_caught(book, tmp_path):
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    chapter = make_editions._read_chapter(book / "book" / "one.md")
    leaking = tmp_path / "leaking.zip"
    instructor_notebook = (out / "instructor" / "00_one.ipynb").read_text()
    with zipfile.ZipFile(leaking, "w") as zf:
        zf.writestr("fm-book-student/00_one.ipynb", instructor_notebook)
    make_editions._check_no_leaks([chapter], out / "student", out / "fm-book-student.zip")   # clean
    with pytest.raises(EditionError, match="leaking.zip:fm-book-student/00_one.ipynb"):
        make_editions._check_no_leaks([chapter], out / "student", leaking)


def test_the_scan_looks_past_reflowed_text_and_metadata(book, tmp_path):
    body = (":::{exercise}\n:label: talk\n\nDiscuss.\n:::\n\n:::{solution} talk\n"
            "Factor sharing lets the model estimate interactions of pairs never seen together.\n:::\n")
    chapter_path = tmp_path / "one.md"
    chapter_path.write_text(HEADER + body)
    chapter = make_editions._read_chapter(chapter_path)
    reflowed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Factor sharing lets the\nmodel **estimate interactions of pairs** never seen together.")])
    in_metadata = nbformat.v4.new_notebook(metadata={"note": "the model estimate interactions of pairs never"})
    clean = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Discuss.")])
    leaks = make_editions.find_leaks([chapter], {"reflowed": nbformat.writes(reflowed),
                                                 "metadata": nbformat.writes(in_metadata),
                                                 "clean": nbformat.writes(clean)})
    assert [leak.rsplit(" is in ", 1)[1] for leak in leaks] == ["reflowed", "metadata"]


def test_solution_lines_that_the_student_sees_anyway_are_not_leaks(tmp_path):
    """Imports, signatures, docstrings and lines also in the prose are shown to students on purpose."""
    solution = ('import numpy as np\n\n\ndef double(x):\n    """Twice x, as a float array."""\n'
                "    x = np.asarray(x, dtype=float)\n    return x * 2.0\n")
    prose = "The first line of any answer here is `x = np.asarray(x, dtype=float)`.\n\n"
    book = make_book(tmp_path / "book", {"one": prose + code_exercise("ex-a", solution)})
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)     # no EditionError: nothing leaked
    assert "x = np.asarray(x, dtype=float)" in student_text(out)
    assert "return x * 2.0" not in student_text(out)


def test_the_real_book_scan_is_not_vacuous():
    """On the book itself: the instructor edition is full of solution text, the student edition has none."""
    chapters = [make_editions._read_chapter(path) for path in make_editions.chapters(ROOT)]
    student, instructor = {}, {}
    for chapter in chapters:
        student[chapter.path.name] = nbformat.writes(make_editions.make_edition(chapter.path, student=True))
        instructor[chapter.path.name] = nbformat.writes(make_editions.make_edition(chapter.path, student=False))
    assert make_editions.find_leaks(chapters, student) == []
    found = make_editions.find_leaks(chapters, instructor)
    with_solutions = {chapter.path.name for chapter in chapters if chapter.fragments}
    assert {leak.rsplit(" is in ", 1)[1] for leak in found} == with_solutions
    assert len(found) > 100


# --- Property: whatever the markup, a secret reaches students only through a failed run ----------

FENCES = [":::", "::::", "```", "````", "~~~"]
LABELS = ["a", "b"]
MOSTLY_CLOSED = st.sampled_from([True, True, True, True, False])
MOSTLY_A = st.sampled_from(["a", "a", "a", "b"])
ATOM = st.one_of(
    st.tuples(st.just("exercise"), st.sampled_from(LABELS), st.sampled_from(FENCES), st.booleans()),
    st.tuples(st.just("start"), st.sampled_from(LABELS), st.sampled_from(FENCES), st.booleans()),
    st.tuples(st.just("end"), st.just(""), st.sampled_from(FENCES), st.booleans()),
    st.tuples(st.just("written"), st.sampled_from(LABELS), st.sampled_from(FENCES), st.booleans()),
    st.tuples(st.just("cell"), st.sampled_from(["solution", "self-check", ""]), st.sampled_from(["```", "````"]),
              st.booleans()),
    st.tuples(st.just("text"), st.just(""), st.just(""), st.just(True)),
)
# Whole exercises, well formed but for the odd open fence or wrong label, so that many chapters pass.
CODE_EXERCISE = st.tuples(
    st.tuples(st.just("exercise"), st.just("a"), st.sampled_from(FENCES), MOSTLY_CLOSED),
    st.tuples(st.just("start"), MOSTLY_A, st.sampled_from(FENCES), MOSTLY_CLOSED),
    st.tuples(st.just("cell"), st.just("solution"), st.sampled_from(["```", "````"]), MOSTLY_CLOSED),
    st.tuples(st.just("end"), st.just(""), st.sampled_from(FENCES), MOSTLY_CLOSED),
    st.tuples(st.just("cell"), st.just("self-check"), st.sampled_from(["```", "````"]), MOSTLY_CLOSED),
).map(list)
DISCUSSION = st.tuples(
    st.tuples(st.just("exercise"), st.just("a"), st.sampled_from(FENCES), MOSTLY_CLOSED),
    st.tuples(st.just("written"), MOSTLY_A, st.sampled_from(FENCES), MOSTLY_CLOSED),
).map(list)
PARTS = st.lists(st.one_of(ATOM.map(lambda atom: [atom]), CODE_EXERCISE, DISCUSSION), min_size=1, max_size=5).map(
    lambda groups: [atom for group in groups for atom in group])


def render(parts):
    chunks = []
    for number, (kind, value, fence, closed) in enumerate(parts):
        end = fence if closed else ""
        if kind == "exercise":
            chunks.append(f"{fence}{{exercise}}\n:label: {value}\n\nWrite f_{number}.\n{end}")
        elif kind == "start":
            chunks.append(f"{fence}{{solution-start}} {value}\n:class: dropdown\n{end}")
        elif kind == "end":
            chunks.append(f"{fence}{{solution-end}}\n{end}")
        elif kind == "written":
            chunks.append(f"{fence}{{solution}} {value}\n\nWritten answer SECRET_TEXT_{number} here.\n{end}")
        elif kind == "cell":
            tags = f":tags: [{value}]\n" if value else ""
            body = (f'def f_{number}(x):\n    return "SECRET_CODE_{number}"' if value == "solution"
                    else "print(1)")
            chunks.append(f"{fence}{{code-cell}} ipython3\n{tags}\n{body}\n{end}")
        else:
            chunks.append("Plain prose here.")
    return HEADER + "# Chapter\n\n" + "\n\n".join(chunks) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARTS)
def test_no_markup_leaks_a_secret_without_an_error(parts):
    """Random exercise markup, fences left open or not: the tool refuses it, or its scan catches any leak."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book" / "chapter.md"   # in a book: make_edition numbers as the site
        path.parent.mkdir()
        path.write_text(render(parts))
        (Path(folder) / "_toc.yml").write_text("format: jb-book\nroot: book/chapter\n")
        try:
            chapter = make_editions._read_chapter(path)
            make_editions._check_chapter_cells(chapter)
            student = make_editions.make_edition(path, student=True)
            instructor = make_editions.make_edition(path, student=False)
            make_editions._check_filing(chapter, student, "student")
            make_editions._check_filing(chapter, instructor, "instructor")
        except EditionError:
            return
        text = nbformat.writes(student)
        if not make_editions.find_leaks([chapter], {"student": text}):
            assert "SECRET" not in text, path.read_text()


@pytest.mark.parametrize("fence", [":::", "```"])
def test_admonitions_become_quoted_paragraphs_with_their_title(tmp_path, fence):
    """A note or a warning reads as on the site: no directive left in the editions' text."""
    prose = (f"Before.\n\n{fence}{{note}}\nThis section is optional.\n\nIt asks why.\n{fence}\n\n"
             f"{fence}{{warning}} Mind the step\nA large step diverges.\n{fence}\n\nAfter.\n\n")
    book = make_book(tmp_path / "book", chapters={"one": prose + code_exercise("one-double", SOLUTION)})
    out = tmp_path / "out"
    make_editions.write_editions(out, root=book)
    for text in (student_text(out), instructor_text(out)):
        assert "{note}" not in text and "{warning}" not in text
        assert "> **Note.** This section is optional." in text
        assert "> **Mind the step.** A large step diverges." in text
