"""Binder: repo2docker's plan for the repository, and the chapters run from requirements.txt alone."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from book_support import BIN, ROOT, chapter_files

pytestmark = [pytest.mark.binder, pytest.mark.slow]


@pytest.fixture(scope="module")
def dockerfile():
    """The Dockerfile repo2docker would build Binder's image from (no Docker needed)."""
    result = subprocess.run(
        [str(BIN / "jupyter-repo2docker"), "--no-build", "--debug", "--no-run", str(ROOT)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-5000:]
    assert "FROM " in text, f"repo2docker printed no Dockerfile:\n{text[-5000:]}"
    return text


def test_binder_uses_the_projects_python(dockerfile):
    wanted = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert re.search(rf"python={re.escape(wanted)}\b|python{re.escape(wanted)}\b", dockerfile), (
        f"the Binder image does not use Python {wanted}"
    )


def test_binder_installs_the_requirements_and_fmlib(dockerfile):
    install = re.search(r"^RUN .*pip install .*-r \"?requirements\.txt", dockerfile, flags=re.M)
    assert install, "repo2docker does not install requirements.txt"
    # fmlib is installed by "-e ." inside requirements.txt, so the whole
    # repository must be in the image before the requirements are installed
    assert re.search(r"^-e \.$", (ROOT / "requirements.txt").read_text(), flags=re.M)
    copy_repo = re.search(r"^COPY \S* ?src/ \$\{REPO_DIR\}/", dockerfile, flags=re.M)
    assert copy_repo and copy_repo.start() < install.start(), (
        "requirements.txt is installed before the repository is copied, so '-e .' would fail"
    )


def test_binder_runs_post_build(dockerfile):
    assert re.search(r"^RUN \./postBuild", dockerfile, flags=re.M)
    post_build = (ROOT / "postBuild").read_text()
    assert "overrides.json" in post_build and os.access(ROOT / "postBuild", os.X_OK)


def test_markdown_opens_as_a_notebook_in_jupyterlab():
    import json

    settings = json.loads((ROOT / "jupyter" / "overrides.json").read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert viewers["myst"] == "Jupytext Notebook"


@pytest.fixture(scope="module")
def reader_env(tmp_path_factory):
    """A fresh virtual environment with requirements.txt alone: no book tools."""
    venv = tmp_path_factory.mktemp("binder") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return python


_RUNNER = textwrap.dedent(
    """
    import sys
    import jupytext
    from nbclient import NotebookClient

    path = sys.argv[1]
    notebook = jupytext.read(path)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    print("executed", path)
    """
)


def test_reader_env_has_no_book_tools(reader_env):
    result = subprocess.run([str(reader_env), "-c", "import jupyter_book"], capture_output=True)
    assert result.returncode != 0, "jupyter-book leaked into requirements.txt"


@pytest.mark.parametrize("chapter", chapter_files(), ids=lambda p: p.stem)
def test_chapter_runs_in_the_binder_environment(reader_env, chapter):
    """Each chapter runs in a fresh kernel from its own folder, as Jupyter runs it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    env["PATH"] = f"{reader_env.parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [str(reader_env), "-c", _RUNNER, str(chapter)],
        cwd=chapter.parent, capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
