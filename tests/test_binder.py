"""Binder: repo2docker's plan for the repository, and the reader's environment it builds.

repo2docker is run with ``--no-build`` (no Docker needed): it prints the
Dockerfile it would build. The environment itself is rebuilt here the way that
Dockerfile builds it: binder/requirements.txt installed into a fresh virtual
environment from a folder holding only that file, then the repository copied,
then binder/postBuild run in the copy. The chapters then run in that copy.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from book_support import BIN, ROOT, chapter_files

pytestmark = [pytest.mark.binder, pytest.mark.slow]

BINDER = ROOT / "binder"


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


def _line(dockerfile, pattern, what):
    """Start offset of the first Dockerfile line matching ``pattern``."""
    match = re.search(pattern, dockerfile, flags=re.M)
    assert match, f"the Dockerfile has no {what}:\n{dockerfile[-4000:]}"
    return match.start()


_COPY_REPOSITORY = r"^COPY (--chown=\S+ )?src/ \$\{REPO_DIR\}/$"
_INSTALL_REQUIREMENTS = r"^RUN \S*/pip install .*-r \"?binder/requirements\.txt\"?$"


def test_binder_configuration_lives_in_binder_folder():
    # with a binder/ folder repo2docker ignores top-level configuration files,
    # so one left there would mislead whoever edits it
    for name in ("postBuild", "runtime.txt", "environment.yml", "apt.txt", "start", "jupyter"):
        assert not (ROOT / name).exists(), f"{name} at the top level is ignored by repo2docker"
    for name in ("requirements.txt", "postBuild", "runtime.txt", "overrides.json"):
        assert (BINDER / name).is_file(), f"binder/{name} is missing"
    assert os.access(BINDER / "postBuild", os.X_OK), "binder/postBuild is not executable"


def test_binder_uses_the_projects_python(dockerfile):
    wanted = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert re.search(rf"python={re.escape(wanted)}\b|python{re.escape(wanted)}\b", dockerfile), (
        f"the Binder image does not use Python {wanted}"
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    minimum = pyproject["project"]["requires-python"].removeprefix(">=")
    assert wanted == minimum, "Binder should run the oldest Python the project supports"


def test_dependencies_are_installed_before_the_repository_is_copied(dockerfile):
    """Only binder/ is in the image when the dependencies are installed, so that
    layer is cached until binder/requirements.txt itself changes."""
    install = _line(dockerfile, _INSTALL_REQUIREMENTS, "install of binder/requirements.txt")
    copy_repository = _line(dockerfile, _COPY_REPOSITORY, "copy of the whole repository")
    assert install < copy_repository, "the dependencies are installed after the repository is copied"
    copied_before = re.findall(r"^COPY .*\bsrc/(\S*) ", dockerfile[:install], flags=re.M)
    assert copied_before == ["binder/requirements.txt"], (
        f"files of the repository copied before the install: {copied_before}"
    )


def test_fmlib_is_installed_once_by_post_build(dockerfile):
    from repo2docker.utils import is_local_pip_requirement

    # none by repo2docker itself ("pip install ." for a Python package, or a
    # local requirement, which would also move the install after the copy) ...
    assert not re.search(r"^RUN .*pip install[^\n]*(\s\.|-e|--editable)(\s|$)", dockerfile, flags=re.M)
    local = [line for line in (BINDER / "requirements.txt").read_text().splitlines()
             if is_local_pip_requirement(line)]
    assert not local, f"binder/requirements.txt has local requirements: {local}"
    # ... exactly one, editable, in postBuild, which runs after the copy
    post_build = (BINDER / "postBuild").read_text()
    commands = [line for line in post_build.splitlines() if not line.lstrip().startswith("#")]
    installs = [line for line in commands if "pip install" in line]
    assert len(installs) == 1, installs
    assert re.search(r"--no-deps\b", installs[0]) and re.search(r"(-e|--editable) \.$", installs[0])
    run_post_build = _line(dockerfile, r"^RUN \./binder/postBuild$", "run of binder/postBuild")
    assert _line(dockerfile, _COPY_REPOSITORY, "copy of the repository") < run_post_build


def test_post_build_warms_numba_from_book_folder():
    post_build = (BINDER / "postBuild").read_text()
    assert re.search(r"^\(cd book && python \.\./binder/warm_numba_cache\.py\)$", post_build, flags=re.M)
    assert (BINDER / "warm_numba_cache.py").is_file()


def test_binder_requirements_are_bounded_and_cover_fmlib():
    requirements = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            requirements[requirement.name.lower().replace("_", "-")] = requirement
    for name, requirement in requirements.items():
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier), (
            f"{name} has no upper bound in binder/requirements.txt"
        )
    # postBuild installs fmlib with --no-deps: its dependencies must be here
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for dependency in pyproject["project"]["dependencies"]:
        name = Requirement(dependency).name.lower().replace("_", "-")
        assert name in requirements, f"fmlib needs {name}, which binder/requirements.txt lacks"
    for needed in ("jupyterlab", "jupytext", "jupyterlab-myst", "ipykernel"):
        assert needed in requirements, f"binder/requirements.txt lacks {needed}"


def test_top_level_requirements_are_binders_plus_fmlib():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines == ["-r binder/requirements.txt", "-e ."]


def test_jupyterlab_opens_markdown_as_notebooks_with_every_cell():
    settings = json.loads((BINDER / "overrides.json").read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert viewers["myst"] == "Jupytext Notebook"
    # JupyterLab 4 leaves cells out of the page when they are off screen otherwise
    assert settings["@jupyterlab/notebook-extension:tracker"]["windowingMode"] == "none"


# --- the environment, built as the Dockerfile builds it -----------------------


def _reader_environ(venv):
    """The environment of a process in the Binder image: the venv first on PATH,
    nothing of this test run's Python, Jupyter or Numba settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "NUMBA_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def reader_env():
    """(python, repository copy, postBuild's output) of a fresh Binder-like environment."""
    # a folder of its own, not pytest's tmp_path: another pytest run on the
    # machine may remove old numbered folders while the chapters still run here
    with tempfile.TemporaryDirectory(prefix="fmlib-binder-") as folder:
        yield _build_reader_env(Path(folder))


