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
