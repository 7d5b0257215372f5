"""Issue 10, kind 1: the compiled code never sees a malformed sparse matrix.

scipy checks neither index bounds nor ``indptr`` when a matrix is built from
arrays (or loaded with ``load_npz``), and its own conversions index with
them. Every method that takes ``X`` must raise a ValueError naming ``X``
before any kernel or scipy routine touches such a matrix. The checks run in a
child process, so that a crash fails a test instead of ending the run.
"""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from subprocess_support import assert_ran_cleanly, run_python

from fmlib import FMClassifier, FMRegressor, _kernels

# Run in a child: builds each malformed matrix by assigning arrays after
# construction (scipy's constructor checks some things), then calls every
# method on it and reports what happened.
_CHILD = r'''
import json, warnings
import numpy as np, scipy.sparse as sp
from fmlib import FMClassifier, FMRegressor, _kernels

FORMATS = ["csr", "csr_array", "csc", "coo", "bsr"]

def good():
    X = sp.csr_matrix(np.array([[1., 0, 2, 0, 0], [0, 3, 0, 0, 4], [5, 0, 0, 6, 0], [0, 0, 7, 0, 8]]))
    return X

def make(case):
    X = good()
    if FORMAT in ("csr", "csr_array"):
        X = X if FORMAT == "csr" else sp.csr_array(X)
        if case == "index_too_large": X.indices[1] = 50_000_000
        elif case == "index_negative": X.indices[0] = -1
        elif case == "indptr_not_from_0": X.indptr = X.indptr + 1
        elif case == "indptr_decreasing": X.indptr[2] = X.indptr[1] - 1
        elif case == "indptr_past_nnz": X.indptr[-1] = 1000
        elif case == "indptr_short_of_nnz": X.indptr[-1] -= 1
        elif case == "indptr_too_short": X.indptr = X.indptr[:-1]
        elif case == "data_shorter": X.data = X.data[:-1]
        elif case == "float_indices": X.indices = X.indices.astype(float)
    elif FORMAT == "csc":
        X = X.tocsc()
        if case == "index_too_large": X.indices[1] = 1_000_000
        elif case == "index_negative": X.indices[0] = -3
        elif case == "indptr_not_from_0": X.indptr = X.indptr + 1
        elif case == "indptr_decreasing": X.indptr[2] = X.indptr[1] - 1
        elif case == "indptr_past_nnz": X.indptr[-1] = 1000
        elif case == "indptr_short_of_nnz": X.indptr[-1] -= 1
        elif case == "indptr_too_short": X.indptr = X.indptr[:-1]
        elif case == "data_shorter": X.data = X.data[:-1]
        elif case == "float_indices": X.indices = X.indices.astype(float)
    elif FORMAT == "coo":
        X = X.tocoo()
        if case == "index_too_large": X.col[1] = 1_000_000
        elif case == "index_negative": X.row[0] = -1
        elif case in ("indptr_not_from_0", "indptr_decreasing"): X.row[2] = 400
        elif case in ("indptr_past_nnz", "indptr_short_of_nnz", "indptr_too_short", "data_shorter"):
            X.data = X.data[:-1]
        elif case == "float_indices": X.coords = (X.coords[0], X.coords[1].astype(float))
    elif FORMAT == "bsr":
        X = X.tobsr(blocksize=(2, 5))
        if case == "index_too_large": X.indices[1] = 1_000_000
        elif case == "index_negative": X.indices[0] = -1
        elif case == "indptr_not_from_0": X.indptr = X.indptr + 1
        elif case == "indptr_decreasing": X.indptr[1] = 2; X.indptr[2] = 1
        elif case == "indptr_past_nnz": X.indptr[-1] = 1000
        elif case == "indptr_short_of_nnz": X.indptr[-1] -= 1
        elif case == "indptr_too_short": X.indptr = X.indptr[:-1]
        elif case == "data_shorter": X.data = X.data[:-1]
        elif case == "float_indices": X.indices = X.indices.astype(float)
    return X

CASES = ["index_too_large", "index_negative", "indptr_not_from_0", "indptr_decreasing",
         "indptr_past_nnz", "indptr_short_of_nnz", "indptr_too_short", "data_shorter",
         "float_indices"]

def forbidden(*args, **kwargs):
    raise AssertionError("a kernel ran on a malformed matrix")

rng = np.random.default_rng(0)
report = []
for FORMAT, cls in [(f, c) for f in FORMATS for c in (FMClassifier, FMRegressor)]:
    n_rows = make("none").shape[0]
    y = np.arange(n_rows) % 2
    fitted = cls(n_epochs=1, random_state=0).fit(np.abs(rng.normal(size=(n_rows, make("none").shape[1]))), y)
    saved = _kernels.sgd_epoch, _kernels.predict
    _kernels.sgd_epoch = _kernels.predict = forbidden
    methods = {
        "fit": lambda X: cls(n_epochs=1).fit(X, y),
        "partial_fit": lambda X: (cls(n_epochs=1).partial_fit(X, y, classes=[0, 1])
                                  if cls is FMClassifier else cls().partial_fit(X, y)),
        "partial_fit_fitted": lambda X: fitted.partial_fit(X, y),
        "predict": lambda X: fitted.predict(X),
        "score": lambda X: fitted.score(X, y),
    }
    if cls is FMClassifier:
        methods["predict_proba"] = lambda X: fitted.predict_proba(X)
        methods["decision_function"] = lambda X: fitted.decision_function(X)
    for case in CASES:
        for name, call in methods.items():
            X = make(case)
            before = [a.copy() for a in (X.data, getattr(X, "indices", X.data), getattr(X, "indptr", X.data))]
            try:
                call(X)
                outcome = "no error"
            except ValueError as exc:
                outcome = ("ValueError" if str(exc).startswith("X is a malformed sparse matrix")
                           else "another ValueError: " + str(exc))
            except BaseException as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            after = [X.data, getattr(X, "indices", X.data), getattr(X, "indptr", X.data)]
            unchanged = all(np.array_equal(a, b) for a, b in zip(before, after))
            report.append([FORMAT, cls.__name__, case, name, outcome, unchanged])
    _kernels.sgd_epoch, _kernels.predict = saved
print(json.dumps(report))
'''


