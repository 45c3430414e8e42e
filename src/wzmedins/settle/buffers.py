"""Memory a stream reuses from batch to batch instead of asking the system again.

On the machines we measured, a first write to freshly mapped memory costs several times what
writing reused memory costs (docs/performance.md, "Fresh memory"), and a freed buffer of tens
of megabytes goes back to the system whatever the allocator. So the store keeps its kernel
buffers (:meth:`Settler._buffer`), and the arrays it hands to Arrow as the settled columns come
from :class:`Recycler`: taken back once nothing refers to them any more (the caller dropped the
result, a writer thread wrote it), never while something does.
"""

from __future__ import annotations

import mmap
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


MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000 if sys.platform.startswith("linux") else 0)
RESERVE_BYTES = 1 << 35  # address space a growing table reserves (32 GiB; only rows written take memory)


class Reserved:
    """Rows ``[n, width]`` that grow without copying: address space for many rows is reserved
    once (an anonymous mapping the system backs with memory only where it is written), and a
    grown table is a longer view of the same memory, so earlier views stay valid and growth
    never holds the old and the new table at once. Where the system refuses the reservation,
    it grows by copying (``ids._grow``).

    Examples
    --------
    >>> table = Reserved(4, np.int64)
    >>> a = table.grown(table.empty(), 2)
    >>> a[:] = 7
    >>> b = table.grown(a, 5)
    >>> b.shape, b[:2].tolist() == a.tolist()
    ((5, 4), True)
    """

    def __init__(self, width: int, dtype, reserve_bytes: int = RESERVE_BYTES) -> None:
        self.width, self.dtype = width, np.dtype(dtype)
        try:
            flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE
            self.whole = np.frombuffer(mmap.mmap(-1, reserve_bytes, flags=flags), self.dtype).reshape(-1, width)
        except (OSError, ValueError, OverflowError, AttributeError):
            self.whole = None

    def empty(self) -> np.ndarray:
        """The table with no rows."""
        return self.whole[:0] if self.whole is not None else np.zeros((0, self.width), self.dtype)

    def grown(self, arr: np.ndarray, need: int) -> np.ndarray:
        """``arr`` (a table of this reservation) with at least ``need`` rows, its rows kept."""
        from .ids import _grow

        if need <= arr.shape[0]:
            return arr
        ours = self.whole is not None and (arr.shape[0] == 0 or np.shares_memory(arr[:1], self.whole[:1]))
        if ours and need <= self.whole.shape[0]:
            return self.whole[:need]  # a longer view of the same memory: nothing copied
        return _grow(arr, need)
