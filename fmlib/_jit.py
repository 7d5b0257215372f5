"""The decorator every kernel module compiles with, and the prefetch hint.

Kernel modules import ``njit`` (and the prefetch hints) from here rather than from
Numba, so that how kernels are compiled, and what happens where Numba cannot
compile them, is decided in one place:

- Numba installed and enabled: ``njit`` is Numba's. If ``cache=True`` finds
  no writable cache folder (a read-only install under a user without a
  writable home, e.g. a container run under a random UID), the kernel is
  compiled without the on-disk cache, with one :class:`JITWarning` that names
  ``NUMBA_CACHE_DIR``, instead of failing at ``import fmlib``.
- Numba not installed (Pyodide, a minimal environment) or disabled with
  ``NUMBA_DISABLE_JIT=1``: ``njit`` returns the function unchanged, so the
  same kernel source runs as plain Python (much slower), with one
  :class:`JITWarning`; the prefetch hints are then no-ops.

Nothing else in fmlib imports numba or llvmlite.
"""

import warnings

__all__ = ["njit", "prefetch", "prefetch_stream", "JIT_ENABLED", "JITWarning"]


class JITWarning(UserWarning):
    """fmlib's kernels run slower than usual: without Numba (plain Python),
    or compiled again in every process (no writable cache folder)."""


def _python_njit(*args, **options):
    """Stand-in for ``numba.njit`` that leaves the function as plain Python.

    Accepts both ``@njit`` and ``@njit(cache=True, ...)``; the options only
    concern compilation, so they are ignored.
    """
    if len(args) == 1 and callable(args[0]) and not options:
        return args[0]
    return lambda func: func


def _python_prefetch(arr, i):
    """Plain-Python stand-in for the prefetch hint: a hint changes no value,
    so doing nothing is exact."""


def _numba_status():
    """``(numba module or None, reason it is not used or None)``."""
    try:
        import numba
    except (ImportError, OSError) as exc:  # OSError: its LLVM library fails to load
        return None, f"Numba cannot be imported ({exc})"
    if numba.config.DISABLE_JIT:
        return None, "Numba's JIT is disabled (NUMBA_DISABLE_JIT=1)"
    return numba, None


_numba, _why_not = _numba_status()

#: Whether the kernels are compiled by Numba (False: they run as plain Python).
JIT_ENABLED = _numba is not None

if not JIT_ENABLED:
    warnings.warn(
        f"{_why_not}: fmlib's kernels run as plain Python, which works on any "
        "data but is much slower. Install numba "
        "(pip install numba) and unset NUMBA_DISABLE_JIT for the compiled kernels.",
        JITWarning,
        stacklevel=2,
    )
    njit = _python_njit
    prefetch = prefetch_stream = _python_prefetch
else:
    _cache_warned = False

    def _warn_no_cache(func, exc):
        global _cache_warned
        if _cache_warned:
            return
        _cache_warned = True
        warnings.warn(
            f"Numba found no writable folder to cache fmlib's compiled kernels in "
            f"({exc}). fmlib works, but compiles its kernels again in every process "
            "(a few seconds). To cache them, set the environment variable "
            "NUMBA_CACHE_DIR to a writable folder before importing fmlib, "
            "e.g. NUMBA_CACHE_DIR=/tmp/numba-cache.",
            JITWarning,
            stacklevel=4,
        )

    def njit(*args, **options):
        """``numba.njit`` that falls back to compiling without the on-disk
        cache when ``cache=True`` finds no writable cache folder."""
        if len(args) == 1 and callable(args[0]) and not options:
            return _numba.njit(args[0])

        def decorate(func):
            try:
                return _numba.njit(*args, **options)(func)
            except RuntimeError as exc:
                # numba.core.caching raises this at decoration time when none of
                # its locators (NUMBA_CACHE_DIR, the package's __pycache__, the
                # user-wide cache folder) can be created and written to
                if not (options.get("cache") and "cannot cache function" in str(exc)):
                    raise
                _warn_no_cache(func, exc)
                return _numba.njit(*args, **{**options, "cache": False})(func)

        return decorate

    from ._prefetch import prefetch, prefetch_stream  # noqa: E402  (needs llvmlite)
