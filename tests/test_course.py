"""Course mode: the student and instructor editions, and every exercise's self-check."""

import copy
import importlib.util
import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from book_support import (ROOT, build_site, chapter_files, errors, execute, execute_exercise_rounds,
                          make_editions)

pytestmark = pytest.mark.slow

CHAPTERS = chapter_files()
COURSE_TESTS = Path(__file__).parent / "course"


def _wrong_answers(chapter):
    """The chapter's WRONG_ANSWERS table (tests/course/wrong_<short name>.py)."""
    tables = {}
    for path in sorted(COURSE_TESTS.glob("wrong_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        tables.update(module.WRONG_ANSWERS)
    notebook = make_editions.make_edition(chapter, student=False)
    labels = _code_exercises(notebook)
    return {label: tables[label] for label in labels if label in tables}, labels


def _code_exercises(notebook):
    """Labels of the exercises that have a solution cell, in order."""
    labels = []
    for cell in notebook.cells:
        if "solution" in cell.metadata.get("tags", []):
            label = cell.metadata["fmlib"]["exercise"]
            if label not in labels:
                labels.append(label)
    return labels


def _cells(notebook, tag, label):
    return [cell for cell in notebook.cells
            if tag in cell.metadata.get("tags", []) and cell.metadata["fmlib"]["exercise"] == label]


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    return make_editions.write_editions(out)


def test_editions_are_written_and_zipped(editions):
    for edition in ("student", "instructor"):
        folder, archive = editions[edition]
        notebooks = sorted(folder.glob("*.ipynb"))
        assert len(notebooks) == len(CHAPTERS)
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
        for notebook in notebooks:
            assert f"fm-book-{edition}/{notebook.name}" in names
        assert f"fm-book-{edition}/fmlib/__init__.py" in names
        assert f"fm-book-{edition}/requirements.txt" in names
        for notebook in notebooks:
            nb = nbformat.read(notebook, as_version=4)
            nbformat.validate(nb)
            assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
            text = json.dumps(nb)
            assert "{solution-start}" not in text and "{exercise}" not in text


def test_student_edition_hides_every_solution(editions):
    folder, _ = editions["student"]
    for chapter in CHAPTERS:
        instructor = make_editions.make_edition(chapter, student=False)
        student = nbformat.read(next(folder.glob(f"*_{chapter.stem}.ipynb")), as_version=4)
        for label in _code_exercises(instructor):
            for cell in _cells(student, "solution", label):
                assert "raise NotImplementedError()" in cell.source
                assert "# YOUR CODE HERE" in cell.source   # nbgrader's stub, word for word
            solutions = "\n".join(c.source for c in _cells(instructor, "solution", label))
            stubs = "\n".join(c.source for c in _cells(student, "solution", label))
            assert solutions != stubs


def test_stub_keeps_signature_and_docstring():
    source = 'import numpy as np\n\ndef f(x, y=2):\n    """Doc."""\n    return np.sum(x) * y\n'
    stub = make_editions.stub_source(source, "ex-1")
    namespace = {}
    exec(stub, namespace)
    assert namespace["f"].__doc__ == "Doc."
    assert stub.endswith('    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n')
    with pytest.raises(NotImplementedError):
        namespace["f"]([1])


def test_stub_refuses_code_outside_functions():
    with pytest.raises(make_editions.EditionError, match="only hold imports and function"):
        make_editions.stub_source("answer = 42\n", "ex-2")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_instructor_edition_runs_and_every_self_check_passes(chapter):
    notebook = execute(make_editions.make_edition(chapter, student=False), cwd=chapter.parent)
    checks = [cell for cell in notebook.cells if "self-check" in cell.metadata.get("tags", [])]
    for cell in checks:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        assert "\N{HEAVY CHECK MARK}" in printed, f"{chapter.name}: self-check printed {printed!r}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_edition_fails_only_at_exercises(chapter):
    notebook = execute(make_editions.make_edition(chapter, student=True), cwd=chapter.parent,
                       allow_errors=True)
    failed = errors(notebook)
    for index, cell, output in failed:
        assert "self-check" in cell.metadata.get("tags", []), (
            f"{chapter.name}: cell {index}, not an exercise's self-check, raised "
            f"{output['ename']}: {output['evalue']}"
        )
        assert output["ename"] == "NotImplementedError", output["evalue"]
    failed_labels = {cell.metadata["fmlib"]["exercise"] for _, cell, _ in failed}
    assert failed_labels == set(_code_exercises(notebook)), "every code exercise waits for the student"


def _as_list(answers):
    return answers if isinstance(answers, list) else [answers]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_wrong_answers_fail_their_self_checks_with_their_own_diagnosis(chapter):
    """At least two typical wrong answers per code exercise, each told what it got wrong."""
    wrong, labels = _wrong_answers(chapter)
    missing = set(labels) - set(wrong)
    assert not missing, f"tests/course has no wrong answer for {sorted(missing)}"
    wrong = {label: _as_list(answers) for label, answers in wrong.items()}
    for label, answers in wrong.items():
        assert len(answers) >= 2, f"{label}: tests/course holds {len(answers)} wrong answer(s), not two"
        hints = [answer["hint"] for answer in answers]
        assert len(set(hints)) == len(hints), f"{label}: two wrong answers expect the same hint {hints}"
    rounds = max(len(answers) for answers in wrong.values())
    variants, tried_in = [], []
    for round_ in range(rounds):
        # a copy: the variants must not share cells
        notebook = copy.deepcopy(make_editions.make_edition(chapter, student=False))
        tried = {label: answers[round_] for label, answers in wrong.items() if round_ < len(answers)}
        for label, answer in tried.items():
            solution_cells = _cells(notebook, "solution", label)
            solution_cells[0].source = answer["code"]
            for extra in solution_cells[1:]:
                extra.source = ""
        variants.append(notebook)
        tried_in.append(tried)
    executed = execute_exercise_rounds(variants, cwd=chapter.parent)
    for round_, (notebook, tried) in enumerate(zip(executed, tried_in)):
        failures = {cell.metadata["fmlib"]["exercise"]: output for _, cell, output in errors(notebook)
                    if "self-check" in cell.metadata.get("tags", [])}
        others = [(i, o["ename"]) for i, cell, o in errors(notebook)
                  if "self-check" not in cell.metadata.get("tags", [])]
        assert not others, f"{chapter.name}: cells other than self-checks failed: {others}"
        for label, answer in tried.items():
            which = f"{label}, wrong answer {round_ + 1}"
            assert label in failures, f"{chapter.name}: {which} passed its self-check"
            output = failures[label]
            assert output["ename"] == "WrongAnswer", f"{which}: {output['ename']}: {output['evalue']}"
            assert answer["hint"] in output["evalue"], (
                f"{which}: its diagnosis {answer['hint']!r} is not in {output['evalue']!r}")
            for other in wrong[label]:
                if other is not answer:
                    assert other["hint"] not in output["evalue"], (
                        f"{which} got another mistake's diagnosis {other['hint']!r}")


def test_edition_text_holds_no_myst_and_no_placeholder(editions):
    """Every role resolved to text, every directive to plain Markdown, every number written in."""
    for edition in ("student", "instructor"):
        folder, _ = editions[edition]
        for chapter in CHAPTERS:
            notebook = nbformat.read(folder / make_editions.edition_filename(chapter), as_version=4)
            markdown = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
            leftovers = re.findall(r"\{[a-z][\w:-]*\}`[^`]*`|^\s*:{3,}.*$|^:\w+:.*$|\$\$[ \t]*\([^)\s]*\)[ \t]*$",
                                   markdown, flags=re.M)
            assert not leftovers, f"{edition}/{chapter.stem}: MyST left in the text: {leftovers[:5]}"
            for name in set(re.findall(r"\{eval\}`([^`]+)`", chapter.read_text())):
                assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", markdown), (
                    f"{edition}/{chapter.stem}: the placeholder {name!r} is in the text")
            assert "](bibliography.md)" not in markdown and ".md)" not in markdown, (
                f"{edition}/{chapter.stem}: a link to a page the edition does not carry")


def _site_numbers(html):
    """What the built site calls a chapter's parts: from its HTML page."""
    soup = BeautifulSoup(html, "html.parser")
    title_number = soup.select_one("h1 .section-number")
    exercises = {}
    for box in soup.select("div.exercise"):
        number = box.select_one(".admonition-title .caption-number").get_text().strip()
        exercises[box.get("id")] = number.removeprefix("Exercise ").strip()
    figures = []
    for figure in soup.select("figure"):
        number = figure.select_one(".caption-number")
        if number and number.get_text().startswith("Fig."):
            caption = " ".join(figure.select_one(".caption-text").get_text().split())
            # Sphinx's smart quotes: the edition keeps the source's plain ones
            caption = caption.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
            figures.append((figure.get("id"), number.get_text().removeprefix("Fig.").strip(), caption))
    equations = {}
    for eqno in soup.select("span.eqno"):
        link = eqno.select_one("a.headerlink")
        label = link["href"].removeprefix("#equation-") if link else None
        equations[label] = eqno.get_text().strip().strip("()").rstrip("#").strip("()")
    return (title_number.get_text().strip().rstrip(".") if title_number else ""), exercises, figures, equations


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_edition_numbers_match_the_built_site(editions, chapter):
    """Chapter, exercise, figure and equation numbers, and the self-checks' names, as on the site."""
    html = build_site()[0] / chapter.relative_to(ROOT).with_suffix(".html")
    chapter_number, exercises, figures, equations = _site_numbers(html.read_text())
    name = make_editions.edition_filename(chapter)
    assert name == f"{int(chapter_number or 0):02d}_{chapter.stem}.ipynb", (
        f"{name}: the site numbers the chapter {chapter_number!r}")
    for edition in ("student", "instructor"):
        folder, _ = editions[edition]
        notebook = nbformat.read(folder / name, as_version=4)
        markdown = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        in_edition = re.findall(r"^\*\*Exercise (\S+)\*\*", markdown, flags=re.M)
        assert in_edition == list(exercises.values()), (
            f"{edition}/{name}: exercises {in_edition}, the site's {list(exercises.values())}")
        captions = [(n, " ".join(c.split())) for n, c in re.findall(r"^\*\*Fig\. (\S+):\*\* (.*)$", markdown, flags=re.M)]
        assert captions == [(number, caption) for _, number, caption in figures], (
            f"{edition}/{name}: figures {captions}, the site's {figures}")
        for label, number in equations.items():
            if label and not re.fullmatch(r"[0-9a-f-]{36}", label):  # a labelled equation
                assert f"\\tag{{{number}}}" in markdown, f"{edition}/{name}: equation {label} is not ({number})"
        for cell in notebook.cells:
            if "self-check" in cell.metadata.get("tags", []):
                label = cell.metadata["fmlib"]["exercise"]
                named = set(re.findall(r'check_\w+\(\s*"Exercise ([^"]+)"', cell.source))
                assert named <= {exercises[label]}, (
                    f"{edition}/{name}: the self-check of {label} says Exercise {named}, "
                    f"the site Exercise {exercises[label]}")


def test_every_edition_notebook_has_the_books_matplotlibrc_beside_it(editions):
    """Figures in the editions are as sharp as on the site: the kernel reads matplotlibrc from its folder."""
    expected = (ROOT / "book" / "matplotlibrc").read_text()
    for edition in ("student", "instructor", "nbgrader"):
        folder, archive = editions[edition]
        notebooks = sorted(folder.rglob("*.ipynb"))
        assert notebooks, f"{edition}: no notebooks"
        for notebook in notebooks:
            rc = notebook.parent / "matplotlibrc"
            assert rc.is_file() and rc.read_text() == expected, f"{edition}: no matplotlibrc beside {notebook.name}"
        with zipfile.ZipFile(archive) as zf:
            assert any(name.endswith("/matplotlibrc") for name in zf.namelist()), f"{edition}: not in the zip"
