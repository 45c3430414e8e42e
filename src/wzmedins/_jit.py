"""Numba options for every kernel, in one place (never fastmath: it may reorder integer-safe
code paths and it has no business near money)."""

from __future__ import annotations

import numba

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def kernel(fn):
    """Compile ``fn`` with the house options. ``NUMBA_DISABLE_JIT=1`` runs it as plain Python."""
    return numba.njit(**JIT_OPTIONS)(fn)
