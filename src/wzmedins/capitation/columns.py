"""Check and code the two inputs of capitation: signings and settled claims.

Everything here is independent of the profile, so that scenarios code the inputs once. Row
problems become reason codes (``wzmedins.reasons``); a missing or mistyped column raises
:class:`~wzmedins.errors.SchemaError` naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..reasons import CODE, MAX_AMOUNT_FEN
from ..tables import NO_REASON, flag
from ..vocab import VISIT_TYPES
from . import _kernel

MAX_MONTHS = 12

SIGNING_MESSAGES = {
    "MISSING_VALUE": "a required value is null",
    "MONTH_OUT_OF_RANGE": "months signed is not between 1 and 12",
    "DUPLICATE_SIGNING": "the person is signed twice in the year; the first row is used",
    "UNKNOWN_AGE_BAND": "age_band is not a band of the profile's weight_bp",
}
CLAIM_MESSAGES = {
    "MISSING_VALUE": "a required value is null",
    "NEGATIVE_AMOUNT": "fund is negative on a row that is not a reversal",
    "AMOUNT_NOT_IN_FEN": "fund is not a whole number of fen",
    "AMOUNT_TOO_LARGE": "fund is too large",
    "UNKNOWN_VISIT_TYPE": "visit_type is not one of " + ", ".join(VISIT_TYPES),
    "DUPLICATE_CLAIM_ID": "claim_id repeats an earlier row: a claim is charged at most once",
}


def lookup(arr: pa.Array, values: pa.Array) -> np.ndarray:
    """Index of each row of ``arr`` among the distinct ``values``; -1 for null or absent.

    Dictionary-encoded columns are looked up once per dictionary value. Ids of different
    types (int and string) are compared as strings.

    Examples
    --------
    >>> lookup(pa.array(["b", None, "x", "a"]), pa.array(["a", "b"])).tolist()
    [1, -1, -1, 0]
    >>> lookup(pa.array(["K2", "K1", "K2"]).dictionary_encode(), pa.array(["K1", "K2"])).tolist()
    [1, 0, 1]
    """
    if pa.types.is_dictionary(arr.type):
        per_value = lookup(arr.dictionary, values)
        idx = arr.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        if len(per_value) == 0:
            return np.full(len(arr), -1, dtype=np.int64)
        out = per_value[np.maximum(idx, 0)]
        out[idx < 0] = -1
        return out
    arr, values = _same_type(_plain(arr), _plain(values))
    if len(values) == 0:
        return np.full(len(arr), -1, dtype=np.int64)
    return _index_in(arr, values)


def _index_in(arr: pa.Array, values: pa.Array) -> np.ndarray:
    return pc.index_in(arr, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def hash_ids(arr: pa.Array) -> np.ndarray:
    """A 64-bit hash per id: splitmix64 of an integer (a bijection: equal hash, equal id), or a
    hash of a string's bytes read in place (equal hashes are checked before anything relies on
    them).

    Examples
    --------
    >>> h = hash_ids(pa.array(["WZ1", "WZ2", "WZ1"]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1])
    (True, False)
    """
    if pa.types.is_string(arr.type):
        offsets, data = _string_buffers(arr)
        with np.errstate(over="ignore"):  # wrapping multiplication, as compiled (NUMBA_DISABLE_JIT)
            return _kernel._hash_strings(offsets, data, 0)
    return tables.hash64(arr)


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (int32, one more than the rows) and bytes of a string array, in place."""
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data


def _same(arr: pa.Array, rows: np.ndarray, values: pa.Array, idx: np.ndarray) -> np.ndarray:
    """Whether ``arr[rows]`` equals ``values[idx]``, row by row (ints: their hashes were equal)."""
    if not pa.types.is_string(arr.type):
        return np.ones(len(rows), dtype=bool)
    oa, da = _string_buffers(arr)
    ob, db = _string_buffers(values)
    return _kernel._equal_strings(oa, da, rows.astype(np.int64), ob, db, idx.astype(np.int64))


