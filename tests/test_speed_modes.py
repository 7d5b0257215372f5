"""Block-shuffled epochs, threaded prediction, Hogwild SGD epochs (n_jobs),
and the lazy ``import fmlib`` (issue 15)."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

from fmlib import FMClassifier, FMRegressor, _kernels, _order, _parallel
from fmlib.reference import fm_predict
from subprocess_support import assert_ran_cleanly, run_python


def _sparse_problem(n_rows=3000, n_features=400, nnz_per_row=8, seed=0):
    """Sparse rows with a planted FM signal: labels (0/1) and targets."""
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, n_features, size=(n_rows, nnz_per_row))
    rows = np.repeat(np.arange(n_rows), nnz_per_row)
    X = sp.csr_matrix((rng.uniform(0.2, 1.0, rows.size), (rows, cols.ravel())),
                      shape=(n_rows, n_features))
    X.sum_duplicates()
    w = rng.normal(0, 1, n_features)
    V = rng.normal(0, 0.5, (n_features, 3))
    XV = X @ V
    score = X @ w + 0.5 * ((XV**2).sum(1) - (X.multiply(X) @ (V**2)).sum(1))
    score = np.asarray(score).ravel()
    target = score - score.mean()
    labels = (target + rng.logistic(size=n_rows) > 0).astype(int)
    return X, labels, target


# ------------------------------------------------------------ block order
def _reference_block_order(rows, block_perm, block_size, keys):
    """The block order in plain NumPy/Python, written from its definition."""
    out = []
    for b in block_perm:
        block = list(rows[b * block_size:(b + 1) * block_size])
        offset = len(out)
        for t in range(len(block) - 1, 0, -1):  # Fisher-Yates from the last entry
            s = min(int(keys[offset + t] * (t + 1)), t)
            block[t], block[s] = block[s], block[t]
        out.extend(block)
    return np.array(out)


@pytest.mark.parametrize("n_rows", [1, 63, 64, 65, 1000])
def test_fill_block_order_matches_reference(n_rows):
    rng = np.random.RandomState(n_rows)
    rows = np.sort(rng.choice(5 * n_rows, n_rows, replace=False)).astype(np.int64)
    n_blocks = -(-n_rows // 64)
    block_perm = rng.permutation(n_blocks).astype(np.int64)
    keys = rng.random_sample(n_rows)
    order = np.empty(n_rows, dtype=np.int64)
    _kernels.fill_block_order(rows, block_perm, 64, keys, order)
    np.testing.assert_array_equal(order, _reference_block_order(rows, block_perm, 64, keys))


def test_block_order_is_a_permutation_of_blocks_new_every_epoch_and_seed():
    rows = np.arange(1000)
    rng = np.random.RandomState(0)
    orders = [_order.block_shuffled(rows, rng) for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), rows)  # every row once
        # each block of 64 consecutive rows occupies consecutive positions:
        # 16 runs of one block number, one run per block
        starts = np.flatnonzero(np.diff(order // 64) != 0) + 1
        blocks = np.split(order, starts)
        assert len(blocks) == 16 and all(len(set(b // 64)) == 1 for b in blocks)
        assert any(not np.array_equal(b, np.sort(b)) for b in blocks)  # shuffled within
        assert not np.array_equal(np.unique(order // 64, return_index=True)[1],
                                  np.arange(16) * 64)  # blocks not in stored order
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    other_seed = _order.block_shuffled(rows, np.random.RandomState(1))
    assert not np.array_equal(orders[0], other_seed)
    again = _order.block_shuffled(rows, np.random.RandomState(0))
    np.testing.assert_array_equal(orders[0], again)


def test_shuffle_true_is_rows_below_8_mib_and_blocks_above():
    X_small = sp.random(50, 100, density=0.1, format="csr", random_state=0)
    assert _order.resolve_shuffle(True, X_small, np.zeros((100, 10))) == "rows"
    n_features = _kernels.PREFETCH_MIN_BYTES // (8 * 10) + 1
    X_wide = sp.csr_matrix((np.ones(3), ([0, 1, 2], [0, 5, n_features - 1])),
                           shape=(3, n_features))
    assert _order.resolve_shuffle(True, X_wide, np.zeros((n_features, 10))) == "blocks"
    assert _order.resolve_shuffle(False, X_wide, np.zeros((n_features, 10))) is False
    assert _order.resolve_shuffle("rows", X_wide, np.zeros((n_features, 10))) == "rows"


@pytest.mark.parametrize("solver", ["sgd", "adagrad"])
def test_shuffle_true_on_small_data_is_the_per_row_order(solver):
    """The book's data are small: shuffle=True keeps their models bit for bit."""
    X, y, _ = _sparse_problem()
    a = FMClassifier(solver=solver, n_epochs=3, random_state=0).fit(X, y)
    b = FMClassifier(solver=solver, n_epochs=3, shuffle="rows", random_state=0).fit(X, y)
    c = FMClassifier(solver=solver, n_epochs=3, shuffle="blocks", random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.factors_, b.factors_)
    assert a.intercept_ == b.intercept_
    assert not np.array_equal(a.factors_, c.factors_)


