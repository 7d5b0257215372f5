"""The solvers: ALS (coordinate descent) and AdaGrad beside plain SGD.

The ALS kernel is checked against the NumPy reference in fmlib.reference,
and the reference's step against brute-force minimisation; the AdaGrad
kernel against a plain-Python epoch written here from fm_gradient.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fmlib import DivergenceError, FMClassifier, FMRegressor, _adagrad, _als, _kernels
from fmlib.estimators import _als_problem
from fmlib.reference import (
    als_coordinate_update,
    als_objective,
    als_sweep,
    fm_gradient,
    fm_predict,
    logistic_loss,
    logistic_loss_grad,
    squared_loss,
    squared_loss_grad,
)

LOSS_NAMES = {_kernels.SQUARED: "squared", _kernels.LOGISTIC: "logistic"}


def _sparse_problem(seed, loss_kind, n=40, d=9, k=3, density=0.35, dense_columns=(0, 4)):
    """Random data with mostly sparse columns and a few dense, off-centre ones
    (so that both the plain and the joint-with-intercept steps are exercised)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) >= density] = 0.0
    for j in dense_columns:
        X[:, j] = rng.normal(3.0, 1.0, size=n)
    if loss_kind == _kernels.SQUARED:
        y = rng.normal(2.0, 1.5, size=n)
    else:
        y = (rng.random(n) < 0.4).astype(float)
    s = rng.uniform(0.0, 2.0, size=n)
    s[:3] = 0.0  # zero weights must be harmless
    w0 = float(rng.normal())
    w = rng.normal(scale=0.5, size=d)
    V = np.ascontiguousarray(rng.normal(scale=0.3, size=(d, k)))
    return X, y, s, w0, w, V


def _kernel_sweep(X, y, s, w0, w, V, reg_linear, reg_factors, fit_intercept, loss_kind):
    Xc = sp.csr_matrix(X)
    rows, cols, y_rows, s_rows, counts = _als_problem(Xc, y, s, np.arange(X.shape[0]))
    w, V = w.copy(), V.copy()
    w0, total, finite = _als.als_sweep(
        rows.data, rows.indptr, rows.indices, cols.data, cols.indptr, cols.indices,
        y_rows, s_rows, counts, w0, w, V, reg_linear, reg_factors, fit_intercept, loss_kind)
    assert finite
    return w0, w, V, total


# ============================================================================
# ALS: kernel against the NumPy reference
# ============================================================================


@pytest.mark.parametrize("loss_kind", list(LOSS_NAMES), ids=LOSS_NAMES.get)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_als_sweep_matches_the_reference(loss_kind, fit_intercept, seed):
    X, y, s, w0, w, V = _sparse_problem(seed, loss_kind)
    args = (0.05, 0.1)
    got_w0, got_w, got_V, total = _kernel_sweep(X, y, s, w0, w, V, *args, fit_intercept,
                                                loss_kind)
    ref_w0, ref_w, ref_V = als_sweep(X, y, w0, w, V, *args, LOSS_NAMES[loss_kind], s,
                                     fit_intercept)
    assert got_w0 == pytest.approx(ref_w0, abs=1e-10)
    np.testing.assert_allclose(got_w, ref_w, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got_V, ref_V, rtol=0, atol=1e-10)
    if not fit_intercept:
        assert got_w0 == w0
    # the returned loss is that of the parameters after the sweep
    loss = squared_loss if loss_kind == _kernels.SQUARED else logistic_loss
    assert total == pytest.approx(s @ loss(fm_predict(X, got_w0, got_w, got_V), y), rel=1e-10)


def _one_parameter_objective(X, y, s, w0, w, V, parameter, loss, regs):
    def objective(value):
        w_, V_, w0_ = w.copy(), V.copy(), w0
        if parameter == "intercept":
            w0_ = value
        elif parameter[0] == "linear":
            w_[parameter[1]] = value
        else:
            V_[parameter[1], parameter[2]] = value
        return als_objective(X, y, w0_, w_, V_, *regs, loss, s)
    return objective


@pytest.mark.parametrize("parameter", ["intercept", ("linear", 2), ("factor", 3, 1)])
@pytest.mark.parametrize("seed", range(3))
def test_squared_loss_step_is_the_exact_minimum(parameter, seed):
    # column 2 and 3 are sparse: a one-parameter step; brute force in that parameter
    X, y, s, w0, w, V = _sparse_problem(seed, _kernels.SQUARED)
    regs = (0.05, 0.1)
    new_w0, new_w, new_V = als_coordinate_update(X, y, w0, w, V, parameter, *regs, "squared", s)
    objective = _one_parameter_objective(X, y, s, w0, w, V, parameter, "squared", regs)
    best = minimize_scalar(objective, bracket=(-1.0, 1.0), tol=1e-12).x
    got = {"intercept": new_w0, "linear": new_w[2], "factor": new_V[3, 1]}[
        parameter if parameter == "intercept" else parameter[0]]
    assert got == pytest.approx(best, abs=1e-6)
    assert objective(got) <= objective(best) + 1e-12


