"""The compiled kernels in fmlib._kernels against the NumPy reference forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fmlib import _jit, _kernels
from fmlib.reference import (
    fm_gradient,
    fm_predict,
    fm_predict_naive,
    logistic_loss,
    logistic_loss_grad,
    squared_loss,
    squared_loss_grad,
)

LOSSES = {
    _kernels.SQUARED: (squared_loss, squared_loss_grad),
    _kernels.LOGISTIC: (logistic_loss, logistic_loss_grad),
}
LOSS_IDS = {_kernels.SQUARED: "squared", _kernels.LOGISTIC: "logistic"}


def _csr(X, index_dtype=np.int32):
    """Canonical CSR (sorted, unique indices), as the estimators pass it."""
    A = sp.csr_matrix(X)
    A.sum_duplicates()
    assert A.has_canonical_format
    return A.data.astype(np.float64), A.indptr.astype(index_dtype), A.indices.astype(index_dtype)


def _random_problem(seed, n_rows=6, n_features=8, n_factors=3, density=0.5, empty_rows=()):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    X[rng.random(X.shape) >= density] = 0.0
    for i in empty_rows:
        X[i] = 0.0
    w0 = float(rng.normal())
    w = rng.normal(size=n_features)
    V = np.ascontiguousarray(rng.normal(scale=0.5, size=(n_features, n_factors)))
    return X, w0, w, V


def _kernel_predict(X, w0, w, V, index_dtype=np.int32):
    data, indptr, indices = _csr(X, index_dtype)
    out = np.full(X.shape[0], np.nan)
    _kernels.predict(data, indptr, indices, w0, w, V, out)
    return out


# ---------------------------------------------------------------- predict


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(1, 6),
    n_features=st.integers(1, 8),
    n_factors=st.integers(1, 5),
    density=st.sampled_from([0.0, 0.15, 0.5, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_predict_equals_reference_forms(n_rows, n_features, n_factors, density, seed):
    X, w0, w, V = _random_problem(seed, n_rows, n_features, n_factors, density)
    got = _kernel_predict(X, w0, w, V)
    np.testing.assert_allclose(got, fm_predict(X, w0, w, V), rtol=1e-10, atol=1e-10)
    naive = np.array([fm_predict_naive(x, w0, w, V) for x in X])
    np.testing.assert_allclose(got, naive, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_predict_with_empty_rows_and_both_index_dtypes(index_dtype):
    X, w0, w, V = _random_problem(3, n_rows=7, n_features=9, empty_rows=(0, 3, 6))
    got = _kernel_predict(X, w0, w, V, index_dtype)
    # An empty row predicts the intercept exactly.
    assert got[0] == got[3] == got[6] == w0
    np.testing.assert_allclose(got, fm_predict(sp.csr_array(X), w0, w, V), rtol=1e-12, atol=1e-12)


def _predict_in_slices(X, w0, w, V, prefetch, index_dtype=np.int32):
    """The prediction kernel with the factors forced into slices of
    ``SLICE_WIDTH`` columns, whatever their size."""
    data, indptr, indices = _csr(X, index_dtype)
    width = _kernels.SLICE_WIDTH
    n_slices = -(-V.shape[1] // width)
    slices = np.zeros((n_slices, V.shape[0], width))
    for s in range(n_slices):
        part = V[:, s * width:(s + 1) * width]
        slices[s, :, :part.shape[1]] = part
    out = np.full(X.shape[0], np.nan)
    _kernels.predict_rows(data, indptr, indices, w0, w, slices, out, 0, X.shape[0], prefetch)
    return out


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 30),
    n_features=st.integers(1, 12),
    n_factors=st.integers(1, 40),
    density=st.sampled_from([0.0, 0.15, 0.5, 1.0]),
    prefetch=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_prediction_in_factor_slices_equals_reference_forms(n_rows, n_features, n_factors,
                                                            density, prefetch, seed):
    # one slice (k <= 16), several, and a last one padded with zero columns
    X, w0, w, V = _random_problem(seed, n_rows, n_features, n_factors, density,
                                  empty_rows=(0,))
    got = _predict_in_slices(X, w0, w, V, prefetch)
    assert got[0] == w0  # an empty row is the intercept, in every slice pass
    np.testing.assert_allclose(got, fm_predict(X, w0, w, V), rtol=1e-10, atol=1e-10)
    naive = np.array([fm_predict_naive(x, w0, w, V) for x in X])
    np.testing.assert_allclose(got, naive, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_factors", [1, 5, 10, 33])
def test_one_slice_prediction_is_predict_row_bit_for_bit(n_factors):
    # what decision_function returns for a model that fits in cache is, to the
    # last bit, the prediction SGD computes for the same row
    X, w0, w, V = _random_problem(4, n_rows=40, n_features=30, n_factors=n_factors,
                                  empty_rows=(3,))
    data, indptr, indices = _csr(X)
    out = np.empty(X.shape[0])
    _kernels.predict_rows(data, indptr, indices, w0, w, V.reshape(1, *V.shape), out, 0,
                          X.shape[0], True)
    sums = np.empty(n_factors)
    rows = [_kernels.predict_row(data, indices, indptr[i], indptr[i + 1], w0, w, V, sums)
            for i in range(X.shape[0])]
    np.testing.assert_array_equal(out, rows)


def test_factor_slices_only_for_large_tables_of_32_factors_or_more(monkeypatch):
    rng = np.random.default_rng(0)
    small = rng.normal(size=(50, 40))
    one = _kernels.factor_slices(small)  # far below the cache threshold
    assert one.shape == (1, 50, 40) and np.shares_memory(one, small)
    monkeypatch.setattr(_kernels, "PREFETCH_MIN_BYTES", 0)
    narrow = rng.normal(size=(50, 31))
    assert _kernels.factor_slices(narrow).shape == (1, 50, 31)
    before = small.copy()
    sliced = _kernels.factor_slices(small)
    assert sliced.shape == (3, 50, 16) and not np.shares_memory(sliced, small)
    assert sliced.ctypes.data % 64 == 0 and sliced.flags.c_contiguous
    np.testing.assert_array_equal(small, before)  # V itself is left alone
    np.testing.assert_array_equal(np.concatenate(list(sliced), axis=1)[:, :40], small)
    assert not sliced[2, :, 8:].any()  # the padding is zeros


# ---------------------------------------------------------------- one SGD step


def _one_step(X, y, sample_weight, row, w0, w, V, lr, reg_linear, reg_factors,
              fit_intercept, loss_kind):
    data, indptr, indices = _csr(X)
    w_new, V_new = w.copy(), V.copy()
    w0_new, weighted_loss, n_done = _kernels.sgd_epoch(
        data, indptr, indices, y, sample_weight, np.array([row], dtype=np.int64),
        w0, w_new, V_new, lr, reg_linear, reg_factors, fit_intercept, loss_kind,
    )
    return w0_new, w_new, V_new, weighted_loss, n_done


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC], ids=LOSS_IDS.get)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weight", [1.0, 2.5, 0.0])
def test_one_sgd_step_equals_hand_computed_step(loss_kind, fit_intercept, weight):
    X, w0, w, V = _random_problem(11, n_rows=4, n_features=10, n_factors=4, density=0.5)
    row = 2
    if loss_kind == _kernels.LOGISTIC:
        y = np.array([0.0, 1.0, 1.0, 0.0])
    else:
        y = np.array([0.3, -1.2, 2.0, 0.7])
    sample_weight = np.array([1.0, 1.0, weight, 1.0])
    lr, reg_linear, reg_factors = 0.05, 0.03, 0.07

    w0_new, w_new, V_new, weighted_loss, n_done = _one_step(
        X, y, sample_weight, row, w0, w, V, lr, reg_linear, reg_factors, fit_intercept, loss_kind
    )

    loss_fn, grad_fn = LOSSES[loss_kind]
    x = X[row]
    y_hat = fm_predict_naive(x, w0, w, V)
    slope = weight * grad_fn(y_hat, y[row])
    _, d_w, d_V = fm_gradient(x, w0, w, V)
    present = x != 0
    assert present.sum() >= 2  # the row exercises interactions

    assert n_done == 1
    assert weighted_loss == pytest.approx(weight * loss_fn(y_hat, y[row]), rel=1e-12, abs=1e-15)
    if fit_intercept:
        assert w0_new == pytest.approx(w0 - lr * slope, rel=1e-12, abs=1e-15)
    else:
        assert w0_new == w0
    expected_w = w - lr * (slope * d_w + reg_linear * w)
    expected_V = V - lr * (slope * d_V + reg_factors * V)
    np.testing.assert_allclose(w_new[present], expected_w[present], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(V_new[present], expected_V[present], rtol=1e-12, atol=1e-14)
    # Lazy regularisation: features absent from the sample are not touched.
    np.testing.assert_array_equal(w_new[~present], w[~present])
    np.testing.assert_array_equal(V_new[~present], V[~present])


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC], ids=LOSS_IDS.get)
def test_sample_weight_scales_the_loss_step(loss_kind):
    X, w0, w, V = _random_problem(5, n_rows=3, n_features=6, density=0.7)
    y = np.array([1.0, 0.0, 1.0])
    steps = {}
    for weight in (1.0, 3.0):
        sw = np.full(3, weight)
        w0_new, w_new, V_new, _, _ = _one_step(X, y, sw, 1, w0, w, V, 0.1, 0.0, 0.0, True,
                                               loss_kind)
        steps[weight] = (w0_new - w0, w_new - w, V_new - V)
    assert np.any(steps[1.0][1] != 0)
    for a, b in zip(steps[1.0], steps[3.0]):
        np.testing.assert_allclose(b, 3.0 * np.asarray(a), rtol=1e-12, atol=1e-15)


def _sgd_epoch_reference(X, y, sample_weight, order, w0, w, V, lr, reg_linear, reg_factors,
                         fit_intercept, loss_kind):
    """Plain NumPy SGD over the samples in ``order``, from the reference gradients."""
    loss_fn, grad_fn = LOSSES[loss_kind]
    w, V = w.copy(), V.copy()
    total = 0.0
    for i in order:
        x = X[i]
        present = x != 0
        y_hat = fm_predict_naive(x, w0, w, V)
        total += sample_weight[i] * loss_fn(y_hat, y[i])
        slope = sample_weight[i] * grad_fn(y_hat, y[i])
        _, d_w, d_V = fm_gradient(x, w0, w, V)
        if fit_intercept:
            w0 = w0 - lr * slope
        w[present] -= lr * (slope * d_w[present] + reg_linear * w[present])
        V[present] -= lr * (slope * d_V[present] + reg_factors * V[present])
    return w0, w, V, total


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC], ids=LOSS_IDS.get)
def test_full_epoch_equals_sequential_reference_steps(loss_kind):
    X, w0, w, V = _random_problem(7, n_rows=12, n_features=9, n_factors=3, density=0.4,
                                  empty_rows=(4,))
    rng = np.random.default_rng(0)
    if loss_kind == _kernels.LOGISTIC:
        y = rng.integers(0, 2, 12).astype(float)
    else:
        y = rng.normal(size=12)
    sw = rng.uniform(0.5, 2.0, 12)
    order = rng.permutation(np.r_[np.arange(12), [3, 3, 8]])  # repeats are allowed
    args = (0.05, 0.02, 0.04, True, loss_kind)
    data, indptr, indices = _csr(X)
    w_k, V_k = w.copy(), V.copy()
    w0_k, total_k, n_done = _kernels.sgd_epoch(data, indptr, indices, y, sw, order,
                                               w0, w_k, V_k, *args)
    w0_r, w_r, V_r, total_r = _sgd_epoch_reference(X, y, sw, order, w0, w, V, *args)
    assert n_done == len(order)
    assert w0_k == pytest.approx(w0_r, rel=1e-10)
    assert total_k == pytest.approx(total_r, rel=1e-10)
    np.testing.assert_allclose(w_k, w_r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(V_k, V_r, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- gradient by finite differences


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC], ids=LOSS_IDS.get)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_step_is_the_finite_difference_gradient_of_the_sample_loss(loss_kind, seed):
    X, w0, w, V = _random_problem(seed, n_rows=1, n_features=6, n_factors=3, density=0.8)
    x = X[0]
    y = np.array([1.0 if loss_kind == _kernels.LOGISTIC else 0.7])
    loss_fn = LOSSES[loss_kind][0]
    lr = 1e-7
    w0_new, w_new, V_new, _, _ = _one_step(X, y, np.ones(1), 0, w0, w, V, lr, 0.0, 0.0, True,
                                           loss_kind)
    g_w0 = (w0_new - w0) / -lr
    g_w = (w_new - w) / -lr
    g_V = (V_new - V) / -lr

    def objective(w0_, w_, V_):
        return loss_fn(fm_predict_naive(x, w0_, w_, V_), y[0])

    h = 1e-6
    tol = dict(rel=1e-5, abs=1e-6)
    fd = (objective(w0 + h, w, V) - objective(w0 - h, w, V)) / (2 * h)
    assert g_w0 == pytest.approx(fd, **tol)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        fd = (objective(w0, w + e, V) - objective(w0, w - e, V)) / (2 * h)
        assert g_w[i] == pytest.approx(fd, **tol), f"w[{i}]"
        for f in range(V.shape[1]):
            E = np.zeros_like(V)
            E[i, f] = h
            fd = (objective(w0, w, V + E) - objective(w0, w, V - E)) / (2 * h)
            assert g_V[i, f] == pytest.approx(fd, **tol), f"V[{i}, {f}]"
    assert np.any(g_V != 0)


# ---------------------------------------------------------------- divergence


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC], ids=LOSS_IDS.get)
def test_non_finite_prediction_stops_the_epoch_before_updating(loss_kind):
    X, w0, w, V = _random_problem(4, n_rows=3, n_features=5, density=1.0)
    X[1] *= 1e200  # its pairwise term overflows: inf - inf = NaN
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(fm_predict(X[1], w0, w, V))
    data, indptr, indices = _csr(X)
    y = np.array([1.0, 0.0, 1.0])
    sw = np.ones(3)
    args = (0.01, 0.01, 0.01, True, loss_kind)

    # The bad sample first: nothing at all changes.
    w_k, V_k = w.copy(), V.copy()
    w0_k, total, n_done = _kernels.sgd_epoch(data, indptr, indices, y, sw, np.array([1, 0, 2]),
                                             w0, w_k, V_k, *args)
    assert n_done == 0
    assert (w0_k, total) == (w0, 0.0)
    np.testing.assert_array_equal(w_k, w)
    np.testing.assert_array_equal(V_k, V)

    # The bad sample second: exactly the first sample's step is done.
    w_k, V_k = w.copy(), V.copy()
    w0_k, total, n_done = _kernels.sgd_epoch(data, indptr, indices, y, sw, np.array([0, 1, 2]),
                                             w0, w_k, V_k, *args)
    w0_r, w_r, V_r, total_r = _sgd_epoch_reference(X, y, sw, [0], w0, w, V, *args)
    assert n_done == 1
    assert w0_k == pytest.approx(w0_r, rel=1e-12)
    assert total == pytest.approx(total_r, rel=1e-12)
    np.testing.assert_allclose(w_k, w_r, rtol=1e-12)
    np.testing.assert_allclose(V_k, V_r, rtol=1e-12)


@pytest.mark.parametrize("loss_kind", [_kernels.SQUARED, _kernels.LOGISTIC])
def test_prefetching_changes_no_result(loss_kind):
    """Prefetching is only a hint to the CPU: the epoch is bit-identical without it."""
    rng = np.random.default_rng(3)
    X = sp.random(300, 50, density=0.1, format="csr", random_state=4)
    y = rng.integers(0, 2, 300).astype(float)
    V0 = rng.normal(0, 0.1, (50, 4))
    order = rng.permutation(300)
    results = []
    for prefetch in (True, False):
        w, V = np.zeros(50), V0.copy()
        w0, total, n_done = _kernels.sgd_epoch(X.data, X.indptr, X.indices, y, np.ones(300), order,
                                               0.0, w, V, 0.1, 0.01, 0.01, True, loss_kind, prefetch)
        results.append((w0, total, n_done, w, V))
    (a0, at, an, aw, aV), (b0, bt, bn, bw, bV) = results
    assert (a0, at, an) == (b0, bt, bn)
    np.testing.assert_array_equal(aw, bw)
    np.testing.assert_array_equal(aV, bV)


@pytest.mark.skipif(not _jit.JIT_ENABLED, reason="plain-Python kernels never prefetch")
def test_prefetch_only_for_data_larger_than_the_cache():
    small = sp.random(100, 100, density=0.1, format="csr", random_state=0)
    assert not _kernels.wants_prefetch(small, np.zeros((100, 10)))
    assert _kernels.wants_prefetch(small, np.zeros((200_000, 10)))  # 16 MB of factors