def test_block_order_reaches_the_loss_of_the_row_order():
    X, y, _ = _sparse_problem()
    finals = {}
    for shuffle in ("rows", "blocks"):
        finals[shuffle] = [FMClassifier(solver="sgd", n_epochs=20, shuffle=shuffle,
                                        random_state=seed).fit(X, y).loss_curve_[-1]
                           for seed in range(3)]
    spread = np.ptp(finals["rows"]) + 1e-3
    assert abs(np.mean(finals["blocks"]) - np.mean(finals["rows"])) < 3 * spread, finals


# ------------------------------------------------------------ n_jobs=1 is the old fit
@pytest.mark.parametrize("n_jobs", [None, 1])
def test_serial_sgd_fit_is_bit_identical_to_the_per_row_kernel_loop(n_jobs):
    """What fit computed before n_jobs existed: a permutation per epoch and
    ``_kernels.sgd_epoch``, written out by hand."""
    X, y, _ = _sparse_problem(n_rows=500)
    model = FMClassifier(solver="sgd", learning_rate=0.1, n_factors=4, n_epochs=3, random_state=7,
                         n_jobs=n_jobs).fit(X, y)
    rng = np.random.RandomState(7)
    V = np.ascontiguousarray(rng.normal(0.0, 0.1, size=(X.shape[1], 4)))
    w, w0 = np.zeros(X.shape[1]), 0.0
    rows = np.arange(X.shape[0])
    X = X.copy()
    X.sort_indices()
    for _ in range(3):
        w0, _, _ = _kernels.sgd_epoch(X.data, X.indptr, X.indices, y.astype(float),
                                      np.ones(len(y)), rng.permutation(rows), w0, w, V,
                                      0.1, 0.01, 0.01, True, _kernels.LOGISTIC, False)
    np.testing.assert_array_equal(model.factors_, V)
    np.testing.assert_array_equal(model.coef_, w)
    assert model.intercept_ == w0


def test_shared_intercept_kernel_on_one_thread_is_sgd_epoch():
    X, y, _ = _sparse_problem(n_rows=300)
    order = np.random.default_rng(0).permutation(300)
    V0 = np.random.default_rng(1).normal(0, 0.1, (X.shape[1], 5))
    results = []
    for shared in (False, True):
        w, V = np.zeros(X.shape[1]), V0.copy()
        args = (X.data, X.indptr, X.indices, y.astype(float), np.ones(300), order)
        rates = (0.1, 0.01, 0.02, True, _kernels.LOGISTIC, True)
        if shared:
            box = np.array([0.3])
            total, n_done = _kernels.sgd_epoch_shared(*args, box, w, V, *rates)
            w0 = box[0]
        else:
            w0, total, n_done = _kernels.sgd_epoch(*args, 0.3, w, V, *rates)
        results.append((w0, total, n_done, w, V))
    assert results[0][:3] == results[1][:3]
    np.testing.assert_array_equal(results[0][3], results[1][3])
    np.testing.assert_array_equal(results[0][4], results[1][4])


# ------------------------------------------------------------ parallel prediction
@pytest.fixture
def spy_parts(monkeypatch):
    """Record how many parts each threaded call was split into."""
    seen = []
    original = _parallel._run_parts

    def recording(task, parts):
        seen.append(len(parts))
        return original(task, parts)

    monkeypatch.setattr(_parallel, "_run_parts", recording)
    return seen


