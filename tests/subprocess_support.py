"""Run Python code in a fresh interpreter, for checks whose failure could be a
crash (a segfault must fail one test, not end the test run) or that need a
different environment (no Numba, no writable cache)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_python(code, *, env=None, unset=(), timeout=240, cwd=None, user_prefix=(),
               fmlib_dir=REPO):
    """Run ``code`` (dedented) in a new interpreter with ``fmlib_dir`` (this
    worktree, by default) first on the path; return the CompletedProcess.

    ``env`` adds or overrides variables, ``unset`` removes some, and
    ``user_prefix`` is a command to prepend (e.g. to run as another user).
    """
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(fmlib_dir)] + [p for p in full_env.get("PYTHONPATH", "").split(os.pathsep)
                            if p and Path(p).resolve() != REPO]
    )
    full_env.update(env or {})
    for name in unset:
        full_env.pop(name, None)
    return subprocess.run(
        [*user_prefix, sys.executable, "-c", textwrap.dedent(code)],
        env=full_env, capture_output=True, text=True, timeout=timeout,
        cwd=cwd or fmlib_dir,
    )


def assert_ran_cleanly(proc):
    """Fail with the child's output unless it exited with status 0 (a negative
    status is a signal: -11 is a segmentation fault)."""
    assert proc.returncode == 0, (
        f"child exited with status {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
        f"\n--- stderr\n{proc.stderr[-4000:]}"
    )
