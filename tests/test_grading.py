"""Grading with nbgrader: the source edition, through nbgrader's whole workflow.

In a temporary nbgrader course folder, two chapters' source editions become
assignments (``nbgrader generate_assignment``); three students submit (all
correct, the release untouched, and one whose self-checks were edited to
print a tick); ``nbgrader autograde``, a hand grade of the written answers,
``nbgrader export`` and ``nbgrader generate_feedback`` run as an instructor
runs them, and the exported scores are checked. Also: the student notebook
nbgrader generates is the project's student edition, cell for cell, and the
instructors' page has a rubric for every written exercise.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from book_support import BIN, ROOT, chapter_files, make_editions

pytestmark = pytest.mark.slow

NBGRADER = shutil.which("nbgrader", path=str(BIN)) or shutil.which("nbgrader")
# Two short chapters, with code and written exercises between them.
GRADED = ["intro", "linear_models"]
CHAPTERS = {path.stem: path for path in chapter_files()}
TICK = "\N{HEAVY CHECK MARK}"

needs_nbgrader = pytest.mark.skipif(NBGRADER is None, reason="nbgrader is not installed "
                                    "(pip install -r requirements-dev.txt)")


def grading_environment():
    """The environment an instructor grades in: the venv first on the PATH (nbgrader runs
    `alembic` from it), fmlib importable in the kernels, the data where the chapters find it
    (FMLIB_DATA_HOME passes through)."""
    return {**os.environ,
            "PATH": os.pathsep.join([str(Path(NBGRADER).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def nbgrader(course, *args):
    """Run an nbgrader command in the course folder; return its output, or fail with it."""
    result = subprocess.run([NBGRADER, *args], cwd=course, capture_output=True, text=True,
                            env=grading_environment())
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{output[-6000:]}"
    assert "[ERROR]" not in output, f"nbgrader {' '.join(args)} logged an error:\n{output[-6000:]}"
    return output


def exercise_cells(notebook, kind):
    """Cells of one kind ("solution", "self-check", "answer"), in order, with their exercise labels."""
    found = []
    for cell in notebook.cells:
        meta = cell.metadata.get("fmlib", {})
        if kind == "answer" and meta.get("answer"):
            found.append((meta["exercise"], cell))
        elif kind != "answer" and kind in cell.metadata.get("tags", []):
            found.append((meta["exercise"], cell))
    return found


class Chapter:
    """A chapter as an nbgrader assignment: its editions and its notebook's place."""

    def __init__(self, stem):
        path = CHAPTERS[stem]
        self.assignment = make_editions.assignment_name(path)
        self.filename = make_editions.edition_filename(path)
        self.source = make_editions.make_edition(path, student=False, nbgrader=True)
        self.student = make_editions.make_edition(path, student=True)
        self.instructor = make_editions.make_edition(path, student=False)
        self.checks = exercise_cells(self.source, "self-check")
        self.answers = exercise_cells(self.source, "answer")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded course: {stem: Chapter}, the course folder, and the exported grades by (assignment, student)."""
    if NBGRADER is None:
        pytest.skip("nbgrader is not installed")
    folder = tmp_path_factory.mktemp("course")
    (folder / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "fm-book-test"\nc.Execute.timeout = 600\n')
    graded = {stem: Chapter(stem) for stem in GRADED}
    for chapter in graded.values():
        source = folder / "source" / chapter.assignment / chapter.filename
        source.parent.mkdir(parents=True)
        nbformat.write(chapter.source, source)
        nbgrader(folder, "generate_assignment", chapter.assignment)
        chapter.release = nbformat.read(folder / "release" / chapter.assignment / chapter.filename,
                                        as_version=4)
        for student, notebook in submissions(chapter).items():
            # what `nbgrader collect` (or the LMS download) leaves: submitted/<student>/<assignment>/
            target = folder / "submitted" / student / chapter.assignment / chapter.filename
            target.parent.mkdir(parents=True)
            nbformat.write(notebook, target)
    # every assignment at once (nbgrader takes a glob): each command starts nbgrader only once
    nbgrader(folder, "autograde", "*")
    for chapter in graded.values():
        grade_written_answers(folder, chapter, "alice")
    nbgrader(folder, "generate_feedback", "*")
    nbgrader(folder, "export", "--to", "grades.csv")
    with open(folder / "grades.csv", newline="") as handle:
        grades = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    return graded, folder, grades


def submissions(chapter):
    """alice: the instructor's solutions and written answers; bob: the release untouched;
    eve: the first code exercise solved, the rest stubs, and every self-check edited to print a tick."""
    solutions = dict(_by_label(exercise_cells(chapter.instructor, "solution")))
    alice, bob, eve = (nbformat.from_dict(json.loads(json.dumps(chapter.release))) for _ in range(3))
    first = exercise_cells(chapter.release, "solution")[0][0]
    for label, cell in exercise_cells(alice, "solution"):
        cell.source = solutions[label].pop(0)
    for label, cell in exercise_cells(alice, "answer"):
        cell.source = f"My answer to {label}: a paragraph that the instructor reads."
    eve_solutions = dict(_by_label(exercise_cells(chapter.instructor, "solution")))
    for label, cell in exercise_cells(eve, "solution"):
        if label == first:
            cell.source = eve_solutions[label].pop(0)
    for label, cell in exercise_cells(eve, "self-check"):
        cell.source = f'print("{TICK} Exercise {label}: correct")'
    return {"alice": alice, "bob": bob, "eve": eve}


def _by_label(cells):
    grouped = {}
    for label, cell in cells:
        grouped.setdefault(label, []).append(cell.source)
    return grouped.items()


_GRADE_BY_HAND = """
import sys
from nbgrader.api import Gradebook

