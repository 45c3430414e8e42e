"""The year's persons by id, for the fold of its claims (:mod:`wzmedins.year.tally`).

:class:`PersonIndex` gives each distinct person id of the enrolment (and of the signings) a
dense slot, once, in a compiled open-addressing table read straight from the Arrow buffers: an
entry is one 64-bit word, the upper half of the id's hash and its slot, so a probe reads one
word; a hash found is checked against the id's bytes (copied once, in slot order), so two ids
are never merged, whatever their hashes. About 16 bytes a person for the table at a load of
at most one half, 8 for where each id starts and the ids' bytes themselves (about 40 in all
for 12-byte ids).

:func:`find_slots` looks a batch of ids up in one compiled pass (no per-batch hash arrays,
sorts or string takes), a group of rows at a time so that their cache misses overlap.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .._ingest import hash_bytes
from .._jit import kernel, step
from ..errors import SchemaError

EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
LOW32 = np.uint64(0xFFFFFFFF)


@step
def _same(data_a, lo_a, hi_a, data_b, lo_b, hi_b):
    """True when the bytes ``data_a[lo_a:hi_a]`` and ``data_b[lo_b:hi_b]`` are equal."""
    if hi_a - lo_a != hi_b - lo_b:
        return False
    for k in range(hi_a - lo_a):
        if data_a[lo_a + k] != data_b[lo_b + k]:
            return False
    return True


@step
def find(table, id_offsets, id_data, hash_mask, data, lo, hi):
    """Slot of the id ``data[lo:hi]`` in the index (``table`` and the indexed ids' offsets and
    bytes by slot), or -1 when it is not there. ``hash_mask`` keeps all the hash's bits (tests
    narrow it to force shared hashes)."""
    h = hash_bytes(data, lo, hi) & hash_mask
    tag = h >> np.uint64(32)
    mask = np.uint64(table.shape[0] - 1)
    pos = h & mask
    while True:
        e = table[pos]
        if e == EMPTY:
            return -1
        if e >> np.uint64(32) == tag:
            s = np.int64(e & LOW32)
            if _same(data, lo, hi, id_data, id_offsets[s], id_offsets[s + 1]):
                return s
        pos = (pos + np.uint64(1)) & mask


@kernel
def _build(offsets, data, valid, hash_mask, table, rep, row_slot):
    """Slot of every row's id, new ids numbered in order of first appearance (-1: a null,
    ``valid`` empty when there are none); ``rep[s]`` a row of slot ``s``. Returns the slots."""
    mask = np.uint64(table.shape[0] - 1)
    n = 0
    check_valid = valid.shape[0] > 0
    for i in range(offsets.shape[0] - 1):
        if check_valid and not valid[i]:
            row_slot[i] = -1
            continue
        lo = offsets[i]
        hi = offsets[i + 1]
        h = hash_bytes(data, lo, hi) & hash_mask
        tag = h >> np.uint64(32)
        pos = h & mask
        while True:
            e = table[pos]
            if e == EMPTY:
                table[pos] = (tag << np.uint64(32)) | np.uint64(n)
                rep[n] = i
                row_slot[i] = n
                n += 1
                break
            if e >> np.uint64(32) == tag:
                s = np.int64(e & LOW32)
                r = rep[s]
                if _same(data, lo, hi, data, offsets[r], offsets[r + 1]):
                    row_slot[i] = s
                    break
            pos = (pos + np.uint64(1)) & mask
    return n


@kernel
def _gather(rep, offsets, data, id_offsets, id_data):
    """The ids' bytes in slot order: ``id_data[id_offsets[s]:id_offsets[s + 1]]`` is slot ``s``'s."""
    at = 0
    for s in range(rep.shape[0]):
        id_offsets[s] = at
        for b in range(offsets[rep[s]], offsets[rep[s] + 1]):
            id_data[at] = data[b]
            at += 1
    id_offsets[rep.shape[0]] = at


GROUP = 32  # rows looked up together: their memory reads overlap


@kernel
def find_slots(table, id_offsets, id_data, hash_mask, offsets, data, valid, out):
    """:func:`find` for every row (-1: a null, ``valid`` empty when none, or not indexed), in
    groups of ``GROUP`` rows and three stages, so the reads of a group's table entries, then
    of its ids, are independent of each other and overlap (a lookup is a few cache misses;
    one after the other they cost several times more). A tag found whose bytes differ (two
    ids sharing the upper half of a hash) is settled by :func:`find` itself."""
    mask = np.uint64(table.shape[0] - 1)
    hashes = np.empty(GROUP, np.uint64)
    first = np.empty(GROUP, np.uint64)
    cand = np.empty(GROUP, np.int64)
    start = np.empty(GROUP, np.int64)
    check_valid = valid.shape[0] > 0
    n = offsets.shape[0] - 1
    for g0 in range(0, n, GROUP):
        g1 = min(g0 + GROUP, n)
        for i in range(g0, g1):  # the hash, and the first entry it points at
            h = hash_bytes(data, offsets[i], offsets[i + 1]) & hash_mask
            hashes[i - g0] = h
            first[i - g0] = table[h & mask]
        for i in range(g0, g1):  # the first entry with the hash's tag, and where its id starts
            h = hashes[i - g0]
            tag = h >> np.uint64(32)
            pos = h & mask
            e = first[i - g0]
            s = -1
            while e != EMPTY:
                if e >> np.uint64(32) == tag:
                    s = np.int64(e & LOW32)
                    break
                pos = (pos + np.uint64(1)) & mask
                e = table[pos]
            cand[i - g0] = s
            start[i - g0] = id_offsets[s] if s >= 0 else 0
        for i in range(g0, g1):  # the id's bytes, compared
            s = cand[i - g0]
            if (check_valid and not valid[i]) or s < 0:
                out[i] = -1
            elif _same(data, offsets[i], offsets[i + 1], id_data, start[i - g0], id_offsets[s + 1]):
                out[i] = s
            else:
                out[i] = find(table, id_offsets, id_data, hash_mask, data, offsets[i], offsets[i + 1])


def id_kind(kind: pa.DataType) -> str:
    """``"int"`` or ``"str"``: the kind of ids of an Arrow type (a dictionary's values count)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return "int" if pa.types.is_integer(kind) else "str"


def id_buffers(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets (a view, int32 or int64), bytes and validity (empty when no nulls) of an id column as strings:
    one chunk, dictionaries decoded, integer ids written in decimal (an index holds ids of one
    kind; :class:`PersonIndex` refuses two).

    Examples
    --------
    >>> off, data, valid = id_buffers(pa.array(["ab", None, "c"]))
    >>> off.tolist(), bytes(data[:3]), valid.tolist()
    ([0, 2, 2, 3], b'abc', [True, False, True])
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, dtype=np.uint8)
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.zeros(0, bool)
    return offsets, data, valid


class PersonIndex:
    """Person ids to dense slots ``0 … n−1``, built once (module doc).

    ``row_slots`` is the slot of each row of the ids it was built from (-1 for a null).

    Examples
    --------
    >>> ix = PersonIndex(pa.array(["b", "a", None, "b"]))
    >>> ix.n, ix.row_slots.tolist(), ix.find(pa.array(["a", "x", None, "b"])).tolist()
    (2, [0, 1, -1, 0], [1, -1, -1, 0])
    """

    def __init__(self, ids: pa.Array | pa.ChunkedArray, *, hash_bits: int = 64):
        self.kind = id_kind(ids.type)
        self.hash_mask = np.uint64((1 << hash_bits) - 1) if hash_bits < 64 else EMPTY
        offsets, data, valid = id_buffers(ids)
        rows = len(offsets) - 1
        if rows >= 1 << 31:
            raise SchemaError("person_id", "fewer than 2^31 enrolled rows", str(rows))
        size = 16
        while size < 2 * rows:
            size *= 2
        self.table = np.full(size, EMPTY, dtype=np.uint64)
        rep = np.empty(rows, dtype=np.int64)
        self.row_slots = np.empty(rows, dtype=np.int64)
        self.n = int(_build(offsets, data, valid, self.hash_mask, self.table, rep, self.row_slots))
        rep = rep[: self.n]
        size = int((offsets[rep + 1] - offsets[rep]).sum())
        self.offsets = np.empty(self.n + 1, np.int64)
        self.data = np.empty(size, np.uint8)
        _gather(rep, offsets, data, self.offsets, self.data)

    def arrays(self) -> tuple:
        """What :func:`find` and :func:`find_slots` take: ``(table, id_offsets, id_data, hash_mask)``."""
        return self.table, self.offsets, self.data, self.hash_mask

    def find(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Slot of each id (-1: a null or an id not indexed); ids of the other kind (integers
        against strings) are found nowhere."""
        n = len(ids)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0 or self.n == 0 or id_kind(ids.type) != self.kind:
            return out
        offsets, data, valid = id_buffers(ids)
        find_slots(*self.arrays(), offsets, data, valid, out)
        return out
