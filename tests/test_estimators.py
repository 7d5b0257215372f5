"""FMClassifier and FMRegressor: correctness, input handling, errors, training
behaviour, and the book's SMS spam result."""

import pickle
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, roc_auc_score

import fmlib.estimators as fm_estimators
from fmlib import DivergenceError, FMClassifier, FMRegressor, _kernels
from fmlib.estimators import _BaseFM
from fmlib.reference import (
    fm_predict,
    logistic_loss,
    logistic_loss_grad,
    sigmoid,
    squared_loss,
    squared_loss_grad,
)

ESTIMATORS = [FMClassifier, FMRegressor]


def _data(seed=0, n=200, d=6, task="classification", zeros=0.0, dtype=np.float64):
    """Gaussian features with a linear part and one pairwise interaction."""
    assert d >= 4
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    if zeros:
        X[rng.random(X.shape) < zeros] = 0.0
    signal = X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3]
    if task == "classification":
        y = (signal + 0.3 * rng.normal(size=n) > 0).astype(int)
    else:
        y = signal + 0.3 * rng.normal(size=n)
    return X, y


def _data_for(cls, **kw):
    return _data(task="classification" if cls is FMClassifier else "regression", **kw)


def _params(est):
    return est.intercept_, est.coef_.copy(), est.factors_.copy()


def _assert_same_model(a, b):
    assert a.intercept_ == b.intercept_
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.factors_, b.factors_)
    assert a.loss_curve_ == b.loss_curve_
    assert a.n_iter_ == b.n_iter_


@pytest.fixture
def zero_init(monkeypatch):
    """Start every fresh fit from w0 = 0, w = 0, V = 0."""

    def zeros(self, n_features, rng):
        return [0.0, np.zeros(n_features), np.zeros((n_features, self.n_factors))]

    monkeypatch.setattr(_BaseFM, "_fresh_params", zeros)


