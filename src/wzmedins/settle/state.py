"""Reading carried state and opening accounts tables (interfaces.md "state", "accounts").

Both are keyed by ``(person_id, year)``; the store (``store.py``) loads them into its dense
person-year rows. Names and types come from the neutral contract.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..contract import ACCOUNT_FIELDS, STATE_ORDER, state_schema
from ..contract import STATE_ACCUMULATORS as STATE_FIELDS
from ..errors import SchemaError

__all__ = ["ACCOUNT_FIELDS", "STATE_FIELDS", "STATE_ORDER", "state_schema", "int_matrix", "carried_state"]


def int_matrix(table: pa.Table, names: tuple[str, ...], what: str) -> np.ndarray:
    """Integer columns ``names`` of ``table`` as an int64 ``[rows, len(names)]`` matrix."""
    cols = []
    for name in names:
        arr = t.required(table, name, f"an integer column of the {what} table")
        if not pa.types.is_integer(arr.type):
            raise SchemaError(name, f"an integer column of the {what} table", str(arr.type))
        if arr.null_count:
            raise SchemaError(name, f"no nulls in the {what} table", f"{arr.null_count} nulls")
        cols.append(arr.cast(pa.int64()).to_numpy())
    return np.stack(cols, axis=1) if cols else np.zeros((table.num_rows, 0), dtype=np.int64)


def carried_state(previous: pa.Table | None, used: np.ndarray, new: pa.Table) -> pa.Table:
    """The state after a batch: rows of ``previous`` the batch did not touch, then ``new``
    (the columns ``new`` has)."""
    if previous is None or previous.num_rows == 0:
        return new
    keep = np.ones(previous.num_rows, dtype=bool)
    keep[used] = False
    names = [n for n in new.column_names if n in previous.column_names]
    old = previous.select(names).filter(pa.array(keep))
    for name in new.column_names:
        if name not in old.column_names:
            old = old.append_column(new.schema.field(name), pa.nulls(old.num_rows, new.schema.field(name).type))
    return pa.concat_tables([old.cast(new.schema), new])
