"""Compile fmlib's Numba kernels into their on-disk cache (binder/postBuild).

Run from book/, as the chapters run. Numba keeps the cache beside the source
it compiled (``fmlib/__pycache__``), keyed by that file's path, so the warm-up
only helps if it imports the same copy of fmlib as the chapters: this checks
that it is the repository's (the editable install), then fits and predicts with
both estimators with every solver on the input types the chapters use
(sparse CSR, dense), with and without early stopping, then compiles the same signatures with
their defaulted arguments left off, and says how many kernels it compiled.
"""

import inspect
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import fmlib

REPO = Path(__file__).resolve().parents[1]


def _kernel_dispatchers():
    """Every compiled kernel of fmlib's kernel modules, by name."""
    from numba.core.registry import CPUDispatcher

    found = {}
    for name, module in sorted(sys.modules.items()):
        if name.startswith("fmlib.") and module is not None:
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    found[f"{name}.{attr}"] = value
    return found


def _compile_with_defaults_left_off(dispatcher):
    """Also compile each signature with its trailing defaulted arguments left
    off, as a reader's (or a chapter's) direct call of a kernel types it:
    Numba types a missing argument as ``omitted(default=...)``, a signature of
    its own."""
    from numba.core import types

    defaults = [parameter.default
                for parameter in inspect.signature(dispatcher.py_func).parameters.values()]
    for signature in list(dispatcher.signatures):
        for n_given in range(len(signature) - 1, -1, -1):
            if defaults[n_given] is inspect.Parameter.empty:
                break
            omitted = tuple(types.Omitted(default) for default in defaults[n_given:])
            dispatcher.compile(tuple(signature[:n_given]) + omitted)


def main():
    imported = Path(fmlib.__file__).resolve()
    if REPO not in imported.parents:
        sys.exit(f"warm_numba_cache: fmlib is imported from {imported}, not from the "
                 f"repository {REPO}: the chapters would not use this cache. "
                 "Install it editable: pip install --no-deps --editable .")
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X_sparse = sp.random(60, 12, density=0.3, format="csr", random_state=0)
    X_dense = X_sparse.toarray()
    y_class = np.arange(60) % 2
    y_value = rng.normal(size=60)
    for solver in ("als", "adagrad", "sgd"):
        for X in (X_sparse, X_dense):
            for early_stopping in (False, True):
                settings = dict(solver=solver, n_factors=2, n_epochs=2,
                                early_stopping=early_stopping, validation_fraction=0.25,
                                random_state=0)
                fmlib.FMClassifier(**settings).fit(X, y_class).predict_proba(X)
                fmlib.FMRegressor(**settings).fit(X, y_value).predict(X)
        # the block order that large data gets by default (shuffle=True)
        fmlib.FMClassifier(solver=solver, n_factors=2, n_epochs=1, shuffle="blocks",
                           random_state=0).fit(X_sparse, y_class)
        fmlib.FMRegressor(solver=solver, n_factors=2, random_state=0).partial_fit(
            X_sparse, y_value)
    kernels = _kernel_dispatchers()
    for dispatcher in kernels.values():
        _compile_with_defaults_left_off(dispatcher)
    used = sorted(name for name, dispatcher in kernels.items() if dispatcher.signatures)
    if not used:
        sys.exit("warm_numba_cache: no kernel was compiled; is Numba's JIT disabled?")
    compiled = sum(sum(kernels[name].stats.cache_misses.values()) for name in used)
    loaded = sum(sum(kernels[name].stats.cache_hits.values()) for name in used)
    print(f"warm_numba_cache: kernels {', '.join(used)}: {compiled} signatures compiled, "
          f"{loaded} already cached, in {time.perf_counter() - start:.1f} s; "
          f"cache in {kernels[used[0]].stats.cache_path}")


if __name__ == "__main__":
    main()
