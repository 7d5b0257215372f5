"""scikit-learn estimators for factorization machines, trained by coordinate
descent (ALS) or by SGD with a constant or an AdaGrad step."""

import copy
import functools
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state, check_scalar
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm import tqdm

from . import _adagrad, _als, _kernels, _order, _parallel, _validation
from .reference import logistic_loss, sigmoid, squared_loss

__all__ = ["FMClassifier", "FMRegressor", "DivergenceError"]


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or parameter.

    Raised by ``fit`` and ``partial_fit``; the estimator keeps the parameters
    it had before the call, so no NaN ever reaches a prediction.
    """


def _unchanged_on_error(method):
    """Make a fit method leave every fitted attribute (``name_``) as it was
    when it raises (DivergenceError, or a ValueError found after the input
    validation has already reset ``n_features_in_`` or ``classes_``): those
    must keep matching the parameters that are kept, or the compiled
    prediction would read past the end of ``coef_``. Any exception counts,
    KeyboardInterrupt included (Ctrl-C during a long fit)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        # one C-level copy: another thread's fit cannot change it half-way
        saved = {k: v for k, v in dict(vars(self)).items() if k.endswith("_")}
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            for k in [k for k in list(vars(self)) if k.endswith("_") and k not in saved]:
                vars(self).pop(k, None)
            vars(self).update(saved)
            raise

    return wrapper


_SOLVERS = ("als", "adagrad", "sgd")

# learning_rate="auto": the step of "adagrad", and of "sgd" on rows divided by
# their largest norm (the step the book derives for L2-normalised rows)
AUTO_LEARNING_RATE = 0.1
# slack around 1 within which a scale of "auto" counts as 1 (rounding)
ROW_NORM_ROUNDING = 1e-9


