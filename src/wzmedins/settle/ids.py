"""Identifiers to dense slots, straight from the Arrow buffers (the store's person and claim
indexes).

An :class:`IdIndex` gives each distinct identifier a slot ``0, 1, 2, ...`` in order of first
appearance and keeps it for the life of the index. Integer ids are keys themselves (the fast
path); string ids are hashed in compiled code from the Arrow offsets and data buffers — no
Python string is ever made — and their bytes are kept in an arena, so two ids whose hashes
collide are told apart byte by byte: a wrong merge is impossible. The table is open
addressing at a load of at most one half; it grows by doubling, so the work of a batch is
proportional to the batch, never to the ids already held.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._jit import kernel
from ..errors import SchemaError

EMPTY = -1
FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


@kernel
def _mix(z):
    """splitmix64 finaliser: spreads a 64-bit key over all bits."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@kernel
def hash_strings(offsets, data, rows, out):
    """FNV-1a over the bytes of each string ``rows[i]`` (Arrow ``offsets`` + ``data``), mixed."""
    for i in range(rows.shape[0]):
        r = rows[i]
        h = FNV_OFFSET
        for b in range(offsets[r], offsets[r + 1]):
            h = (h ^ np.uint64(data[b])) * FNV_PRIME
        out[i] = _mix(h)


@kernel
def hash_ints(values, rows, out):
    """splitmix64 of each integer ``values[rows[i]]``."""
    for i in range(rows.shape[0]):
        out[i] = _mix(np.uint64(values[rows[i]]) + np.uint64(0x9E3779B97F4A7C15))


@kernel
def _place(table, slot_hash, n_slots):
    """Re-insert slots ``0..n_slots-1`` into an empty ``table`` (after it grew)."""
    mask = table.shape[0] - 1
    for s in range(n_slots):
        pos = slot_hash[s] & np.uint64(mask)
        while table[pos] != EMPTY:
            pos = (pos + np.uint64(1)) & np.uint64(mask)
        table[pos] = s


@kernel
def _find_ints(values, rows, hashes, table, slot_hash, slot_key, n_slots, add, out):
    """Slot of each integer id ``values[rows[i]]`` (or EMPTY); with ``add``, new ids get new
    slots. Returns the new number of slots."""
    mask = np.uint64(table.shape[0] - 1)
    for i in range(rows.shape[0]):
        v = values[rows[i]]
        h = hashes[i]
        pos = h & mask
        while True:
            s = table[pos]
            if s == EMPTY:
                if add:
                    table[pos] = n_slots
                    slot_hash[n_slots] = h
                    slot_key[n_slots] = v
                    out[i] = n_slots
                    n_slots += 1
                else:
                    out[i] = EMPTY
                break
            if slot_hash[s] == h and slot_key[s] == v:
                out[i] = s
                break
            pos = (pos + np.uint64(1)) & mask
    return n_slots


@kernel
def _find_strings(offsets, data, rows, hashes, table, slot_hash, arena_off, arena, n_slots, add, out):
    """As ``_find_ints`` for strings: equal hashes are confirmed byte by byte in the arena."""
    mask = np.uint64(table.shape[0] - 1)
    for i in range(rows.shape[0]):
        r = rows[i]
        lo = offsets[r]
        length = offsets[r + 1] - lo
        h = hashes[i]
        pos = h & mask
        while True:
            s = table[pos]
            if s == EMPTY:
                if add:
                    start = arena_off[n_slots]
                    for b in range(length):
                        arena[start + b] = data[lo + b]
                    arena_off[n_slots + 1] = start + length
                    table[pos] = n_slots
                    slot_hash[n_slots] = h
                    out[i] = n_slots
                    n_slots += 1
                else:
                    out[i] = EMPTY
                break
            if slot_hash[s] == h and arena_off[s + 1] - arena_off[s] == length:
                a = arena_off[s]
                same = True
                for b in range(length):
                    if arena[a + b] != data[lo + b]:
                        same = False
                        break
                if same:
                    out[i] = s
                    break
            pos = (pos + np.uint64(1)) & mask
    return n_slots


@kernel
def _gather_strings(slots, arena_off, arena, offsets, data):
    """Copy the bytes of ``slots`` from the arena into new Arrow ``offsets`` and ``data``."""
    at = 0
    offsets[0] = 0
    for i in range(slots.shape[0]):
        s = slots[i]
        for b in range(arena_off[s], arena_off[s + 1]):
            data[at] = arena[b]
            at += 1
        offsets[i + 1] = at