@pytest.fixture
def kernels_forbidden(monkeypatch):
    """Fail the test if any compiled kernel is called."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a compiled kernel ran although the input was invalid")

    monkeypatch.setattr(_kernels, "sgd_epoch", forbidden)
    monkeypatch.setattr(_kernels, "predict", forbidden)


# =============================================================================
# With all factors zero, the FM is a linear model
# =============================================================================


def _linear_sgd(X, y, *, loss_kind, n_epochs, lr, reg, fit_intercept=True):
    """Independent SGD on a linear model, samples in order, with L2 on the
    weights of the features present in each sample (as libFM does)."""
    loss, grad = {
        _kernels.LOGISTIC: (logistic_loss, logistic_loss_grad),
        _kernels.SQUARED: (squared_loss, squared_loss_grad),
    }[loss_kind]
    w0, w = 0.0, np.zeros(X.shape[1])
    curve = []
    for _ in range(n_epochs):
        total = 0.0
        for x, target in zip(X, y):
            m = w0 + x @ w
            total += loss(m, target)
            slope = grad(m, target)
            if fit_intercept:
                w0 -= lr * slope
            present = x != 0
            w[present] -= lr * (slope * x[present] + reg * w[present])
        curve.append(total / len(y))
    return w0, w, curve


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_zero_factors_reduce_to_lazily_regularised_linear_sgd(cls, zero_init):
    X, y = _data_for(cls, seed=3, n=120, d=7, zeros=0.3)
    est = cls(solver="sgd", n_factors=3, n_epochs=4, learning_rate=0.05, reg_linear=0.02,
              reg_factors=0.05, shuffle=False, random_state=0).fit(X, y)
    # dV = x (sum_j V_j x_j - V_i x_i) = 0 when V = 0: the factors never move.
    np.testing.assert_array_equal(est.factors_, 0.0)
    w0, w, curve = _linear_sgd(X, y, loss_kind=cls._loss_kind, n_epochs=4, lr=0.05, reg=0.02)
    assert est.intercept_ == pytest.approx(w0, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(est.coef_, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.loss_curve_, curve, rtol=1e-9)


def test_zero_factors_classifier_agrees_with_logistic_regression(zero_init):
    # Every feature is non-zero in every sample, so the lazy penalty
    # reg/2 |w|^2 per sample adds up to n reg/2 |w|^2, i.e. C = 1 / (n reg);
    # neither model penalises the intercept.
    rng = np.random.default_rng(0)
    n, reg = 300, 0.01
    X = rng.normal(size=(n, 5))
    logit = X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.3
    y = (rng.random(n) < sigmoid(logit)).astype(int)
    fm = FMClassifier(n_factors=2, n_epochs=300, learning_rate=0.005, reg_linear=reg,
                      random_state=0).fit(X, y)
    lr = LogisticRegression(C=1 / (n * reg)).fit(X, y)
    np.testing.assert_array_equal(fm.factors_, 0.0)
    np.testing.assert_allclose(fm.coef_, lr.coef_.ravel(), atol=0.03)
    assert fm.intercept_ == pytest.approx(lr.intercept_[0], abs=0.03)
    np.testing.assert_allclose(fm.predict_proba(X), lr.predict_proba(X), atol=0.01)


def test_zero_factors_regressor_agrees_with_ridge(zero_init):
    # sum (y - yhat)^2 / 2 + n reg / 2 |w|^2  <=>  Ridge(alpha = n reg)
    rng = np.random.default_rng(1)
    n, reg = 300, 0.01
    X = rng.normal(size=(n, 5))
    y = X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.3 + 0.1 * rng.normal(size=n)
    fm = FMRegressor(n_factors=2, n_epochs=300, learning_rate=0.005, reg_linear=reg,
                     random_state=0).fit(X, y)
    ridge = Ridge(alpha=n * reg).fit(X, y)
    np.testing.assert_array_equal(fm.factors_, 0.0)
    np.testing.assert_allclose(fm.coef_, ridge.coef_, atol=0.01)
    assert fm.intercept_ == pytest.approx(ridge.intercept_, abs=0.01)
    np.testing.assert_allclose(fm.predict(X), ridge.predict(X), atol=0.05)


# =============================================================================
# Intercept
# =============================================================================


def _imbalanced(seed=1, n=4000, d=20):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < 0.1).astype(float)  # sparse binary, weakly informative
    y = (rng.random(n) < sigmoid(-2.4 + 0.4 * X[:, 0])).astype(int)
    return X, y


@pytest.mark.parametrize("seed", [1, 2])
def test_intercept_is_learned_on_imbalanced_data(seed):
    X, y = _imbalanced(seed)
    base_rate = y.mean()
    assert 0.06 < base_rate < 0.14
    clf = FMClassifier(n_factors=4, n_epochs=20, learning_rate=0.05, random_state=0).fit(X, y)
    assert clf.predict_proba(X)[:, 1].mean() == pytest.approx(base_rate, abs=0.03)
    # log(0.1 / 0.9) = -2.2
    assert clf.intercept_ < -1.5


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_intercept_false_keeps_intercept_zero(cls):
    X, y = _imbalanced()
    if cls is FMRegressor:
        y = y + 5.0
    est = cls(n_factors=4, n_epochs=5, learning_rate=0.01, fit_intercept=False,
              random_state=0).fit(X, y)
    assert est.intercept_ == 0.0
    est.partial_fit(X, y)
    assert est.intercept_ == 0.0
    np.testing.assert_allclose(est.predict(X[:50]) if cls is FMRegressor
                               else est.decision_function(X[:50]),
                               fm_predict(X[:50], 0.0, est.coef_, est.factors_), rtol=1e-10)


# =============================================================================
# Numerically safe log loss
# =============================================================================


@pytest.mark.filterwarnings("error")
def test_training_with_huge_feature_values_is_warning_free():
    # One non-zero per row, of size 1000: margins reach ~1e5, the losses of
    # the flipped labels are ~1e5, and nothing may overflow or warn.
    rng = np.random.default_rng(0)
    n, d = 400, 8
    cols = rng.integers(0, d, n)
    X = sp.csr_matrix((np.full(n, 1000.0), (np.arange(n), cols)), shape=(n, d))
    y = (cols % 2 == 0).astype(int)
    y[:20] = 1 - y[:20]  # label noise: large losses
    clf = FMClassifier(solver="sgd", n_factors=2, n_epochs=5, learning_rate=0.1, early_stopping=True,
                       n_iter_no_change=10, random_state=0).fit(X, y)
    assert np.isfinite(clf.loss_curve_).all() and np.isfinite(clf.validation_loss_curve_).all()
    margin = clf.decision_function(X)
    assert np.abs(margin).max() > 700
    proba = clf.predict_proba(X)
    big = np.abs(margin) > 700
    np.testing.assert_array_equal(proba[big, 1], (margin[big] > 0).astype(float))
    assert np.isfinite(clf.predict_log_proba(X)).all()
    assert clf.score(X, y) > 0.9


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("margin", [-1e4, -800.0, -701.0, 701.0, 800.0, 1e4])
def test_probabilities_at_extreme_margins(margin):
    X, y = _data(n=30, d=4)
    clf = FMClassifier(n_factors=2, n_epochs=1, random_state=0).fit(X, y)
    clf.intercept_ = margin
    clf.coef_ = np.zeros_like(clf.coef_)
    clf.factors_ = np.zeros_like(clf.factors_)
    np.testing.assert_array_equal(clf.decision_function(X[:2]), margin)
    positive = int(margin > 0)
    proba = clf.predict_proba(X[:2])
    # The likely class gets exactly 1.0, the other exp(-|m|) or 0.0 (at
    # |m| = 701 that is 3.6e-305 for the positive class, computed directly,
    # and 0.0 for the negative class, computed as 1 - 1.0).
    np.testing.assert_array_equal(proba[:, positive], 1.0)
    assert ((proba[:, 1 - positive] >= 0.0) & (proba[:, 1 - positive] <= 1e-300)).all()
    if abs(margin) >= 800:
        np.testing.assert_array_equal(proba, [[1 - positive, positive]] * 2)
    log_proba = clf.predict_log_proba(X[:2])
    assert np.isfinite(log_proba).all()
    # log sigmoid(m) = -log(1 + exp(-m)): ~0 for the likely class, -|m| for the other.
    expected = [-logistic_loss(margin, 0.0), -logistic_loss(margin, 1.0)]
    np.testing.assert_allclose(log_proba, [expected] * 2, rtol=1e-15, atol=1e-300)
    assert log_proba[0, int(margin < 0)] == pytest.approx(-abs(margin))


# =============================================================================
# Random state
# =============================================================================


def _global_state_equal(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("random_state", [None, 0, "RandomState"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_global_rng_untouched(cls, random_state, early_stopping):
    if random_state == "RandomState":
        random_state = np.random.RandomState(0)
    X, y = _data_for(cls, n=60, d=4)
    np.random.seed(12345)
    before = np.random.get_state()
    est = cls(n_factors=2, n_epochs=2, learning_rate=0.05, early_stopping=early_stopping,
              random_state=random_state).fit(X, y)
    est.partial_fit(X, y)
    assert _global_state_equal(before, np.random.get_state())
    assert np.isfinite(est.predict(X)).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_int_random_state_gives_bit_identical_models(cls, early_stopping):
    X, y = _data_for(cls, n=100, d=5)
    kw = dict(n_factors=3, n_epochs=4, learning_rate=0.05, early_stopping=early_stopping,
              n_iter_no_change=2)
    a = cls(random_state=7, **kw).fit(X, y)
    b = cls(random_state=7, **kw).fit(X, y)
    _assert_same_model(a, b)
    assert a.validation_loss_curve_ == b.validation_loss_curve_
    # A RandomState seeded alike is the same source of randomness.
    _assert_same_model(a, cls(random_state=np.random.RandomState(7), **kw).fit(X, y))
    # Refitting the same estimator gives the same model again.
    _assert_same_model(a, a.fit(X, y))
    # And the seed matters.
    c = cls(random_state=8, **kw).fit(X, y)
    assert not np.array_equal(a.factors_, c.factors_)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_random_state_none_gives_fresh_randomness(cls):
    X, y = _data_for(cls, n=60, d=4)
    a = cls(n_factors=2, n_epochs=1, learning_rate=0.05).fit(X, y)
    b = cls(n_factors=2, n_epochs=1, learning_rate=0.05).fit(X, y)
    assert not np.array_equal(a.factors_, b.factors_)


# =============================================================================
# Input formats and labels
# =============================================================================


def _shuffled_csr(A, rng):
    """The same matrix as a CSR with the entries of every row in random order."""
    A = sp.csr_matrix(A)
    data, indices = A.data.copy(), A.indices.copy()
    for i in range(A.shape[0]):
        s = slice(A.indptr[i], A.indptr[i + 1])
        p = rng.permutation(s.stop - s.start)
        data[s], indices[s] = data[s][p], indices[s][p]
    out = sp.csr_matrix((data, indices, A.indptr.copy()), shape=A.shape)
    assert not out.has_sorted_indices
    return out


def _duplicated_csr(A):
    """The same matrix as a CSR storing every entry as two halves."""
    A = sp.coo_matrix(A)
    rows = np.r_[A.row, A.row]
    cols = np.r_[A.col, A.col]
    vals = np.r_[A.data / 2, A.data / 2]  # halves of a float add up exactly
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows[order], minlength=A.shape[0])
    indptr = np.r_[0, np.cumsum(counts)]
    out = sp.csr_matrix((vals[order], cols[order], indptr), shape=A.shape)
    assert out.nnz == 2 * A.nnz and not out.has_canonical_format
    return out


INPUT_FORMATS = {
    "dense64": lambda X, rng: X,
    "dense32": lambda X, rng: X.astype(np.float32),
    "fortran": lambda X, rng: np.asfortranarray(X),
    "csr_matrix": lambda X, rng: sp.csr_matrix(X),
    "csr_matrix32": lambda X, rng: sp.csr_matrix(X.astype(np.float32)),
    "csc_matrix": lambda X, rng: sp.csc_matrix(X),
    "coo_matrix": lambda X, rng: sp.coo_matrix(X),
    "csr_array": lambda X, rng: sp.csr_array(X),
    "csc_array": lambda X, rng: sp.csc_array(X),
    "unsorted_csr": lambda X, rng: _shuffled_csr(X, rng),
    "duplicate_csr": lambda X, rng: _duplicated_csr(X),
}


def _snapshot(X):
    """Copies of the arrays that make up X, with its type."""
    if not sp.issparse(X):
        return type(X), [X.copy()]
    if X.format == "coo":
        return type(X), [X.data.copy(), X.row.copy(), X.col.copy()]
    return type(X), [X.data.copy(), X.indices.copy(), X.indptr.copy()]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_all_input_formats_give_the_same_model(cls):
    X, y = _data_for(cls, n=80, d=6, zeros=0.4, seed=4)
    X = X.astype(np.float32).astype(np.float64)  # exactly representable in float32
    kw = dict(n_factors=3, n_epochs=3, learning_rate=0.05, random_state=0)
    reference = cls(**kw).fit(X, y)
    expected = reference.predict(X)
    rng = np.random.default_rng(0)
    for name, make in INPUT_FORMATS.items():
        Xf = make(X, rng)
        before = _snapshot(Xf)
        est = cls(**kw).fit(Xf, y)
        _assert_same_model(reference, est)
        np.testing.assert_array_equal(est.predict(Xf), expected, err_msg=name)
        np.testing.assert_array_equal(reference.predict(Xf), expected, err_msg=name)
        est.partial_fit(Xf, y)
        # The caller's matrix is left exactly as given.
        after = _snapshot(Xf)
        assert before[0] is after[0], name
        for a, b in zip(before[1], after[1], strict=True):
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)
        if sp.issparse(Xf) and Xf.format == "csr" and name in ("unsorted_csr", "duplicate_csr"):
            assert not Xf.has_canonical_format, name


LABEL_PAIRS = {
    "strings": np.array(["ham", "spam"]),
    "strings_reversed_alphabet": np.array(["zebra", "apple"]),
    "minus_one_one": np.array([-1, 1]),
    "ints_3_7": np.array([7, 3]),
    "bools": np.array([False, True]),
    "floats": np.array([1.0, 0.0]),
}


@pytest.mark.parametrize("labels", LABEL_PAIRS.values(), ids=LABEL_PAIRS.keys())
def test_any_two_labels_are_recovered(labels):
    X, y01 = _data(n=150, d=5, seed=5)
    classes = np.sort(labels)
    y = classes[y01]
    kw = dict(n_factors=3, n_epochs=10, learning_rate=0.05, random_state=0)
    clf = FMClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, classes)
    assert clf.classes_.dtype == classes.dtype
    pred = clf.predict(X)
    assert pred.dtype == classes.dtype
    assert set(np.unique(pred)) <= set(classes)
    assert np.mean(pred == y) > 0.85
    # The same model as on 0/1 labels, with classes_[1] the positive class.
    ref = FMClassifier(**kw).fit(X, y01)
    np.testing.assert_array_equal(clf.decision_function(X), ref.decision_function(X))
    np.testing.assert_array_equal(pred, classes[ref.predict(X)])
    np.testing.assert_array_equal(pred, clf.classes_[clf.predict_proba(X).argmax(axis=1)])
    # partial_fit with the labels in a different order gives the same classes_.
    pf = FMClassifier(**kw).partial_fit(X, y, classes=labels[::-1])
    np.testing.assert_array_equal(pf.classes_, classes)


# =============================================================================
# Invalid input: clear errors, before any compiled code runs
# =============================================================================


def _bad_X_cases():
    X, _ = _data(n=20, d=5)
    cases = {}
    for bad, msg in [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity"),
                     (-np.inf, "Input X contains infinity")]:
        Xb = X.copy()
        Xb[3, 2] = bad
        cases[f"dense_{bad}"] = (Xb, msg)
        cases[f"csr_{bad}"] = (sp.csr_matrix(Xb), msg)
        cases[f"coo_{bad}"] = (sp.coo_array(Xb), msg)
    return cases


BAD_X = _bad_X_cases()


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", BAD_X.keys())
def test_non_finite_X_is_rejected(cls, case, kernels_forbidden):
    Xb, msg = BAD_X[case]
    _, y = _data_for(cls, n=20, d=5)
    with pytest.raises(ValueError, match=msg):
        cls().fit(Xb, y)
    with pytest.raises(ValueError, match=msg):
        cls().partial_fit(Xb, y, **({"classes": [0, 1]} if cls is FMClassifier else {}))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_non_finite_X_is_rejected_at_predict(cls):
    X, y = _data_for(cls, n=20, d=5)
    est = cls(n_epochs=1, random_state=0).fit(X, y)
    for case, (Xb, msg) in BAD_X.items():
        with pytest.raises(ValueError, match=msg):
            est.predict(Xb)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_is_rejected_by_regressor(bad, kernels_forbidden):
    X, y = _data(n=20, d=5, task="regression")
    y[4] = bad
    with pytest.raises(ValueError, match="Input y contains (NaN|infinity)"):
        FMRegressor().fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_shape_errors(cls, kernels_forbidden):
    X, y = _data_for(cls, n=20, d=5)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls().fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        cls().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        cls().fit(sp.csr_matrix(X[:0]), y[:0])
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        cls().fit(X[:, :0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls().fit(sp.csr_matrix(X[:10]), y)


def test_class_count_errors(kernels_forbidden):
    X, _ = _data(n=30, d=5)
    with pytest.raises(ValueError, match="only one class"):
        FMClassifier().fit(X, np.zeros(30, dtype=int))
    with pytest.raises(ValueError, match="OneVsRestClassifier"):
        FMClassifier().fit(X, np.arange(30) % 3)
    with pytest.raises(ValueError, match="Unknown label type"):
        FMClassifier().fit(X, np.linspace(0, 1, 30))
    with pytest.raises(ValueError, match="OneVsRestClassifier"):
        FMClassifier().partial_fit(X, np.arange(30) % 3, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        FMClassifier().partial_fit(X, np.arange(30) % 2)
    with pytest.raises(ValueError, match="not in classes_"):
        FMClassifier().partial_fit(X, np.arange(30) % 3, classes=[0, 1])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_feature_count_at_predict(cls):
    X, y = _data_for(cls, n=30, d=5)
    est = cls(n_epochs=1, random_state=0).fit(X, y)
    methods = ["predict"] + (["predict_proba", "predict_log_proba", "decision_function"]
                             if cls is FMClassifier else [])
    for method in methods:
        for Xw in (X[:, :4], sp.csr_matrix(np.c_[X, X[:, :1]])):
            with pytest.raises(ValueError, match=f"X has {Xw.shape[1]} features, but "
                                                 f"{cls.__name__} is expecting 5 features"):
                getattr(est, method)(Xw)
    with pytest.raises(ValueError, match="X has 4 features"):
        est.partial_fit(X[:, :4], y)


BAD_PARAMS = [
    ({"n_factors": 0}, ValueError, "n_factors == 0, must be >= 1"),
    ({"n_factors": 2.5}, TypeError, "n_factors must be an instance of int"),
    ({"n_epochs": 0}, ValueError, "n_epochs == 0, must be >= 1"),
    ({"n_epochs": 3.0}, TypeError, "n_epochs must be an instance of int"),
    ({"learning_rate": 0}, ValueError, "learning_rate == 0, must be > 0"),
    ({"learning_rate": -0.1}, ValueError, r"learning_rate == -0.1, must be > 0"),
    ({"learning_rate": np.inf}, ValueError, "learning_rate must be finite"),
    ({"learning_rate": "0.1"}, TypeError, "learning_rate must be an instance of"),
    ({"reg_linear": -0.01}, ValueError, "reg_linear == -0.01, must be >= 0"),
    ({"reg_factors": -1}, ValueError, "reg_factors == -1, must be >= 0"),
    ({"reg_factors": np.nan}, ValueError, "reg_factors"),
    ({"init_std": 0}, ValueError, "init_std == 0, must be > 0"),
    ({"init_std": -1.0}, ValueError, "init_std == -1.0, must be > 0"),
    ({"validation_fraction": 1.5}, ValueError, "validation_fraction == 1.5, must be < 1"),
    ({"validation_fraction": 0.0}, ValueError, "validation_fraction == 0.0, must be > 0"),
    ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change == 0, must be >= 1"),
    ({"tol": -1e-3}, ValueError, "tol == -0.001, must be >= 0"),
    ({"verbose": "yes"}, TypeError, "verbose must be True or False"),
    ({"fit_intercept": 1}, TypeError, "fit_intercept must be True or False"),
    ({"shuffle": None}, TypeError, "shuffle must be True or False"),
    ({"early_stopping": "no"}, TypeError, "early_stopping must be True or False"),
    ({"warm_start": 0}, TypeError, "warm_start must be True or False"),
    ({"random_state": "seed"}, ValueError, "cannot be used to seed"),
]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("params, error, msg", BAD_PARAMS,
                         ids=[f"{next(iter(p))}={p[next(iter(p))]!r}" for p, _, _ in BAD_PARAMS])
def test_bad_hyperparameters(cls, params, error, msg, kernels_forbidden):
    X, y = _data_for(cls, n=20, d=4)
    with pytest.raises(error, match=msg):
        cls(**params).fit(X, y)
    extra = {"classes": [0, 1]} if cls is FMClassifier else {}
    with pytest.raises(error, match=msg):
        cls(**params).partial_fit(X, y, **extra)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_methods_before_fit_raise_not_fitted(cls):
    X, _ = _data_for(cls, n=10, d=4)
    methods = ["predict", "score"] + (["predict_proba", "predict_log_proba",
                                       "decision_function"] if cls is FMClassifier else [])
    for method in methods:
        args = (X, np.zeros(10)) if method == "score" else (X,)
        with pytest.raises(NotFittedError):
            getattr(cls(), method)(*args)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bad_sample_weight(cls, kernels_forbidden):
    X, y = _data_for(cls, n=20, d=4)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(20,\)"):
        cls().fit(X, y, sample_weight=np.ones(19))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(20,\)"):
        cls().fit(X, y, sample_weight=np.ones((20, 2)))
    sw = np.ones(20)
    sw[3] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        cls().fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="sums to zero"):
        cls().fit(X, y, sample_weight=np.zeros(20))
    sw[3] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        cls().fit(X, y, sample_weight=sw)
    extra = {"classes": [0, 1]} if cls is FMClassifier else {}
    with pytest.raises(ValueError, match="non-negative"):
        cls().partial_fit(X, y, sample_weight=-np.ones(20), **extra)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_sample_weight_scales_the_step(cls):
    # Without the penalty, weight 2 on every sample is a doubled step size.
    X, y = _data_for(cls, n=100, d=5)
    kw = dict(n_factors=2, n_epochs=3, reg_linear=0.0, reg_factors=0.0, random_state=0)
    weighted = cls(solver="sgd", learning_rate=0.02, **kw).fit(X, y, sample_weight=np.full(100, 2.0))
    _assert_same_model(weighted, cls(solver="sgd", learning_rate=0.04, **kw).fit(X, y))
    assert not np.array_equal(weighted.coef_, cls(solver="sgd", learning_rate=0.02, **kw).fit(X, y).coef_)


def test_sample_weight_shifts_the_classifier_towards_heavy_samples():
    X, y = _imbalanced()
    kw = dict(n_factors=4, n_epochs=10, learning_rate=0.02, random_state=0)
    plain = FMClassifier(**kw).fit(X, y)
    upweighted = FMClassifier(**kw).fit(X, y, sample_weight=np.where(y == 1, 5.0, 1.0))
    assert (upweighted.predict_proba(X)[:, 1].mean()
            > plain.predict_proba(X)[:, 1].mean() + 0.1)


# =============================================================================
# Divergence
# =============================================================================


def _diverging_data(cls):
    """Data on which learning_rate=50 diverges and 0.01 does not."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    if cls is FMClassifier:
        return X, (X[:, 0] > 0).astype(int), X * 100.0, (X[:, 0] > 0).astype(int)
    return X, X[:, 0] - X[:, 1], X, 1000.0 * rng.normal(size=200)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_divergence_raises_and_leaves_fresh_estimator_unfitted(cls):
    _, _, X_big, y_big = _diverging_data(cls)
    est = cls(solver="sgd", learning_rate=50, random_state=0)
    with pytest.raises(DivergenceError, match=r"learning_rate=50\b"):
        est.fit(X_big, y_big)
    with pytest.raises(NotFittedError):
        est.predict(X_big)
    # Nothing of the failed fit is left behind.
    assert not [k for k in vars(est) if k.endswith("_")]
    assert isinstance(DivergenceError(), FloatingPointError)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("how", ["warm_start", "cold_refit", "partial_fit"])
