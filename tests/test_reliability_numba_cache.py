"""Issue 10, kind 5: fmlib imports and works where Numba cannot cache.

Numba picks the cache folder of a ``cache=True`` function at decoration time
(numba.core.caching): ``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` beside
the source, else the user-wide folder (``$XDG_CACHE_HOME`` or
``~/.cache``/numba); each is accepted only if it can be created and a
temporary file written in it, and when none is, the decorator raises
``RuntimeError: cannot cache function``, i.e. ``import fmlib`` fails. These
tests recreate that situation faithfully with a copy of the package:

- as an unprivileged user (the container-under-a-random-UID case), with the
  copy read-only and HOME not writable: we run as root here, and root writes
  through ``chmod a-w``, so the child drops to user ``nobody`` with setpriv;
- for any user: the package's ``__pycache__`` and ``$HOME`` are regular files,
  so no folder can be created under them, whoever runs.
"""

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from subprocess_support import REPO, assert_ran_cleanly, run_python

_CHILD = r'''
import json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import numpy as np
    import fmlib
    from fmlib import _kernels
    if {full_fit}:
        X = np.array([[1.0, 0, 2], [0, 1.0, 1], [1, 1, 0], [0, 0, 1]])
        model = fmlib.FMClassifier(n_factors=2, n_epochs=3, random_state=0).fit(X, [0, 1, 1, 0])
        output = model.predict_proba(X).tolist()
    else:
        out = np.empty(2)  # rows [1, 2] and [0, 3]
        _kernels.predict(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 3]), np.array([0, 1, 1]),
                         0.5, np.array([1.0, -1.0]), np.ones((2, 2)), out)
        output = out.tolist()
print(json.dumps({{
    "fmlib_file": fmlib.__file__,
    "jit": fmlib._jit.JIT_ENABLED,
    "jit_warnings": [str(w.message) for w in caught if issubclass(w.category, fmlib.JITWarning)],
    "output": output,
}}))
'''


def _child_code(full_fit):
    return _CHILD.format(full_fit=full_fit)


def _copy_package(root):
    """A copy of fmlib's sources (no caches) in ``root/site``."""
    site = root / "site"
    shutil.copytree(REPO / "fmlib", site / "fmlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    return site


def _make_read_only(path):
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)


def _result(proc):
    assert_ran_cleanly(proc)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_one_warning_naming_numba_cache_dir(result):
    assert result["jit"] is True
    assert len(result["jit_warnings"]) == 1, result["jit_warnings"]
    message = result["jit_warnings"][0]
    assert "NUMBA_CACHE_DIR" in message and "no writable folder" in message


_CACHE_VARIABLES = ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "NUMBA_DISABLE_JIT")


@pytest.fixture
def scratch():
    # world-readable (pytest's tmp_path is private to root), removed afterwards
    root = Path(tempfile.mkdtemp(prefix="fmlib-readonly-"))
    os.chmod(root, 0o755)
    yield root
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(root)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run the child as an unprivileged user")
def test_read_only_install_under_an_unprivileged_user_imports_and_fits(scratch):
    site = _copy_package(scratch)
    _make_read_only(scratch)
    proc = run_python(
        _child_code(full_fit=True), fmlib_dir=site, cwd=scratch,
        env={"HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1"}, unset=_CACHE_VARIABLES,
        user_prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    )
    result = _result(proc)
    assert result["fmlib_file"].startswith(str(site))
    _assert_one_warning_naming_numba_cache_dir(result)
    proba = result["output"]
    assert len(proba) == 4 and all(abs(sum(row) - 1) < 1e-12 for row in proba)
    # Nothing was written into the install.
    assert sorted(p.name for p in (site / "fmlib").iterdir()) == sorted(
        p.name for p in (REPO / "fmlib").glob("*.py"))


def test_no_creatable_cache_folder_for_any_user_imports_and_works(scratch):
    site = _copy_package(scratch)
    (site / "fmlib" / "__pycache__").write_text("a file where Numba wants a folder")
    home = scratch / "home-is-a-file"
    home.write_text("")
    proc = run_python(_child_code(full_fit=False), fmlib_dir=site, cwd=scratch,
                      env={"HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"},
                      unset=_CACHE_VARIABLES)
    result = _result(proc)
    assert result["fmlib_file"].startswith(str(site))
    _assert_one_warning_naming_numba_cache_dir(result)
    # row [1, 2]: 0.5 + 1 - 2 + <(1, 1), (1, 1)> * 1 * 2 = 3.5; row [0, 3]: 0.5 - 3
    assert result["output"] == [3.5, -2.5]


def test_a_writable_numba_cache_dir_is_used_without_warning(scratch):
    site = _copy_package(scratch)
    (site / "fmlib" / "__pycache__").write_text("not a folder")
    cache = scratch / "numba-cache"
    proc = run_python(_child_code(full_fit=False), fmlib_dir=site, cwd=scratch,
                      env={"NUMBA_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": "1"},
                      unset=("NUMBA_DISABLE_JIT",))
    result = _result(proc)
    assert result["jit_warnings"] == []
    assert result["output"] == [3.5, -2.5]
    assert list(cache.rglob("*.nbi")), "the compiled kernel was not cached"