@pytest.mark.parametrize("parameter", [("linear", 0), ("factor", 4, 2)])
def test_squared_loss_joint_step_is_the_exact_minimum_in_w0_and_theta(parameter):
    # columns 0 and 4 are dense and off-centre: stepped jointly with the intercept
    X, y, s, w0, w, V = _sparse_problem(5, _kernels.SQUARED)
    regs = (0.05, 0.1)
    new_w0, new_w, new_V = als_coordinate_update(X, y, w0, w, V, parameter, *regs, "squared", s)
    j = parameter[1]

    def objective(z):
        w_, V_ = w.copy(), V.copy()
        if parameter[0] == "linear":
            w_[j] = z[1]
        else:
            V_[j, parameter[2]] = z[1]
        return als_objective(X, y, z[0], w_, V_, *regs, "squared", s)

    theta = new_w[j] if parameter[0] == "linear" else new_V[j, parameter[2]]
    best = minimize(objective, x0=[w0, 0.0], method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose([new_w0, theta], best, atol=1e-5)


@pytest.mark.parametrize("loss_kind", list(LOSS_NAMES), ids=LOSS_NAMES.get)
@pytest.mark.parametrize("seed", range(3))
def test_objective_never_increases_from_sweep_to_sweep(loss_kind, seed):
    # exact minimisation (squared) or a quadratic upper bound (log loss, curvature 1/4)
    X, y, s, w0, w, V = _sparse_problem(seed, loss_kind, n=80, d=20, k=4, density=0.2)
    regs = (0.01, 0.01)
    name = LOSS_NAMES[loss_kind]
    values = [als_objective(X, y, w0, w, V, *regs, name, s)]
    for _ in range(15):
        w0, w, V, _ = _kernel_sweep(X, y, s, w0, w, V, *regs, True, loss_kind)
        values.append(als_objective(X, y, w0, w, V, *regs, name, s))
    steps = np.diff(values)
    assert (steps <= 1e-9 * np.abs(values[:-1])).all(), steps
    assert values[-1] < 0.5 * values[0]


def test_als_weight_two_is_the_sample_twice():
    X, y, s, w0, w, V = _sparse_problem(1, _kernels.SQUARED)
    s = np.ones(len(y))
    s[5] = 2.0
    weighted = FMRegressor(n_factors=3, n_epochs=5, random_state=0).fit(X, y, sample_weight=s)
    repeated = FMRegressor(n_factors=3, n_epochs=5, random_state=0).fit(
        np.vstack([X, X[5:6]]), np.append(y, y[5]))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9)


# ============================================================================
# AdaGrad: kernel against a plain-Python epoch
# ============================================================================


def _adagrad_epoch_reference(X, y, s, order, w0, w, V, acc, lr, reg_w, reg_v, loss_kind):
    """AdaGrad SGD written from the formulas: G += g**2; theta -= lr g / sqrt(G)."""
    w, V = w.copy(), V.copy()
    acc = [a.copy() for a in acc]
    slope_of = squared_loss_grad if loss_kind == _kernels.SQUARED else logistic_loss_grad
    for i in order:
        x = X[i]
        present = x != 0
        slope = s[i] * slope_of(fm_predict(x, w0, w, V), y[i])
        _, d_w, d_V = fm_gradient(x, w0, w, V)
        g0 = slope
        g_w = slope * d_w + reg_w * w
        g_V = slope * d_V + reg_v * V
        acc[0] += g0**2
        if acc[0][0] > 0:
            w0 -= lr * g0 / np.sqrt(acc[0][0])
        for j in np.flatnonzero(present):  # lazy: only the sample's features
            acc[1][j] += g_w[j] ** 2
            if acc[1][j] > 0:
                w[j] -= lr * g_w[j] / np.sqrt(acc[1][j])
            acc[2][j] += g_V[j] ** 2
            moved = acc[2][j] > 0
            V[j, moved] -= lr * g_V[j, moved] / np.sqrt(acc[2][j, moved])
    return w0, w, V, acc