def test_divergence_keeps_the_previous_model_exactly(cls, how):
    X, y, X_big, y_big = _diverging_data(cls)
    est = cls(solver="sgd", learning_rate=0.01, n_epochs=5, random_state=0).fit(X, y)
    old = _params(est)
    old_curve, old_n_iter, old_pred = list(est.loss_curve_), est.n_iter_, est.predict(X)
    est.set_params(learning_rate=50, warm_start=how == "warm_start")
    with pytest.raises(DivergenceError, match=r"learning_rate=50\b"):
        if how == "partial_fit":
            est.partial_fit(X_big, y_big)
        else:
            est.fit(X_big, y_big)
    assert est.intercept_ == old[0]
    np.testing.assert_array_equal(est.coef_, old[1])
    np.testing.assert_array_equal(est.factors_, old[2])
    assert est.loss_curve_ == old_curve and est.n_iter_ == old_n_iter
    np.testing.assert_array_equal(est.predict(X), old_pred)
    assert np.isfinite(est.coef_).all() and np.isfinite(est.factors_).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_divergence_with_other_feature_count_keeps_the_old_input_contract(cls):
    # A failed fit on wider data must not leave n_features_in_ (and classes_)
    # describing data the kept parameters were not fitted on.
    X, y, _, _ = _diverging_data(cls)
    est = cls(solver="sgd", learning_rate=0.01, n_epochs=2, random_state=0).fit(X, y)
    old_pred = est.predict(X)
    rng = np.random.default_rng(1)
    X_wide = 100.0 * rng.normal(size=(200, 9))
    y_wide = np.where(X_wide[:, 0] > 0, 5, 4) if cls is FMClassifier else 1e3 * X_wide[:, 0]
    with pytest.raises(DivergenceError):
        est.set_params(learning_rate=50).fit(X_wide, y_wide)
    assert est.n_features_in_ == 5
    if cls is FMClassifier:
        np.testing.assert_array_equal(est.classes_, [0, 1])
    np.testing.assert_array_equal(est.predict(X), old_pred)
    with pytest.raises(ValueError, match="X has 9 features"):
        est.predict(X_wide)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_failed_refit_on_other_data_keeps_the_old_input_contract(cls):
    # validate_data resets n_features_in_ before the class and sample_weight
    # checks fail.
    X, y, _, _ = _diverging_data(cls)
    est = cls(learning_rate=0.01, n_epochs=2, random_state=0).fit(X, y)
    old_pred = est.predict(X)
    X_wide = np.random.default_rng(2).normal(size=(50, 9))
    y_wide = np.arange(50) % 2
    with pytest.raises(ValueError, match="non-negative"):
        est.fit(X_wide, y_wide, sample_weight=-np.ones(50))
    if cls is FMClassifier:
        with pytest.raises(ValueError, match="only one class"):
            est.fit(X_wide, np.zeros(50))
    assert est.n_features_in_ == 5
    np.testing.assert_array_equal(est.predict(X), old_pred)
    with pytest.raises(ValueError, match="X has 9 features"):
        est.predict(X_wide)


