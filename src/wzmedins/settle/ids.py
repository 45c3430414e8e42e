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

from .._ingest import hash_bytes, mix64
from .._jit import PREFETCH_AHEAD as AHEAD
from .._jit import kernel, prefetch
from ..errors import SchemaError

EMPTY = -1


@kernel
def hash_strings(offsets, data, rows, out):
    """The hash of each string ``rows[i]`` (Arrow ``offsets`` + ``data``): FNV-1a, mixed."""
    for i in range(rows.shape[0]):
        r = rows[i]
        out[i] = hash_bytes(data, offsets[r], offsets[r + 1])


@kernel
def hash_ints(values, rows, out):
    """splitmix64 of each integer ``values[rows[i]]``."""
    for i in range(rows.shape[0]):
        out[i] = mix64(np.uint64(values[rows[i]]) + np.uint64(0x9E3779B97F4A7C15))


@kernel
def _rehash(old, table, is_int):
    """Move every entry of ``old`` into the empty, larger ``table`` (a sequential read of the
    old entries; the hash is the entry's own for strings, the id's for integers)."""
    mask = np.uint64(table.shape[0] - 1)
    for e in range(old.shape[0]):
        if old[e, 0] == EMPTY:
            continue
        if is_int:
            h = mix64(np.uint64(old[e, 1]) + np.uint64(0x9E3779B97F4A7C15))
        else:
            h = np.uint64(old[e, 1])
        pos = h & mask
        while table[pos, 0] != EMPTY:
            pos = (pos + np.uint64(1)) & mask
        for j in range(old.shape[1]):
            table[pos, j] = old[e, j]


INLINE = 16  # bytes of a string id kept in its table entry
LENGTH_SHIFT = 40  # a string entry's first word: slot | length << 40


@kernel
def _prefix(data, lo, length):
    """The first ``INLINE`` bytes of a string as two little-endian words, zero-padded."""
    w0 = np.int64(0)
    w1 = np.int64(0)
    for k in range(min(length, INLINE)):
        byte = np.int64(data[lo + k])
        if k < 8:
            w0 |= byte << (8 * k)
        else:
            w1 |= byte << (8 * (k - 8))
    return w0, w1


# An integer entry is (slot, id): a probe reads one cache line and compares the id itself.
# A string entry is (slot | length << 40, hash, first 16 bytes): an id of at most 16 bytes is
# compared exactly in the entry itself, a longer one also byte by byte against the arena from
# its 17th byte, so two ids whose hashes collide are never merged.
# The finders stop before an insertion would pass half the table or the arrays' room and return
# where they stopped: the caller grows (doubling) and resumes, so room follows the distinct ids
# actually met, not the rows of the batch.


@kernel
def _find_ints(values, rows, every, start, table, slot_key, n_slots, add, out):
    """Slot of each integer id ``values[rows[i]]`` (``values[i]`` when ``every``), ``i >= start``
    (or EMPTY); with ``add``, new ids get new slots. Returns the new number of slots and the
    row where it stopped for room. The hash is made here (``hash_ints``'s), not stored."""
    mask = np.uint64(table.shape[0] - 1)
    room = min(table.shape[0] >> 1, slot_key.shape[0])
    n = values.shape[0] if every else rows.shape[0]
    for i in range(start, n):
        v = values[i] if every else values[rows[i]]
        h = mix64(np.uint64(v) + np.uint64(0x9E3779B97F4A7C15))
        pos = h & mask
        while True:
            s = table[pos, 0]
            if s == EMPTY:
                if add:
                    if n_slots >= room:
                        return n_slots, i
                    table[pos, 0] = n_slots
                    table[pos, 1] = v
                    slot_key[n_slots] = v
                    out[i] = n_slots
                    n_slots += 1
                else:
                    out[i] = EMPTY
                break
            if table[pos, 1] == v:
                out[i] = s
                break
            pos = (pos + np.uint64(1)) & mask
    return n_slots, n


@kernel
def _find_strings(offsets, data, rows, every, start, hashes, table, arena_off, arena, n_slots, add, out):
    """As ``_find_ints`` for strings, compared exactly (see above). Each row's table entry is
    asked for ``AHEAD`` rows before it is probed (``_jit.prefetch``), so the probes find it in
    cache."""
    mask = np.uint64(table.shape[0] - 1)
    room = min(table.shape[0] >> 1, arena_off.shape[0] - 1)
    low = (np.int64(1) << LENGTH_SHIFT) - 1
    n = offsets.shape[0] - 1 if every else rows.shape[0]
    for i in range(start, n):
        if i + AHEAD < n:
            prefetch(table, hashes[i + AHEAD] & mask, 0)
        r = i if every else rows[i]
        lo = offsets[r]
        length = np.int64(offsets[r + 1] - lo)
        w0, w1 = _prefix(data, lo, length)
        h = hashes[i]
        tag = np.int64(h)
        pos = h & mask
        while True:
            entry = table[pos, 0]
            if entry == EMPTY:
                if add:
                    at = arena_off[n_slots]
                    if n_slots >= room or at + length > arena.shape[0]:
                        return n_slots, i
                    for b in range(length):
                        arena[at + b] = data[lo + b]
                    arena_off[n_slots + 1] = at + length
                    table[pos, 0] = n_slots | (length << LENGTH_SHIFT)
                    table[pos, 1] = tag
                    table[pos, 2] = w0
                    table[pos, 3] = w1
                    out[i] = n_slots
                    n_slots += 1
                else:
                    out[i] = EMPTY
                break
            if (table[pos, 1] == tag and table[pos, 2] == w0 and table[pos, 3] == w1
                    and entry >> LENGTH_SHIFT == length):  # fmt: skip
                s = entry & low
                same = True
                if length > INLINE:
                    a = arena_off[s]
                    for b in range(INLINE, length):
                        if arena[a + b] != data[lo + b]:
                            same = False
                            break
                if same:
                    out[i] = s
                    break
            pos = (pos + np.uint64(1)) & mask
    return n_slots, n


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


