"""Issue 10, kind 4: every error names the parameter the user set and the fix."""

import numpy as np
import pandas as pd
import pytest

import fmlib.estimators as fm_estimators
from fmlib import FMClassifier, FMRegressor

ESTIMATORS = [FMClassifier, FMRegressor]


def _raises_without_test_size(match, call):
    with pytest.raises(ValueError, match=match) as info:
        call()
    text = str(info.value)
    assert "test_size" not in text and "train_size" not in text
    # nothing of scikit-learn's wording hides in the chained exceptions either
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert "validation_fraction" in text and "early_stopping" in text
    return text


def test_early_stopping_that_leaves_a_class_out_of_the_validation_split():
    X = np.eye(6)
    y = [0, 1, 0, 1, 0, 1]
    # 10% of 6 samples is one validation sample: it cannot hold both classes
    text = _raises_without_test_size(
        r"early_stopping=True holds out validation_fraction=0.1 of the 6 samples.*"
        r"each side needs a sample of each of the 2 classes",
        lambda: FMClassifier(early_stopping=True).fit(X, y))
    assert "set early_stopping=False" in text


def test_early_stopping_with_a_class_of_one_sample_names_that_class():
    X = np.eye(8)
    y = ["spam"] + ["ham"] * 7
    _raises_without_test_size(r"class 'spam' has only 1 sample",
                              lambda: FMClassifier(early_stopping=True,
                                                   validation_fraction=0.5).fit(X, y))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("n_samples, fraction", [(4, 0.8), (3, 0.99), (10, 0.999)])
def test_early_stopping_that_leaves_no_training_sample(cls, n_samples, fraction):
    X = np.random.default_rng(0).normal(size=(n_samples, 3))
    y = np.arange(n_samples) % 2
    _raises_without_test_size(r"leaves 0 for training",
                              lambda: cls(early_stopping=True,
                                          validation_fraction=fraction).fit(X, y))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_early_stopping_whose_validation_part_has_no_weight(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    weights = np.zeros(40)
    weights[:2] = 1.0  # almost everything weighs nothing
    # Without the check: a ZeroDivisionError, or a DivergenceError advising a
    # smaller learning rate.
    for seed in range(5):
        try:
            cls(early_stopping=True, validation_fraction=0.5, random_state=seed,
                learning_rate=0.02).fit(X, y, sample_weight=weights)
        except ValueError as exc:
            assert "sample_weight 0" in str(exc) and "validation_fraction" in str(exc)
            break
    else:
        pytest.fail("no split put both weighted samples on one side")


def test_other_split_errors_are_reworded(monkeypatch):
    def failing_split(*args, **kwargs):
        raise ValueError("test_size=0.3 should be smaller than the number of samples")

    monkeypatch.setattr(fm_estimators, "train_test_split", failing_split)
    text = _raises_without_test_size(
        r"cannot be split: validation_fraction=0.3 should be smaller",
        lambda: FMRegressor(early_stopping=True, validation_fraction=0.3).fit(np.eye(10),
                                                                              np.ones(10)))
    assert "test_size" not in text


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("weight", [2.0, 1, np.float64(0.5), np.array(3.0)])
def test_scalar_sample_weight_is_a_clear_error(cls, weight):
    X = np.eye(4)
    y = [0, 1, 0, 1]
    with pytest.raises(ValueError, match=r"sample_weight must be an array with one weight per "
                                         r"sample, of shape \(4,\); got the scalar.*sample_weight=None"):
        cls().fit(X, y, sample_weight=weight)
    extra = {"classes": [0, 1]} if cls is FMClassifier else {}
    with pytest.raises(ValueError, match="got the scalar"):
        cls().partial_fit(X, y, sample_weight=weight, **extra)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("n_factors", [2**63, 2**62, 10**15])
def test_absurd_n_factors_is_refused_before_allocating(cls, n_factors):
    with pytest.raises(ValueError, match=rf"n_factors={n_factors} with 4 features needs a "
                                         r"factor matrix of .* bytes.*smaller n_factors"):
        cls(n_factors=n_factors).fit(np.eye(4), [0, 1, 0, 1])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_with_a_new_feature_count_does_what_the_docstring_says(cls):
    doc = cls.__doc__
    assert "must then have the features of the previous" in doc and "ValueError" in doc
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    est = cls(warm_start=True, n_epochs=2, learning_rate=0.02, random_state=0).fit(X, y)
    before = est.coef_.copy()
    X_wide = rng.normal(size=(30, 6))
    with pytest.raises(ValueError, match=r"warm_start=True continues the previous fit, which "
                                         r"had 4 features, but X has 6\. Set warm_start=False"):
        est.fit(X_wide, y)
    np.testing.assert_array_equal(est.coef_, before)
    assert est.n_features_in_ == 4
    # as the message says: warm_start=False starts afresh on the new features
    est.set_params(warm_start=False).fit(X_wide, y)
    assert est.n_features_in_ == est.coef_.shape[0] == 6


def test_warm_start_with_renamed_dataframe_columns_is_refused():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    y = rng.normal(size=30)
    est = FMRegressor(warm_start=True, n_epochs=1, learning_rate=0.02, random_state=0)
    est.fit(frame, y)
    with pytest.raises(ValueError, match="other feature names"):
        est.fit(frame.rename(columns={"c": "z"}), y)
    est.fit(frame, y)  # the same columns continue
    assert est.n_iter_ == 2
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