@pytest.mark.parametrize("force_prefetch", [False, True])
def test_parallel_predict_is_bit_identical_to_serial(spy_parts, monkeypatch, force_prefetch):
    X, y, target = _sparse_problem(n_rows=30_000, n_features=300)
    clf = FMClassifier(solver="sgd", n_factors=6, n_epochs=2, random_state=0).fit(X, y)
    reg = FMRegressor(n_factors=6, n_epochs=2, random_state=0).fit(X, target)
    if force_prefetch:
        monkeypatch.setattr(_kernels, "PREFETCH_MIN_BYTES", 0)
    serial = (clf.decision_function(X), clf.predict_proba(X), clf.predict(X), reg.predict(X))
    # the kernel over all rows at once, as prediction ran before n_jobs
    direct = np.empty(X.shape[0])
    Xs = X.copy()
    Xs.sort_indices()
    _kernels.predict(Xs.data, Xs.indptr, Xs.indices, clf.intercept_, clf.coef_, clf.factors_,
                     direct)
    np.testing.assert_array_equal(serial[0], direct)
    spy_parts.clear()
    for n_jobs in (2, 3, -1):
        clf.set_params(n_jobs=n_jobs)
        reg.set_params(n_jobs=n_jobs)
        parallel = (clf.decision_function(X), clf.predict_proba(X), clf.predict(X),
                    reg.predict(X))
        for a, b in zip(serial, parallel):
            np.testing.assert_array_equal(a, b)
    assert 2 in spy_parts and 3 in spy_parts  # rows really were split


def test_sliced_parallel_predict_is_bit_identical_and_equals_the_reference(spy_parts,
                                                                           monkeypatch):
    # a model of 40 factors read in three slices (the threshold forced to 0)
    X, y, _ = _sparse_problem(n_rows=25_000, n_features=300)
    rng = np.random.default_rng(3)
    clf = FMClassifier(n_factors=40)
    clf.classes_ = np.array([0, 1])
    clf.n_features_in_ = X.shape[1]
    clf.intercept_ = 0.3
    clf.coef_ = rng.normal(0.0, 0.1, X.shape[1])
    clf.factors_ = rng.normal(0.0, 0.1, (X.shape[1], 40))
    unsliced = clf.decision_function(X)
    monkeypatch.setattr(_kernels, "PREFETCH_MIN_BYTES", 0)
    assert _kernels.factor_slices(clf.factors_).shape[0] == 3
    serial = clf.decision_function(X)
    np.testing.assert_allclose(serial, unsliced, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(serial, fm_predict(X, clf.intercept_, clf.coef_, clf.factors_),
                               rtol=1e-10, atol=1e-10)
    spy_parts.clear()
    clf.set_params(n_jobs=2)
    np.testing.assert_array_equal(clf.decision_function(X), serial)
    assert 2 in spy_parts


def test_small_inputs_predict_and_train_on_one_thread(spy_parts):
    X, y, _ = _sparse_problem(n_rows=200)
    clf = FMClassifier(n_epochs=2, random_state=0, n_jobs=2).fit(X, y)
    spy_parts.clear()
    clf.predict(X)
    assert spy_parts == [1]
    serial = FMClassifier(solver="sgd", n_epochs=2, random_state=0).fit(X, y)
    threaded = FMClassifier(solver="sgd", n_epochs=2, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.factors_, threaded.factors_)


# ------------------------------------------------------------ Hogwild training
def test_hogwild_fit_reaches_the_serial_loss(spy_parts):
    """Hogwild is not reproducible, so compare means over seeds, on a problem
    where SGD gets close to the planted model (final loss about 0.004 from
    about 1; measured means 0.0038 on one thread, 0.0039 and 0.0041 in two
    runs on two threads)."""
    X, _, target = _sparse_problem(n_rows=20_000, n_features=500)
    losses, scores = {1: [], 2: []}, {1: [], 2: []}
    for seed in range(3):
        for n_jobs in (1, 2):
            spy_parts.clear()
            model = FMRegressor(solver="sgd", n_factors=4, n_epochs=10, learning_rate=0.05,
                                random_state=seed, n_jobs=n_jobs).fit(X, target)
            if n_jobs == 2:
                assert spy_parts == [2] * 10  # every epoch ran on two threads
                assert model.loss_curve_[-1] < 0.02 * model.loss_curve_[0]  # it learns
            losses[n_jobs].append(model.loss_curve_[-1])
            scores[n_jobs].append(model.score(X, target))
    assert np.mean(losses[2]) == pytest.approx(np.mean(losses[1]), rel=0.25), losses
    np.testing.assert_allclose(scores[2], scores[1], atol=0.02)


def test_hogwild_divergence_keeps_the_previous_model(spy_parts):
    X, _, target = _sparse_problem(n_rows=20_000)
    model = FMRegressor(solver="sgd", n_epochs=2, learning_rate=0.01, random_state=0,
                        n_jobs=2).fit(X, target)
    before = model.factors_.copy()
    from fmlib import DivergenceError

    with pytest.raises(DivergenceError):
        model.set_params(warm_start=True, learning_rate=50.0).fit(X, 1e6 * target)
    np.testing.assert_array_equal(model.factors_, before)
    assert spy_parts[-1] == 2


# ------------------------------------------------------------ validation
@pytest.mark.parametrize("n_jobs, error, match", [
    (0, ValueError, "n_jobs=0 runs nothing"),
    (1.5, TypeError, "n_jobs must be None or an int"),
    ("2", TypeError, "n_jobs must be None or an int"),
    (True, TypeError, "n_jobs must be None or an int"),
])
def test_n_jobs_is_validated_in_fit_and_predict(n_jobs, error, match):
    X, y, _ = _sparse_problem(n_rows=100)
    with pytest.raises(error, match=match):
        FMClassifier(n_jobs=n_jobs).fit(X, y)
    model = FMClassifier(n_epochs=1, random_state=0).fit(X, y)
    model.n_jobs = n_jobs
    with pytest.raises(error, match=match):
        model.predict(X)


@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (1, 1), (2, 2), (-1, "all"),
                                              (-100, 1)])
