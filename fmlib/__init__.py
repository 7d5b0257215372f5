"""fmlib: factorization machines trained by SGD in Numba kernels.

Without Numba (or with ``NUMBA_DISABLE_JIT=1``) the same kernels run as plain
Python, more slowly, with one :class:`JITWarning`.

The estimators :class:`FMClassifier` and :class:`FMRegressor` follow
scikit-learn's conventions; :mod:`fmlib.reference` holds the same model in
plain NumPy, as the book derives it; :mod:`fmlib.datasets` loads the SMS Spam
Collection.

``import fmlib`` itself imports nothing else: each name below is imported on
first use (``fmlib.FMClassifier``, ``from fmlib import FMClassifier``,
``fmlib.datasets``), so that a script pays for scikit-learn, Numba or pandas
only when it uses what needs them.
"""

import importlib

__version__ = "0.1.0"

# name -> submodule that defines it (a submodule itself when the name is one)
_LAZY = {
    "FMClassifier": "estimators",
    "FMRegressor": "estimators",
    "DivergenceError": "estimators",
    "JITWarning": "_jit",
    "datasets": None,
    "reference": None,
    "exercises": None,
    "estimators": None,
    "fm_predict_naive": "reference",
    "fm_predict": "reference",
    "fm_gradient": "reference",
    "sigmoid": "reference",
    "logistic_loss": "reference",
    "logistic_loss_grad": "reference",
    "squared_loss": "reference",
    "squared_loss_grad": "reference",
}

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


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fmlib' has no attribute {name!r}")
    module_name = _LAZY[name]
    if module_name is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