_COMMON_PARAMS_DOC = """
    n_factors : int, default=10
        Dimension ``k`` of the latent factor vectors.
    n_epochs : int, default=30
        Number of passes over the training data (the maximum, with early
        stopping): epochs for the SGD solvers, sweeps for ``"als"``.
    solver : {"als", "adagrad", "sgd"}, default="als"
        How the parameters are fitted.

        - ``"als"``: coordinate descent after Rendle et al. (SIGIR 2011) and
          libFM. Each parameter enters the model linearly, so with all others
          fixed the squared loss has a closed-form minimum in it; for the log
          loss one Newton step is taken with the curvature bounded by 1/4, a
          step that never increases the objective (see ``fmlib._als``). A
          sweep visits every parameter once and costs ``O(k nnz)``. No learning rate (``learning_rate`` and
          ``shuffle`` are ignored), sample weights are exact (a weight of 2
          is the sample twice), and a coordinate's step does not depend on
          the features' scale. ``partial_fit`` runs one sweep on the batch.
        - ``"adagrad"``: SGD with a per-coordinate AdaGrad step
          ``learning_rate * g / sqrt(sum of past g**2)``, which never moves a
          parameter by more than ``learning_rate`` per sample.
        - ``"sgd"``: plain SGD with a constant step, the algorithm the book
          derives. The change a step makes grows with the square of the
          features' scale (and, for the squared loss, with the residual),
          so a fixed ``learning_rate`` can diverge on unscaled data
          (``DivergenceError``); the default ``learning_rate="auto"`` takes
          a constant step fitted to the data's scale instead.

        ``"als"`` is the default because it fits unscaled real data out of
        the box. On scikit-learn's bundled data sets, unscaled (breast
        cancer, wine and digits reduced to two classes, diabetes with
        ``scaled=False``; 70/30 split, ``random_state=0``), ``"sgd"``
        diverges on all four with ``learning_rate=0.1``; with ``"auto"`` it
        stays finite but lags (accuracy 0.78, 0.82, 0.96 against
        ``LogisticRegression``'s 0.93, 0.97, 1.00; R^2 0.04 against
        ``Ridge``'s 0.39): one step for all features, set by the largest
        row, is small for the features of small scale. ``"adagrad"`` stays finite and is close to
        ``LogisticRegression`` on the three classification sets but far
        behind ``Ridge`` on diabetes (held-out R^2 -0.26 against 0.39: steps
        of at most ``learning_rate`` do not reach an intercept of about 150
        in 30 epochs); ``"als"`` is within 0.05 of the linear models on all
        four (accuracy 0.94, 1.00, 0.99 against 0.93, 0.97, 1.00; R^2 0.36
        against 0.39). See ``tests/test_solvers.py``.
    learning_rate : "auto" or float, default="auto"
        Step size of the SGD solvers: the constant step of ``"sgd"``, the
        largest per-coordinate step of ``"adagrad"``. Ignored by ``"als"``.
        A number is used as given, whatever the data (the book's
        derivations pass one).

        ``"auto"`` is 0.1 for ``"adagrad"`` (its steps are bounded by it
        whatever the scale). For ``"sgd"`` it is still one constant step
        for the whole fit, chosen from the training data as scikit-learn's
        SAG solver chooses its step from the largest squared row norm: SGD
        runs with the step 0.1 on ``X / s`` and, for the regressor,
        ``y / t``, where ``s`` is the largest row norm ``|x_i|`` (of the
        rows of positive ``sample_weight``) and ``t`` the root mean square
        of ``y`` (weighted by ``sample_weight``); a scale within 1e-9 of 1
        counts as 1; the parameters are mapped back, so the fitted model predicts on
        the original ``X`` and ``y``. Why: the FM is unchanged by
        ``x -> x / s, w -> w * s, V -> V * s``, under which a step 0.1 on
        ``X / s`` is a step ``0.1 / s**2`` on ``w`` and ``V`` (the step for
        rows of norm up to 1, such as the L2-normalised TF-IDF rows the
        book derives 0.1 for), with the intercept, whose feature is always
        1, keeping the step 0.1; and the change a step makes in the factors
        grows with the residual, which dividing ``y`` by ``t`` (with
        ``w0, w -> w0 / t, w / t``, ``V -> V / sqrt(t)``) keeps of order 1
        without centring. In the units of ``X`` and ``y`` the steps are
        thus 0.1 on ``w0``, ``0.1 / s**2`` on ``w`` and ``0.1 / (s**2 t)``
        on ``V``, constant within a fit. Consequences: on rows of norm 1
        (and targets of
        root mean square 1) ``"auto"`` is exactly ``learning_rate=0.1``,
        bit for bit; the fit is invariant to multiplying ``X`` by a
        constant (and multiplying ``y`` multiplies the predictions);
        ``reg_linear``, ``reg_factors`` and ``init_std`` apply to the
        normalised ``X / s`` and ``y / t``; ``loss_curve_`` and early
        stopping's losses are in the units of ``y``. ``partial_fit`` keeps
        the ``s`` and ``t`` of its first call (or of ``fit``) for the
        calls that follow, so the step stays the same across a stream.
    reg_linear : float, default=0.01
        L2 penalty on the linear weights ``coef_``, applied lazily as libFM
        does: an SGD step shrinks the weights of the features present in the
        sample by ``learning_rate * reg_linear * w``, and ALS minimises the
        matching objective, with the penalty ``reg_linear / 2 * c_j * w_j**2``
        where ``c_j`` is the total sample weight of the rows in which feature
        ``j`` is non-zero (see ``fmlib.reference.als_objective``). Zero
        disables it.
    reg_factors : float, default=0.01
        L2 penalty on ``factors_``, applied the same way.
    init_std : float, default=0.1
        Standard deviation of the normal distribution the factors are drawn
        from (the intercept and weights start at zero); with ``"sgd"`` and
        ``learning_rate="auto"`` the factors on ``X / s`` (so ``init_std / s``
        on ``X``, see ``learning_rate``). With ``"als"``, the
        factors of feature ``j`` are then divided by the root mean square of
        its non-zero values (sample-weighted), so that the start, like every
        ALS step, is the same on scaled and unscaled features; for binary
        features this changes nothing. Without it ALS spends its sweeps
        undoing pairwise terms of size ``init_std**2 * x_i * x_j``.
    fit_intercept : bool, default=True
        Whether to learn the intercept ``w0``; if False it stays 0.
    shuffle : bool or {"rows", "blocks"}, default=True
        The order in which the SGD solvers visit the samples in each epoch
        (ALS visits parameters, not samples; it ignores this).

        - ``"rows"``: a new uniformly random permutation of the samples.
        - ``"blocks"``: a new random order of blocks of 64 consecutive
          samples, each block in a new random order. Every sample is still
          visited once per epoch in an order that changes with every epoch
          and seed, but the rows of a block are adjacent in memory, which on
          data larger than the CPU caches makes an epoch faster: 1.45x at
          k = 10 on a 1,000,000 x 100,000 sparse matrix (CPU time,
          ``benchmarks/bench_sgd.py``). The trade-off: samples stay within
          64 positions of their neighbours in ``X``, so data sorted by class
          or by time get a less mixed order; shuffle those once before
          ``fit``.
        - ``True``: ``"blocks"`` when the epoch's working set (non-zeros of
          ``X``, ``coef_`` and ``factors_``) exceeds 8 MiB, else ``"rows"``
          (data in cache gain little from blocks: 1.06x at k = 10 and
          1.00x at k = 64 on the SMS training matrix). This
          depends on the data's size only, so a seed gives the same model on
          every machine; models of data below 8 MiB are those of ``"rows"``.
        - ``False``: the samples in their order in ``X``.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data and
        stop when its loss has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs. The parameters of the best
        epoch are kept.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping (stratified
        by class for the classifier).
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as improvement.
    warm_start : bool, default=False
        Whether ``fit`` starts from the parameters of the previous fit instead
        of a fresh start. ``X`` must then have the features of the previous
        fit (the same number, and the same names for a DataFrame), else
        ``fit`` raises ValueError; if ``n_factors`` was changed since, ``fit``
        starts afresh.
    random_state : int, RandomState instance or None, default=None
        Seeds the factor initialisation, the per-epoch shuffles and the
        validation split. An int gives bit-identical models on every fit. The
        global NumPy random state is never used.
    verbose : bool, default=False
        Whether to show a progress bar over the epochs with the current loss.
    n_jobs : int or None, default=None
        Number of threads (scikit-learn's convention: None and 1 mean one,
        -1 all cores, -2 all but one).

        - Prediction (``predict``, ``decision_function``, ``predict_proba``,
          ``score``): the rows are split over the threads; the output is
          bit-identical to one thread's. Used from 10,000 rows per thread.
          (Whatever ``n_jobs``, a model with 32 factors or more whose
          ``factors_`` take 8 MiB or more is read in slices of 16 factors,
          one pass over the rows per slice, from a temporary copy of
          ``factors_``: the slice a pass reads stays in cache.)
        - Training with ``solver="sgd"``: the epoch's order is cut into
          ``n_jobs`` parts, trained at the same time on the same parameters
          without locks ("Hogwild!", Niu et al., 2011). It converges to a
          loss close to one thread's on sparse data, but the result depends
          on the threads' timing: it is NOT reproducible, even with a fixed
          ``random_state``. Two threads do the same work as one, spread
          over two cores, so it can only pay on large data with an idle
          core (issue 15's prototype: 1.63x at k = 10 on a 1,000,000 x
          100,000 matrix on an idle 2-core machine; on one whose other
          core was busy, ``benchmarks/bench_sgd.py`` measured no gain).
          Epochs of fewer than 10,000 rows per thread run on one thread
          (bit-identical to ``n_jobs=1``), as threads only cost time there. ``"als"`` and
          ``"adagrad"`` train on one thread whatever ``n_jobs``.

        Without Numba (plain-Python kernels) everything runs on one thread.
"""