def test_malformed_structures_raise_value_error_before_any_kernel():
    # 5 formats x 9 defects x 12 (estimator, method) pairs, in one child
    proc = run_python(_CHILD)
    assert_ran_cleanly(proc)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report) == 5 * 9 * 12
    wrong = [r for r in report if r[4] != "ValueError"]
    assert not wrong, wrong
    mutated = [r for r in report if not r[5]]
    assert not mutated, mutated


_LIL_DIA_CHILD = r'''
import json
import numpy as np, scipy.sparse as sp
from fmlib import FMRegressor, _kernels

def forbidden(*args, **kwargs):
    raise AssertionError("a kernel ran on a malformed matrix")

fitted = FMRegressor(n_epochs=1, random_state=0).fit(np.eye(3), [1.0, 2.0, 3.0])
_kernels.sgd_epoch = _kernels.predict = forbidden

def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = item
    return out

def lil(case):
    X = sp.lil_matrix(np.eye(3))
    if case == "more_rows_than_shape":  # heap corruption in scipy's tocsr
        X.rows, X.data = object_array([[0] * 100] * 5), object_array([[1.0] * 100] * 5)
    elif case == "fewer_rows_than_shape":
        X.rows = object_array([[0]])
    elif case == "longer_values_than_indices":
        X.data[0] = [1.0] * 1000
    elif case == "column_out_of_range":
        X.rows[1] = [10**9]
    elif case == "negative_column":
        X.rows[2] = [-1]
    return X

def dia(case):
    X = sp.dia_matrix(np.eye(3) + np.eye(3, k=1))
    if case == "more_offsets_than_diagonals":
        X.offsets = np.array([0, 1, 2])
    elif case == "repeated_offsets":
        X.offsets = np.array([1, 1])
    elif case == "float_offsets":
        X.offsets = X.offsets.astype(float)
    return X

report = []
cases = [(lil, c) for c in ("more_rows_than_shape", "fewer_rows_than_shape",
                            "longer_values_than_indices", "column_out_of_range",
                            "negative_column")]
cases += [(dia, c) for c in ("more_offsets_than_diagonals", "repeated_offsets", "float_offsets")]
for make, case in cases:
    for name, call in (("fit", lambda X: FMRegressor(n_epochs=1).fit(X, [1.0, 2.0, 3.0])),
                       ("predict", lambda X: fitted.predict(X))):
        try:
            call(make(case))
            outcome = "no error"
        except ValueError as exc:
            outcome = ("ValueError" if str(exc).startswith("X is a malformed sparse matrix")
                       else "another ValueError: " + str(exc))
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        report.append([make.__name__, case, name, outcome])
print(json.dumps(report))
'''


