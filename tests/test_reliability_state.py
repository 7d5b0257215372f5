"""Issue 10, kind 2: an interrupted, failed or concurrent fit never leaves the
estimator inconsistent, and no kernel runs on arrays that disagree with X
(which also protects unpickled or edited models)."""

import pickle

import numpy as np
import pytest
from subprocess_support import assert_ran_cleanly, run_python

from fmlib import FMClassifier, FMRegressor, _adagrad, _als, _kernels

ESTIMATORS = [FMClassifier, FMRegressor]
# the kernel that runs one epoch (one sweep) of each solver
EPOCH_KERNELS = {"sgd": (_kernels, "sgd_epoch"), "adagrad": (_adagrad, "adagrad_epoch"),
                 "als": (_als, "als_sweep")}


def _data(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


def _fitted_attrs(est):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v)
            for k, v in vars(est).items() if k.endswith("_")}


def _assert_same_attrs(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k])
        else:
            assert a[k] == b[k], k


def _interrupt_on_call(monkeypatch, n_call, solver, exc=KeyboardInterrupt):
    """Make the n-th epoch kernel call of ``solver`` raise ``exc`` (as Ctrl-C would)."""
    module, name = EPOCH_KERNELS[solver]
    real = getattr(module, name)
    calls = []

    def epoch(*args):
        calls.append(1)
        if len(calls) == n_call:
            raise exc()
        return real(*args)

    monkeypatch.setattr(module, name, epoch)


@pytest.mark.parametrize("solver", list(EPOCH_KERNELS))
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("how", ["fit", "warm_start", "partial_fit", "wider_refit"])
def test_keyboard_interrupt_restores_the_previous_model(cls, how, solver, monkeypatch):
    X, y = _data()
    est = cls(solver=solver, n_epochs=3, learning_rate=0.02, random_state=0).fit(X, y)
    before = _fitted_attrs(est)
    prediction = est.predict(X)
    _interrupt_on_call(monkeypatch, 2, solver)
    with pytest.raises(KeyboardInterrupt):
        if how == "partial_fit":
            est.partial_fit(X, y)
            est.partial_fit(X, y)  # the second epoch is interrupted
        elif how == "wider_refit":
            X_wide, y_wide = _data(d=9, seed=1)
            est.fit(X_wide, y_wide)
        else:
            est.set_params(warm_start=how == "warm_start").fit(X, y)
    if how != "partial_fit":
        _assert_same_attrs(_fitted_attrs(est), before)
    monkeypatch.undo()
    assert est.n_features_in_ == est.coef_.shape[0] == est.factors_.shape[0] == 5
    if how != "partial_fit":
        np.testing.assert_array_equal(est.predict(X), prediction)
    est.partial_fit(X, y)  # still usable


@pytest.mark.parametrize("solver", list(EPOCH_KERNELS))
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_interrupted_first_fit_leaves_no_fitted_attribute(cls, solver, monkeypatch):
    X, y = _data()
    _interrupt_on_call(monkeypatch, 1, solver)
    est = cls(solver=solver, n_epochs=2)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not [k for k in vars(est) if k.endswith("_")]


@pytest.mark.parametrize("solver", list(EPOCH_KERNELS))
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_input_contract_changes_only_with_the_parameters(cls, solver, monkeypatch):
    # While the new fit trains, n_features_in_ and classes_ still describe the
    # model that is kept: a predict from elsewhere meanwhile stays consistent.
    X, y = _data(d=5)
    est = cls(solver=solver, n_epochs=2, learning_rate=0.02, random_state=0).fit(X, y)
    X_wide, _ = _data(d=9, seed=1)
    y_named = np.where(X_wide[:, 0] > 0, "b", "a")
    seen = []
    module, name = EPOCH_KERNELS[solver]
    real = getattr(module, name)

    def epoch(*args):
        seen.append((est.n_features_in_, getattr(est, "classes_", None), est.coef_.shape[0]))
        return real(*args)

    monkeypatch.setattr(module, name, epoch)
    est.fit(X_wide, y_named if cls is FMClassifier else X_wide[:, 0])
    assert seen and all(s[0] == 5 and s[2] == 5 for s in seen)
    if cls is FMClassifier:
        assert all(list(s[1]) == [0, 1] for s in seen)
        assert list(est.classes_) == ["a", "b"]
    assert est.n_features_in_ == est.coef_.shape[0] == 9


