"""Packaging and set-up hygiene: fmlib's metadata, the Makefile's checks of the
virtual environment, and chapters converted to .ipynb never landing in book/."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from book_support import BIN, ROOT, chapter_files, make_editions

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def test_license_is_an_spdx_expression():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    # setuptools reads an SPDX string in project.license from version 77 on
    setuptools = next(Requirement(r) for r in pyproject["build-system"]["requires"]
                      if Requirement(r).name == "setuptools")
    assert Version("76.99") not in setuptools.specifier and Version("77.0") in setuptools.specifier


@pytest.mark.slow
def test_building_fmlib_warns_about_nothing(tmp_path):
    """pip builds the wheel (in an isolated environment, as Binder's postBuild
    and a reader's install do) without a deprecation warning from setuptools."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "fmlib", source / "fmlib", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "--wheel-dir",
         str(tmp_path / "wheel"), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    warnings = [line for line in log.splitlines() if re.search(r"deprecat", line, flags=re.I)]
    assert not warnings, "\n".join(warnings)
    (wheel,) = (tmp_path / "wheel").glob("fmlib-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA")))
    assert "License-Expression: MIT" in metadata.decode()


# --- the Makefile notices a virtual environment it cannot use ---------------


def _make(folder, *args, timeout=60):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=folder,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def make_folder(tmp_path):
    """The Makefile with the files its environment depends on (empty stand-ins)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "binder").mkdir()
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml",
                 "binder/requirements.txt"):
        (tmp_path / name).touch()
    return tmp_path


def _fake_python(path, major, minor):
    """An executable that answers the Makefile's version question like an old Python."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {major} {minor}\n")
    path.chmod(0o755)


@needs_make
def test_make_stops_on_a_venv_whose_python_is_gone(make_folder):
    (make_folder / ".venv" / "bin").mkdir(parents=True)
    (make_folder / ".venv" / "bin" / "python").symlink_to("/nonexistent/python3.9")
    result = _make(make_folder, "test")
    assert result.returncode != 0
    assert "is broken" in result.stderr and "make clean-venv" in result.stderr, result.stderr
    assert "pytest" not in result.stdout, "make went on to run the tests"


@needs_make
def test_make_stops_on_a_venv_made_with_an_old_python(make_folder):
    _fake_python(make_folder / ".venv" / "bin" / "python", 3, 10)
    result = _make(make_folder, "book")
    assert result.returncode != 0
    assert "Python 3.10" in result.stderr and "3.11 or newer" in result.stderr, result.stderr
    assert "make clean-venv" in result.stderr, result.stderr


@needs_make
def test_make_will_not_create_a_venv_with_an_old_python(make_folder):
    _fake_python(make_folder / "old-python", 3, 9)
    result = _make(make_folder, "PYTHON=./old-python", "test")
    assert result.returncode != 0
    assert "Python 3.9" in result.stderr and "PYTHON=python3.11" in result.stderr, result.stderr
    assert not (make_folder / ".venv").exists()


@needs_make
def test_make_accepts_a_good_venv(make_folder):
    venv = make_folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".installed-stamp").touch()
    result = _make(make_folder, "check-venv")
    assert result.returncode == 0, result.stderr


# --- chapters as .ipynb: never in book/, and harmless if one is there -------


def test_readme_never_converts_a_chapter_into_book():
    readme = (ROOT / "README.md").read_text()
    conversions = re.findall(r"jupytext[^`\n]*--to ipynb[^`\n]*", readme)
    assert conversions, "the README no longer says how to get a classic notebook"
    for command in conversions:
        output = re.search(r"(?:--output|-o)[ =](\S+)", command)
        assert output and not output.group(1).startswith("book/"), (
            f"this README command writes next to the chapter, into book/: {command}"
        )


def test_book_notebooks_are_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "--quiet", "book/any_chapter.ipynb"], cwd=ROOT)
    assert result.returncode == 0, "git would offer to commit book/*.ipynb"


@needs_make
def test_make_notebooks_writes_every_chapter_outside_book(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "book", copy / "book", ignore=shutil.ignore_patterns("*.ipynb"))
    shutil.copy(ROOT / "Makefile", copy / "Makefile")
    venv = Path(sys.prefix)
    # the test's own environment stands in for .venv; "-o" keeps make from reinstalling it
    result = _make(copy, f"VENV={venv}", "-o", str(venv / ".installed-stamp"), "notebooks",
                   timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    written = sorted(p.stem for p in (copy / "_build" / "notebooks").glob("*.ipynb"))
    assert written == sorted(p.stem for p in chapter_files())
    for path in (copy / "_build" / "notebooks").glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))
    assert not list((copy / "book").glob("*.ipynb")), "make notebooks wrote into book/"


@pytest.mark.slow
def test_stray_notebook_in_book_does_not_break_the_strict_build(tmp_path):
    """A conversion left in book/ (the page's second source) must not fail `make book`.

    Built in a copy, with the project's _config.yml and a one-page table of
    contents, so that it takes seconds and leaves nothing in the repository.
    """
    copy = tmp_path / "site"
    (copy / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", copy / "_config.yml")
    for name in ("_ext", "_static"):
        shutil.copytree(ROOT / "book" / name, copy / "book" / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("references.bib", "bibliography.md"):
        shutil.copy(ROOT / "book" / name, copy / "book" / name)
    (copy / "_toc.yml").write_text("format: jb-book\nroot: book/bibliography\n")
    stray = copy / "book" / "bibliography.ipynb"
    result = subprocess.run([str(BIN / "jupytext"), "--to", "ipynb", "--output", str(stray),
                             str(copy / "book" / "bibliography.md")], capture_output=True, text=True)
    assert result.returncode == 0 and stray.is_file(), result.stderr
    result = subprocess.run(
        [str(BIN / "jupyter-book"), "build", str(copy), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=copy, timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the strict build failed with a stray notebook:\n{log[-5000:]}"
    assert "multiple files found" not in log
    assert (copy / "_build" / "html" / "book" / "bibliography.html").is_file()


def test_editions_carry_the_requirements_their_requirements_read(tmp_path):
    """The editions' requirements.txt reads binder/requirements.txt: it must be in the zip."""
    written = make_editions.write_editions(tmp_path)
    for edition, (folder, archive) in written.items():
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
        for line in (folder / "requirements.txt").read_text().splitlines():
            included = re.match(r"\s*(?:-r|--requirement)[ =]?\s*(\S+)", line)
            if included:
                assert (folder / included.group(1)).is_file(), f"{edition}: {line}"
                assert f"fm-book-{edition}/{included.group(1)}" in names, f"{edition} zip: {line}"
