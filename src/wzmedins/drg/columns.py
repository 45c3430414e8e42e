"""Column helpers shared by score, clear and calibrate: typed all-null columns, and ids and
codes encoded once per distinct value (lookups then run on the few distinct values)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from .catalog import CODE_EXPECTED, string_column

# the type an all-null column (Arrow type null, e.g. from a list of None) stands for
NULL_TYPES = {
    "case_id": pa.string(),
    "person_id": pa.string(),
    "hospital_id": pa.string(),
    "fund": pa.string(),
    "drg_code": pa.string(),
    "total_cost": pa.int64(),
    "patient_paid": pa.int64(),
    "fund_ffs": pa.int64(),
    "admit_date": pa.date32(),
    "discharge_date": pa.date32(),
    "los": pa.int64(),
    "manual_points": pa.decimal128(18, 4),
    "incomplete": pa.bool_(),
    "bonus_points": pa.decimal128(18, 4),
    "points": pa.decimal128(18, 4),
    "base_points": pa.decimal128(18, 4),
}


def typed_nulls(t: pa.Table) -> pa.Table:
    for i, field in enumerate(t.schema):
        if pa.types.is_null(field.type) and field.name in NULL_TYPES:
            t = t.set_column(i, field.name, t.column(i).cast(NULL_TYPES[field.name]))
    return t


def encoded_codes(t: pa.Table, name: str):
    """A string column as (column, distinct values, index of each row into them; -1 for null)."""
    arr = tables.required(t, name, CODE_EXPECTED)
    if pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type.value_type) or pa.types.is_large_string(arr.type.value_type)):
            raise SchemaError(name, CODE_EXPECTED, str(arr.type))
        values = arr.dictionary.cast(pa.string())
        if len(pc.unique(values)) != len(values):  # a dictionary may repeat a value
            return (arr, *encode(arr.cast(pa.string())))
        return arr, values, dictionary_indices(arr)
    arr = string_column(t, name)
    return (arr, *encode(arr))


def encoded_ids(t: pa.Table, name: str):
    """An id column (string or int64, maybe dictionary-encoded), encoded like encoded_codes."""
    arr = tables.required(t, name, tables.ID_EXPECTED)
    if pa.types.is_dictionary(arr.type):
        values = tables.ids(pa.table({name: arr.dictionary}), name)
        if len(pc.unique(values)) != len(values):  # a dictionary may repeat a value
            return (arr, *encode(arr.cast(arr.type.value_type)))
        return arr, values, dictionary_indices(arr)
    arr = tables.ids(t, name)
    return (arr, *encode(arr))


def gather(per_value: np.ndarray, idx: np.ndarray, missing) -> np.ndarray:
    if len(per_value) == 0:
        return np.full(len(idx), missing, dtype=per_value.dtype)
    out = per_value[np.maximum(idx, 0)]
    out[idx < 0] = missing
    return out


def encode(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Distinct values and the index of each row into them (-1 for null).

    Integer ids go through numpy (sorting is much faster than Arrow's hashing of int64).
    """
    if pa.types.is_integer(arr.type):
        valid = ~tables.null_mask(arr)
        vals = arr.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False)
        idx = np.full(len(arr), -1, dtype=np.int64)
        if valid.all():
            uniq, inv = np.unique(vals, return_inverse=True)
            idx = inv.astype(np.int64)
        else:
            uniq, inv = np.unique(vals[valid], return_inverse=True)
            idx[valid] = inv
        return pa.array(uniq, pa.int64()), idx
    enc = pc.dictionary_encode(arr)
    return enc.dictionary, dictionary_indices(enc)


def dictionary_indices(arr: pa.DictionaryArray) -> np.ndarray:
    """The indices of a dictionary array as int64, -1 for null, whatever their integer type.

    polars Categorical and Enum columns arrive with unsigned indices (uint32, uint8 …), where
    -1 cannot be written, so they are widened first.

    Examples
    --------
    >>> arr = pa.DictionaryArray.from_arrays(pa.array([1, None, 0], pa.uint32()), pa.array(["a", "b"]))
    >>> dictionary_indices(arr).tolist()
    [1, -1, 0]
    """
    idx = arr.indices
    if idx.type != pa.int64():
        idx = idx.cast(pa.int64())
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def dense_codes(arr: pa.Array) -> np.ndarray:
    """Integer code per distinct id (nulls: -1)."""
    return encode(arr)[1]
