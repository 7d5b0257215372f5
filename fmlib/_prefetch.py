"""The software-prefetch hint, as a Numba intrinsic (imported only by
:mod:`fmlib._jit`, when Numba compiles the kernels)."""

from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM >= 15 (opaque pointers) names it llvm.prefetch.p0; older ones llvm.prefetch.p0i8
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


def _prefetch_codegen(rw, locality):
    """Lowering of a hint ``f(arr, i)``: ``llvm.prefetch`` of ``arr.flat[i]``
    (of a C-contiguous array) with ``rw`` (0 read, 1 write) and ``locality``
    (0 use once, ... 3 keep in all levels)."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], sig.args[1], types.intp)
        ptr = builder.gep(ary.data, [idx])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH_NAME)
        # the last argument, cache type 1, is the data cache
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), i32(rw), i32(locality),
                          i32(1)])
        return context.get_dummy_value()
    return codegen


@intrinsic
def prefetch(typingctx, arr, i):
    """Hint the CPU to fetch ``arr.flat[i]`` (of a C-contiguous array) into
    cache, for writing; changes no value. ``llvm.prefetch`` is a no-op on
    targets without a prefetch instruction."""
    return types.void(arr, i), _prefetch_codegen(rw=1, locality=3)


@intrinsic
def prefetch_stream(typingctx, arr, i):
    """Hint the CPU to fetch ``arr.flat[i]`` for one read soon (non-temporal,
    x86's ``prefetchnta``): for data streamed once, so that it does not push
    out of the cache what the kernel reads again; changes no value."""
    return types.void(arr, i), _prefetch_codegen(rw=0, locality=0)