def test_malformed_lil_and_dia_matrices_raise_before_scipy_converts_them():
    proc = run_python(_LIL_DIA_CHILD)
    assert_ran_cleanly(proc)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report) == 16
    wrong = [r for r in report if r[3] != "ValueError"]
    assert not wrong, wrong


def test_the_issue_reproducer_is_a_clear_error_in_process():
    # The exact reproducer of the issue; safe in-process because validation
    # now runs first (the subprocess tests above would catch a regression).
    X = sp.csr_matrix((np.ones(2), np.array([0, 50_000_000]), np.array([0, 1, 2])), shape=(2, 5))
    with pytest.raises(ValueError, match=r"X is a malformed sparse matrix.*column 50000000.*"
                                         r"5 columns.*Rebuild"):
        FMClassifier(n_epochs=1).fit(X, [0, 1])


@pytest.mark.parametrize("fmt", ["lil", "dok", "dia", "csr", "csc", "coo", "bsr"])
def test_well_formed_matrices_of_every_format_give_the_same_model(fmt):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(30, 6))
    dense[rng.random(dense.shape) < 0.5] = 0.0
    y = (dense[:, 0] > 0).astype(int)
    reference = FMClassifier(n_epochs=2, random_state=0).fit(dense, y)
    model = FMClassifier(n_epochs=2, random_state=0).fit(sp.csr_matrix(dense).asformat(fmt), y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.factors_, reference.factors_)
    np.testing.assert_array_equal(model.predict_proba(sp.csr_matrix(dense).asformat(fmt)),
                                  reference.predict_proba(dense))


def test_unsorted_and_duplicate_indices_are_accepted_without_touching_the_input():
    # Well formed, just not canonical: the duplicates are summed on a copy.
    data, indices, indptr = np.array([1.0, 2.0, 0.5]), np.array([3, 1, 3]), np.array([0, 3, 3])
    X = sp.csr_matrix((data, indices, indptr), shape=(2, 4))
    X.has_sorted_indices = False
    model = FMRegressor(n_epochs=1, random_state=0).fit(X, [1.0, 0.0])
    canonical = sp.csr_matrix(np.array([[0, 2.0, 0, 1.5], [0, 0, 0, 0]]))
    same = FMRegressor(n_epochs=1, random_state=0).fit(canonical, [1.0, 0.0])
    np.testing.assert_array_equal(model.factors_, same.factors_)
    np.testing.assert_array_equal(X.indices, [3, 1, 3])
    np.testing.assert_array_equal(X.data, [1.0, 2.0, 0.5])


def test_one_dimensional_sparse_array_is_rejected():
    with pytest.raises(ValueError, match="X must be 2-D"):
        FMRegressor().fit(sp.coo_array(np.ones(3)), [1.0, 2.0, 3.0])