@pytest.mark.parametrize("loss_kind", list(LOSS_NAMES), ids=LOSS_NAMES.get)
def test_adagrad_epoch_matches_the_reference(loss_kind):
    X, y, s, w0, w, V = _sparse_problem(7, loss_kind, n=25, d=6)
    rng = np.random.default_rng(0)
    acc = [np.array([0.5]), rng.uniform(0, 1, size=w.shape), rng.uniform(0, 1, size=V.shape)]
    order = rng.permutation(len(y))
    Xc = sp.csr_matrix(X)
    got_w, got_V, got_acc = w.copy(), V.copy(), [a.copy() for a in acc]
    got_w0, _, n_done = _adagrad.adagrad_epoch(
        Xc.data, Xc.indptr, Xc.indices, y, s, order, w0, got_w, got_V, *got_acc,
        0.1, 0.02, 0.03, True, loss_kind)
    assert n_done == len(order)
    ref_w0, ref_w, ref_V, ref_acc = _adagrad_epoch_reference(
        X, y, s, order, w0, w, V, acc, 0.1, 0.02, 0.03, loss_kind)
    assert got_w0 == pytest.approx(ref_w0, abs=1e-10)
    np.testing.assert_allclose(got_w, ref_w, atol=1e-10)
    np.testing.assert_allclose(got_V, ref_V, atol=1e-10)
    for got, ref in zip(got_acc, ref_acc):
        np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_adagrad_never_moves_a_parameter_more_than_the_learning_rate():
    X, y, s, w0, w, V = _sparse_problem(2, _kernels.SQUARED)
    X = X * 1000.0  # huge features: a constant step would blow up
    Xc = sp.csr_matrix(X)
    acc = [np.zeros(1), np.zeros_like(w), np.zeros_like(V)]
    for i in range(len(y)):
        before = (w0, w.copy(), V.copy())
        w0, _, _ = _adagrad.adagrad_epoch(Xc.data, Xc.indptr, Xc.indices, y * 1000, s,
                                          np.array([i]), w0, w, V, *acc, 0.1, 0.01, 0.01,
                                          True, _kernels.SQUARED)
        assert abs(w0 - before[0]) <= 0.1 + 1e-12
        assert np.abs(w - before[1]).max() <= 0.1 + 1e-12
        assert np.abs(V - before[2]).max() <= 0.1 + 1e-12


# ============================================================================
# Estimators: solver parameter
# ============================================================================


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
def test_sgd_solver_is_the_plain_sgd_kernel_bit_for_bit(cls):
    X, y, s, *_ = _sparse_problem(3, cls._loss_kind)
    est = cls(solver="sgd", n_factors=3, n_epochs=3, learning_rate=0.01,
              random_state=0).fit(X, y)
    rng = np.random.RandomState(0)
    V = np.ascontiguousarray(rng.normal(0.0, 0.1, size=(X.shape[1], 3)))
    w, w0 = np.zeros(X.shape[1]), 0.0
    Xc = sp.csr_matrix(X)
    y01 = y if cls is FMRegressor else (y == est.classes_[1]).astype(float)
    for _ in range(3):
        order = rng.permutation(np.arange(len(y)))
        w0, _, _ = _kernels.sgd_epoch(Xc.data, Xc.indptr, Xc.indices, y01, np.ones(len(y)),
                                      order, w0, w, V, 0.01, 0.01, 0.01, True, cls._loss_kind,
                                      False)
    assert est.intercept_ == w0
    np.testing.assert_array_equal(est.coef_, w)
    np.testing.assert_array_equal(est.factors_, V)


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
def test_default_solver_is_als(cls):
    assert cls().solver == "als"


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
def test_als_partial_fit_is_one_sweep_on_the_batch(cls):
    X, y, *_ = _sparse_problem(9, cls._loss_kind)
    kwargs = {"classes": np.unique(y)} if cls is FMClassifier else {}
    est = cls(n_factors=3, random_state=0)
    est.partial_fit(X, y, **kwargs)
    np.testing.assert_array_equal(est.factors_, cls(n_factors=3, n_epochs=1, random_state=0)
                                  .fit(X, y).factors_)
    before = (est.intercept_, est.coef_.copy(), est.factors_.copy())
    est.partial_fit(X[:20], y[:20])
    y01 = y[:20] if cls is FMRegressor else (y[:20] == est.classes_[1]).astype(float)
    ref = als_sweep(X[:20], y01, *before, 0.01, 0.01, LOSS_NAMES[cls._loss_kind])
    assert est.intercept_ == pytest.approx(ref[0], abs=1e-10)
    np.testing.assert_allclose(est.factors_, ref[2], atol=1e-10)
    assert est.n_iter_ == 2


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
@pytest.mark.parametrize("solver", ["ALS", "newton", None, 3])
def test_bad_solver_is_rejected_in_fit(cls, solver):
    X, y, *_ = _sparse_problem(0, cls._loss_kind)
    est = cls(solver=solver)
    assert est.solver is solver  # stored as given
    with pytest.raises(ValueError, match="solver must be one of 'als', 'adagrad', 'sgd'"):
        est.fit(X, y)


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
def test_adagrad_partial_fit_keeps_its_accumulators(cls):
    X, y, *_ = _sparse_problem(4, cls._loss_kind)
    once = cls(solver="adagrad", n_factors=3, n_epochs=2, shuffle=False, random_state=0).fit(X, y)
    kwargs = {"classes": np.unique(y)} if cls is FMClassifier else {}
    stepwise = cls(solver="adagrad", n_factors=3, shuffle=False, random_state=0)
    stepwise.partial_fit(X, y, **kwargs)
    stepwise.partial_fit(X, y)
    np.testing.assert_allclose(stepwise.factors_, once.factors_, rtol=1e-12, atol=1e-15)
    for a, b in zip(stepwise._adagrad_accumulators_, once._adagrad_accumulators_):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
