"""Issue 10, kind 3: no silent NaN and no absurd model. Inputs or settings
that would give one raise a clear error (or, for stored zeros, are handled)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from fmlib import DivergenceError, FMClassifier, FMRegressor, _validation

ESTIMATORS = [FMClassifier, FMRegressor]


def _data(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("value", [1e160, -1e200, 1.4e154])
def test_predict_on_huge_finite_inputs_raises_instead_of_nan(value):
    X, y = _data()
    clf = FMClassifier(n_epochs=2, random_state=0).fit(X, y)
    X_huge = np.full((2, 5), value)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(ValueError, match=r"X contains a value of magnitude .*Scale"):
            getattr(clf, method)(X_huge)
    reg = FMRegressor(n_epochs=2, learning_rate=0.02, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X contains a value of magnitude"):
        reg.predict(sp.csr_matrix(X_huge))


def test_fit_on_huge_finite_inputs_raises_naming_x():
    X, y = _data()
    X[3, 2] = 1e160
    with pytest.raises(ValueError, match=r"X contains a value of magnitude 1e\+160"):
        FMClassifier().fit(X, y)


def test_output_overflow_below_the_input_limit_is_an_error_not_nan():
    # Inputs small enough to square, but factors large enough that the
    # pairwise sum overflows: inf - inf would be NaN.
    X, y = _data()
    clf = FMClassifier(n_epochs=1, random_state=0).fit(X, y)
    clf.factors_ = np.full_like(clf.factors_, 1e10)
    X_big = np.full((3, 5), 1e150)
    with pytest.raises(ValueError, match=r"output is not finite for 3 of the 3 rows of X"):
        clf.predict_proba(X_big)
    # Large but representable outputs are answered, with no NaN.
    proba = clf.predict_proba(np.full((2, 5), 1e60))
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("reg_name", ["reg_linear", "reg_factors"])
@pytest.mark.parametrize("learning_rate, reg", [(10.0, 0.1), (2.0, 1.0), (0.5, 4.0)])
def test_shrink_factor_of_zero_or_less_is_rejected(cls, reg_name, learning_rate, reg):
    X, y = _data()
    # plain SGD shrinks by 1 - learning_rate * reg at every step
    est = cls(solver="sgd", learning_rate=learning_rate, **{reg_name: reg})
    with pytest.raises(ValueError, match=rf"learning_rate \* {reg_name} = .* must be below 1"):
        est.fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_shrink_factor_just_below_one_trains_without_exploding(cls):
    X, y = _data()
    est = cls(solver="sgd", learning_rate=0.01, reg_linear=99.0, reg_factors=99.0, n_epochs=20,
              random_state=0).fit(X, y)
    # shrinking by 0.01 per step keeps every parameter small
    assert np.abs(est.coef_).max() < 1.0 and np.abs(est.factors_).max() < 1.0


def test_finite_but_absurd_parameters_raise_divergence_error():
    # Targets of 1e60 drive the intercept past 1e50 with every number still
    # finite: that is divergence, not a model.
    X, _ = _data()
    with pytest.raises(DivergenceError, match="absurdly large"):
        FMRegressor(n_epochs=3, random_state=0).fit(X, np.full(40, 1e60))
    assert _validation.parameters_out_of_range(0.0, np.zeros(2), np.array([[np.nan]]))
    assert _validation.parameters_out_of_range(2e50, np.zeros(2), np.zeros((2, 1)))
    assert not _validation.parameters_out_of_range(1e49, np.ones(2), np.ones((2, 1)))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_explicit_zeros_are_dropped_and_the_input_is_untouched(cls):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(30, 6))
    dense[rng.random(dense.shape) < 0.5] = 0.0
    y = (dense[:, 0] > 0).astype(int)
    clean = sp.csr_matrix(dense)
    # the same matrix with stored zeros (explicitly kept entries with value 0)
    mask = np.ones_like(dense, dtype=bool)
    rows, cols = np.nonzero(mask)
    with_zeros = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    assert with_zeros.nnz == dense.size > clean.nnz
    nnz_before, data_before = with_zeros.nnz, with_zeros.data.copy()
    a = cls(n_epochs=3, learning_rate=0.02, random_state=0).fit(clean, y)
    b = cls(n_epochs=3, learning_rate=0.02, random_state=0).fit(with_zeros, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.factors_, b.factors_)
    np.testing.assert_array_equal(a.predict(with_zeros), a.predict(clean))
    assert with_zeros.nnz == nnz_before
    np.testing.assert_array_equal(with_zeros.data, data_before)


def test_duplicates_that_cancel_count_as_absent():
    X = sp.csr_matrix((np.array([1.0, -1.0, 2.0]), np.array([0, 0, 1]), np.array([0, 2, 3])),
                      shape=(2, 3))
    canonical = _validation.drop_explicit_zeros(X)
    assert canonical.nnz == 1 and X.nnz == 3
    np.testing.assert_array_equal(canonical.toarray(), [[0, 0, 0], [0, 2, 0]])


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("init_std", [1e-300, 1e-200, 5e-324])
def test_init_std_so_small_the_fm_is_linear_is_rejected(cls, init_std):
    X, y = _data()
    with pytest.raises(ValueError, match=r"init_std=.* is too small.*linear.*init_std around"):
        cls(init_std=init_std).fit(X, y)


def test_small_but_usable_init_std_is_accepted():
    # the book's "FM, no factors" uses 1e-12
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FMClassifier(init_std=1e-12, n_epochs=2, random_state=0).fit(X, y)


def test_factors_shrunk_to_exactly_zero_warn_that_the_model_is_linear():
    # A shrink factor of 1e-4 per step takes factors of 0.1 below the
    # smallest subnormal float within a few epochs.
    X = np.eye(4)
    with pytest.warns(UserWarning, match="All factors_ are zero.*linear"):
        est = FMRegressor(learning_rate=1.0, reg_factors=0.9999, n_epochs=120,
                          random_state=0).fit(X, [0.0, 1.0, 0.0, 1.0])
    assert not est.factors_.any()