database, assignment, notebook, student, *grade_ids = sys.argv[1:]
with Gradebook(database) as gradebook:
    for grade_id in grade_ids:
        grade = gradebook.find_grade(grade_id, notebook, assignment, student)
        if not grade.needs_manual_grade:
            sys.exit(f"{grade_id}: the written answer does not wait for the instructor")
        grade.manual_score = grade.max_score
    gradebook.db.commit()
"""


def grade_written_answers(folder, chapter, student):
    """Give full marks to every written answer of ``student``, as an instructor does in the formgrader
    (with nbgrader's Gradebook API, in the grading environment)."""
    ids = [cell.metadata["nbgrader"]["grade_id"] for _, cell in chapter.answers]
    result = subprocess.run([sys.executable, "-c", _GRADE_BY_HAND, f"sqlite:///{folder / 'gradebook.db'}",
                             chapter.assignment, chapter.filename.removesuffix(".ipynb"), student, *ids],
                            cwd=folder, capture_output=True, text=True, env=grading_environment())
    assert result.returncode == 0, result.stdout + result.stderr


@needs_nbgrader
@pytest.mark.parametrize("stem", GRADED)
def test_the_generated_assignment_is_the_student_edition(course, stem):
    """nbgrader's release and the project's student edition: the same cells, the same stubs."""
    graded, _, _ = course
    chapter = graded[stem]
    release, student = chapter.release, chapter.student
    assert [c.cell_type for c in release.cells] == [c.cell_type for c in student.cells]
    for index, (ours, theirs) in enumerate(zip(student.cells, release.cells)):
        assert ours.source == theirs.source, f"{stem}: cell {index} differs from the student edition"
    stubs = [cell.source for _, cell in exercise_cells(release, "solution")]
    assert stubs and all("# YOUR CODE HERE\n" in s and s.rstrip().endswith("raise NotImplementedError()")
                         for s in stubs)
    assert chapter.answers, f"{stem} has written exercises: each needs an answer cell"
    for _, cell in exercise_cells(release, "answer"):
        assert cell.source == make_editions.TEXT_STUB
    text = json.dumps(release)
    assert "BEGIN SOLUTION" not in text and "Solution to Exercise" not in text


@needs_nbgrader
@pytest.mark.parametrize("stem", GRADED)
def test_autograde_scores_full_zero_and_the_tampered_one_as_if_unedited(course, stem):
    graded, _, grades = course
    chapter = graded[stem]
    check_points = make_editions.CHECK_POINTS * len(chapter.checks)
    written_points = make_editions.WRITTEN_POINTS * len(chapter.answers)
    first = chapter.checks[0][0]
    first_points = make_editions.CHECK_POINTS * sum(label == first for label, _ in chapter.checks)
    expected = {"alice": check_points + written_points, "bob": 0, "eve": first_points}
    scores = {student: float(grades[chapter.assignment, student]["score"]) for student in expected}
    assert scores == expected
    for student in expected:
        assert float(grades[chapter.assignment, student]["max_score"]) == check_points + written_points
    assert 0 < first_points < check_points, "eve's case needs a check she passes and one she does not"


@needs_nbgrader
@pytest.mark.parametrize("stem", GRADED)
def test_autograde_restores_the_locked_checks_of_a_tampered_submission(course, stem):
    graded, folder, _ = course
    chapter = graded[stem]
    autograded = nbformat.read(folder / "autograded" / "eve" / chapter.assignment / chapter.filename,
                               as_version=4)
    checks = [cell.source for _, cell in exercise_cells(autograded, "self-check")]
    assert checks == [cell.source for _, cell in chapter.checks]
    assert not any(cell.source.startswith("print(") for cell in autograded.cells
                   if "self-check" in cell.metadata.get("tags", []))


@needs_nbgrader
@pytest.mark.parametrize("stem", GRADED)
def test_feedback_is_written_for_every_submission(course, stem):
    graded, folder, _ = course
    chapter = graded[stem]
    for student in ("alice", "bob", "eve"):
        html = folder / "feedback" / student / chapter.assignment / chapter.filename.replace(".ipynb", ".html")
        assert html.is_file(), f"no feedback for {student}"
        assert "Score:" in html.read_text() or "score" in html.read_text().lower()


def test_the_source_edition_marks_every_exercise_for_nbgrader():
    """Metadata and markers where nbgrader needs them, and nowhere in the plain editions."""
    for stem in GRADED:
        path = CHAPTERS[stem]
        source = make_editions.make_edition(path, student=False, nbgrader=True)
        ids = [cell.metadata["nbgrader"]["grade_id"] for cell in source.cells if "nbgrader" in cell.metadata]
        assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[\w-]+", i) for i in ids)
        for label, cell in exercise_cells(source, "solution"):
            meta = cell.metadata["nbgrader"]
            assert meta["solution"] and not meta["grade"] and not meta["locked"]
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        for label, cell in exercise_cells(source, "self-check"):
            meta = cell.metadata["nbgrader"]
            assert meta["grade"] and meta["locked"] and not meta["solution"]
            assert meta["points"] == make_editions.CHECK_POINTS
        for label, cell in exercise_cells(source, "answer"):
            meta = cell.metadata["nbgrader"]
            assert cell.cell_type == "markdown" and meta["solution"] and meta["grade"]
            assert meta["points"] == make_editions.WRITTEN_POINTS
            assert cell.source.startswith("**Solution to Exercise")
        assert [label for label, _ in exercise_cells(source, "answer")] == make_editions.written_exercises(path)
        for student in (True, False):
            plain = json.dumps(make_editions.make_edition(path, student=student))
            assert '"nbgrader"' not in plain and "BEGIN SOLUTION" not in plain


def test_the_source_edition_gives_nbgrader_the_students_stub():
    """nbgrader's own ClearSolutions, run on marked cells of every form, writes the student edition's stub."""
    from nbgrader.preprocessors import ClearSolutions

    sources = [
        'import numpy as np\n\n\ndef f(x, y=2):\n    """Doc."""\n    # why\n    return np.sum(x) * y  # tail\n',
        "def one_line(x): return x + 1234567\n",
        'def doc_and_code(x): "Doc."; return x\n',
        "@staticmethod\ndef g(\n    a,\n    b=(1, 2),\n):  # a comment\n    def inner(z):\n        return z\n"
        "    return inner(a)\n\n\ndef h(x):\n\n    return x\n",
    ]
    for source in sources:
        marked = make_editions.marked_solution_source(source, "ex")
        cell = nbformat.v4.new_code_cell(marked, metadata={"nbgrader": {"solution": True, "grade": False,
                                                                        "grade_id": "a", "locked": False,
                                                                        "schema_version": 3}})
        notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {
            "name": "python3", "display_name": "Python 3", "language": "python"}})
        cleared, _ = ClearSolutions().preprocess(notebook, {})
        assert cleared.cells[0].source == make_editions.stub_source(source, "ex"), marked
        namespace = {}
        exec(compile(marked, "<marked>", "exec"), namespace)   # the source edition still runs