_COMMON_ATTRIBUTES_DOC = """
    intercept_ : float
        The intercept ``w0``.
    coef_ : ndarray of shape (n_features,)
        The linear weights ``w``.
    factors_ : ndarray of shape (n_features, n_factors)
        The latent factors ``V``; row ``i`` is the embedding of feature ``i``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    loss_curve_ : list of float
        The training loss of each epoch: the (sample-weighted) mean loss
        over the epoch's training samples, without the L2 penalty. For the
        SGD solvers each sample's loss is evaluated just before that
        sample's update; for ``"als"`` all are evaluated after the sweep.
        {loss_name}
    validation_loss_curve_ : list of float
        With ``early_stopping``, the mean loss on the held-out data after each
        epoch (same loss, no penalty). Empty otherwise.
    n_iter_ : int
        Number of epochs run (all ``fit`` and ``partial_fit`` calls since the
        last fresh start).
"""


class _BaseFM(BaseEstimator):
    """Shared training and prediction code; see FMClassifier and FMRegressor."""

    _loss_kind = None

    def __init__(
        self,
        n_factors=10,
        n_epochs=30,
        solver="als",
        learning_rate="auto",
        reg_linear=0.01,
        reg_factors=0.01,
        init_std=0.1,
        fit_intercept=True,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        verbose=False,
        n_jobs=None,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.solver = solver
        self.learning_rate = learning_rate
        self.reg_linear = reg_linear
        self.reg_factors = reg_factors
        self.init_std = init_std
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ validation
    def _check_params(self):
        for name in ("n_factors", "n_epochs", "n_iter_no_change"):
            # bool is an Integral, but n_factors=True is a mistake, not a 1
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be an int, got {getattr(self, name)!r}.")
        check_scalar(self.n_factors, "n_factors", numbers.Integral, min_val=1)
        check_scalar(self.n_epochs, "n_epochs", numbers.Integral, min_val=1)
        if not (isinstance(self.solver, str) and self.solver in _SOLVERS):
            raise ValueError(
                f"solver must be one of {', '.join(map(repr, _SOLVERS))}; got {self.solver!r}."
            )
        _check_learning_rate(self.learning_rate)
        check_scalar(self.reg_linear, "reg_linear", numbers.Real, min_val=0)
        check_scalar(self.reg_factors, "reg_factors", numbers.Real, min_val=0)
        check_scalar(self.init_std, "init_std", numbers.Real, min_val=0,
                     include_boundaries="neither")
        check_scalar(self.validation_fraction, "validation_fraction", numbers.Real,
                     min_val=0, max_val=1, include_boundaries="neither")
        check_scalar(self.n_iter_no_change, "n_iter_no_change", numbers.Integral, min_val=1)
        check_scalar(self.tol, "tol", numbers.Real, min_val=0)
        if not (isinstance(self.shuffle, (bool, np.bool_))
                or (isinstance(self.shuffle, str) and self.shuffle in _order.SHUFFLE_MODES)):
            raise TypeError(f"shuffle must be True or False, or one of 'rows', 'blocks'; "
                            f"got {self.shuffle!r}.")
        _parallel.check_n_jobs(self.n_jobs)
        for name in ("fit_intercept", "early_stopping", "warm_start", "verbose"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        for name in ("reg_linear", "reg_factors", "init_std", "tol"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}.")
        _validation.check_init_std(self.init_std)
        if self.solver == "sgd":  # AdaGrad's steps are bounded by learning_rate; ALS takes none
            # with "auto" the step on the normalised rows (see _row_scale) is
            # AUTO_LEARNING_RATE, and so is the shrinkage factor's step
            _validation.check_step_sizes(self._base_learning_rate(), self.reg_linear,
                                         self.reg_factors)

    def _base_learning_rate(self):
        """The step the SGD kernels take: ``learning_rate``, or for ``"auto"``
        AUTO_LEARNING_RATE (on the normalised rows for ``"sgd"``)."""
        if isinstance(self.learning_rate, str):
            return AUTO_LEARNING_RATE
        return float(self.learning_rate)

    def _auto_scales(self, X, y, sample_weight):
        """``(s, t)``: "auto" plain SGD trains on ``X / s`` and ``y / t``.

        ``s`` is the largest norm of a row of positive weight (a row of
        weight 0 only shrinks parameters), so that the rows have norm at most 1,
        like the L2-normalised rows for which the book derives the step 0.1.
        For the squared loss, ``t`` is the root mean square of ``y``,
        weighted by ``sample_weight`` (the log loss's labels are 0 and 1:
        ``t = 1``): the change a step makes
        in the factors grows with the residual as well as with ``|x|**2``,
        so large targets diverge on rows of any norm. A scale within
        rounding of 1 is exactly 1, so L2-normalised rows are left as they
        are (see :func:`_unit_unless_near`)."""
        target_scale = 1.0
        if self._loss_kind == _kernels.SQUARED:
            target_scale = _unit_unless_near(_root_mean_square(y, sample_weight))
        return (_row_scale(X, sample_weight), target_scale)

    def _auto_scaled(self):
        """Whether this fit runs plain SGD on rows divided by their largest norm."""
        return self.solver == "sgd" and isinstance(self.learning_rate, str)

    def _validate_X(self, X, reset):
        X = _validation.check_sparse_structure(X)  # before anything indexes with it
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"],
                          dtype=np.float64)
        X = _validation.canonical_features(X)  # sorted, no stored zeros, not too large
        return X

    def _validate_X_y(self, X, y, reset, new_attrs=None):
        """Validate training data. With ``reset`` and a dict ``new_attrs``, the
        new ``n_features_in_`` (and ``feature_names_in_``, None if absent) go
        into ``new_attrs``, for the fit to set together with the parameters."""
        X = _validation.check_sparse_structure(X)  # before anything indexes with it
        target = copy.copy(self) if reset and new_attrs is not None else self
        X, y = validate_data(target, X, y, reset=reset, accept_sparse=["csr", "csc", "coo"],
                             dtype=np.float64, y_numeric=self._loss_kind == _kernels.SQUARED)
        if target is not self:
            new_attrs["n_features_in_"] = target.n_features_in_
            new_attrs["feature_names_in_"] = getattr(target, "feature_names_in_", None)
        X = _validation.canonical_features(X)  # sorted, no stored zeros, not too large
        return X, y

    # ------------------------------------------------------------ parameters
    # params is [w0, w, V]; "adagrad" appends its squared-gradient sums
    # [G_w0 (shape (1,)), G_w, G_V] (fitted state too; zeros at a fresh start)
    def _fresh_params(self, n_features, rng):
        _validation.check_factor_memory(n_features, self.n_factors)
        factors = rng.normal(0.0, self.init_std, size=(n_features, self.n_factors))
        return [0.0, np.zeros(n_features), np.ascontiguousarray(factors)]

    def _current_params(self):
        params = [float(self.intercept_), self.coef_.copy(), self.factors_.copy()]
        if self.solver == "adagrad":
            saved = getattr(self, "_adagrad_accumulators_", None)
            if saved is not None and saved[2].shape == self.factors_.shape:
                params.append([a.copy() for a in saved])
            # else the previous fit used another solver: _adaptive_epoch
            # starts AdaGrad's sums afresh
        return params

    def _store(self, params, **attrs):
        """Set the parameters and the other fitted attributes ``attrs`` in one
        dict update, so that no reader sees some from one fit and some from
        another (``feature_names_in_=None`` deletes it)."""
        new = {"intercept_": float(params[0]), "coef_": params[1], "factors_": params[2],
               **attrs}
        if len(params) > 3:
            new["_adagrad_accumulators_"] = params[3]
        else:
            vars(self).pop("_adagrad_accumulators_", None)
        if "_auto_scales_" in new and new["_auto_scales_"] is None:
            del new["_auto_scales_"]
            vars(self).pop("_auto_scales_", None)
        if "feature_names_in_" in new and new["feature_names_in_"] is None:
            del new["feature_names_in_"]
            vars(self).pop("feature_names_in_", None)
        vars(self).update(new)

    def _check_warm_start_features(self, n_features, new_attrs):
        old_names = getattr(self, "feature_names_in_", None)
        new_names = (new_attrs or {}).get("feature_names_in_")
        if n_features != self.n_features_in_ or (
            old_names is not None and new_names is not None
            and not np.array_equal(old_names, new_names)
        ):
            raise ValueError(
                f"warm_start=True continues the previous fit, which had "
                f"{self.n_features_in_} features, but X has {n_features}"
                f"{' (or other feature names)' if n_features == self.n_features_in_ else ''}. "
                "Set warm_start=False to start afresh on the new features, or pass X "
                "with the features of the previous fit."
            )

    def _can_warm_start(self, n_features):
        return (
            hasattr(self, "factors_")
            and self.factors_.shape == (n_features, self.n_factors)
        )

    # ------------------------------------------------------------ training
    def _epoch(self, X, y, sample_weight, rows, params, rng, als_problem=None, scales=None):
        """Run one epoch over ``rows`` on ``params`` in place; return the mean loss.

        ``als_problem`` is the training data prepared by :func:`_als_problem`
        (needed, and only used, with ``solver="als"``). ``scales`` are the
        numbers ``X`` and ``y`` were divided by (``learning_rate="auto"`` with
        ``"sgd"``, see :meth:`_auto_scales`), used only in the error message.
        """
        if self.solver != "sgd":
            return self._adaptive_epoch(X, y, sample_weight, rows, params, rng, als_problem)
        order = _order.epoch_order(_order.resolve_shuffle(self.shuffle, X, params[2]), rows, rng)
        _validation.check_kernel_arrays(X, params[0], params[1], params[2], y=y,
                                        sample_weight=sample_weight, rows=order)
        total, finished = _parallel.sgd_epoch(
            X, y, sample_weight, order, params, self._base_learning_rate(), self.reg_linear,
            self.reg_factors, self.fit_intercept, self._loss_kind, self.n_jobs)
        w0 = params[0]
        mean_loss = total / sample_weight[rows].sum()
        if (
            not finished
            or not np.isfinite(mean_loss)
            or not np.isfinite(w0)
            or not np.isfinite(params[1]).all()
            or not np.isfinite(params[2]).all()
            or _validation.parameters_out_of_range(*params)
        ):
            if isinstance(self.learning_rate, str):
                row_scale, target_scale = scales or (1.0, 1.0)
                step = AUTO_LEARNING_RATE / row_scale**2
                used = (f"learning_rate='auto' (the step {AUTO_LEARNING_RATE} on the rows "
                        f"divided by their largest norm, {row_scale:g}"
                        f"{'' if target_scale == 1 else ', and the targets by their root mean square, %g' % target_scale})")
            else:
                step = self.learning_rate
                used = f"learning_rate={self.learning_rate}"
            raise DivergenceError(
                f"{type(self).__name__} diverged: the loss or a parameter became "
                f"non-finite (inf or NaN) or absurdly large (above "
                f"{_validation.MAX_PARAMETER_MAGNITUDE:g}) with {used}. "
                f"Lower the learning rate (try learning_rate={step / 10:g}), or scale "
                "the features"
                f"{' and centre the targets' if self._loss_kind == _kernels.SQUARED else ''}"
                " to a smaller range. The estimator keeps the parameters "
                "it had before this call."
            )
        return mean_loss

    def _adaptive_epoch(self, X, y, sample_weight, rows, params, rng, als_problem):
        """``_epoch`` for the "adagrad" and "als" solvers."""
        if self.solver == "adagrad":
            if len(params) == 3:
                params.append(_zero_accumulators(params))
            order = _order.epoch_order(_order.resolve_shuffle(self.shuffle, X, params[2]),
                                       rows, rng)
            acc_w0, acc_w, acc_V = params[3]
            _validation.check_kernel_arrays(X, params[0], params[1], params[2], y=y,
                                            sample_weight=sample_weight, rows=order)
            _validation.check_accumulators(acc_w0, acc_w, acc_V, params[1], params[2])
            w0, total, n_done = _adagrad.adagrad_epoch(
                X.data, X.indptr, X.indices, y, sample_weight, order,
                params[0], params[1], params[2], acc_w0, acc_w, acc_V,
                self._base_learning_rate(), float(self.reg_linear), float(self.reg_factors),
                bool(self.fit_intercept), self._loss_kind,
            )
            finite = n_done == len(order)
            advice = (f"with learning_rate={self.learning_rate!r}. Lower the learning rate "
                      f"(try learning_rate={self._base_learning_rate() / 10:g}), or scale")
        else:
            rows_X, cols_X, y_rows, sw_rows, counts = als_problem
            _validation.check_kernel_arrays(rows_X, params[0], params[1], params[2], y=y_rows,
                                            sample_weight=sw_rows)
            _validation.check_columns(cols_X, rows_X, counts)
            w0, total, finite = _als.als_sweep(
                rows_X.data, rows_X.indptr, rows_X.indices,
                cols_X.data, cols_X.indptr, cols_X.indices, y_rows, sw_rows, counts,
                params[0], params[1], params[2],
                float(self.reg_linear), float(self.reg_factors),
                bool(self.fit_intercept), self._loss_kind,
            )
            advice = "with solver='als'. Raise reg_linear and reg_factors, or scale"
        params[0] = w0
        mean_loss = total / sample_weight[rows].sum()
        if (
            not finite
            or not np.isfinite(mean_loss)
            or not np.isfinite(w0)
            or not np.isfinite(params[1]).all()
            or not np.isfinite(params[2]).all()
            or _validation.parameters_out_of_range(*params[:3])
        ):
            raise DivergenceError(
                f"{type(self).__name__} diverged: the loss or a parameter became "
                f"non-finite (inf or NaN) or absurdly large (above "
                f"{_validation.MAX_PARAMETER_MAGNITUDE:g}) {advice} the features to a smaller range. "
                "The estimator keeps the parameters it had before this call."
            )
        return mean_loss

    def _mean_loss(self, X, y, sample_weight, params):
        margin = np.empty(X.shape[0])
        _validation.check_kernel_arrays(X, params[0], params[1], params[2], out=margin)
        _kernels.predict(X.data, X.indptr, X.indices, params[0], params[1], params[2], margin)
        return float(np.average(self._pointwise_loss(margin, y), weights=sample_weight))

    def _fit(self, X, y, sample_weight, new_attrs=None):
        """Train on validated inputs; set the fitted attributes only on success,
        those in ``new_attrs`` (e.g. ``classes_``) together with the parameters."""
        rng = _check_random_state(self.random_state)
        n_samples, n_features = X.shape
        if self.warm_start and hasattr(self, "factors_"):
            self._check_warm_start_features(n_features, new_attrs)
            _validation.check_kernel_arrays(X, self.intercept_, self.coef_, self.factors_)
        warm = self.warm_start and self._can_warm_start(n_features)
        if warm:
            params = self._current_params()
            loss_curve = list(self.loss_curve_)
            n_iter = self.n_iter_
        else:
            params = self._fresh_params(n_features, rng)
            if self.solver == "als":
                # ALS's steps do not depend on the features' scale; this makes
                # its start not depend on it either (see init_std)
                params[2] /= _feature_scales(X, sample_weight)[:, None]
            loss_curve, n_iter = [], 0
        # "auto" plain SGD trains on normalised data (see _auto_scales); a
        # fresh start is drawn in its units already
        scales = self._auto_scales(X, y, sample_weight) if self._auto_scaled() else None
        loss_unit = 1.0
        if scales is not None and scales != (1.0, 1.0):
            X, y, loss_unit = _normalise_data(X, y, scales, self._loss_kind)
            if warm:  # the previous fit's parameters are in the units of X and y
                params = _to_normalised(params, scales)

        rows = np.arange(n_samples)
        val_rows = None
        if self.early_stopping:
            rows, val_rows = _validation.early_stopping_split(
                y, sample_weight, self.validation_fraction,
                stratify=self._loss_kind == _kernels.LOGISTIC, random_state=rng,
                class_names=(new_attrs or {}).get("classes_"), splitter=train_test_split,
            )
            # sliced once: the held-out loss is evaluated after every epoch
            validation = (X[val_rows], y[val_rows], sample_weight[val_rows])
        als_problem = _als_problem(X, y, sample_weight, rows) if self.solver == "als" else None
        val_curve = []
        best = (np.inf, None)  # validation loss, parameters
        stall = 0

        epochs = tqdm(range(self.n_epochs), disable=not self.verbose,
                      desc=type(self).__name__, unit="epoch")
        for _ in epochs:
            loss = loss_unit * self._epoch(X, y, sample_weight, rows, params, rng,
                                           als_problem, scales)
            loss_curve.append(loss)
            n_iter += 1
            if val_rows is None:
                epochs.set_postfix(loss=f"{loss:.4g}", refresh=False)
                continue
            val_loss = loss_unit * self._mean_loss(*validation, params)
            val_curve.append(val_loss)
            epochs.set_postfix(loss=f"{loss:.4g}", val_loss=f"{val_loss:.4g}", refresh=False)
            if val_loss < best[0] - self.tol:
                stall = 0
            else:
                stall += 1
            if val_loss < best[0]:
                best = (val_loss, _copy_params(params))
            if stall >= self.n_iter_no_change:
                break
        epochs.close()

        if best[1] is not None:
            params = best[1]
        if scales is not None and scales != (1.0, 1.0):
            params = _from_normalised(params, scales)
        _warn_if_linear(params)
        self.__dict__.pop("_partial_fit_rng", None)
        self._store(params, loss_curve_=loss_curve, validation_loss_curve_=val_curve,
                    n_iter_=n_iter, _auto_scales_=scales, **(new_attrs or {}))
        return self

    def _partial_fit(self, X, y, sample_weight, new_attrs=None):
        if hasattr(self, "factors_"):  # an edited or unpickled model: say what is wrong
            _validation.check_kernel_arrays(X, self.intercept_, self.coef_, self.factors_)
        if hasattr(self, "factors_") and self.factors_.shape[1] != self.n_factors:
            raise ValueError(
                f"n_factors was changed to {self.n_factors} after the model was fitted "
                f"with {self.factors_.shape[1]}; call fit to start again."
            )
        if hasattr(self, "factors_"):
            params = self._current_params()
            # one generator for the whole sequence of calls, so that each epoch
            # gets a new order even with an int random_state
            rng = getattr(self, "_partial_fit_rng", None) or _check_random_state(self.random_state)
            loss_curve, val_curve = self.loss_curve_, self.validation_loss_curve_
            n_iter = self.n_iter_
        else:
            rng = _check_random_state(self.random_state)
            params = self._fresh_params(X.shape[1], rng)
            if self.solver == "als":
                params[2] /= _feature_scales(X, sample_weight)[:, None]
            loss_curve, val_curve, n_iter = [], [], 0
        self._partial_fit_rng = rng
        scales, loss_unit = None, 1.0
        if self._auto_scaled():
            # the scales of the first batch (or of fit) for the whole stream:
            # the step and the penalties' units stay the same from call to call
            fitted = hasattr(self, "factors_")
            scales = getattr(self, "_auto_scales_", None) if fitted else None
            if scales is None:
                scales = self._auto_scales(X, y, sample_weight)
            if scales != (1.0, 1.0):
                X, y, loss_unit = _normalise_data(X, y, scales, self._loss_kind)
                if fitted:  # the current parameters are in the units of X and y
                    params = _to_normalised(params, scales)
        rows = np.arange(X.shape[0])
        als_problem = _als_problem(X, y, sample_weight, rows) if self.solver == "als" else None
        loss = loss_unit * self._epoch(X, y, sample_weight, rows, params, rng, als_problem, scales)
        if scales is not None and scales != (1.0, 1.0):
            params = _from_normalised(params, scales)
        self._store(params, loss_curve_=[*loss_curve, loss], validation_loss_curve_=val_curve,
                    n_iter_=n_iter + 1, _auto_scales_=scales, **(new_attrs or {}))
        return self

    # ------------------------------------------------------------ prediction
    def _margin(self, X):
        check_is_fitted(self, "factors_")
        X = self._validate_X(X, reset=False)
        # read once: another thread may store a new model meanwhile
        w0, w, V = self.intercept_, self.coef_, self.factors_
        out = np.empty(X.shape[0])
        _validation.check_kernel_arrays(X, w0, w, V, out=out)
        _parallel.predict(X, w0, w, V, out, self.n_jobs)
        _validation.check_finite_output(out, X)
        return out


class FMClassifier(ClassifierMixin, _BaseFM):
    __doc__ = (
        """Factorization machine for binary classification, trained on the log loss.

    The model outputs a margin

    .. math:: \\hat y(x) = w_0 + \\sum_i w_i x_i + \\sum_{i<j} \\langle v_i, v_j \\rangle x_i x_j

    and the probability of the positive class (``classes_[1]``) is
    ``sigmoid(y_hat)``.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels, sorted; ``classes_[1]`` is the positive class."""
        + _COMMON_ATTRIBUTES_DOC.format(
            loss_name="The loss is the log loss ``log(1 + exp(-y_hat))`` for the "
            "positive class and ``log(1 + exp(y_hat))`` for the negative one."
        )
        + """
    See Also
    --------
    FMRegressor : The same model with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from fmlib import FMClassifier
    >>> X = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]])
    >>> y = np.array(["no", "yes", "yes", "no"])
    >>> clf = FMClassifier(n_factors=2, n_epochs=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (4, 2)
    """
    )

    _loss_kind = _kernels.LOGISTIC

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    _pointwise_loss = staticmethod(logistic_loss)

    def _encode_classes(self, y, classes):
        check_classification_targets(y)
        classes = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if len(classes) == 1:
            raise ValueError(
                f"{type(self).__name__} needs samples of two classes, but y contains "
                f"only one class: {classes[0]!r}."
            )
        if len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported: "
                f"{type(self).__name__} is a binary classifier, but y has {len(classes)} "
                "classes. For more classes wrap it in "
                "sklearn.multiclass.OneVsRestClassifier(FMClassifier())."
            )
        return classes

    def _encode_y(self, y, classes):
        unknown = ~np.isin(y, classes)
        if unknown.any():
            raise ValueError(
                f"y contains labels {np.unique(y[unknown])!r} that are not in "
                f"classes_={classes!r}."
            )
        return (y == classes[1]).astype(np.float64)

    @_unchanged_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model to the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse input of any scipy format is checked
            (ValueError if its index arrays are inconsistent) and converted to
            CSR, duplicate entries summed and stored zeros dropped, on a copy:
            the matrix passed is never modified.
        y : array-like of shape (n_samples,)
            Labels of exactly two classes, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights that scale each sample's loss.

        Returns
        -------
        self : FMClassifier
            The fitted estimator.
        """
        self._check_params()
        new_attrs = {}
        X, y = self._validate_X_y(X, y, reset=True, new_attrs=new_attrs)
        classes = self._encode_classes(y, None)
        if self.warm_start and hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True but y has classes {classes!r}, not the {self.classes_!r} "
                "of the previous fit; set warm_start=False to start again."
            )
        new_attrs["classes_"] = classes
        y01 = self._encode_y(y, classes)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return self._fit(X, y01, sw, new_attrs)

    @_unchanged_on_error
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD on the given data, starting from the current model.

        With ``solver="als"`` this is one coordinate-descent sweep over the
        given data: it decreases the objective of this batch alone, so for
        training on a stream of batches prefer ``solver="adagrad"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (2,), default=None
            Both class labels. Required on the first call, when ``y`` may not
            contain both; ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : FMClassifier
        """
        self._check_params()
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, e.g. "
                "partial_fit(X, y, classes=[0, 1])."
            )
        new_attrs = {}
        X, y = self._validate_X_y(X, y, reset=first_call, new_attrs=new_attrs)
        if first_call:
            new_attrs["classes_"] = self._encode_classes(y, classes)
        y01 = self._encode_y(y, new_attrs["classes_"] if first_call else self.classes_)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return self._partial_fit(X, y01, sw, new_attrs)

    def decision_function(self, X):
        """Raw FM output (the margin); positive values favour ``classes_[1]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._margin(X)

    def predict_proba(self, X):
        """Probabilities of both classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column ``c`` is the probability of ``classes_[c]``.
        """
        positive = sigmoid(self._margin(X))
        return np.column_stack([1.0 - positive, positive])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        margin = self._margin(X)
        return np.column_stack([-np.logaddexp(0.0, margin), -np.logaddexp(0.0, -margin)])

    def predict(self, X):
        """Predicted class labels (those of ``y`` given to ``fit``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        margin = self._margin(X)  # raises NotFittedError before classes_ is read
        return self.classes_[(margin > 0).astype(np.intp)]


class FMRegressor(RegressorMixin, _BaseFM):
    __doc__ = (
        """Factorization machine for regression, trained on the squared loss.

    .. math:: \\hat y(x) = w_0 + \\sum_i w_i x_i + \\sum_{i<j} \\langle v_i, v_j \\rangle x_i x_j

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC.format(
            loss_name="The loss is half the squared error, ``(y_hat - y)**2 / 2``, "
            "so twice the curve is the mean squared error."
        )
        + """
    See Also
    --------
    FMClassifier : The same model with the log loss.

    Notes
    -----
    With ``solver="sgd"`` the squared loss's gradient grows with the
    residual and with the features' products, so ``learning_rate=0.1``,
    which suits L2-normalised sparse rows such as TF-IDF, can diverge on
    dense, unscaled features or large targets: scale the features, centre
    the targets, or lower the learning rate (``DivergenceError`` says when).
    The default ``learning_rate="auto"`` does the scaling (rows by their
    largest norm, targets by their root mean square) and keeps the step
    constant. The default solver, ``"als"``, has no step size to choose.

    Examples
    --------
    >>> import numpy as np
    >>> from fmlib import FMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = 1 + X[:, 0] * X[:, 1]
    >>> reg = FMRegressor(n_factors=2, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """
    )

    _loss_kind = _kernels.SQUARED

    _pointwise_loss = staticmethod(squared_loss)

    @_unchanged_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model to the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse input of any scipy format is checked
            (ValueError if its index arrays are inconsistent) and converted to
            CSR, duplicate entries summed and stored zeros dropped, on a copy:
            the matrix passed is never modified.
        y : array-like of shape (n_samples,)
            Real-valued targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights that scale each sample's loss.

        Returns
        -------
        self : FMRegressor
            The fitted estimator.
        """
        self._check_params()
        new_attrs = {}
        X, y = self._validate_X_y(X, y, reset=True, new_attrs=new_attrs)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return self._fit(X, np.asarray(y, dtype=np.float64), sw, new_attrs)

    @_unchanged_on_error
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of SGD on the given data, starting from the current model.

        With ``solver="als"`` this is one coordinate-descent sweep over the
        given data: it decreases the objective of this batch alone, so for
        training on a stream of batches prefer ``solver="adagrad"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : FMRegressor
        """
        self._check_params()
        new_attrs = {}
        X, y = self._validate_X_y(X, y, reset=not hasattr(self, "factors_"), new_attrs=new_attrs)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return self._partial_fit(X, np.asarray(y, dtype=np.float64), sw, new_attrs)

    def predict(self, X):
        """Predicted values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._margin(X)


def _warn_if_linear(params):
    """Warn when training ends with all factors exactly zero: V = 0 is a fixed
    point of SGD, so the model is (and stays) linear."""
    if params[2].size and not params[2].any():
        warnings.warn(
            "All factors_ are zero after training, so the factorization machine is a "
            "linear model (V = 0 is a fixed point of SGD: it never leaves it). Lower "
            "reg_factors, or raise init_std.",
            UserWarning,
            stacklevel=4,
        )


def _check_learning_rate(learning_rate):
    """``"auto"`` or a positive finite real number; say which otherwise."""
    if isinstance(learning_rate, str):
        if learning_rate != "auto":
            raise ValueError(
                f"learning_rate must be 'auto' or a positive number such as 0.1; got the "
                f"string {learning_rate!r}."
            )
        return
    if isinstance(learning_rate, (bool, np.bool_)):  # a Real, but a mistake, not a 1
        raise TypeError(
            f"learning_rate must be 'auto' or a positive number such as 0.1; got "
            f"{learning_rate!r}."
        )
    check_scalar(learning_rate, "learning_rate", numbers.Real, min_val=0,
                 include_boundaries="neither")
    if not np.isfinite(learning_rate):
        raise ValueError(
            f"learning_rate must be finite, got {learning_rate!r}: use 'auto' or a positive "
            "number such as 0.1."
        )


def _unit_unless_near(scale):
    """``scale``, but exactly 1 within ``ROW_NORM_ROUNDING`` of it (and for 0,
    which leaves nothing to scale): L2-normalised rows such as the book's
    TF-IDF come out a few ulps off 1 after rounding, and must give exactly
    the step 0.1 on unchanged data."""
    if scale == 0.0 or abs(scale - 1.0) <= ROW_NORM_ROUNDING:
        return 1.0
    return scale


def _root_mean_square(values, weights):
    """Weighted root mean square, computed on ``values / max|values|`` so that
    squaring cannot overflow (values up to the float64 maximum)."""
    largest = float(np.max(np.abs(values), initial=0.0))
    if largest == 0.0:
        return 0.0
    return largest * float(np.sqrt(np.average(np.square(values / largest), weights=weights)))


def _row_scale(X, sample_weight):
    """The largest norm of a row of positive weight of CSR ``X`` (1 if near
    1, see :func:`_unit_unless_near`): ``"auto"`` plain SGD divides the rows
    by it, so that its step AUTO_LEARNING_RATE meets rows of norm at most 1.
    Computed on ``X / max|X|`` so that squaring cannot overflow (features go
    up to 1.3e154)."""
    largest = float(np.max(np.abs(X.data), initial=0.0))
    if largest == 0.0:
        return 1.0
    row_of_entry = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    squared = np.bincount(row_of_entry, weights=np.square(X.data / largest),
                          minlength=X.shape[0])
    squared = squared[sample_weight > 0]
    return _unit_unless_near(largest * float(np.sqrt(squared.max())) if squared.size else 0.0)


def _divide_rows(X, row_scale):
    """A CSR copy of ``X`` with every value divided by ``row_scale`` (the
    index arrays are shared, the caller's data untouched)."""
    return sp.csr_matrix((X.data / row_scale, X.indices, X.indptr), shape=X.shape)


def _normalise_data(X, y, scales, loss_kind):
    """``X / s``, ``y / t`` and the factor ``t**2`` that turns a squared loss
    on the normalised data into the loss on the original data."""
    row_scale, target_scale = scales
    if row_scale != 1.0:
        X = _divide_rows(X, row_scale)
    if target_scale != 1.0:
        y = y / target_scale
    if target_scale > _validation.MAX_FEATURE_MAGNITUDE:
        raise ValueError(
            f"y has a root mean square of {target_scale:.3g}: its squared loss overflows "
            f"float64 above {_validation.MAX_FEATURE_MAGNITUDE:.3g}. Scale y first."
        )
    return X, y, (target_scale**2 if loss_kind == _kernels.SQUARED else 1.0)


def _to_normalised(params, scales):
    """The parameters that make the same predictions, divided by ``t``, on
    ``X / s``: the FM is invariant under ``x -> x / s, w -> w * s,
    V -> V * s`` and scales by ``t`` under ``w0, w -> w0 * t, w * t,
    V -> V * sqrt(t)``."""
    row_scale, target_scale = scales
    return [params[0] / target_scale, params[1] * (row_scale / target_scale),
            np.ascontiguousarray(params[2] * (row_scale / np.sqrt(target_scale)))]


def _from_normalised(params, scales):
    """The inverse of :func:`_to_normalised`."""
    row_scale, target_scale = scales
    return [params[0] * target_scale, params[1] * (target_scale / row_scale),
            np.ascontiguousarray(params[2] * (np.sqrt(target_scale) / row_scale))]


def _zero_accumulators(params):
    """AdaGrad's squared-gradient sums for ``[w0, w, V]``, all zero."""
    return [np.zeros(1), np.zeros_like(params[1]), np.zeros_like(params[2])]


def _copy_params(params):
    """A copy of ``params`` that later in-place updates do not reach."""
    copied = [params[0], params[1].copy(), params[2].copy()]
    if len(params) > 3:
        copied.append([a.copy() for a in params[3]])
    return copied


def _feature_scales(X, sample_weight):
    """Root mean square of each column's non-zero values, weighted by the
    samples' weights; 1 for a column without any (weighted) non-zero value.
    Weighted so that a weight of 2 and a repeated sample give the same scale."""
    columns = X.tocsc(copy=True)
    columns.eliminate_zeros()
    column_of_entry = np.repeat(np.arange(X.shape[1]), np.diff(columns.indptr))
    weights = sample_weight[columns.indices]
    n_features = X.shape[1]
    weight_sum = np.bincount(column_of_entry, weights=weights, minlength=n_features)
    square_sum = np.bincount(column_of_entry, weights=weights * columns.data**2,
                             minlength=n_features)
    scales = np.ones(n_features)
    seen = weight_sum > 0
    scales[seen] = np.sqrt(square_sum[seen] / weight_sum[seen])
    return scales


def _als_problem(X, y, sample_weight, rows):
    """The training rows as the ALS kernel reads them, built once per fit.

    Returns the rows (CSR), the same matrix by columns (CSC, explicit zeros
    removed), their targets and weights, and ``c_j``, the summed weight of
    the rows where feature ``j`` is non-zero (the L2 penalty's multiplier).
    """
    if len(rows) != X.shape[0]:
        X, y, sample_weight = X[rows], y[rows], sample_weight[rows]
    columns = X.tocsc(copy=True)
    columns.eliminate_zeros()
    columns.sort_indices()
    column_of_entry = np.repeat(np.arange(X.shape[1]), np.diff(columns.indptr))
    counts = np.bincount(column_of_entry, weights=sample_weight[columns.indices],
                         minlength=X.shape[1])
    return X, columns, np.ascontiguousarray(y, dtype=np.float64), sample_weight, counts


def _check_random_state(random_state):
    """Like sklearn's check_random_state, but None gives a fresh, OS-seeded
    generator instead of NumPy's global one, which is never touched."""
    if random_state is None:
        return np.random.RandomState()
    return check_random_state(random_state)


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, (numbers.Number, np.generic)) or (
        isinstance(sample_weight, np.ndarray) and sample_weight.ndim == 0
    ):
        raise ValueError(
            f"sample_weight must be an array with one weight per sample, of shape "
            f"({n_samples},); got the scalar {sample_weight!r}. For equal weights leave "
            f"sample_weight=None, or pass np.full({n_samples}, {sample_weight!r})."
        )
    sw = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                     input_name="sample_weight")
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample; "
            f"got shape {sw.shape}."
        )
    if (sw < 0).any():
        raise ValueError("sample_weight must be non-negative; found negative weights.")
    if not sw.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    return sw
