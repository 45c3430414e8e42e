"""The year's persons by id, for the fold of its claims (:mod:`wzmedins.year.tally`).

:class:`PersonIndex` gives each distinct person id of the enrolment (and of the signings) a
dense slot, once: the slots are the ids in order of their 64-bit hash, the hashes kept sorted
(8 bytes a person) with each id's length and first 16 bytes in the same order (20 bytes; the
whole bytes too when some id is longer) and a directory of where each range of hashes starts:
about 30 bytes a person.
A hash found is checked against the id's bytes, so two ids are never merged, whatever their
hashes.

A batch is looked up in one compiled pass (:func:`find_slots`): its ids are hashed and put in
order of the hash's top bits (one counting pass), then looked up range by range, so the index
is read front to back, each range of it once and from cache, instead of a few random reads of
memory per id (several times slower at ten million persons). No per-batch Python strings,
sorts of the strings or takes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .._ingest import hash_bytes
from .._jit import kernel, step
from ..errors import SchemaError


@step
def _same(data_a, lo_a, hi_a, data_b, lo_b, hi_b):
    """True when the bytes ``data_a[lo_a:hi_a]`` and ``data_b[lo_b:hi_b]`` are equal."""
    if hi_a - lo_a != hi_b - lo_b:
        return False
    for k in range(hi_a - lo_a):
        if data_a[lo_a + k] != data_b[lo_b + k]:
            return False
    return True


@kernel
def _hashes(offsets, data, hash_mask, out, words, lengths):
    """Each row's hash, first ``INLINE`` bytes as two words and length, in one pass."""
    for i in range(offsets.shape[0] - 1):
        out[i] = hash_bytes(data, offsets[i], offsets[i + 1]) & hash_mask
        words[i, 0], words[i, 1] = _words(data, offsets[i], offsets[i + 1])
        lengths[i] = offsets[i + 1] - offsets[i]


@kernel
def _distinct(order, hashes, words, lengths, offsets, data, row_slot, first):
    """Slots of the rows taken in ``order`` (sorted by hash; ``hashes``, ``words``
    and ``lengths`` in that order): a row equal to an earlier row of the same hash takes its
    slot, any other a new one. ``first[s]``: the position in ``order`` slot ``s`` came from.
    Returns the number of slots."""
    n = 0
    run = 0  # the first slot of the current run of equal hashes
    for k in range(order.shape[0]):
        if k == 0 or hashes[k] != hashes[k - 1]:
            run = n
        s = -1
        for t in range(run, n):  # the ids met with this hash (almost always none or one)
            f = first[t]
            if lengths[f] == lengths[k] and words[f, 0] == words[k, 0] and words[f, 1] == words[k, 1]:
                r, q = order[k], order[f]
                if lengths[k] <= INLINE or _same(data, offsets[r], offsets[r + 1], data, offsets[q], offsets[q + 1]):
                    s = t
                    break
        if s < 0:
            s = n
            first[n] = k
            n += 1
        row_slot[order[k]] = s
    return n


@kernel
def _gather(first_row, offsets, data, id_offsets, id_data):
    """The ids' bytes in slot order: ``id_data[id_offsets[s]:id_offsets[s + 1]]`` is slot ``s``'s."""
    at = 0
    for s in range(first_row.shape[0]):
        id_offsets[s] = at
        for b in range(offsets[first_row[s]], offsets[first_row[s] + 1]):
            id_data[at] = data[b]
            at += 1
    id_offsets[first_row.shape[0]] = at


INLINE = 16  # bytes of an id compared as two words; a longer id also byte by byte


@step
def _words(data, lo, hi):
    """The first ``INLINE`` bytes of ``data[lo:hi]`` as two little-endian words, zero-padded."""
    w0 = np.uint64(0)
    w1 = np.uint64(0)
    for k in range(min(hi - lo, INLINE)):
        byte = np.uint64(data[lo + k])
        if k < 8:
            w0 |= byte << np.uint64(8 * k)
        else:
            w1 |= byte << np.uint64(8 * (k - 8))
    return w0, w1


