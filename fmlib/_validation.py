"""Checks that stand between user input (or a stored model) and the kernels.

The compiled kernels index arrays without bounds checks, so every array they
touch is checked here first:

- :func:`check_sparse_structure` reads the raw index arrays of a sparse
  matrix of any scipy format (scipy checks neither index bounds nor
  ``indptr`` when a matrix is built from arrays or loaded with ``load_npz``,
  and its own conversions already index with them), before anything else
  touches the matrix;
- :func:`check_kernel_arrays` runs right before every kernel call and checks
  that the CSR arrays, the parameters and the per-sample arrays agree (this
  also protects a model that was unpickled or edited by hand);
- the remaining helpers turn conditions that would give a silently wrong or
  absurd model into errors that name the parameter to change.
"""

import math
import os

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split

from ._scans import index_range, zeros_and_magnitude

# Above this magnitude, the square of a feature value overflows float64, and
# with it the FM's sum of squares: the prediction would be inf or NaN.
MAX_FEATURE_MAGNITUDE = math.sqrt(np.finfo(np.float64).max)  # about 1.3e154

# A parameter larger than this is treated as divergence even though it is still
# finite: no model of sensibly scaled data needs one, such values only arise on
# the way to overflow (a few more steps of a diverging SGD), and a model made
# of them predicts nothing one can stand behind.
MAX_PARAMETER_MAGNITUDE = 1e50

# Below this init_std, the products of two initial factors underflow to
# (sub)normal zero in float64 (sqrt of the smallest normal number, 1.5e-154).
MIN_INIT_STD = math.sqrt(np.finfo(np.float64).tiny)

_REBUILD = (
    "Rebuild the matrix from consistent arrays (scipy checks them with "
    "X.check_format(full_check=True) on a copy)."
)


def _malformed(input_name, problem):
    return ValueError(f"{input_name} is a malformed sparse matrix: {problem}. {_REBUILD}")


def _index_array(arr, what, input_name):
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in "iu":
        desc = (f"a {arr.ndim}-D array of dtype {arr.dtype}" if isinstance(arr, np.ndarray)
                else f"a {type(arr).__name__}")
        raise _malformed(input_name, f"its {what} must be a 1-D integer NumPy array, "
                                     f"not {desc}")
    return arr


def _check_compressed(indptr, indices, n_entries, n_major, n_minor, input_name, major, minor):
    """Check the arrays of a CSR/CSC/BSR structure: ``indptr`` of length
    ``n_major + 1`` from 0 to ``len(indices)``, non-decreasing, and every index
    in ``[0, n_minor)``; ``n_entries`` is the length of the data."""
    indptr = _index_array(indptr, "indptr", input_name)
    indices = _index_array(indices, "indices", input_name)
    if indptr.shape[0] != n_major + 1:
        raise _malformed(input_name, f"indptr has {indptr.shape[0]} entries, but {n_major} "
                                     f"{major}s need {n_major + 1}")
    if indptr[0] != 0:
        raise _malformed(input_name, f"indptr starts at {indptr[0]}, not 0")
    if n_major > 0 and np.any(indptr[1:] < indptr[:-1]):
        first = int(np.flatnonzero(indptr[1:] < indptr[:-1])[0])
        raise _malformed(input_name, f"indptr decreases ({indptr[first]} then "
                                     f"{indptr[first + 1]} at {major} {first})")
    if indptr[-1] != indices.shape[0] or n_entries != indices.shape[0]:
        raise _malformed(input_name, f"indptr ends at {indptr[-1]}, with {indices.shape[0]} "
                                     f"indices and {n_entries} stored values; all three "
                                     "must be the number of stored entries")
    if indices.shape[0]:
        low, high = index_range(indices)
        if low < 0 or high >= n_minor:
            bad = low if low < 0 else high
            raise _malformed(input_name, f"its indices hold {minor} {bad}, but it has "
                                         f"{n_minor} {minor}s (valid: 0 to {n_minor - 1})")