# =============================================================================
# Persistence and cloning
# =============================================================================


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_pickle_round_trip_and_clone(cls):
    X, y = _data_for(cls, n=80, d=5)
    est = cls(n_factors=3, n_epochs=3, learning_rate=0.03, reg_factors=0.02,
              early_stopping=True, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    if cls is FMClassifier:
        np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(restored.classes_, est.classes_)
    _assert_same_model(est, restored)
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "factors_")
    _assert_same_model(est, cloned.fit(X, y))


# =============================================================================
# Training behaviour
# =============================================================================


@pytest.mark.parametrize("cls, lr", [(FMClassifier, 0.05), (FMRegressor, 0.01)])
def test_training_loss_decreases(cls, lr):
    X, y = _data_for(cls, n=400, d=6)
    est = cls(solver="sgd", n_factors=4, n_epochs=30, learning_rate=lr, random_state=0).fit(X, y)
    curve = np.array(est.loss_curve_)
    assert len(curve) == est.n_iter_ == 30
    assert est.validation_loss_curve_ == []
    assert curve[-1] < 0.6 * curve[0]
    drop = curve[0] - curve.min()
    # Constant-step SGD jitters at its floor, but never climbs back far.
    assert np.diff(curve).max() < 0.1 * drop
    assert curve[15:].mean() < curve[:15].mean()


