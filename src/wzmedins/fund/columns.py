"""Input handling shared by the fund's entry points: coercion, row checks and the output ``reason``.

Every entry point keeps all its input rows, in input order, and adds a ``reason`` column: null
for a row it used, else the first reason code that applies in the order of ``reasons.REASONS``
(docs/rules/fund.md §7). Structural problems (a missing column, a wrong type) raise
:class:`~wzmedins.errors.SchemaError` naming the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..reasons import CODE, REASONS

NO_REASON = tables.NO_REASON
INT_EXPECTED = "integers"


STRING_COLUMNS = ("person_id", "employer_id", "county", "category", "assistance", "scheme", "reason")


def table(data: Any) -> pa.Table:
    """Any accepted input (Arrow, polars, Parquet path) as one table with contiguous columns;
    an all-null column (Arrow type null, e.g. from a list of None) takes the type it stands for."""
    t = tables.to_table(data).combine_chunks()
    for i, field in enumerate(t.schema):
        if pa.types.is_null(field.type):
            typ = pa.string() if field.name in STRING_COLUMNS else pa.int64()
            t = t.set_column(i, field.name, t.column(i).cast(typ))
    return t


def new_reason(n: int) -> np.ndarray:
    return np.full(n, NO_REASON, dtype=np.int16)


def flag(reason: np.ndarray, mask: np.ndarray, code: str) -> None:
    tables.flag(reason, mask, code)


def integers(t: pa.Table, name: str, reason: np.ndarray, *, default: int | None = None) -> np.ndarray:
    """An integer column as int64; a null is MISSING_VALUE (or ``default`` when given)."""
    arr = tables.column(t, name, INT_EXPECTED)
    if arr is None:
        if default is None:
            raise SchemaError(name, INT_EXPECTED, "no such column")
        return np.full(t.num_rows, default, dtype=np.int64)
    if not (pa.types.is_integer(arr.type) or pa.types.is_null(arr.type)):
        raise SchemaError(name, INT_EXPECTED, str(arr.type))
    nulls = tables.null_mask(arr)
    if default is None:
        flag(reason, nulls, "MISSING_VALUE")
    return np.where(nulls, default or 0, arr.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False))


def money(t: pa.Table, name: str, reason: np.ndarray, *, negative_ok: bool = False, required: bool = True):
    """A money column as int64 fen (int64 fen, decimal or float yuan), with its reasons."""
    scratch = new_reason(t.num_rows)
    fen = tables.money(t, name, scratch, is_required=required)
    if negative_ok:
        scratch[scratch == CODE["NEGATIVE_AMOUNT"]] = NO_REASON
    np.minimum(reason, scratch, out=reason)
    return fen


def optional_money(t: pa.Table, name: str, reason: np.ndarray, *, negative_ok: bool = False):
    """An optional money column as (fen, given): ``given`` is False where absent or null."""
    arr = tables.column(t, name, tables.MONEY_EXPECTED)
    if arr is None:
        return np.zeros(t.num_rows, dtype=np.int64), np.zeros(t.num_rows, dtype=bool)
    given = ~tables.null_mask(arr)
    return money(t, name, reason, negative_ok=negative_ok, required=False), given


def codes(t: pa.Table, name: str, vocab: tuple[str, ...], reason: np.ndarray, unknown: str, *, default=None):
    """A string column as int codes into ``vocab`` (tables.enum_codes, any vocabulary size)."""
    return tables.enum_codes(t, name, tuple(vocab), reason, unknown, default=default).astype(np.int64)


def county_codes(t: pa.Table, counties: tuple[str, ...], reason: np.ndarray) -> np.ndarray:
    """The ``county`` column as codes into the profile's counties; others are UNKNOWN_COUNTY."""
    return codes(t, "county", counties, reason, "UNKNOWN_COUNTY")


def ids(t: pa.Table, name: str, reason: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """An id column and a dense int64 code per row (-1 for null, which is MISSING_VALUE)."""
    arr = tables.ids(t, name, reason)
    if pa.types.is_integer(arr.type):
        valid = ~tables.null_mask(arr)
        vals = arr.fill_null(0).to_numpy(zero_copy_only=False)
        code = np.full(len(arr), -1, dtype=np.int64)
        code[valid] = np.unique(vals[valid], return_inverse=True)[1]
        return arr, code
    enc = pc.dictionary_encode(arr)
    return arr, enc.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


SMALL_RANGE = 1 << 20  # a part spanning fewer values (or under twice its rows) is an offset, not sorted


def dense_key(*parts: np.ndarray) -> tuple[np.ndarray, int]:
    """One int64 code per combination of the integer arrays ``parts``, and the number of codes
    possible. Parts of small range (years, months, dense codes) are offsets, others are ranked
    by ``np.unique``; the code is ranked again only if it would pass 2⁶².

    Examples
    --------
    >>> key, size = dense_key(np.array([5, 5, 7]), np.array([2022, 2023, 2022]))
    >>> key.tolist(), size
    ([0, 1, 4], 6)
    """
    key = np.zeros(len(parts[0]), dtype=np.int64)
    size = 1
    for part in parts:
        lo = int(part.min()) if len(part) else 0
        hi = int(part.max()) if len(part) else 0
        if hi - lo < max(SMALL_RANGE, 2 * len(part)):
            code, n = part.astype(np.int64) - lo, hi - lo + 1
        else:
            values, inv = np.unique(part, return_inverse=True)
            code, n = inv.astype(np.int64).reshape(-1), len(values)
        if size * n >= 1 << 62:
            values, inv = np.unique(key, return_inverse=True)
            key, size = inv.astype(np.int64).reshape(-1), len(values)
        key = key * n + code
        size *= n
    return key, size


def later_duplicates(key, ok: np.ndarray) -> np.ndarray:
    """Rows among ``ok`` whose int64 ``key`` (or ``(key, size)`` of :func:`dense_key`) an earlier
    ``ok`` row already had."""
    if isinstance(key, tuple):
        key = key[0]
    rows = np.flatnonzero(ok)
    order = rows[np.argsort(key[rows], kind="stable")]
    k = key[order]
    dup = np.zeros(len(key), dtype=bool)
    dup[order[1:][k[1:] == k[:-1]]] = True
    return dup


def reason_column(reason: np.ndarray) -> pa.Array:
    """The ``reason`` output column: null for a used row, else the code's name."""
    bad = reason != NO_REASON
    if not bad.any():
        return pa.nulls(len(reason), pa.string())
    names = np.array(REASONS, dtype=object)
    out = np.full(len(reason), None, dtype=object)
    out[bad] = names[reason[bad]]
    return pa.array(out, pa.string())


def fen_column(values: np.ndarray, ok: np.ndarray) -> pa.Array:
    """int64 fen, null where the row was not used."""
    if ok.all():
        return pa.array(values.astype(np.int64, copy=False), pa.int64())
    return pa.array(np.where(ok, values, 0).astype(np.int64), pa.int64(), mask=~ok)


def with_columns(t: pa.Table, new: dict[str, pa.Array]) -> pa.Table:
    """``t`` with ``new`` columns appended (replacing any of the same name)."""
    for name, arr in new.items():
        if name in t.column_names:
            t = t.set_column(t.column_names.index(name), name, arr)
        else:
            t = t.append_column(name, arr)
    return t