# Each case edits a fitted model the way a user or a bad file could; every
# method must answer with a ValueError, never read or write out of bounds.
_EDITED_CHILD = r'''
import json, pickle
import numpy as np
from fmlib import FMClassifier, FMRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 5)); y = (X[:, 0] > 0).astype(int)
EDITS = {
    "coef_too_short": lambda m: setattr(m, "coef_", np.zeros(2)),
    "coef_too_long": lambda m: setattr(m, "coef_", np.zeros(10_000)),
    "factors_too_few_rows": lambda m: setattr(m, "factors_", np.zeros((2, 3))),
    "factors_1d": lambda m: setattr(m, "factors_", np.zeros(5)),
    "factors_zero_columns": lambda m: setattr(m, "factors_", np.zeros((5, 0))),
    "factors_float32": lambda m: setattr(m, "factors_", m.factors_.astype(np.float32)),
    "factors_fortran": lambda m: setattr(m, "factors_", np.asfortranarray(np.zeros((5, 3)))),
    "coef_list": lambda m: setattr(m, "coef_", [0.0] * 5),
    "coef_strided": lambda m: setattr(m, "coef_", np.zeros(10)[::2]),
    "intercept_nan": lambda m: setattr(m, "intercept_", float("nan")),
    "intercept_array": lambda m: setattr(m, "intercept_", np.zeros(3)),
    "n_features_in_edited": lambda m: setattr(m, "n_features_in_", 7),
}
report = []
for cls in (FMClassifier, FMRegressor):
    for edit_name, edit in EDITS.items():
        for via_pickle in (False, True):
            model = cls(n_factors=3, n_epochs=1, random_state=0).fit(X, y)
            edit(model)
            if via_pickle:
                model = pickle.loads(pickle.dumps(model))
            calls = {"predict": lambda: model.predict(X),
                     "partial_fit": lambda: model.partial_fit(X, y)}
            if cls is FMClassifier:
                calls["predict_proba"] = lambda: model.predict_proba(X)
            calls["warm_fit"] = lambda: model.set_params(warm_start=True).fit(X, y)  # last: may refit
            for name, call in calls.items():
                try:
                    call()
                    outcome = "ok"
                except ValueError as exc:
                    outcome = "ValueError"
                except BaseException as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                report.append([cls.__name__, edit_name, via_pickle, name, outcome])
print(json.dumps(report))
'''


def test_edited_or_unpickled_models_raise_value_error_never_crash():
    proc = run_python(_EDITED_CHILD)
    assert_ran_cleanly(proc)
    import json

    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report) == 2 * 12 * 2 * 3 + 12 * 2
    # A warm-started fit may legitimately start afresh after n_factors-like
    # edits; predict and partial_fit have to refuse every edit.
    # Pickling a strided coef_ stores a contiguous copy: a valid model again.
    bad = [r for r in report if r[3] != "warm_fit" and r[4] != "ValueError"
           and not (r[1] == "coef_strided" and r[2])]
    assert not bad, bad
    crashed = [r for r in report if r[4] not in ("ok", "ValueError")]
    assert not crashed, crashed


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_edited_coef_names_the_attribute_and_the_fix(cls):
    X, y = _data()
    model = cls(n_epochs=1, random_state=0).fit(X, y)
    model.coef_ = np.zeros(3)
    with pytest.raises(ValueError, match=r"coef_ has 3 weights, but X has 5 features.*Fit"):
        model.predict(X)
    restored = pickle.loads(pickle.dumps(model))
    with pytest.raises(ValueError, match="coef_"):
        restored.partial_fit(X, y)


_THREADS_CHILD = r'''
import threading, sys
import numpy as np
from fmlib import FMClassifier, FMRegressor

rng = np.random.default_rng(0)
datasets = []
for d in (3, 8, 5):
    X = rng.normal(size=(60, d))
    datasets.append((X, (X[:, 0] > 0).astype(int)))
unexpected = []
for cls in (FMClassifier, FMRegressor):
    est = cls(n_factors=4, n_epochs=3, learning_rate=0.02, random_state=0)
    est.fit(*datasets[0])
    def fitter(i):
        for it in range(15):
            X, y = datasets[(i + it) % 3]
            try:
                if it % 3 == 2:
                    est.partial_fit(X, y)
                else:
                    est.set_params(warm_start=bool(it % 2)).fit(X, y)
            except ValueError:
                pass  # another thread changed the feature count meanwhile
            except BaseException as exc:
                unexpected.append(repr(exc))
    def predictor():
        for it in range(60):
            X, _ = datasets[it % 3]
            try:
                est.predict(X)
            except ValueError:
                pass
            except BaseException as exc:
                unexpected.append(repr(exc))
    threads = [threading.Thread(target=fitter, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=predictor))
    for t in threads: t.start()
    for t in threads: t.join()
    # last writer wins, but the winner is a whole model
    assert est.coef_.shape[0] == est.factors_.shape[0] == est.n_features_in_, vars(est)
    X = next(X for X, _ in datasets if X.shape[1] == est.n_features_in_)
    assert np.isfinite(est.predict(X).astype(float)).all()
print("unexpected:", unexpected)
sys.exit(1 if unexpected else 0)
'''


def test_threads_fitting_and_predicting_one_estimator_never_crash():
    proc = run_python(_THREADS_CHILD)
    assert_ran_cleanly(proc)
