"""Per-person state carried between claims and batches, and opening account balances.

Both tables are keyed by ``(person_id, year)`` (interfaces.md "state", "accounts"). For the
kernel they become CSR tables over the batch's person codes: rows of person ``c`` are
``ptr[c]:ptr[c+1]``, sorted by year.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..errors import SchemaError

STATE_FIELDS = (
    "outpatient_deductible_used",
    "inpatient_deductible_used",
    "admissions_primary",
    "admissions_secondary",
    "admissions_tertiary",
    "fund_paid",
    "ci_base",
    "ci_paid",
    "ma_base",
    "ma_paid",
    "current_balance",
    "hist_balance",
)
ACCOUNT_FIELDS = ("current_balance", "hist_balance")


def state_schema(person_type: pa.DataType) -> pa.Schema:
    fields = [("person_id", person_type), ("year", pa.int32())]
    fields += [(f, pa.int32() if f.startswith("admissions") else pa.int64()) for f in STATE_FIELDS]
    return pa.schema(fields)


def _int_matrix(table: pa.Table, names: tuple[str, ...], what: str) -> np.ndarray:
    cols = []
    for name in names:
        arr = t.required(table, name, f"an integer column of the {what} table")
        if not pa.types.is_integer(arr.type):
            raise SchemaError(name, f"an integer column of the {what} table", str(arr.type))
        if arr.null_count:
            raise SchemaError(name, f"no nulls in the {what} table", f"{arr.null_count} nulls")
        cols.append(arr.cast(pa.int64()).to_numpy())
    return np.stack(cols, axis=1) if cols else np.zeros((table.num_rows, 0), dtype=np.int64)


def person_ids(table: pa.Table, person_type: pa.DataType, what: str) -> pa.Array:
    arr = t.ids(table, "person_id")
    try:
        return arr.cast(person_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise SchemaError(
            "person_id", f"the claims' person_id type ({person_type}) in the {what} table", str(arr.type)
        ) from None


class KeyedRows:
    """A (person_id, year)-keyed table laid out as CSR over the batch's person codes."""

    def __init__(self, table: pa.Table | None, fields: tuple[str, ...], persons: pa.Array, what: str):
        n_persons = len(persons)
        self.table = table
        if table is None or table.num_rows == 0:
            self.ptr = np.zeros(n_persons + 1, dtype=np.int64)
            self.years = np.zeros(0, dtype=np.int64)
            self.values = np.zeros((0, len(fields)), dtype=np.int64)
            self.rows = np.zeros(0, dtype=np.int64)
            return
        ids = person_ids(table, persons.type, what)
        year = _int_matrix(table, ("year",), what)[:, 0]
        values = _int_matrix(table, fields, what)
        codes = pc.index_in(ids, value_set=persons).fill_null(-1).to_numpy()
        rows = np.flatnonzero(codes >= 0)
        rows = rows[np.lexsort((year[rows], codes[rows]))]
        c, y = codes[rows], year[rows]
        dup = (c[1:] == c[:-1]) & (y[1:] == y[:-1])
        if dup.any():
            k = rows[1:][dup][0]
            raise SchemaError(
                "person_id, year", f"one row per person and year in the {what} table", f"{ids[k]}, {year[k]} twice"
            )
        self.ptr = np.zeros(n_persons + 1, dtype=np.int64)
        np.cumsum(np.bincount(c, minlength=n_persons), out=self.ptr[1:])
        self.years = y.astype(np.int64)
        self.values = np.ascontiguousarray(values[rows])
        self.rows = rows  # input row of each CSR row


def state_table(persons: pa.Array, codes: np.ndarray, years: np.ndarray, values: np.ndarray) -> pa.Table:
    """Build a state table from person codes into ``persons``."""
    cols = {"person_id": persons.take(pa.array(codes)), "year": pa.array(years.astype(np.int32))}
    for j, name in enumerate(STATE_FIELDS):
        dtype = np.int32 if name.startswith("admissions") else np.int64
        cols[name] = pa.array(values[:, j].astype(dtype))
    return pa.table(cols, schema=state_schema(persons.type))


def carried_state(previous: pa.Table | None, used: np.ndarray, new: pa.Table) -> pa.Table:
    """The state after a batch: rows of ``previous`` the batch did not touch, then ``new``."""
    if previous is None or previous.num_rows == 0:
        return new
    keep = np.ones(previous.num_rows, dtype=bool)
    keep[used] = False
    old = previous.select(["person_id", "year", *STATE_FIELDS]).filter(pa.array(keep))
    old = old.cast(state_schema(new.schema.field("person_id").type))
    return pa.concat_tables([old, new])
