"""fmlib: factorization machines trained by SGD in Numba kernels.

Without Numba (or with ``NUMBA_DISABLE_JIT=1``) the same kernels run as plain
Python, more slowly, with one :class:`JITWarning`.

The estimators :class:`FMClassifier` and :class:`FMRegressor` follow
scikit-learn's conventions; :mod:`fmlib.reference` holds the same model in
plain NumPy, as the book derives it; :mod:`fmlib.datasets` loads the SMS Spam
Collection.
"""

from . import datasets, reference
from ._jit import JITWarning
from .estimators import DivergenceError, FMClassifier, FMRegressor
from .reference import (
    fm_gradient,
    fm_predict,
    fm_predict_naive,
    logistic_loss,
    logistic_loss_grad,
    sigmoid,
    squared_loss,
    squared_loss_grad,
)

__version__ = "0.1.0"

__all__ = [
    "FMClassifier",
    "FMRegressor",
    "DivergenceError",
    "JITWarning",
    "datasets",
    "reference",
    "fm_predict_naive",
    "fm_predict",
    "fm_gradient",
    "sigmoid",
    "logistic_loss",
    "logistic_loss_grad",
    "squared_loss",
    "squared_loss_grad",
]