@pytest.mark.parametrize("cls, lr", [(FMClassifier, 0.002), (FMRegressor, 0.001)])
def test_early_stopping_keeps_the_best_epoch(cls, lr, monkeypatch):
    splits = []
    real_split = fm_estimators.train_test_split

    def recording_split(*args, **kwargs):
        out = real_split(*args, **kwargs)
        splits.append(out)
        return out

    monkeypatch.setattr(fm_estimators, "train_test_split", recording_split)
    rng = np.random.default_rng(1)
    n, d = 300, 30  # few samples, many dense features: overfits soon
    X = rng.normal(size=(n, d))
    y = X[:, 0] + rng.normal(size=n)
    if cls is FMClassifier:
        y = (y + X[:, 1] * X[:, 2] > 0).astype(int)
    patience = 5
    est = cls(solver="sgd", n_factors=8, n_epochs=200, learning_rate=lr, early_stopping=True, tol=0.0,
              n_iter_no_change=patience, validation_fraction=0.2, random_state=1).fit(X, y)
    val = np.array(est.validation_loss_curve_)
    assert est.n_iter_ < 200
    assert len(val) == len(est.loss_curve_) == est.n_iter_
    best = int(np.argmin(val))
    assert best >= 1 and best < est.n_iter_ - 1  # the best epoch is neither first nor last
    assert est.n_iter_ == best + 1 + patience  # with tol=0: stop after `patience` misses
    # The model kept is the best epoch's: recompute its validation loss.
    (train_rows, val_rows), = splits
    assert len(val_rows) == round(0.2 * n) and not set(train_rows) & set(val_rows)
    margin = est.decision_function(X[val_rows]) if cls is FMClassifier else est.predict(X[val_rows])
    loss = logistic_loss if cls is FMClassifier else squared_loss
    recomputed = np.mean(loss(margin, y[val_rows]))
    assert recomputed == pytest.approx(val[best], rel=1e-10)
    assert recomputed < val[-1]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_early_stopping_with_default_tol_stops(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 30))
    y = X[:, 0] + rng.normal(size=300)
    if cls is FMClassifier:
        y = (y > 0).astype(int)
    est = cls(n_factors=8, n_epochs=300, learning_rate=0.002, early_stopping=True,
              random_state=0).fit(X, y)
    assert est.n_iter_ < 300
    assert len(est.validation_loss_curve_) == est.n_iter_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_continues(cls):
    X, y = _data_for(cls, n=200, d=5)
    est = cls(n_factors=3, n_epochs=3, learning_rate=0.02, warm_start=True, random_state=0)
    est.fit(X, y)
    first_curve = list(est.loss_curve_)
    first_params = _params(est)
    est.fit(X, y)
    assert est.n_iter_ == 6 and len(est.loss_curve_) == 6
    assert est.loss_curve_[:3] == first_curve
    assert est.loss_curve_[3] < first_curve[0]  # it did not start again
    assert not np.array_equal(est.factors_, first_params[2])
    # Without warm_start, fit starts afresh.
    est.set_params(warm_start=False).fit(X, y)
    assert est.n_iter_ == 3 and est.loss_curve_ == first_curve


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_runs_exactly_one_epoch(cls):
    X, y = _data_for(cls, n=100, d=5, zeros=0.2)
    est = cls(solver="sgd", n_factors=3, n_epochs=2, learning_rate=0.02, reg_linear=0.03, reg_factors=0.04,
              shuffle=False, random_state=0)
    extra = {"classes": [0, 1]} if cls is FMClassifier else {}
    est.partial_fit(X, y, **extra)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1
    for n in (2, 3):
        w0, w, V = _params(est)
        Xc = sp.csr_matrix(X)
        w0, total, done = _kernels.sgd_epoch(
            Xc.data, Xc.indptr, Xc.indices, y.astype(float), np.ones(len(y)),
            np.arange(len(y)), w0, w, V, 0.02, 0.03, 0.04, True, cls._loss_kind)
        est.partial_fit(X, y)
        assert est.n_iter_ == n and len(est.loss_curve_) == n
        assert est.intercept_ == w0
        np.testing.assert_array_equal(est.coef_, w)
        np.testing.assert_array_equal(est.factors_, V)
        assert est.loss_curve_[-1] == pytest.approx(total / len(y), rel=1e-12)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_verbose_shows_a_progress_bar_with_the_loss(cls, capsys):
    X, y = _data_for(cls, n=50, d=4)
    est = cls(n_factors=2, n_epochs=3, learning_rate=0.02, verbose=True, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert cls.__name__ in err
    assert "3/3" in err
    assert f"loss={est.loss_curve_[-1]:.4g}" in err
    est.set_params(early_stopping=True).fit(X, y)
    err = capsys.readouterr().err
    assert f"val_loss={est.validation_loss_curve_[-1]:.4g}" in err
    est.set_params(verbose=False).fit(X, y)
    assert capsys.readouterr().err == ""


# =============================================================================
# What an FM can learn and a linear model cannot
# =============================================================================


def test_regressor_learns_a_planted_pairwise_interaction():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4000, 6))
    y = X[:, 0] * X[:, 1] + 0.1 * rng.normal(size=4000)
    X_train, X_test, y_train, y_test = X[:3000], X[3000:], y[:3000], y[3000:]
    fm = FMRegressor(n_factors=4, n_epochs=20, learning_rate=0.01, random_state=0)
    fm.fit(X_train, y_train)
    linear = LinearRegression().fit(X_train, y_train)
    assert fm.score(X_test, y_test) > 0.9
    assert linear.score(X_test, y_test) < 0.1
    # The interaction sits in <V_0, V_1>, and no other pair is strong.
    G = fm.factors_ @ fm.factors_.T
    assert G[0, 1] == pytest.approx(1.0, abs=0.15)
    off = np.abs(G[np.triu_indices(6, 1)])
    assert np.sort(off)[-2] < 0.15