def check_sparse_structure(X, input_name="X"):
    """Raise ValueError if the sparse matrix ``X`` has inconsistent index arrays.

    Dense input is returned as it is. Reads only ``X``'s raw arrays and never
    modifies them; formats without raw index arrays (LIL, DOK, DIA) are first
    converted to COO, which does not index with their contents. Returns ``X``,
    or a checked COO copy, or a copy with int64 indices if they were of
    another integer type.
    """
    if not sp.issparse(X):
        return X
    shape = X.shape
    if len(shape) != 2:
        raise ValueError(f"{input_name} must be 2-D, of shape (n_samples, n_features); "
                         f"got a sparse array of shape {shape}.")
    n_rows, n_cols = (int(s) for s in shape)
    fmt = X.format
    if fmt in ("csr", "csc"):
        major, minor = ("row", "column") if fmt == "csr" else ("column", "row")
        n_major, n_minor = (n_rows, n_cols) if fmt == "csr" else (n_cols, n_rows)
        data = X.data
        if not isinstance(data, np.ndarray) or data.ndim != 1:
            raise _malformed(input_name, "its data must be a 1-D NumPy array")
        _check_compressed(X.indptr, X.indices, data.shape[0], n_major, n_minor,
                          input_name, major, minor)
    elif fmt == "bsr":
        data = X.data
        if not isinstance(data, np.ndarray) or data.ndim != 3:
            raise _malformed(input_name, "its data must be a 3-D array of blocks")
        block_rows, block_cols = data.shape[1:]
        if (block_rows < 1 or block_cols < 1 or n_rows % block_rows or n_cols % block_cols):
            raise _malformed(input_name, f"its blocks of shape {data.shape[1:]} do not "
                                         f"tile its shape {shape}")
        _check_compressed(X.indptr, X.indices, data.shape[0], n_rows // block_rows,
                          n_cols // block_cols, input_name, "block row", "block column")
    elif fmt == "coo":
        coords = X.coords if hasattr(X, "coords") else (X.row, X.col)
        data = X.data
        if not isinstance(data, np.ndarray) or data.ndim != 1:
            raise _malformed(input_name, "its data must be a 1-D NumPy array")
        if len(coords) != 2:
            raise _malformed(input_name, f"it has {len(coords)} coordinate arrays, not 2")
        for what, coord, size in (("row", coords[0], n_rows), ("column", coords[1], n_cols)):
            coord = _index_array(coord, f"{what} indices", input_name)
            if coord.shape[0] != data.shape[0]:
                raise _malformed(input_name, f"it has {coord.shape[0]} {what} indices but "
                                             f"{data.shape[0]} stored values")
            if coord.shape[0] and (coord.min() < 0 or coord.max() >= size):
                bad = coord.min() if coord.min() < 0 else coord.max()
                raise _malformed(input_name, f"its {what} indices hold {bad}, but it has "
                                             f"{size} {what}s (valid: 0 to {size - 1})")
    elif fmt == "lil":
        _check_lil(X.rows, X.data, n_rows, n_cols, input_name)
        return check_sparse_structure(X.tocoo(), input_name)
    elif fmt == "dia":
        data, offsets = X.data, X.offsets
        if not isinstance(data, np.ndarray) or data.ndim != 2:
            raise _malformed(input_name, "its data must be a 2-D array of diagonals")
        offsets = _index_array(offsets, "offsets", input_name)
        if offsets.shape[0] != data.shape[0] or np.unique(offsets).shape[0] != offsets.shape[0]:
            raise _malformed(input_name, f"it has {offsets.shape[0]} offsets for "
                                         f"{data.shape[0]} diagonals (they must match, "
                                         "without repeated offsets)")
        return check_sparse_structure(X.tocoo(), input_name)
    else:  # dok: its conversion to COO builds the index arrays from its keys
        return check_sparse_structure(X.tocoo(), input_name)
    return _with_standard_index_dtype(X)


def _check_lil(rows, data, n_rows, n_cols, input_name):
    """LIL keeps a list of column indices and a list of values per row; scipy's
    conversion trusts that there are ``n_rows`` of each, of equal lengths."""
    for what, lists in (("rows", rows), ("data", data)):
        if (not isinstance(lists, np.ndarray) or lists.ndim != 1
                or lists.shape[0] != n_rows or lists.dtype != object):
            raise _malformed(input_name, f"its {what} must be an object array of {n_rows} "
                                         "lists, one per row")
    for i in range(n_rows):
        columns, values = rows[i], data[i]
        if not isinstance(columns, list) or not isinstance(values, list):
            raise _malformed(input_name, f"row {i} is not a pair of lists")
        if len(columns) != len(values):
            raise _malformed(input_name, f"row {i} has {len(columns)} column indices but "
                                         f"{len(values)} values")
        for j in columns:
            if not isinstance(j, (int, np.integer)) or isinstance(j, (bool, np.bool_)) \
                    or not 0 <= j < n_cols:
                raise _malformed(input_name, f"row {i} holds column {j!r}, but it has "
                                             f"{n_cols} columns (valid: 0 to {n_cols - 1})")


def _with_standard_index_dtype(X):
    """``X``, or a copy of it with int64 index arrays if they have another
    integer type (scipy and the kernels expect int32 or int64)."""
    arrays = list(X.coords) if X.format == "coo" else [X.indices, X.indptr]
    if all(a.dtype in (np.int32, np.int64) for a in arrays):
        return X
    X = X.copy()
    if X.format == "coo":
        X.coords = tuple(c.astype(np.int64) for c in X.coords)
    else:
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    return X


def _canonical_and_largest(X):
    """:func:`drop_explicit_zeros`, and the largest feature magnitude of the
    result: one pass over the values when ``X`` is already canonical."""
    X = sp.csr_matrix(X)
    contiguous = all(a.flags.c_contiguous for a in (X.data, X.indices, X.indptr))
    if contiguous and X.has_canonical_format:
        n_zeros, largest = zeros_and_magnitude(X.data)
        if not n_zeros:
            return X, largest
    X = X.copy()  # contiguous copies of the three arrays
    X.sum_duplicates()
    X.eliminate_zeros()  # after summing: duplicates may cancel
    return X, zeros_and_magnitude(X.data)[1]  # sums of duplicates may be larger


def drop_explicit_zeros(X):
    """Canonical CSR (sorted, unique indices, no stored zeros) that never
    shares a modified array with the caller's matrix.

    A stored zero is no feature: left in, lazy regularisation would shrink the
    weights of a feature the sample does not have.
    """
    return _canonical_and_largest(X)[0]


def _raise_if_too_large(largest, input_name):
    if largest > MAX_FEATURE_MAGNITUDE:
        raise ValueError(
            f"{input_name} contains a value of magnitude {largest:.3g}: the factorization "
            "machine multiplies feature values pairwise and squares them, which overflows "
            f"float64 above {MAX_FEATURE_MAGNITUDE:.3g}. Scale the features first, e.g. "
            "with sklearn.preprocessing.MaxAbsScaler or StandardScaler."
        )


def check_feature_magnitude(X, input_name="X"):
    """Reject feature values whose square overflows float64 (the FM squares them)."""
    _raise_if_too_large(zeros_and_magnitude(X.data)[1], input_name)  # one pass, no copy


def canonical_features(X, input_name="X"):
    """:func:`drop_explicit_zeros` followed by :func:`check_feature_magnitude`,
    with one pass over the values when ``X`` is already canonical."""
    X, largest = _canonical_and_largest(X)
    _raise_if_too_large(largest, input_name)
    return X


def check_finite_output(out, X, input_name="X"):
    """Raise instead of returning a prediction that is inf or NaN."""
    if np.isfinite(out).all():
        return
    bad = ~np.isfinite(out)
    if bad.any():
        largest = max(float(X.data.max(initial=0.0)), -float(X.data.min(initial=0.0)))
        raise ValueError(
            f"The model's output is not finite for {int(bad.sum())} of the "
            f"{out.shape[0]} rows of {input_name} (the first: row "
            f"{int(np.flatnonzero(bad)[0])}); the largest feature value is {largest:.3g}. "
            f"The features are too large for this model: scale {input_name} the way the "
            "training data were scaled."
        )


def _fitted_array(arr, name, ndim, shape_text):
    if not isinstance(arr, np.ndarray) or arr.ndim != ndim or arr.dtype != np.float64:
        desc = (f"a {arr.ndim}-D array of dtype {arr.dtype}" if isinstance(arr, np.ndarray)
                else f"a {type(arr).__name__}")
        raise ValueError(
            f"{name} must be a {ndim}-D float64 NumPy array of shape {shape_text}, but it is "
            f"{desc}: the model was edited or loaded from an incompatible file. Fit it again."
        )
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (np.ascontiguousarray({name})); "
                         "fit the model again, or set it to a contiguous copy.")


