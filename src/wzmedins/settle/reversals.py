"""Reversals (冲正/退费, docs/rules/settlement.md §6): find each reversal's original and check it.

A claims row whose ``reverses`` column is set undoes the settled claim it names. Its own
amounts and enums are not read (it takes the original's); it counts in the original's year.
The original is looked up first among the batch's accepted ordinary claims, then among
``originals`` (settled rows of earlier batches, with the columns of the settled table).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..vocab import FACILITY_LEVELS, VISIT_TYPES
from ._kernel import N_OUT, OUTPUT_FIELDS

ORDINARY, IN_BATCH, EARLIER = 0, 1, 2


def _codes(arr: pa.Array, vocab: tuple[str, ...]) -> np.ndarray:
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return pc.index_in(arr, value_set=pa.array(vocab)).fill_null(0).to_numpy().astype(np.int8)


def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return arr.take(pa.array(idx, pa.int64()))


class Originals:
    """Settled rows of earlier batches, as arrays the kernel can read."""

    def __init__(self, table: pa.Table | None, id_type: pa.DataType, person_type: pa.DataType):
        if table is None:
            table = pa.table({"claim_id": pa.array([], id_type)})
            self.empty = True
        else:
            self.empty = table.num_rows == 0
        n = table.num_rows
        self.claim_id = t.ids(table, "claim_id").cast(id_type)
        if self.empty:
            self.person_id = pa.array([], person_type)
            self.reverses = pa.nulls(0, id_type)
            self.values = np.zeros((0, N_OUT), dtype=np.int64)
            self.year = self.visit = self.level = np.zeros(0, dtype=np.int64)
            return
        self.person_id = t.ids(table, "person_id").cast(person_type)
        rev = t.column(table, "reverses", t.ID_EXPECTED)
        self.reverses = pa.nulls(n, id_type) if rev is None else rev.cast(id_type)
        self.values = np.stack(
            [
                t.required(table, f, "an int64 column of the settled table").cast(pa.int64()).to_numpy()
                for f in OUTPUT_FIELDS
            ],
            axis=1,
        )
        self.year = t.required(table, "year", "int").cast(pa.int32()).to_numpy()
        self.visit = _codes(t.required(table, "visit_type", "visit type strings"), VISIT_TYPES)
        self.level = _codes(t.required(table, "facility_level", "facility level strings"), FACILITY_LEVELS)


def resolve(cols, reverses: pa.Array, originals: Originals) -> tuple[np.ndarray, np.ndarray]:
    """Check reversal rows of ``cols`` (flagging bad ones) and point each at its original.

    Returns ``(kind, index)`` per input row: kind ORDINARY, IN_BATCH (index = batch row) or
    EARLIER (index = row of ``originals``). Accepted reversal rows take their original's
    year, visit type and facility level.
    """
    n = len(cols.reason)
    kind = np.zeros(n, dtype=np.int8)
    index = np.full(n, -1, dtype=np.int64)
    is_rev = ~t.null_mask(reverses)
    ok = cols.reason == t.NO_REASON
    cand = np.flatnonzero(is_rev & ok)
    if len(cand) == 0:
        return kind, index
    target = _take(reverses, cand)
    ordinary = np.flatnonzero(~is_rev & ok)
    j = pc.index_in(target, value_set=_take(cols.claim_id, ordinary)).fill_null(-1).to_numpy()
    in_batch = j >= 0
    batch_row = np.where(in_batch, ordinary[np.maximum(j, 0)] if len(ordinary) else 0, -1)
    k = pc.index_in(target, value_set=originals.claim_id).fill_null(-1).to_numpy()
    earlier = ~in_batch & (k >= 0)

    unknown = ~in_batch & ~earlier
    # an original in the batch must come before its reversal in settlement order
    b = np.maximum(batch_row, 0)
    before = (cols.date[b] < cols.date[cand]) | (
        (cols.date[b] == cols.date[cand])
        & ((cols.seq[b] < cols.seq[cand]) | ((cols.seq[b] == cols.seq[cand]) & (b < cand)))
    )
    unknown |= in_batch & ~before
    ke = np.maximum(k, 0)
    if not originals.empty:
        unknown |= earlier & ~t.null_mask(_take(originals.reverses, ke))  # a reversal is not reversed
        reversed_before = pc.is_in(target, value_set=pc.drop_null(originals.reverses)).to_numpy(zero_copy_only=False)
    else:
        reversed_before = np.zeros(len(cand), dtype=bool)
    person = _take(cols.person_id, cand)
    orig_person_batch = _take(cols.person_id, b)
    same = pc.equal(person, orig_person_batch).fill_null(False).to_numpy(zero_copy_only=False)
    if not originals.empty:
        same_earlier = pc.equal(person, _take(originals.person_id, ke)).fill_null(False).to_numpy(zero_copy_only=False)
        same = np.where(earlier, same_earlier, same)
    mismatch = (in_batch | earlier) & ~same

    def flag(mask, code):
        full = np.zeros(n, dtype=bool)
        full[cand[mask]] = True
        t.flag(cols.reason, full, code)

    flag(unknown, "UNKNOWN_ORIGINAL")
    flag(reversed_before & ~unknown, "ALREADY_REVERSED")
    flag(mismatch & ~unknown, "REVERSAL_PERSON_MISMATCH")
    # two reversals of one original in this batch: the first in settlement order (date, seq,
    # input row) wins, so a batch split by date settles the same one
    alive = cols.reason[cand] == t.NO_REASON
    live = np.flatnonzero(alive)
    if len(live):
        codes = pc.dictionary_encode(_take(target, live)).indices.to_numpy()
        rows = cand[live]
        ranked = np.lexsort((rows, cols.seq[rows], cols.date[rows]))  # live in settlement order
        first = np.zeros(len(live), dtype=bool)
        first[ranked[np.unique(codes[ranked], return_index=True)[1]]] = True
        flag(live[~first], "ALREADY_REVERSED")
        alive[live[~first]] = False

    rows = cand[alive]
    from_batch = in_batch[alive]
    kind[rows] = np.where(from_batch, IN_BATCH, EARLIER)
    index[rows] = np.where(from_batch, batch_row[alive], k[alive])
    br, er = rows[from_batch], rows[~from_batch]
    bo, eo = batch_row[alive][from_batch], k[alive][~from_batch]
    for name in ("year", "visit", "level"):
        arr = getattr(cols, name)
        arr[br] = arr[bo]
        if len(er):
            arr[er] = getattr(originals, name)[eo]
    return kind, index