def test_regressor_learns_low_rank_ratings_from_one_hot_pairs():
    rng = np.random.default_rng(0)
    n_users, n_items, rank = 60, 50, 2
    U = rng.normal(size=(n_users, rank))
    V = rng.normal(size=(n_items, rank))
    pairs = np.array([(u, i) for u in range(n_users) for i in range(n_items)])
    pairs = pairs[rng.random(len(pairs)) < 0.4]
    n = len(pairs)
    X = sp.csr_matrix((np.ones(2 * n), (np.repeat(np.arange(n), 2),
                                        np.c_[pairs[:, 0], n_users + pairs[:, 1]].ravel())),
                      shape=(n, n_users + n_items))
    y = np.sum(U[pairs[:, 0]] * V[pairs[:, 1]], axis=1) + 0.1 * rng.normal(size=n)
    train = rng.random(n) < 0.8
    fm = FMRegressor(n_factors=4, n_epochs=50, learning_rate=0.05, random_state=0)
    fm.fit(X[train], y[train])
    biases_only = Ridge(alpha=1.0).fit(X[train], y[train])
    assert fm.score(X[~train], y[~train]) > 0.9
    assert biases_only.score(X[~train], y[~train]) < 0.1


# =============================================================================
# The book's result: SMS spam
# =============================================================================