def test_effective_n_jobs_follows_scikit_learns_convention(n_jobs, expected):
    if not _parallel.JIT_ENABLED:
        pytest.skip("without Numba everything runs on one thread")
    expected = _parallel._n_cpus() if expected == "all" else expected
    assert _parallel.effective_n_jobs(n_jobs) == expected


@pytest.mark.parametrize("shuffle", ["random", "Blocks", None, 1])
def test_shuffle_values_are_validated(shuffle):
    X, y, _ = _sparse_problem(n_rows=100)
    with pytest.raises(TypeError, match="shuffle must be True or False, or one of"):
        FMClassifier(solver="sgd", shuffle=shuffle).fit(X, y)


# ------------------------------------------------------------ lazy import
def test_import_fmlib_loads_neither_sklearn_nor_numba_until_used():
    proc = run_python("""
        import json, sys
        import fmlib
        loaded = sorted({m.partition(".")[0] for m in sys.modules} & {"sklearn", "numba", "pandas", "scipy"})
        from fmlib import FMClassifier
        after = "sklearn" in sys.modules
        print(json.dumps({"loaded": loaded, "after": after,
                          "datasets": fmlib.datasets.__name__,
                          "estimator": FMClassifier.__module__,
                          "sigmoid": fmlib.sigmoid(0.0),
                          "dir": "FMRegressor" in dir(fmlib)}))
    """)
    assert_ran_cleanly(proc)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"loaded": [], "after": True, "datasets": "fmlib.datasets",
                      "estimator": "fmlib.estimators", "sigmoid": 0.5, "dir": True}


def test_block_order_and_n_jobs_work_with_plain_python_kernels():
    """Without Numba the block order is computed by the same code as plain
    Python (same order), and n_jobs falls back to one thread."""
    proc = run_python("""
        import json, warnings
        import numpy as np, scipy.sparse as sp
        warnings.simplefilter("ignore")
        from fmlib import FMClassifier, _order, _parallel
        order = _order.block_shuffled(np.arange(300), np.random.RandomState(3))
        X = sp.random(200, 30, density=0.2, format="csr", random_state=0)
        y = np.arange(200) % 2
        model = FMClassifier(solver="sgd", n_factors=2, n_epochs=2, shuffle="blocks",
                             random_state=0, n_jobs=2).fit(X, y)
        print(json.dumps({"order": order.tolist(), "threads": _parallel.effective_n_jobs(-1),
                          "finite": bool(np.isfinite(model.predict_proba(X)).all())}))
    """, env={"NUMBA_DISABLE_JIT": "1"})
    assert_ran_cleanly(proc)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    compiled = _order.block_shuffled(np.arange(300), np.random.RandomState(3))
    assert result == {"order": compiled.tolist(), "threads": 1, "finite": True}
