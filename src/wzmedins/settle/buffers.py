"""Memory a stream reuses from batch to batch instead of asking the system again.

On the machines we measured, a first write to freshly mapped memory costs several times what
writing reused memory costs (docs/performance.md, "Fresh memory"), and a freed buffer of tens
of megabytes goes back to the system whatever the allocator. So the store keeps its kernel
buffers (:meth:`Settler._buffer`), and the arrays it hands to Arrow as the settled columns come
from :class:`Recycler`: taken back once nothing refers to them any more (the caller dropped the
result, a writer thread wrote it), never while something does.
"""

from __future__ import annotations

import sys

import numpy as np

KEEP = 3  # recycled arrays held at most: the batch being settled and the two being written


class Recycler:
    """Arrays ``[rows, n]`` to hand to Arrow, reused once every table made of them is gone.

    An array is free when the recycler holds the only reference to it: Arrow keeps a reference
    to the numpy array behind every buffer it wraps, and so does every view of it.

    Examples
    --------
    >>> import pyarrow as pa
    >>> recycler = Recycler()
    >>> a = recycler.take(3, 4, np.int64)
    >>> col = pa.array(a[0])                     # a settled column made of it
    >>> recycler.take(3, 4, np.int64) is a       # still in use: another array
    False
    >>> del col, a
    >>> recycler.take(3, 2, np.int64).shape      # free again: reused (its first 2 columns)
    (3, 2)
    """

    def __init__(self) -> None:
        self.held: list[np.ndarray] = []

    def take(self, rows: int, n: int, dtype) -> np.ndarray:
        """An uninitialised ``[rows, n]`` array (a view of a held one when one is free and big enough)."""
        dtype = np.dtype(dtype)
        for base in self.held:
            # references: the list, ``base`` here, getrefcount's argument
            if base.dtype == dtype and base.shape[0] == rows and base.shape[1] >= n and sys.getrefcount(base) <= 3:
                return base[:, :n]
        base = np.empty((rows, max(n, 1)), dtype=dtype)
        self.held.append(base)
        if len(self.held) > KEEP:
            self.held.pop(0)  # the oldest is dropped here; its memory goes when Arrow lets go
        return base[:, :n]