def check_kernel_arrays(X, intercept, coef, factors, *, y=None, sample_weight=None,
                        rows=None, out=None, names=("intercept_", "coef_", "factors_")):
    """Check everything a kernel is about to index, just before the call.

    ``X`` must be a CSR matrix with a valid structure, float64 data and
    int32/int64 indices; ``coef`` of shape ``(n_features,)`` and ``factors``
    of shape ``(n_features, n_factors)``, both C-contiguous float64;
    ``intercept`` a finite real; ``y``, ``sample_weight`` and ``out`` float64
    of shape ``(n_samples,)``; ``rows`` integer indices into the samples.
    Raises ValueError naming the attribute (``names``) that disagrees with X.
    """
    if not (sp.issparse(X) and X.format == "csr"):
        raise ValueError(f"internal error: the kernels take a CSR matrix, not {type(X)}")
    n_samples, n_features = X.shape
    check_sparse_structure(X)
    for what, arr in (("data", X.data), ("indptr", X.indptr), ("indices", X.indices)):
        expected = (np.float64,) if what == "data" else (np.int32, np.int64)
        if arr.dtype not in expected or not arr.flags.c_contiguous:
            raise ValueError(f"internal error: X.{what} has dtype {arr.dtype}; the kernels "
                             f"take C-contiguous {' or '.join(map(str, map(np.dtype, expected)))}")
    intercept_name, coef_name, factors_name = names
    real = (float, np.floating, int, np.integer)
    if (isinstance(intercept, (bool, np.bool_)) or not isinstance(intercept, real)
            or not np.isfinite(intercept)):
        raise ValueError(f"{intercept_name} must be a finite float, got {intercept!r}: "
                         "the model was edited or loaded from an incompatible file. Fit it again.")
    _fitted_array(coef, coef_name, 1, f"(n_features,) = ({n_features},)")
    _fitted_array(factors, factors_name, 2, f"(n_features, n_factors) = ({n_features}, k)")
    if coef.shape[0] != n_features:
        raise ValueError(
            f"{coef_name} has {coef.shape[0]} weights, but X has {n_features} features: "
            "the fitted attributes do not match the input (the model was edited, or loaded "
            "from an incompatible file). Fit the model again."
        )
    if factors.shape[0] != n_features or factors.shape[1] < 1:
        raise ValueError(
            f"{factors_name} has shape {factors.shape}, but X has {n_features} features, so "
            f"it must be ({n_features}, n_factors) with n_factors >= 1: the fitted attributes "
            "do not match the input (the model was edited, or loaded from an incompatible "
            "file). Fit the model again."
        )
    for what, arr in (("y", y), ("sample_weight", sample_weight), ("out", out)):
        if arr is not None and (not isinstance(arr, np.ndarray) or arr.dtype != np.float64
                                or arr.shape != (n_samples,)):
            raise ValueError(f"internal error: {what} must be float64 of shape ({n_samples},)")
    if out is not None and not out.flags.writeable:
        raise ValueError("internal error: out must be writable")
    if rows is not None:
        if not isinstance(rows, np.ndarray) or rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValueError("internal error: rows must be a 1-D integer array")
        if rows.shape[0] and (rows.min() < 0 or rows.max() >= n_samples):
            raise ValueError(f"internal error: rows must index the {n_samples} samples")