@pytest.mark.parametrize("solver", ["als", "adagrad"])
def test_warm_start_continues_for_each_solver(cls, solver):
    X, y, *_ = _sparse_problem(6, cls._loss_kind)
    settings = dict(solver=solver, n_factors=3, shuffle=False, random_state=0)
    once = cls(n_epochs=4, **settings).fit(X, y)
    warm = cls(n_epochs=2, warm_start=True, **settings).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 4
    np.testing.assert_allclose(warm.factors_, once.factors_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(warm.loss_curve_, once.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("cls", [FMClassifier, FMRegressor])
@pytest.mark.parametrize("solver", ["als", "adagrad"])
def test_early_stopping_and_verbose_for_each_solver(cls, solver, capsys):
    X, y, *_ = _sparse_problem(8, cls._loss_kind, n=200)
    est = cls(solver=solver, n_factors=3, n_epochs=40, early_stopping=True, n_iter_no_change=3,
              verbose=True, random_state=0).fit(X, y)
    assert len(est.validation_loss_curve_) == est.n_iter_ == len(est.loss_curve_)
    best = int(np.argmin(est.validation_loss_curve_))
    assert est.n_iter_ < 40 and est.n_iter_ - 1 - best >= 3  # stopped after patience ran out
    assert "val_loss=" in capsys.readouterr().err


# ============================================================================
# Quality bars
# ============================================================================

# Fixed before measuring: accuracy within 3 points of LogisticRegression, R^2
# within 0.05 of Ridge, on one 70/30 split (random_state=0).
ACCURACY_MARGIN = 0.03
R2_MARGIN = 0.05


def _real_data():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", X, y
    X, y = load_wine(return_X_y=True)
    yield "wine_0_vs_1", X[y < 2], y[y < 2]
    X, y = load_digits(return_X_y=True)
    two = (y == 3) | (y == 8)
    yield "digits_3_vs_8", X[two], y[two]
    X, y = load_diabetes(return_X_y=True, scaled=False)
    yield "diabetes_unscaled", X, y


@pytest.mark.parametrize("name, X, y", list(_real_data()), ids=lambda v: v if isinstance(v, str) else "")
def test_defaults_fit_unscaled_real_data(name, X, y):
    regression = name.startswith("diabetes")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=None if regression else y)
    if regression:
        baseline, model, margin = Ridge(), FMRegressor(random_state=0), R2_MARGIN
    else:
        baseline = LogisticRegression(max_iter=10_000)
        model, margin = FMClassifier(random_state=0), ACCURACY_MARGIN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs on unscaled data may warn; the baseline is a reference only
        reference = baseline.fit(X_train, y_train).score(X_test, y_test)
    model.fit(X_train, y_train)  # no DivergenceError
    assert model.score(X_test, y_test) >= reference - margin, (name, reference)


@pytest.mark.parametrize("name, X, y", list(_real_data()), ids=lambda v: v if isinstance(v, str) else "")
def test_adagrad_stays_finite_on_unscaled_real_data(name, X, y):
    cls = FMRegressor if name.startswith("diabetes") else FMClassifier
    est = cls(solver="adagrad", random_state=0).fit(X, y)
    assert np.isfinite(est.factors_).all()
    with pytest.raises(DivergenceError):  # what the issue was about
        cls(solver="sgd", random_state=0).fit(X, y)


def test_als_on_sms_spam(sms_experiment):
    data = sms_experiment
    clf = FMClassifier(solver="als", random_state=0).fit(data.X_train, data.y_train)
    auc = roc_auc_score(data.y_test, clf.decision_function(data.X_test))
    assert auc >= 0.995
