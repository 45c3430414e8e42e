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
from ..reasons import CODE
from ..tables import NO_REASON, flag
from ..vocab import VISIT_TYPES

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
        idx = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        if len(per_value) == 0:
            return np.full(len(arr), -1, dtype=np.int64)
        out = per_value[np.maximum(idx, 0)]
        out[idx < 0] = -1
        return out
    arr, values = _same_type(_plain(arr), _plain(values))
    if len(values) == 0:
        return np.full(len(arr), -1, dtype=np.int64)
    return pc.index_in(arr, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


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


def _id_column(t: pa.Table, name: str, *, is_required: bool = True) -> pa.Array | None:
    arr = tables.required(t, name, tables.ID_EXPECTED) if is_required else tables.column(t, name, "")
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
    band_idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
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
    fund = tables.money(t, "fund", fund_reason, is_required=True)
    # a reversal's amounts are the negatives of its original's (money() keeps the value)
    fund_reason[(fund_reason == CODE["NEGATIVE_AMOUNT"]) & is_reversal] = NO_REASON
    np.minimum(reason, fund_reason, out=reason)
    visit = tables.enum_codes(t, "visit_type", VISIT_TYPES, reason, "UNKNOWN_VISIT_TYPE")
    day = None
    if "settle_date" in t.column_names:
        day_reason = np.full(n, NO_REASON, dtype=np.int16)
        day = tables.dates(t, "settle_date", day_reason)
        if "year" not in t.column_names:
            np.minimum(reason, day_reason, out=reason)
    if "year" in t.column_names:
        year_arr = tables.column(t, "year", "int")
        if not pa.types.is_integer(year_arr.type):
            raise SchemaError("year", "integer years", str(year_arr.type))
        flag(reason, tables.null_mask(year_arr), "MISSING_VALUE")
        year = year_arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
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


def month_end(year: int, month: int) -> int:
    """The last day of ``month`` of ``year`` as days since 1970-01-01.

    Examples
    --------
    >>> month_end(2022, 2) - month_end(2022, 1), month_end(2022, 12) == month_end(2023, 1) - 31
    (28, True)
    """
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return (nxt - dt.date(1970, 1, 1)).days - 1