def check_accumulators(acc_w0, acc_w, acc_V, coef, factors):
    """AdaGrad's squared-gradient sums must have the parameters' shapes."""
    for name, arr, shape in (("intercept", acc_w0, (1,)), ("coef", acc_w, coef.shape),
                             ("factors", acc_V, factors.shape)):
        if (not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != shape
                or not arr.flags.c_contiguous):
            raise ValueError(
                f"AdaGrad's accumulated squared gradients for the {name} do not match "
                f"the model (expected float64 of shape {shape}): the model was edited or "
                "loaded from an incompatible file. Fit it again, or use warm_start=False."
            )


def check_columns(columns, rows, counts):
    """The column (CSC) copy that ALS reads must describe the same matrix shape
    as the rows, with a valid structure, and ``counts`` one entry per feature."""
    if not (sp.issparse(columns) and columns.format == "csc") or columns.shape != rows.shape:
        raise ValueError("internal error: ALS needs the CSC copy of the training rows")
    check_sparse_structure(columns)
    if (columns.data.dtype != np.float64 or columns.indices.dtype not in (np.int32, np.int64)
            or columns.indptr.dtype not in (np.int32, np.int64)):
        raise ValueError("internal error: the CSC copy has unexpected dtypes")
    if (not isinstance(counts, np.ndarray) or counts.dtype != np.float64
            or counts.shape != (rows.shape[1],)):
        raise ValueError("internal error: counts must be float64, one per feature")


def parameters_out_of_range(intercept, coef, factors):
    """Whether a parameter is non-finite or above MAX_PARAMETER_MAGNITUDE."""
    limit = MAX_PARAMETER_MAGNITUDE
    # written as "not <=" so that NaN counts as out of range
    return not (
        abs(intercept) <= limit
        and np.abs(coef).max(initial=0.0) <= limit
        and np.abs(factors).max(initial=0.0) <= limit
    )