@kernel
def find_slots(keys, directory, shift, coarse_shift, words, lengths, id_offsets, id_data, hash_mask, offsets, data,
               valid, out):  # fmt: skip
    """Slot of every row's id (-1: a null, ``valid`` empty when none, or an id not indexed).

    ``keys`` are the indexed hashes in slot order, ``directory[t]`` the first slot whose hash
    has top bits (``hash >> shift``) ``t`` or more; ``words`` and ``lengths`` each slot's first
    16 bytes and length, ``id_offsets``/``id_data`` the bytes of all (read only for longer ids).
    One pass hashes the rows and takes their first bytes (reading them in order), one places
    them in order of fewer top bits (``hash >> coarse_shift``: a few thousand ranges, so the
    counts stay in cache), and the last finds each by a binary search in its range of ``keys``
    and compares it with every indexed id of its hash: the index is read range by range.
    """
    n = offsets.shape[0] - 1
    n_coarse = (1 << (64 - np.int64(coarse_shift))) if coarse_shift < 64 else 1
    hashes = np.empty(n, np.uint64)
    start = np.zeros(n_coarse + 1, np.int64)
    for i in range(n):
        h = hash_bytes(data, offsets[i], offsets[i + 1]) & hash_mask
        hashes[i] = h
        start[np.int64(h >> coarse_shift) + 1] += 1
    for t in range(n_coarse):
        start[t + 1] += start[t]
    order = np.empty(n, np.int64)
    sorted_hash = np.empty(n, np.uint64)
    sorted_words = np.empty((n, 2), np.uint64)
    sorted_length = np.empty(n, np.int64)
    check_valid = valid.shape[0] > 0
    for i in range(n):
        h = hashes[i]
        t = np.int64(h >> coarse_shift)
        k = start[t]
        start[t] += 1
        order[k] = i if not (check_valid and not valid[i]) else -1 - i
        sorted_hash[k] = h
        sorted_words[k, 0], sorted_words[k, 1] = _words(data, offsets[i], offsets[i + 1])
        sorted_length[k] = offsets[i + 1] - offsets[i]
    for k in range(n):
        i = order[k]
        if i < 0:  # a null id
            out[-1 - i] = -1
            continue
        out[i] = -1
        h = sorted_hash[k]
        t = np.int64(h >> shift)
        lo = directory[t]
        hi = directory[t + 1]
        while lo < hi:  # the first key >= h
            mid = (lo + hi) >> 1
            if keys[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        length = sorted_length[k]
        while lo < keys.shape[0] and keys[lo] == h:
            if (lengths[lo] == length and words[lo, 0] == sorted_words[k, 0] and words[lo, 1] == sorted_words[k, 1]
                    and (length <= INLINE or _same(data, offsets[i] + INLINE, offsets[i + 1], id_data,
                                                   id_offsets[lo] + INLINE, id_offsets[lo + 1]))):  # fmt: skip
                out[i] = lo
                break
            lo += 1


def id_kind(kind: pa.DataType) -> str:
    """``"int"`` or ``"str"``: the kind of ids of an Arrow type (a dictionary's values count)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return "int" if pa.types.is_integer(kind) else "str"


def id_buffers(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets (a view, int32 or int64), bytes and validity (empty when no nulls) of an id
    column as strings: one chunk, dictionaries decoded, integer ids written in decimal (an
    index holds ids of one kind; :class:`PersonIndex` refuses two).

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
    >>> ix.n, bool(ix.row_slots[0] == ix.row_slots[3]), int(ix.row_slots[2])
    (2, True, -1)
    >>> ix.find(pa.array(["a", "x", None, "b"])).tolist() == [ix.row_slots[1], -1, -1, ix.row_slots[0]]
    True
    """

    def __init__(self, ids: pa.Array | pa.ChunkedArray, *, hash_bits: int = 64):
        self.kind = id_kind(ids.type)
        self.hash_mask = np.uint64((1 << hash_bits) - 1) if hash_bits < 64 else np.uint64(2**64 - 1)
        offsets, data, valid = id_buffers(ids)
        rows = len(offsets) - 1
        if rows >= 1 << 40:
            raise SchemaError("person_id", "fewer than 2^40 enrolled rows", str(rows))
        hashes = np.empty(rows, np.uint64)
        words = np.empty((rows, 2), np.uint64)
        lengths = np.empty(rows, np.int32)
        _hashes(offsets, data, self.hash_mask, hashes, words, lengths)
        order = np.argsort(hashes) if not len(valid) else np.flatnonzero(valid)[np.argsort(hashes[valid])]
        # in hash order, so the pass below reads them in turn (a gather of whole words each)
        hashes, lengths = hashes[order], lengths[order]
        words = np.stack([words[:, 0][order], words[:, 1][order]], axis=1)
        self.row_slots = np.full(rows, -1, np.int64)
        first = np.empty(len(order), np.int64)
        self.n = int(_distinct(order, hashes, words, lengths, offsets, data, self.row_slots, first))
        first = first[: self.n]
        self.keys, self.words, self.lengths = hashes[first], words[first], lengths[first]
        del hashes, words, lengths
        # the whole ids' bytes only when some are longer than the words hold
        long = bool(self.n) and int(self.lengths.max()) > INLINE
        self.offsets = np.zeros(self.n + 1 if long else 1, np.int64)
        self.data = np.empty(int(self.lengths.sum()) if long else 0, np.uint8)
        if long:
            _gather(order[first], offsets, data, self.offsets, self.data)
        # a range of hashes for about every 16 persons: a range of the index is a few cache lines
        bits = max(1, min(24, int(np.log2(max(self.n, 2) / 16)) + 1))
        self.shift = np.uint64(64 - bits)
        self.coarse_shift = np.uint64(64 - min(bits, 12))
        self.directory = np.searchsorted(self.keys >> self.shift, np.arange((1 << bits) + 1, dtype=np.uint64))
        self.directory = self.directory.astype(np.int64)

    def find(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Slot of each id (-1: a null or an id not indexed); ids of the other kind (integers
        against strings) are found nowhere."""
        n = len(ids)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0 or self.n == 0 or id_kind(ids.type) != self.kind:
            return out
        offsets, data, valid = id_buffers(ids)
        find_slots(self.keys, self.directory, self.shift, self.coarse_shift, self.words, self.lengths, self.offsets,
                   self.data, self.hash_mask, offsets, data, valid, out)  # fmt: skip
        return out