def test_check_kernel_arrays_rejects_a_structure_broken_after_validation():
    # The last line of defence runs before every kernel call, whatever built X.
    from fmlib import _validation

    X = sp.csr_matrix(np.eye(3))
    X.indices[2] = 7
    with pytest.raises(ValueError, match="malformed"):
        _validation.check_kernel_arrays(X, 0.0, np.zeros(3), np.zeros((3, 2)))
    assert _kernels.predict is not None


# Property test: random index arrays, mostly malformed. The oracle is written
# independently of fmlib._validation, as plain loops over the definition.
_HYPOTHESIS_CHILD = r'''
import numpy as np, scipy.sparse as sp
from hypothesis import given, settings, strategies as st, HealthCheck
from fmlib import FMClassifier, _kernels

N_COLS = 4
fitted = FMClassifier(n_epochs=1, random_state=0).fit(np.eye(N_COLS), [0, 1, 0, 1])

def well_formed(n_rows, n_cols, data, indices, indptr):
    if len(indptr) != n_rows + 1 or indptr[0] != 0:
        return False
    for a, b in zip(indptr[:-1], indptr[1:]):
        if b < a:
            return False
    if indptr[-1] != len(indices) or len(data) != len(indices):
        return False
    return all(0 <= j < n_cols for j in indices)

calls = {"kernel": 0}
real_predict, real_epoch = _kernels.predict, _kernels.sgd_epoch

@settings(max_examples={n}, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n_rows=st.integers(2, 5),
    n_data=st.integers(0, 8),
    extra=st.integers(-2, 2),
    indices=st.lists(st.integers(-3, 6), min_size=0, max_size=10),
    indptr=st.lists(st.integers(-2, 12), min_size=0, max_size=8),
    index_dtype=st.sampled_from([np.int32, np.int64]),
)
def check(n_rows, n_data, extra, indices, indptr, index_dtype):
    data = np.arange(1.0, n_data + 1)
    indices = np.array(indices, dtype=index_dtype)
    indptr = np.array(indptr, dtype=index_dtype)
    X = sp.csr_matrix((n_rows, N_COLS))
    X.data, X.indices, X.indptr = data, indices, indptr
    ok = well_formed(n_rows, N_COLS, data.tolist(), indices.tolist(), indptr.tolist())
    y = np.arange(n_rows) % 2
    for name, call in (("fit", lambda: FMClassifier(n_epochs=1, random_state=0).fit(X, y)),
                       ("partial_fit", lambda: FMClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])),
                       ("predict", lambda: fitted.predict(X))):
        try:
            call()
        except ValueError as exc:
            assert not ok or "malformed" not in str(exc), (name, str(exc))
            if not ok:
                assert "malformed" in str(exc) or "2-D" in str(exc), (name, str(exc))
        else:
            assert ok, (name, "accepted a malformed matrix", data, indices, indptr, n_rows)

check()
print("done")
'''


def test_random_malformed_csr_structures_raise_and_never_crash():
    proc = run_python(_HYPOTHESIS_CHILD.replace("{n}", "150"))
    assert_ran_cleanly(proc)
    assert proc.stdout.strip().endswith("done")


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr"])
@pytest.mark.parametrize("index_dtype", [np.int8, np.uint16, np.uint64])
def test_unusual_integer_index_types_are_accepted_on_a_copy(fmt, index_dtype):
    dense = np.eye(4) + np.eye(4, k=1)
    y = [1.0, 2.0, 3.0, 4.0]
    reference = FMRegressor(n_epochs=1, learning_rate=0.01, random_state=0).fit(dense, y)
    X = sp.csr_matrix(dense).asformat(fmt)
    if fmt == "coo":
        X.coords = tuple(c.astype(index_dtype) for c in X.coords)
    else:
        X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    model = FMRegressor(n_epochs=1, learning_rate=0.01, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.factors_, reference.factors_)
    np.testing.assert_array_equal(model.predict(X), reference.predict(dense))
    kept = X.coords[0].dtype if fmt == "coo" else X.indices.dtype
    assert kept == index_dtype  # the caller's matrix keeps its own arrays