def test_sms_spam_default_classifier(sms_experiment):
    exp = sms_experiment
    assert exp.X_train.shape[0] + exp.X_test.shape[0] == 5574
    clf = FMClassifier(random_state=0)
    assert (clf.n_factors, clf.n_epochs, clf.learning_rate, clf.reg_linear,
            clf.reg_factors) == (10, 30, 0.1, 0.01, 0.01)
    clf.fit(exp.X_train, exp.y_train)
    proba = clf.predict_proba(exp.X_test)[:, 1]
    assert roc_auc_score(exp.y_test, proba) >= 0.995
    assert log_loss(exp.y_test, proba) < 0.10


@pytest.mark.parametrize("random_state", [1, 2, 3])
def test_sms_spam_result_is_not_luck(sms_experiment, random_state):
    exp = sms_experiment
    clf = FMClassifier(random_state=random_state).fit(exp.X_train, exp.y_train)
    proba = clf.predict_proba(exp.X_test)[:, 1]
    assert roc_auc_score(exp.y_test, proba) >= 0.995
    assert log_loss(exp.y_test, proba) < 0.10


# =============================================================================
# Prediction at scale
# =============================================================================


@pytest.fixture(scope="module")
def large_sparse():
    rng = np.random.default_rng(0)
    n, d, per_row = 200_000, 100_000, 20
    X = sp.csr_matrix(
        (rng.random(n * per_row), rng.integers(0, d, n * per_row).astype(np.int32),
         np.arange(0, n * per_row + 1, per_row)),
        shape=(n, d),
    )
    X.sum_duplicates()  # canonical, as a vectorizer would produce
    return X