def _build_reader_env(base):
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = _reader_environ(venv)
    # the dependencies, from a folder that holds binder/requirements.txt alone
    preassemble = base / "preassemble"
    (preassemble / "binder").mkdir(parents=True)
    shutil.copy(BINDER / "requirements.txt", preassemble / "binder" / "requirements.txt")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        cwd=preassemble, capture_output=True, text=True, timeout=1800, env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # the repository, as repo2docker's "COPY src/" (a fresh checkout: no caches)
    repository = base / "repo"
    shutil.copytree(ROOT, repository, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv*", "_build", "build", "dist", "__pycache__", "*.egg-info",
        ".jupyter_cache", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", "node_modules"))
    result = subprocess.run(["./binder/postBuild"], cwd=repository, capture_output=True,
                            text=True, timeout=1200, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"binder/postBuild failed:\n{output[-5000:]}"
    return python, repository, output


def _run(reader_env, code, cwd, extra_env=None, timeout=600):
    python, _, _ = reader_env
    env = _reader_environ(python.parent.parent)
    env.update(extra_env or {})
    return subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_reader_env_has_fmlib_once_editable_from_the_repository(reader_env):
    _, repository, _ = reader_env
    result = _run(reader_env, textwrap.dedent("""
        import json
        from importlib import metadata
        import fmlib
        found = [d for d in metadata.distributions() if d.metadata["Name"] == "fmlib"]
        print(json.dumps({"count": len(found), "file": fmlib.__file__,
                          "direct_url": json.loads(found[0].read_text("direct_url.json"))}))
    """), cwd=repository / "book")
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert found["count"] == 1, "fmlib is installed more than once"
    assert found["direct_url"]["dir_info"].get("editable") is True
    assert found["direct_url"]["url"] == repository.as_uri()
    assert Path(found["file"]) == repository / "fmlib" / "__init__.py"


def test_reader_env_has_the_jupyterlab_set_up(reader_env):
    python, _, _ = reader_env
    settings = python.parent.parent / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(settings.read_text()) == json.loads((BINDER / "overrides.json").read_text())
    result = subprocess.run([str(python.parent / "jupyter"), "labextension", "list"],
                            capture_output=True, text=True, env=_reader_environ(python.parent.parent))
    listing = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # no colours
    line = next((line for line in listing.splitlines() if "jupyterlab-jupytext" in line), "")
    assert re.search(r"\benabled\s+OK\b", line), f"jupytext is not enabled and loadable:\n{listing}"
    # jupyterlab-myst's metadata names an older @jupyter/ydoc than JupyterLab
    # 4.6 bundles, so the listing marks it X; that it loads and renders is
    # checked in the browser (tests/test_notebooks_browser.py)
    line = next((line for line in listing.splitlines() if "jupyterlab-myst" in line), "")
    assert re.search(r"\benabled\b", line), f"jupyterlab-myst is not enabled:\n{listing}"


def test_reader_env_has_no_book_tools(reader_env):
    for module in ("jupyter_book", "sphinx_exercise", "pytest", "repo2docker", "playwright"):
        result = _run(reader_env, f"import {module}", cwd=reader_env[1])
        assert result.returncode != 0, f"{module} is in the reader's environment"


_FIRST_FIT = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    import numpy as np, scipy.sparse as sp, fmlib
    from numba.core.registry import CPUDispatcher
    X = sp.random(300, 50, density=0.1, format="csr", random_state=0)
    y = np.arange(300) % 2
    imported = time.perf_counter()
    fmlib.FMClassifier(n_epochs=1, random_state=0).fit(X, y)
    done = time.perf_counter()
    # every compiled kernel the fit used, whichever solver the default is
    kernels = {id(v): v for m, module in list(sys.modules.items())
               if m.startswith("fmlib.") and module
               for v in vars(module).values() if isinstance(v, CPUDispatcher)}.values()
    print(json.dumps({
        "fit_s": done - imported, "import_and_fit_s": done - start,
        "compiled": sum(sum(k.stats.cache_misses.values()) for k in kernels),
        "loaded": sum(sum(k.stats.cache_hits.values()) for k in kernels),
    }))
    """
)


def test_warm_up_makes_the_first_fit_load_instead_of_compile(reader_env, tmp_path):
    """postBuild's warm-up is what a chapter's first fit uses (run from book/)."""
    _, repository, output = reader_env
    assert re.search(r"warm_numba_cache: .* [1-9]\d* signatures compiled", output), output[-3000:]
    assert f"cache in {repository / 'fmlib' / '__pycache__'}" in output
    warm = _run(reader_env, _FIRST_FIT, cwd=repository / "book")
    # the same first fit with an empty cache folder: it has to compile
    cold = _run(reader_env, _FIRST_FIT, cwd=repository / "book",
                extra_env={"NUMBA_CACHE_DIR": str(tmp_path / "empty-numba-cache")})
    assert warm.returncode == 0 and cold.returncode == 0, warm.stderr[-3000:] + cold.stderr[-3000:]
    warm, cold = json.loads(warm.stdout), json.loads(cold.stdout)
    print(f"first fit from book/ after postBuild: {warm}; with an empty cache: {cold}")
    assert warm["compiled"] == 0 and warm["loaded"] > 0, warm
    assert cold["compiled"] > 0, cold
    assert warm["fit_s"] < cold["fit_s"], (warm, cold)


_RUNNER = textwrap.dedent(
    """
    import sys
    import jupytext, nbformat
    from nbclient import NotebookClient

    path = sys.argv[1]
    notebook = jupytext.read(path)
    # after the chapter: which of fmlib's kernels did it compile rather than
    # load from the cache postBuild warmed? (their signatures, per kernel)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import json as _json, sys as _sys\\n"
        "from numba.core.registry import CPUDispatcher as _Dispatcher\\n"
        "print('COMPILED', _json.dumps({f'{m}.{a}': [str(s) for s, n in v.stats.cache_misses.items() if n]\\n"
        "    for m, mod in list(_sys.modules.items()) if m.startswith('fmlib.') and mod\\n"
        "    for a, v in vars(mod).items() if isinstance(v, _Dispatcher)}))"))
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    # a print may reach the notebook as several stream outputs
    print("".join(output.get("text", "") for output in notebook.cells[-1].outputs))
    """
)


@pytest.mark.parametrize("chapter", chapter_files(), ids=lambda p: p.stem)
def test_chapter_runs_in_the_binder_environment(reader_env, chapter):
    """Each chapter runs in a fresh kernel from its own folder in the copy, as
    Binder runs it, and compiles none of fmlib's kernels: the warm-up has."""
    python, repository, _ = reader_env
    copy = repository / chapter.relative_to(ROOT)
    result = subprocess.run([str(python), "-c", _RUNNER, str(copy)], cwd=copy.parent,
                            capture_output=True, text=True, timeout=900,
                            env=_reader_environ(python.parent.parent))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    report = re.search(r"^COMPILED (.*)$", result.stdout, flags=re.M)
    assert report, f"no report of compiled kernels:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    compiled = {name: signatures for name, signatures in json.loads(report.group(1)).items()
                if signatures}
    assert not compiled, (
        f"{chapter.name} compiled fmlib kernels that binder/postBuild did not warm: {compiled}"
    )
