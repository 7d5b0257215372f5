"""Issue 10, kind 6: without Numba (not installed, or NUMBA_DISABLE_JIT=1) the
same kernel source runs as plain Python, at any data size, with one warning.

These are also the CI runs of the kernel tests in both modes: each runs
tests/test_kernels.py and a few estimator tests with pytest in a child
process, so ``make test`` covers them. The plain-Python kernels are slow, so
the data stay small.
"""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from subprocess_support import REPO, assert_ran_cleanly, run_python

from fmlib import FMClassifier, _kernels

# Put first in sys.meta_path, this makes `import numba` (and llvmlite) fail as
# if they were not installed, as in Pyodide.
_BLOCK_NUMBA = r'''
import importlib.abc, sys
class _NoNumba(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("numba", "llvmlite"):
            raise ImportError(f"No module named {name!r} (blocked for this test)")
        return None
sys.meta_path.insert(0, _NoNumba())
'''

_MODES = {
    "jit_disabled": dict(env={"NUMBA_DISABLE_JIT": "1"}, prelude=""),
    "numba_missing": dict(env={}, prelude=_BLOCK_NUMBA),
}

_CHILD = r'''
import inspect, json, sys, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import fmlib
    from fmlib import _kernels
    X = sp.csr_matrix(np.array({X}))
    y = np.array({y})
    model = fmlib.FMClassifier(n_factors=3, n_epochs=4, learning_rate=0.05, shuffle=False,
                               random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    # "any data size": more than PREFETCH_MIN_BYTES of factors, which is where
    # the compiled epoch prefetches (the Numba intrinsic cannot run as Python)
    n_wide = _kernels.PREFETCH_MIN_BYTES // 16 + 1
    X_wide = sp.csr_matrix((np.ones(4), ([0, 1, 2, 3], [0, 7, n_wide - 1, 3])), shape=(4, n_wide))
    wide = fmlib.FMRegressor(n_factors=2, n_epochs=1, random_state=0).fit(X_wide, [1.0, 0, 1, 0])
    # the epoch kernel asked to prefetch explicitly
    w, V = np.zeros(3), np.full((3, 2), 0.1)
    data, indptr, indices = np.array([1.0, 2.0]), np.array([0, 1, 2]), np.array([0, 2])
    _kernels.sgd_epoch(data, indptr, indices, np.array([1.0, 0.0]), np.ones(2),
                       np.array([1, 0]), 0.0, w, V, 0.1, 0.01, 0.01, True, _kernels.LOGISTIC, True)
print(json.dumps({{
    "jit": fmlib._jit.JIT_ENABLED,
    "plain_python": inspect.isfunction(_kernels.sgd_epoch) and inspect.isfunction(_kernels.predict),
    "numba_loaded": sorted(m for m in sys.modules if m.partition(".")[0] in ("numba", "llvmlite")),
    "jit_warnings": [str(w.message) for w in caught if issubclass(w.category, fmlib.JITWarning)],
    "coef": model.coef_.tolist(), "factors": model.factors_.tolist(),
    "intercept": model.intercept_, "proba": proba.tolist(),
    "wide_finite": bool(np.isfinite(wide.predict(X_wide)).all()),
}}))
'''


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 5))
    X[rng.random(X.shape) < 0.4] = 0.0
    return X, (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)


@pytest.mark.parametrize("mode", list(_MODES))
def test_plain_python_kernels_give_the_compiled_results(mode):
    X, y = _problem()
    setting = _MODES[mode]
    code = setting["prelude"] + _CHILD.format(X=X.tolist(), y=y.tolist())
    proc = run_python(code, env=setting["env"])
    assert_ran_cleanly(proc)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["jit"] is False and result["plain_python"]
    assert len(result["jit_warnings"]) == 1, result["jit_warnings"]
    expected_reason = "NUMBA_DISABLE_JIT=1" if mode == "jit_disabled" else "Numba cannot be imported"
    assert expected_reason in result["jit_warnings"][0]
    assert "plain Python" in result["jit_warnings"][0]
    if mode == "numba_missing":
        assert result["numba_loaded"] == []
    assert result["wide_finite"]
    # The same source, compiled here: the same model (up to the reassociation
    # that fastmath allows the compiled sums).
    compiled = FMClassifier(n_factors=3, n_epochs=4, learning_rate=0.05, shuffle=False,
                            random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(result["coef"], compiled.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result["factors"], compiled.factors_, rtol=1e-9, atol=1e-12)
    assert result["intercept"] == pytest.approx(compiled.intercept_, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(result["proba"], compiled.predict_proba(X), rtol=1e-9)


def test_the_wide_problem_of_the_child_is_one_the_compiled_kernels_prefetch():
    n_wide = _kernels.PREFETCH_MIN_BYTES // 16 + 1
    X_wide = sp.csr_matrix((np.ones(4), ([0, 1, 2, 3], [0, 7, n_wide - 1, 3])), shape=(4, n_wide))
    assert _kernels.wants_prefetch(X_wide, np.zeros((n_wide, 2)))


# The CI runs: the kernel tests and the estimator tests that compare against
# independent references, in both modes. -p no:cacheprovider: no .pytest_cache
# writes from the children.
_SUBSET = [
    "tests/test_kernels.py",
    "tests/test_estimators.py::test_zero_factors_reduce_to_lazily_regularised_linear_sgd",
    "tests/test_estimators.py::test_partial_fit_runs_exactly_one_epoch",
    "tests/test_estimators.py::test_sample_weight_scales_the_step",
    "tests/test_estimators.py::test_divergence_keeps_the_previous_model_exactly",
    "tests/test_estimators.py::test_non_finite_X_is_rejected",
]


@pytest.mark.parametrize("mode", list(_MODES))
def test_kernel_test_suite_passes_without_numba(mode):
    setting = _MODES[mode]
    code = setting["prelude"] + (
        "import sys, pytest\n"
        f"sys.exit(pytest.main({['-q', '-p', 'no:cacheprovider', '-W', 'ignore::UserWarning', *_SUBSET]!r}))\n"
    )
    proc = run_python(code, env=setting["env"], cwd=REPO, timeout=600)
    assert_ran_cleanly(proc)
    summary = proc.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary, summary


def test_the_plain_python_decorator_returns_the_function_itself():
    from fmlib import _jit

    def kernel(a):
        return a + 1

    assert _jit._python_njit(kernel) is kernel
    assert _jit._python_njit(cache=True, fastmath={"reassoc"})(kernel) is kernel
    assert _jit._python_prefetch(np.zeros(3), 10**12) is None  # a hint: never indexes