def test_predict_on_a_large_sparse_matrix_allocates_no_dense_array(large_sparse):
    X = large_sparse
    n, d = X.shape
    rng = np.random.default_rng(1)
    clf = FMClassifier(n_factors=8, n_epochs=1, random_state=0)
    clf.fit(X[:5000], rng.integers(0, 2, 5000))
    clf.predict_proba(X[:10])  # compiled already; nothing left to warm up
    tracemalloc.start()
    try:
        proba = clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert proba.shape == (n, 2)
    # A dense X would be n * d * 8 = 160 GB. Allow a few length-n vectors,
    # but not even one copy of X's own arrays (data + indices = 48 MB).
    copy_of_X = X.data.nbytes + X.indices.nbytes
    assert peak < 0.8 * copy_of_X
    assert peak < 1e-3 * n * d * 8
    rows = rng.choice(n, 500, replace=False)
    np.testing.assert_allclose(
        proba[rows, 1],
        sigmoid(fm_predict(X[rows], clf.intercept_, clf.coef_, clf.factors_)),
        rtol=1e-12, atol=1e-15,
    )


@pytest.mark.parametrize("name", ["n_factors", "n_epochs", "n_iter_no_change"])
def test_bool_is_not_accepted_as_a_count(name):
    X = np.eye(4)
    with pytest.raises(TypeError, match=f"{name} must be an int"):
        FMClassifier(**{name: True}).fit(X, [0, 1, 0, 1])
