"""Numba options for every kernel, in one place (never fastmath: it may reorder integer-safe
code paths and it has no business near money)."""

from __future__ import annotations

import os

import numba

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
THREADS_ENV = "WZMEDINS_THREADS"


def kernel(fn):
    """Compile ``fn`` with the house options. ``NUMBA_DISABLE_JIT=1`` runs it as plain Python."""
    return numba.njit(**JIT_OPTIONS)(fn)


def step(fn):
    """Compile ``fn`` as a step that a kernel calls: inlined into its caller (no call, and no
    reference counting of the policy's arrays on every claim)."""
    return numba.njit(inline="always", **JIT_OPTIONS)(fn)


def parallel_kernel(fn):
    """Compile ``fn`` with the house options and ``parallel=True`` (its ``prange`` loops run on
    numba's threads)."""
    return numba.njit(parallel=True, **JIT_OPTIONS)(fn)


def _prefetch_intrinsics():
    """``prefetch(arr, i, j)`` and ``prefetch1(arr, i)``: ask the processor to start loading
    ``arr[i, j]`` (a 2-D array) or ``arr[i]`` (1-D) into its caches and go on without waiting
    (LLVM's ``llvm.prefetch``, a hint that changes no value). A loop over rows in random order
    (a gather, a hash lookup) asks for the row it will need some iterations ahead, so many
    loads from memory are on their way at once instead of one at a time."""
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:], strict=True)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index)
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")  # fmt: skip
        # a read, kept in every cache level, of data (not instructions)
        builder.call(fn, [builder.bitcast(ptr, byte), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    @intrinsic
    def prefetch(typingctx, arr, i, j):
        return types.void(arr, i, j), codegen

    @intrinsic
    def prefetch1(typingctx, arr, i):
        return types.void(arr, i), codegen

    return prefetch, prefetch1


PREFETCH_AHEAD = 16  # how many iterations ahead a loop over rows in random order asks for a row

if numba.config.DISABLE_JIT:

    def prefetch(arr, i, j):
        """A hint with nothing to hint in plain Python (see ``_prefetch_intrinsics``)."""

    def prefetch1(arr, i):
        """A hint with nothing to hint in plain Python (see ``_prefetch_intrinsics``)."""

else:
    prefetch, prefetch1 = _prefetch_intrinsics()


def threads(requested: int | None = None) -> int:
    """Threads a kernel may use: ``requested``, else the environment variable
    ``WZMEDINS_THREADS``, else every core numba sees. ``1`` forces one thread.

    Examples
    --------
    >>> threads(1)
    1
    """
    if requested is None:
        env = os.environ.get(THREADS_ENV)
        requested = int(env) if env else numba.config.NUMBA_NUM_THREADS
    return max(1, min(int(requested), numba.config.NUMBA_NUM_THREADS))
