"""The NumPy reference forms in fmlib.reference, checked against each other,
against finite differences and at extreme margins."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fmlib.reference import (
    fm_gradient,
    fm_predict,
    fm_predict_naive,
    logistic_loss,
    logistic_loss_grad,
    sigmoid,
    squared_loss,
    squared_loss_grad,
)

SPARSE_FORMATS = {
    "csr_matrix": sp.csr_matrix,
    "csr_array": sp.csr_array,
    "csc_matrix": sp.csc_matrix,
    "coo_array": sp.coo_array,
}


@st.composite
def fm_problems(draw, max_rows=5, max_features=7, max_factors=4):
    """A random FM (w0, w, V) and a dense sample matrix with random sparsity."""
    n_rows = draw(st.integers(1, max_rows))
    n_features = draw(st.integers(1, max_features))
    n_factors = draw(st.integers(1, max_factors))
    density = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=2.0, size=(n_rows, n_features))
    X[rng.random(X.shape) >= density] = 0.0
    w0 = float(rng.normal())
    w = rng.normal(size=n_features)
    V = rng.normal(scale=0.7, size=(n_features, n_factors))
    return X, w0, w, V


def _naive_all(X, w0, w, V):
    return np.array([fm_predict_naive(x, w0, w, V) for x in X])


# ---------------------------------------------------------------- fm_predict


@settings(max_examples=60, deadline=None)
@given(fm_problems())
def test_fm_predict_dense_equals_naive_double_loop(problem):
    X, w0, w, V = problem
    expected = _naive_all(X, w0, w, V)
    got = fm_predict(X, w0, w, V)
    assert got.shape == (X.shape[0],)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(fm_problems(), st.sampled_from(sorted(SPARSE_FORMATS)))
def test_fm_predict_sparse_equals_naive_double_loop(problem, fmt):
    X, w0, w, V = problem
    expected = _naive_all(X, w0, w, V)
    got = fm_predict(SPARSE_FORMATS[fmt](X), w0, w, V)
    np.testing.assert_allclose(np.asarray(got).ravel(), expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(fm_problems(max_rows=1))
def test_fm_predict_single_sample_returns_float(problem):
    X, w0, w, V = problem
    got = fm_predict(X[0], w0, w, V)
    assert isinstance(got, float)
    assert got == pytest.approx(fm_predict_naive(X[0], w0, w, V), rel=1e-10, abs=1e-10)


def test_fm_predict_naive_is_the_definition():
    # An independent check of the naive form itself, on a case done by hand:
    # two features, so one pair.
    x = np.array([2.0, -3.0])
    w0, w = 0.5, np.array([1.0, 2.0])
    V = np.array([[1.0, 2.0], [3.0, -1.0]])
    by_hand = 0.5 + (1.0 * 2.0 + 2.0 * -3.0) + (1.0 * 3.0 + 2.0 * -1.0) * 2.0 * -3.0
    assert fm_predict_naive(x, w0, w, V) == pytest.approx(by_hand)


# ---------------------------------------------------------------- fm_gradient


@settings(max_examples=40, deadline=None)
@given(fm_problems(max_rows=1, max_features=6, max_factors=3))
def test_fm_gradient_matches_central_differences(problem):
    X, w0, w, V = problem
    x = X[0]
    h = 1e-5
    d_w0, d_w, d_V = fm_gradient(x, w0, w, V)

    def f(w0_, w_, V_):
        return fm_predict_naive(x, w0_, w_, V_)

    fd_w0 = (f(w0 + h, w, V) - f(w0 - h, w, V)) / (2 * h)
    assert d_w0 == pytest.approx(fd_w0, abs=1e-6)

    assert d_w.shape == w.shape
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        fd = (f(w0, w + e, V) - f(w0, w - e, V)) / (2 * h)
        assert d_w[i] == pytest.approx(fd, rel=1e-6, abs=1e-6), f"w[{i}]"

    assert d_V.shape == V.shape
    for i in range(V.shape[0]):
        for k in range(V.shape[1]):
            E = np.zeros_like(V)
            E[i, k] = h
            fd = (f(w0, w, V + E) - f(w0, w, V - E)) / (2 * h)
            assert d_V[i, k] == pytest.approx(fd, rel=1e-6, abs=1e-6), f"V[{i}, {k}]"


def test_fm_gradient_does_not_alias_input():
    x = np.array([1.0, 2.0])
    _, d_w, _ = fm_gradient(x, 0.0, np.zeros(2), np.zeros((2, 1)))
    d_w[0] = 99.0
    assert x[0] == 1.0


# ---------------------------------------------------------------- losses

MARGINS = np.concatenate([np.linspace(-30, 30, 61), [-5.5, -0.3, 0.0, 0.3, 7.1]])


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_logistic_loss_grad_matches_finite_differences(y):
    h = 1e-6
    fd = (logistic_loss(MARGINS + h, y) - logistic_loss(MARGINS - h, y)) / (2 * h)
    np.testing.assert_allclose(logistic_loss_grad(MARGINS, y), fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("y", [-2.0, 0.0, 3.5])
def test_squared_loss_grad_matches_finite_differences(y):
    h = 1e-5
    fd = (squared_loss(MARGINS + h, y) - squared_loss(MARGINS - h, y)) / (2 * h)
    np.testing.assert_allclose(squared_loss_grad(MARGINS, y), fd, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(squared_loss(MARGINS, y), 0.5 * (MARGINS - y) ** 2)


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_logistic_loss_equals_log1p_exp_where_safe(y):
    m = np.linspace(-30, 30, 121)
    signed = m if y == 1.0 else -m
    expected = np.log1p(np.exp(-signed))  # safe: |m| <= 30
    np.testing.assert_allclose(logistic_loss(m, y), expected, rtol=1e-13, atol=0)


@pytest.mark.filterwarnings("error")
def test_logistic_loss_finite_and_accurate_at_extreme_margins():
    m = np.array([-1000.0, -800.0, -40.0, 40.0, 800.0, 1000.0])
    loss_pos = logistic_loss(m, 1.0)
    loss_neg = logistic_loss(m, 0.0)
    assert np.isfinite(loss_pos).all() and np.isfinite(loss_neg).all()
    # A wrong sign costs |m| (plus exp(-|m|), far below one ulp of |m|).
    np.testing.assert_allclose(loss_pos[:2], [1000.0, 800.0], rtol=1e-15)
    np.testing.assert_allclose(loss_neg[-2:], [800.0, 1000.0], rtol=1e-15)
    # A right sign costs exp(-|m|), to full relative precision (the textbook
    # log(1 + exp(-m)) would give exactly 0 at m = 40).
    assert loss_pos[3] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert loss_neg[2] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert loss_pos[4] >= 0.0 and loss_pos[4] < 1e-300
    # Scalars in, scalars out.
    assert isinstance(logistic_loss(800.0, 0.0), float)
    assert logistic_loss(-800.0, 1.0) == pytest.approx(800.0)
    # Gradients are finite and saturate at -1 / 0 / +1.
    np.testing.assert_allclose(logistic_loss_grad(m, 1.0)[[0, 1, 4, 5]], [-1, -1, 0, 0], atol=1e-15)
    np.testing.assert_allclose(logistic_loss_grad(m, 0.0)[[0, 1, 4, 5]], [0, 0, 1, 1], atol=1e-15)


@pytest.mark.filterwarnings("error")
@settings(max_examples=200, deadline=None)
@given(st.floats(-1000.0, 1000.0, allow_nan=False))
def test_sigmoid_bounded_and_symmetric(z):
    s = sigmoid(z)
    assert 0.0 <= s <= 1.0
    assert sigmoid(-z) == pytest.approx(1.0 - s, abs=1e-15)
    if abs(z) < 30:
        assert s == pytest.approx(1.0 / (1.0 + np.exp(-z)), rel=1e-14)


@pytest.mark.filterwarnings("error")
def test_sigmoid_no_overflow_at_extremes_and_vectorised():
    z = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
    assert s.shape == z.shape
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    np.testing.assert_allclose(sigmoid(-z), 1.0 - s, rtol=0, atol=1e-15)
    assert isinstance(sigmoid(0.0), float)