def distinct(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The distinct non-null values of ``arr`` (first-seen order) and each row's index into them
    (-1 for null), in one pass: 64-bit hashes in a compiled open-addressing table, then every
    row checked byte for byte against its value (a collision falls back to Arrow's exact way).

    Examples
    --------
    >>> values, codes = distinct(pa.array(["b", "a", None, "b"]))
    >>> values.to_pylist(), codes.tolist()
    (['b', 'a'], [0, 1, -1, 0])
    """
    arr = _plain(arr)
    valid = ~tables.null_mask(arr)
    rows = np.flatnonzero(valid)
    codes = np.full(len(arr), -1, dtype=np.int64)
    if not len(rows):
        return arr.slice(0, 0), codes
    sub = arr.take(pa.array(rows)) if len(rows) < len(arr) else arr
    _, code, first = _kernel._hash_table(hash_ids(sub))
    values = sub.take(pa.array(first))
    if not _same(sub, np.arange(len(sub)), values, code).all():  # a hash collision: the exact way
        values = pc.unique(sub)
        code = _index_in(sub, values)
    codes[rows] = code
    return values, codes


def _plain(arr: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_integer(arr.type):
        return arr.cast(pa.int64())
    return arr


def _same_type(a: pa.Array, b: pa.Array) -> tuple[pa.Array, pa.Array]:
    if a.type == b.type:
        return a, b
    return a.cast(pa.string()), b.cast(pa.string())


def column(t: pa.Table, name: str) -> pa.Array | None:
    """The column ``name`` as one array, or None; one chunk is used as it is (no copy: combining
    chunks copies, which costs seconds at 10⁸ rows)."""
    if name not in t.column_names:
        return None
    col = t.column(name)
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def required(t: pa.Table, name: str, expected: str) -> pa.Array:
    arr = column(t, name)
    if arr is None:
        raise SchemaError(name, expected, "no such column")
    return arr


def _id_column(t: pa.Table, name: str, *, is_required: bool = True) -> pa.Array | None:
    arr = required(t, name, tables.ID_EXPECTED) if is_required else column(t, name)
    if arr is None:
        return None
    value_type = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if not (pa.types.is_integer(value_type) or pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
        if not pa.types.is_null(value_type):
            raise SchemaError(name, tables.ID_EXPECTED, str(arr.type))
    return arr


def community_strings(arr: pa.Array | None, n: int) -> pa.Array:
    """A community id column as strings (dictionary-encoded stays encoded); absent: all null."""
    if arr is None:
        return pa.nulls(n, pa.string())
    if pa.types.is_dictionary(arr.type):
        return pa.DictionaryArray.from_arrays(arr.indices, _plain(arr.dictionary).cast(pa.string()))
    return _plain(arr).cast(pa.string())


@dataclasses.dataclass
class Signings:
    """The signings coded once: ``reason`` holds the profile-independent checks."""

    table: pa.Table
    person_id: pa.Array
    community_id: pa.Array  # strings
    band_values: pa.Array  # distinct age bands
    band_idx: np.ndarray  # -1: null
    chronic: np.ndarray
    months: np.ndarray
    year: np.ndarray | None
    reason: np.ndarray


def signing_columns(signings: Any) -> Signings:
    """Check and code the signings table: ``person_id``, ``community_id``, ``age_band``,
    optional ``chronic`` (bool, default false), ``months`` (1–12, default 12), ``year``."""
    t = tables.to_table(signings)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    person = _plain(_id_column(t, "person_id"))
    flag(reason, tables.null_mask(person), "MISSING_VALUE")
    community = community_strings(_id_column(t, "community_id"), n)
    flag(reason, tables.null_mask(community), "MISSING_VALUE")
    band = tables.required(t, "age_band", "strings such as 0-6, 18-59, 80+")
    band = _plain(band)
    if not pa.types.is_string(band.type):
        raise SchemaError("age_band", "strings such as 0-6, 18-59, 80+", str(band.type))
    enc = pc.dictionary_encode(band)
    band_idx = enc.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    flag(reason, band_idx < 0, "MISSING_VALUE")
    chronic = tables.column(t, "chronic", "bool")
    if chronic is None:
        chronic_np = np.zeros(n, dtype=np.bool_)
    else:
        if not (pa.types.is_boolean(chronic.type) or pa.types.is_null(chronic.type)):
            raise SchemaError("chronic", "bool", str(chronic.type))
        flag(reason, tables.null_mask(chronic), "MISSING_VALUE")
        chronic_np = chronic.cast(pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False).astype(np.bool_)
    months_arr = tables.column(t, "months", "int")
    if months_arr is None:
        months = np.full(n, MAX_MONTHS, dtype=np.int64)
    else:
        if not (pa.types.is_integer(months_arr.type) or pa.types.is_null(months_arr.type)):
            raise SchemaError("months", "integers 1..12", str(months_arr.type))
        flag(reason, tables.null_mask(months_arr), "MISSING_VALUE")
        months = months_arr.cast(pa.int64()).fill_null(MAX_MONTHS).to_numpy(zero_copy_only=False)
        bad = (months < 1) | (months > MAX_MONTHS)
        flag(reason, bad & ~tables.null_mask(months_arr), "MONTH_OUT_OF_RANGE")
        months = np.where(bad, 0, months).astype(np.int64)
    year = None
    if "year" in t.column_names:
        year_arr = tables.column(t, "year", "int")
        if not pa.types.is_integer(year_arr.type):
            raise SchemaError("year", "integer years", str(year_arr.type))
        flag(reason, tables.null_mask(year_arr), "MISSING_VALUE")
        year = year_arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return Signings(t, person, community, enc.dictionary, band_idx, chronic_np, months, year, reason)


@dataclasses.dataclass
class Claims:
    """The settled claims coded once (fund in fen, visit codes, year, day)."""

    table: pa.Table
    n: int
    claim_id: pa.Array | None
    person_id: pa.Array
    community_id: pa.Array  # strings, maybe dictionary-encoded; null: no community
    visit: np.ndarray
    fund: np.ndarray
    year: np.ndarray
    day: np.ndarray | None  # settle_date, days since 1970-01-01
    is_reversal: np.ndarray
    reverses: pa.Array | None
    reason: np.ndarray
    has_community: bool


def claim_columns(settled: Any) -> Claims:
    """Check and code settled claims: ``person_id``, ``fund``, ``visit_type``, ``year`` (or
    ``settle_date``), optional ``community_id``, ``settle_date``, ``claim_id``, ``reverses``."""
    t = tables.to_table(settled)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    person = _id_column(t, "person_id")
    if pa.types.is_large_string(person.type):
        person = person.cast(pa.string())
    flag(reason, tables.null_mask(person), "MISSING_VALUE")
    claim_id = _id_column(t, "claim_id", is_required=False)
    reverses = _id_column(t, "reverses", is_required=False)
    is_reversal = np.zeros(n, dtype=bool) if reverses is None else ~tables.null_mask(reverses)
    fund_reason = np.full(n, NO_REASON, dtype=np.int16)
    fund = _fund(t, fund_reason)
    # a reversal's amounts are the negatives of its original's (money() keeps the value)
    fund_reason[(fund_reason == CODE["NEGATIVE_AMOUNT"]) & is_reversal] = NO_REASON
    np.minimum(reason, fund_reason, out=reason)
    visit = _visit_codes(required(t, "visit_type", "strings from " + ", ".join(VISIT_TYPES)), reason)
    day = None
    if "settle_date" in t.column_names:
        day_reason = np.full(n, NO_REASON, dtype=np.int16)
        day = tables.dates(t, "settle_date", day_reason)
        if "year" not in t.column_names:
            np.minimum(reason, day_reason, out=reason)
    if "year" in t.column_names:
        year_arr = column(t, "year")
        if not pa.types.is_integer(year_arr.type):
            raise SchemaError("year", "integer years", str(year_arr.type))
        flag(reason, tables.null_mask(year_arr), "MISSING_VALUE")
        year = year_arr.fill_null(0).to_numpy(zero_copy_only=False)
    elif day is not None:
        year = tables.year_of(day).astype(np.int64)
    else:
        raise SchemaError("year", "the insurance year of each claim (or settle_date)", "no such column")
    raw_community = _id_column(t, "community_id", is_required=False)
    community = community_strings(raw_community, n)
    return Claims(
        t,
        n,
        claim_id,
        person,
        community,
        visit,
        fund,
        year,
        day,
        is_reversal,
        reverses,
        reason,
        raw_community is not None,
    )


def _fund(t: pa.Table, reason: np.ndarray) -> np.ndarray:
    """The ``fund`` column in fen. int64 without nulls is read in place; other forms (decimal or
    float yuan, nulls) go through ``tables.money``."""
    arr = column(t, "fund")
    if arr is not None and pa.types.is_int64(arr.type) and arr.null_count == 0:
        fen = arr.to_numpy()
        too_large = np.abs(fen) > MAX_AMOUNT_FEN
        flag(reason, ~too_large & (fen < 0), "NEGATIVE_AMOUNT")
        flag(reason, too_large, "AMOUNT_TOO_LARGE")
        return fen
    return tables.money(t, "fund", reason, is_required=True)


def _visit_codes(arr: pa.Array, reason: np.ndarray) -> np.ndarray:
    """Visit type codes into ``VISIT_TYPES``; null MISSING_VALUE, others UNKNOWN_VISIT_TYPE."""
    expected = "strings from " + ", ".join(VISIT_TYPES)
    value_type = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type) or pa.types.is_null(value_type)):
        raise SchemaError("visit_type", expected, str(arr.type))
    codes = lookup(arr, pa.array(VISIT_TYPES))
    nulls = tables.null_mask(arr) if not pa.types.is_dictionary(arr.type) else _dictionary_nulls(arr)
    flag(reason, nulls, "MISSING_VALUE")
    flag(reason, ~nulls & (codes < 0), "UNKNOWN_VISIT_TYPE")
    return np.maximum(codes, 0).astype(np.int8)


def _dictionary_nulls(arr: pa.DictionaryArray) -> np.ndarray:
    """Null rows of a dictionary array: a null index, or an index to a null value."""
    if arr.null_count == 0 and arr.dictionary.null_count == 0:
        return np.zeros(len(arr), dtype=bool)
    idx = arr.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
    null_value = np.append(tables.null_mask(arr.dictionary), True)
    return null_value[np.where(idx < 0, len(arr.dictionary), idx)]


def month_end(year: int, month: int) -> int:
    """The last day of ``month`` of ``year`` as days since 1970-01-01.

    Examples
    --------
    >>> month_end(2022, 2) - month_end(2022, 1), month_end(2022, 12) == month_end(2023, 1) - 31
    (28, True)
    """
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return (nxt - dt.date(1970, 1, 1)).days - 1