def check_step_sizes(learning_rate, reg_linear, reg_factors):
    """Each SGD step multiplies a weight by ``1 - learning_rate * reg``: at 1 or
    more that factor is zero or negative, and the parameters flip sign and
    grow instead of shrinking."""
    for name, reg in (("reg_linear", reg_linear), ("reg_factors", reg_factors)):
        product = learning_rate * reg
        if product >= 1:
            raise ValueError(
                f"learning_rate * {name} = {learning_rate!r} * {reg!r} = {product:g}, but it "
                f"must be below 1: each SGD step multiplies the parameters by "
                f"1 - learning_rate * {name}, which must stay positive, or they flip sign "
                f"and grow without bound. Lower learning_rate or {name} (typical: "
                f"learning_rate=0.1 and {name}=0.01)."
            )


def check_init_std(init_std):
    """Reject an init_std so small that the initial interactions underflow:
    then every factor gradient (a sum of other factors) is zero or subnormal,
    and V = 0 is a fixed point of training, so the FM would silently stay a
    linear model."""
    if init_std < MIN_INIT_STD:
        raise ValueError(
            f"init_std={init_std!r} is too small: products of two initial factors "
            f"underflow to zero in float64 below init_std={MIN_INIT_STD:.2g}, and since "
            "V = 0 is a fixed point of SGD the factorization machine would stay a linear "
            "model. Use init_std around 0.01 to 0.1 (the default is 0.1)."
        )


def check_factor_memory(n_features, n_factors):
    """Refuse, before allocating, a factor matrix larger than this machine's memory."""
    needed = 8 * int(n_features) * int(n_factors)
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on this platform
        available = 2**48
    if needed > available or n_factors > np.iinfo(np.intp).max // 8:
        raise ValueError(
            f"n_factors={n_factors} with {n_features} features needs a factor matrix of "
            f"{needed:.3g} bytes (8 * n_features * n_factors), more than this machine's "
            f"{available / 2**30:.3g} GiB of memory. Use a much smaller n_factors "
            "(from 2 to about 100 is usual), or fewer features."
        )


def early_stopping_split(y, sample_weight, validation_fraction, stratify, random_state,
                         class_names=None, splitter=train_test_split):
    """Split the sample indices into (training rows, validation rows) for early
    stopping, with errors that name ``validation_fraction`` and
    ``early_stopping`` (never scikit-learn's ``test_size``)."""
    n_samples = y.shape[0]
    n_val = math.ceil(validation_fraction * n_samples)
    n_train = n_samples - n_val
    fix = ("Use a validation_fraction that leaves samples on both sides, give more "
           "samples, or set early_stopping=False.")
    intro = (f"early_stopping=True holds out validation_fraction={validation_fraction!r} "
             f"of the {n_samples} samples")
    if n_val < 1 or n_train < 1:
        raise ValueError(f"{intro}, which leaves {n_train} for training and {n_val} for "
                         f"validation; both need at least one. {fix}")
    if stratify:
        values, counts = np.unique(y, return_counts=True)
        labels = [class_names[int(v)] for v in values] if class_names is not None else values
        labels = [label.item() if isinstance(label, np.generic) else label for label in labels]
        if counts.min() < 2:
            rare = labels[int(np.argmin(counts))]
            raise ValueError(
                f"{intro}, split by class, but class {rare!r} has only {counts.min()} "
                "sample: each class needs at least 2, one for training and one for "
                f"validation. Give more samples of that class, or set early_stopping=False."
            )
        if min(n_val, n_train) < len(values):
            raise ValueError(
                f"{intro}, which leaves {n_train} for training and {n_val} for validation, "
                f"but each side needs a sample of each of the {len(values)} classes. {fix}"
            )
    try:
        rows, val_rows = splitter(
            np.arange(n_samples), test_size=validation_fraction,
            stratify=y if stratify else None, random_state=random_state,
        )
    except ValueError as exc:
        reason = str(exc).replace("test_size", "validation_fraction")
        raise ValueError(f"{intro}, but they cannot be split: {reason} {fix}") from None
    rows.sort()
    val_rows.sort()
    for side, part in (("validation", val_rows), ("training", rows)):
        if not sample_weight[part].sum() > 0:
            raise ValueError(
                f"{intro}, but every sample of the {side} part has sample_weight 0, so its "
                "loss is undefined. Give positive weights to more samples, change "
                "validation_fraction, or set early_stopping=False."
            )
    return rows, val_rows
