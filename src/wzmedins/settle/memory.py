"""What a store remembers of the claims it settled: their ids (so a repeat in a later batch is
a duplicate) and the outputs a reversal needs (so an original of an earlier batch is found in
O(batch)). Settled rows are appended; nothing is rebuilt."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..vocab import FACILITY_LEVELS, VISIT_TYPES
from ._kernel import N_OUT, OUTPUT_FIELDS
from .ids import IdIndex, _grow


def labels(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
    """int8 codes as dictionary-encoded strings."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int8)), pa.array(vocab))


class ClaimMemory:
    """Settled claims by id: person slot, year, visit type, level, outputs, and the links
    between a reversal and its original."""

    def __init__(self):
        self.index = IdIndex("claim_id")
        self.person = np.zeros(0, dtype=np.int64)
        self.year = np.zeros(0, dtype=np.int32)
        self.visit = np.zeros(0, dtype=np.int8)
        self.level = np.zeros(0, dtype=np.int8)
        self.values = np.zeros((0, N_OUT), dtype=np.int64)
        self.original = np.zeros(0, dtype=np.int64)  # record reversed by this one, or -1
        self.reversed_by = np.zeros(0, dtype=np.int64)  # record reversing this one, or -1

    def __len__(self) -> int:
        return self.index.n

    def known(self, claim_id: pa.Array) -> pa.Array | None:
        """The ids of ``claim_id`` already settled (None when none is)."""
        if len(self) == 0:
            return None
        found = self.index.slots(claim_id) >= 0
        return claim_id.filter(pa.array(found)) if found.any() else None

    def originals(self, reverses: pa.Array | None, persons: IdIndex) -> pa.Table | None:
        """Settled rows (columns of ``settled``) the reversals ``reverses`` name, with the rows
        that already reversed them (so ``ALREADY_REVERSED`` is found)."""
        if reverses is None or len(self) == 0 or reverses.null_count == len(reverses):
            return None
        rec = self.index.slots(reverses)
        rec = np.unique(rec[rec >= 0])
        if len(rec) == 0:
            return None
        rec = np.unique(np.concatenate([rec, self.reversed_by[rec][self.reversed_by[rec] >= 0]]))
        cols = {
            "claim_id": self.index.ids(rec),
            "person_id": persons.ids(self.person[rec]),
            "year": pa.array(self.year[rec]),
        }
        for j, name in enumerate(OUTPUT_FIELDS):
            cols[name] = pa.array(self.values[rec, j])
        cols["visit_type"] = labels(self.visit[rec], VISIT_TYPES)
        cols["facility_level"] = labels(self.level[rec], FACILITY_LEVELS)
        orig = self.original[rec]
        ids = self.index.ids(np.maximum(orig, 0))
        cols["reverses"] = pc.if_else(pa.array(orig >= 0), ids, pa.nulls(len(rec), ids.type))
        return pa.table(cols)

    def add(self, claim_id: pa.Array, person: np.ndarray, year: np.ndarray, visit: np.ndarray, level: np.ndarray,
            values: np.ndarray, reverses: pa.Array) -> None:  # fmt: skip
        """Remember settled rows (``values``: ``[rows, N_OUT]``)."""
        start = len(self)
        rec = self.index.slots(claim_id, add=True)
        n = self.index.n
        for name in ("person", "year", "visit", "level", "values", "original", "reversed_by"):
            setattr(self, name, _grow(getattr(self, name), n))
        self.person[rec] = person
        self.year[rec] = year
        self.visit[rec] = visit
        self.level[rec] = level
        self.values[rec] = values
        self.original[start:n] = -1
        self.reversed_by[start:n] = -1
        if reverses.null_count < len(reverses):
            is_rev = np.flatnonzero(~np.asarray(reverses.is_null().to_numpy(zero_copy_only=False)))
            target = self.index.slots(reverses.take(pa.array(is_rev)))
            ok = target >= 0
            self.original[rec[is_rev[ok]]] = target[ok]
            self.reversed_by[target[ok]] = rec[is_rev[ok]]
