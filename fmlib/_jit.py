"""The decorator every kernel module compiles with.

Kernel modules import ``njit`` from here rather than from Numba, so that how
kernels are compiled (and what happens where Numba cannot compile them) is
decided in one place.
"""

from numba import njit

__all__ = ["njit"]
