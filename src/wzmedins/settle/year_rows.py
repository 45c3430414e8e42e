"""Person-years to dense rows: the store's ``(person slot, year)`` index.

A person's slot is already dense (``ids.IdIndex``), so the index needs no hashing: ``head[slot]``
is the person's latest person-year row and each row links to the person's previous one, so a
lookup reads ``head`` and walks a person's few years. Keys are those of ``IdIndex.keys`` —
``slot << bits | year`` — and rows are given ``0, 1, 2, ...`` in order of first appearance, so it
answers exactly as an integer ``IdIndex`` of those keys would, in two small arrays (a slot and
a row: 12 bytes a person-year, against a hash table's 32 or more).
"""

from __future__ import annotations

import numpy as np

from .._jit import PREFETCH_AHEAD as AHEAD
from .._jit import kernel, prefetch1
from .ids import _grow

EMPTY = -1


@kernel
def _find(keys, start, bits, head, link, row_year, n_rows, add, out):
    """Row of each key ``slot << bits | year`` from ``start`` on (EMPTY if absent); with ``add``
    a new person-year gets a new row. Returns the number of rows and where it stopped for room
    (``head`` shorter than a slot, or no room for another row)."""
    year_mask = (np.int64(1) << bits) - 1
    room = min(link.shape[0], row_year.shape[0])
    n = keys.shape[0]
    for i in range(start, n):
        if i + AHEAD < n:
            ahead = keys[i + AHEAD] >> bits
            if 0 <= ahead < head.shape[0]:
                prefetch1(head, ahead)
        key = keys[i]
        slot = key >> bits
        year = key & year_mask
        if slot < 0 or slot >= head.shape[0]:
            if add:
                return n_rows, i
            out[i] = EMPTY
            continue
        r = head[slot]
        while r >= 0 and row_year[r] != year:
            r = link[r]
        if r >= 0 or not add:
            out[i] = r
            continue
        if n_rows >= room:
            return n_rows, i
        row_year[n_rows] = year
        link[n_rows] = head[slot]
        head[slot] = n_rows
        out[i] = n_rows
        n_rows += 1
    return n_rows, keys.shape[0]


class YearRows:
    """``(slot, year)`` keys to dense rows; the interface of an integer ``IdIndex`` (``n``,
    ``keys``).

    Examples
    --------
    >>> index = YearRows(16)
    >>> keys = np.array([3 << 16 | 2022, 0 << 16 | 2022, 3 << 16 | 2023, 3 << 16 | 2022])
    >>> index.keys(keys, add=True).tolist(), index.n
    ([0, 1, 2, 0], 3)
    >>> index.keys(np.array([3 << 16 | 2021, 9 << 16 | 2022, -1])).tolist()
    [-1, -1, -1]
    """

    def __init__(self, bits: int):
        self.bits = bits
        self.n = 0
        self.head = np.full(16, EMPTY, dtype=np.int64)  # per person slot: the latest row
        self.link = np.zeros(16, dtype=np.int64)  # per row: the person's previous row
        self.row_year = np.zeros(16, dtype=np.int32)

    def keys(self, keys: np.ndarray, *, add: bool = False) -> np.ndarray:
        """Rows of int64 ``keys``; -1 for a key not held (unless ``add``)."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        out = np.empty(len(keys), dtype=np.int64)
        at = 0
        while at < len(keys):
            self.n, at = _find(keys, at, self.bits, self.head, self.link, self.row_year, self.n, add, out)
            if at == len(keys):
                break
            slot = int(keys[at]) >> self.bits
            if slot < 0:
                raise ValueError(f"a person-year key {int(keys[at])} with no person")
            if slot >= len(self.head):
                old = len(self.head)
                self.head = _grow(self.head, slot + 1)
                self.head[old:] = EMPTY
            else:
                self.link = _grow(self.link, self.n + 1)
                self.row_year = _grow(self.row_year, self.n + 1)
        return out
