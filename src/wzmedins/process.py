"""Process settings for long streaming runs (``wzmedins settle`` on files, ``wzmedins year``).

A stream allocates and frees hundreds of megabytes per batch. On Linux two defaults then cost
more system time than the settling itself (docs/performance.md, "Fresh memory"): Arrow's
default allocator (mimalloc) hands freed pages back to the system within milliseconds, so the
next batch's buffers are zeroed by the kernel again; and numpy asks for transparent huge pages
for every large array, each of which the kernel zeroes whole on first touch. :func:`tune`
selects Arrow's jemalloc pool (which keeps freed memory for reuse) and turns numpy's huge-page
requests off. The command line calls it; a Python program streaming many batches may call it
once at its start. Results do not depend on it.
"""

from __future__ import annotations

import os

ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
NUMPY_HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


def tune() -> dict[str, str]:
    """Select Arrow's jemalloc memory pool and turn off numpy's huge-page requests, unless the
    environment (``ARROW_DEFAULT_MEMORY_POOL``, ``NUMPY_MADVISE_HUGEPAGE``) chose already or
    the build lacks them. Returns what is in force.

    Examples
    --------
    >>> settings = tune()
    >>> sorted(settings)
    ['arrow_pool', 'numpy_hugepage']
    """
    import numpy as np
    import pyarrow as pa

    if ARROW_POOL_ENV not in os.environ:
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except (NotImplementedError, pa.ArrowNotImplementedError):
            pass  # a build without jemalloc keeps its default
    hugepage = "as numpy chose"
    if NUMPY_HUGEPAGE_ENV not in os.environ:
        setter = getattr(getattr(np, "_core", np.core).multiarray, "_set_madvise_hugepage", None)
        if setter is not None:
            setter(False)
            hugepage = "off"
    return {"arrow_pool": pa.default_memory_pool().backend_name, "numpy_hugepage": hugepage}