def _is_every(rows: np.ndarray, n: int) -> bool:
    """True when ``rows`` is ``0, 1, ..., n-1``."""
    if len(rows) != n:
        return False
    return n == 0 or (int(rows[0]) == 0 and int(rows[-1]) == n - 1 and bool(np.all(rows[1:] > rows[:-1])))


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
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
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
        self.table = np.full((16, 2 if kind == "int" else 4), EMPTY, dtype=np.int64)  # entries: see the finders
        self.slot_key = np.zeros(8, dtype=np.int64)  # integer ids
        self.arena_off = np.zeros(9, dtype=np.int64)  # string ids: bytes of slot s are arena[off[s]:off[s+1]]
        self.arena = np.zeros(64, dtype=np.uint8)
        self._hint: tuple[pa.Array, np.ndarray] | None = None

    def hint(self, arr: pa.Array, hashes: np.ndarray | None) -> None:
        """Hashes of string ids ``arr`` made already (``tables.scan_ids``, the same hash): the
        next ``slots`` of this very array uses them instead of hashing its bytes again."""
        self._hint = None if hashes is None or not pa.types.is_string(arr.type) else (arr, hashes)

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
        # ids of the other type would match nobody (1 is not "1"): refuse instead of guessing
        raise SchemaError(self.name, f"ids of one type ({self.arrow_type}) in claims, state and accounts", str(typ))

    def _room(self, extra: int = 0, extra_bytes: int = 0) -> None:
        """Grow the table and the slot arrays (doubling) to hold ``extra`` more ids."""
        need = max(self.n + extra, 8)
        if 2 * need > self.table.shape[0]:
            size = self.table.shape[0]
            while 2 * need > size:
                size *= 2
            old, self.table = self.table, np.full((size, self.table.shape[1]), EMPTY, dtype=np.int64)
            _rehash(old, self.table, self.kind == "int")
        slots = max(need, 2 * self.n)  # the slot arrays double too
        if self.kind == "int":
            self.slot_key = _grow(self.slot_key, slots)
        else:
            self.arena_off = _grow(self.arena_off, slots + 1)
            self.arena = _grow(self.arena, int(self.arena_off[self.n]) + extra_bytes)

    def _find(self, values, rows: np.ndarray | None, hashes: np.ndarray | None, add: bool, out: np.ndarray) -> None:
        """Find (and with ``add`` insert) ``rows`` (None: every row), growing whenever the
        finder runs out of room. ``hashes`` (of each row found) for strings only."""
        width = 2 if self.kind == "int" else 4
        if self.table.shape[1] != width:  # the kind was settled by the first ids seen
            self.table = np.full((self.table.shape[0], width), EMPTY, dtype=np.int64)
        every = rows is None
        rows = np.zeros(0, dtype=np.int64) if every else rows
        at = 0
        while True:
            if self.kind == "int":
                self.n, at = _find_ints(values, rows, every, at, self.table, self.slot_key, self.n,
                                        add, out)  # fmt: skip
                n = len(values) if every else len(rows)
            else:
                offsets, data = values
                self.n, at = _find_strings(offsets, data, rows, every, at, hashes, self.table,
                                           self.arena_off, self.arena, self.n, add, out)  # fmt: skip
                n = len(offsets) - 1 if every else len(rows)
            if at == n:
                return
            r = at if every else int(rows[at])
            self._room(1, 0 if self.kind == "int" else int(values[0][r + 1] - values[0][r]))

    def slots(self, arr: pa.Array, *, rows: np.ndarray | None = None, add: bool = False) -> np.ndarray:
        """Slot of each id (of ``rows`` only, when given); -1 for a null or, without ``add``,
        an id never seen."""
        arr = self._coerce(arr)
        every = arr.null_count == 0 and (rows is None or _is_every(rows, len(arr)))
        if every:
            rows = None
        elif rows is None:
            rows = np.flatnonzero(pc.is_valid(arr))
        elif arr.null_count:
            rows = rows[pc.is_valid(arr).to_numpy(zero_copy_only=False)[rows]]
        out = np.empty(len(arr), dtype=np.int64) if every else np.full(len(arr), EMPTY, dtype=np.int64)
        if len(arr) == 0 or (rows is not None and len(rows) == 0):
            return out
        if rows is not None:
            rows = np.ascontiguousarray(rows, dtype=np.int64)
        found = out if every else np.empty(len(rows), dtype=np.int64)
        hashes = None
        if self.kind == "int":
            values = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr)]
        else:
            values = _string_buffers(arr)
            if self._hint is not None and self._hint[0] is arr:
                hashes = self._hint[1] if every else self._hint[1][rows]
            else:
                hashes = np.empty(len(found), dtype=np.uint64)
                hash_strings(*values, np.arange(len(arr), dtype=np.int64) if every else rows, hashes)
        self._find(values, rows, hashes, add, found)
        if not every:
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
        out = np.empty(len(keys), dtype=np.int64)
        if len(keys):
            self._find(keys, None, None, add, out)
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