def _grow(arr: np.ndarray, need: int) -> np.ndarray:
    """``arr`` with room for at least ``need`` items (doubling, so growth is amortised)."""
    if need <= arr.shape[0]:
        return arr
    out = np.empty((max(need, 2 * arr.shape[0]), *arr.shape[1:]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (a view) and data bytes of a string or large_string array."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data


def plain(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array of plain values (a dictionary is decoded, chunks combined)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr


class IdIndex:
    """Identifiers (all strings, or all integers) to dense slots, kept across batches.

    Parameters
    ----------
    name
        The column the ids come from, for error messages.

    Examples
    --------
    >>> index = IdIndex("person_id")
    >>> index.slots(pa.array(["p1", "p2", "p1"]), add=True).tolist()
    [0, 1, 0]
    >>> index.slots(pa.array(["p3", "p2"])).tolist()        # without add: -1 for an unknown id
    [-1, 1]
    >>> index.ids(np.array([1, 0])).to_pylist()
    ['p2', 'p1']
    """

    def __init__(self, name: str, kind: str | None = None):
        self.name = name
        self.kind = kind  # "int" or "str", set by the first ids seen
        self.n = 0
        self.table = np.full(16, EMPTY, dtype=np.int64)
        self.slot_hash = np.zeros(8, dtype=np.uint64)
        self.slot_key = np.zeros(8, dtype=np.int64)  # integer ids
        self.arena_off = np.zeros(9, dtype=np.int64)  # string ids: bytes of slot s are arena[off[s]:off[s+1]]
        self.arena = np.zeros(64, dtype=np.uint8)

    @property
    def arrow_type(self) -> pa.DataType:
        return pa.int64() if self.kind == "int" else pa.string()

    def _coerce(self, arr: pa.Array) -> pa.Array:
        arr = plain(arr)
        typ = arr.type
        kind = (
            "int"
            if pa.types.is_integer(typ)
            else "str"
            if pa.types.is_string(typ) or pa.types.is_large_string(typ)
            else None
        )
        if pa.types.is_null(typ):
            return pa.nulls(len(arr), self.arrow_type)
        if kind is None:
            raise SchemaError(self.name, "string or int64", str(typ))
        if self.kind is None:
            self.kind = kind
        if kind == self.kind:
            return arr.cast(pa.int64()) if kind == "int" else arr
        try:
            return arr.cast(self.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise SchemaError(self.name, f"ids of one type ({self.arrow_type}), as before", str(typ)) from None

    def _reserve(self, extra: int, extra_bytes: int = 0) -> None:
        need = self.n + extra
        if 2 * need > self.table.shape[0]:
            size = self.table.shape[0]
            while 2 * need > size:
                size *= 2
            self.table = np.full(size, EMPTY, dtype=np.int64)
            _place(self.table, self.slot_hash, self.n)
        self.slot_hash = _grow(self.slot_hash, need)
        if self.kind == "int":
            self.slot_key = _grow(self.slot_key, need)
        else:
            self.arena_off = _grow(self.arena_off, need + 1)
            self.arena = _grow(self.arena, int(self.arena_off[self.n]) + extra_bytes)

    def slots(self, arr: pa.Array, *, rows: np.ndarray | None = None, add: bool = False) -> np.ndarray:
        """Slot of each id (of ``rows`` only, when given); -1 for a null or, without ``add``,
        an id never seen."""
        arr = self._coerce(arr)
        if rows is None:
            rows = np.arange(len(arr), dtype=np.int64) if arr.null_count == 0 else np.flatnonzero(pc.is_valid(arr))
        elif arr.null_count:
            rows = rows[pc.is_valid(arr).to_numpy(zero_copy_only=False)[rows]]
        out = np.full(len(arr), EMPTY, dtype=np.int64)
        if len(rows) == 0:
            return out
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        hashes = np.empty(len(rows), dtype=np.uint64)
        found = np.empty(len(rows), dtype=np.int64)
        if self.kind == "int":
            values = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr)]
            hash_ints(values, rows, hashes)
            if add:
                self._reserve(len(rows))
            self.n = _find_ints(values, rows, hashes, self.table, self.slot_hash, self.slot_key, self.n, add, found)
        else:
            offsets, data = _string_buffers(arr)
            hash_strings(offsets, data, rows, hashes)
            if add:
                self._reserve(len(rows), int(offsets[-1] - offsets[0]))
            self.n = _find_strings(
                offsets, data, rows, hashes, self.table, self.slot_hash, self.arena_off, self.arena, self.n, add, found
            )
        out[rows] = found
        return out

    def missing(self, arr: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The distinct non-null ids of ``arr`` that the index does not hold."""
        arr = self._coerce(arr)
        if self.n == 0:
            return pc.unique(arr.drop_null())
        return pc.unique(arr.filter(pa.array(self.slots(arr) < 0)).drop_null())

    def keys(self, keys: np.ndarray, *, add: bool = False) -> np.ndarray:
        """Slots of int64 ``keys`` (an integer index used for composite keys)."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        self.kind = self.kind or "int"
        rows = np.arange(len(keys), dtype=np.int64)
        hashes = np.empty(len(keys), dtype=np.uint64)
        out = np.empty(len(keys), dtype=np.int64)
        hash_ints(keys, rows, hashes)
        if add:
            self._reserve(len(keys))
        self.n = _find_ints(keys, rows, hashes, self.table, self.slot_hash, self.slot_key, self.n, add, out)
        return out

    def ids(self, slots: np.ndarray | None = None) -> pa.Array:
        """The ids of ``slots`` (all, in slot order, when None) as an Arrow array."""
        slots = np.arange(self.n, dtype=np.int64) if slots is None else np.ascontiguousarray(slots, dtype=np.int64)
        if self.kind == "int" or self.kind is None:
            return pa.array(self.slot_key[slots] if self.kind else np.zeros(0, np.int64), pa.int64())
        lengths = self.arena_off[slots + 1] - self.arena_off[slots]
        total = int(lengths.sum())
        large = total >= 2**31
        offsets = np.empty(len(slots) + 1, dtype=np.int64 if large else np.int32)
        data = np.empty(max(total, 1), dtype=np.uint8)
        _gather_strings(slots, self.arena_off, self.arena, offsets, data)
        typ = pa.large_string() if large else pa.string()
        arr = pa.Array.from_buffers(typ, len(slots), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        return arr.cast(pa.string()) if large and total < 2**31 else arr