def test_a_solution_that_spells_the_markers_is_refused():
    with pytest.raises(make_editions.EditionError, match="would not give the student's stub"):
        make_editions.marked_solution_source('def f(x):\n    y = "END SOLUTION"\n    return y\n', "ex")


def test_every_written_exercise_has_a_rubric_on_the_instructors_page():
    """The rubric lists each written exercise once, by its label (a {ref}, so the site numbers it)."""
    page = (ROOT / "book" / "instructors.md").read_text()
    rubric = page.split("## Rubric for the written exercises", 1)
    assert len(rubric) == 2, "book/instructors.md has no section '## Rubric for the written exercises'"
    rubric = rubric[1].split("\n## ", 1)[0]
    written = [label for path in chapter_files() for label in make_editions.written_exercises(path)]
    assert written
    listed = re.findall(r"\{ref\}`([^`<>]+)`", rubric)
    missing = [label for label in written if label not in listed]
    assert not missing, f"book/instructors.md has no rubric for the written exercises {missing}"
    stale = sorted(set(listed) - set(written))
    assert not stale, f"the rubric names exercises that are not written exercises (any more): {stale}"
    for label in written:   # a rubric entry says what earns the points
        entry = rubric.split(f"{{ref}}`{label}`", 1)[1].split("{ref}`", 1)[0]
        assert len(entry.split()) >= 12, f"the rubric entry of {label} is too short to grade with"


def test_chapter_times_measures_a_chapter(tmp_path):
    """tools/chapter_times.py runs a chapter and reports seconds that cover what it ran."""
    sys.path.insert(0, str(ROOT / "tools"))
    import chapter_times

    chapter = tmp_path / "sleepy.md"
    chapter.write_text(CHAPTERS["intro"].read_text().split("\n---", 1)[0] + "\n---\n\n# Sleepy\n\n"
                       "```{code-cell} ipython3\nimport time\ntime.sleep(1.5)\n```\n")
    total, cells = chapter_times.run_seconds(chapter)
    assert 1.5 <= cells <= total < 120
