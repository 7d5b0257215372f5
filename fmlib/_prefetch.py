"""The software-prefetch hint, as a Numba intrinsic (imported only by
:mod:`fmlib._jit`, when Numba compiles the kernels)."""

from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM >= 15 (opaque pointers) names it llvm.prefetch.p0; older ones llvm.prefetch.p0i8
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, arr, i):
    """Hint the CPU to fetch ``arr.flat[i]`` (of a C-contiguous array) into
    cache, for writing; changes no value. ``llvm.prefetch`` is a no-op on
    targets without a prefetch instruction."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], sig.args[1], types.intp)
        ptr = builder.gep(ary.data, [idx])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH_NAME)
        # rw=1 (write), locality=3 (keep in all levels), cache type=1 (data)
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(arr, i), codegen
