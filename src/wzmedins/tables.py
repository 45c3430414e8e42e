"""Arrow in, Arrow out: input coercion, money conversion and the output schemas.

Every entry point accepts a ``pyarrow.Table``, ``RecordBatch``, ``RecordBatchReader``, a
``polars.DataFrame`` or ``LazyFrame``, or a path to a Parquet file or dataset
(interfaces.md, "Tables"). Columns are turned into numpy arrays of integer codes and int64
fen here, once, so that kernels see nothing but arrays.

Row problems are reported as a per-row reason code (``reasons.CODE``); structural problems
raise :class:`~wzmedins.errors.SchemaError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import SchemaError
from .reasons import CODE, MAX_AMOUNT_FEN, REASONS

NO_REASON = np.int16(np.iinfo(np.int16).max)

MONEY_EXPECTED = "int64 fen, decimal128 yuan (scale <= 2) or float64 yuan"
E4_EXPECTED = "decimal (scale <= 4) or float64 holding a whole number of 1e-4"


# --------------------------------------------------------------------------- inputs


def to_table(data: Any) -> pa.Table:
    """Turn any accepted input into one ``pyarrow.Table``.

    Examples
    --------
    >>> import polars as pl
    >>> to_table(pl.DataFrame({"a": [1, 2]})).num_rows
    2
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, (str, os.PathLike)):
        import pyarrow.dataset as ds

        return ds.dataset(os.fspath(data), format="parquet").to_table()
    mod = type(data).__module__
    if mod.startswith("polars"):
        if hasattr(data, "collect"):  # LazyFrame
            data = data.collect()
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(
        "expected a pyarrow Table, RecordBatch or RecordBatchReader, a polars DataFrame or "
        f"LazyFrame, or a path to Parquet; got {type(data).__name__}"
    )


def iter_batches(data: Any, batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
    """Yield record batches from any accepted input without reading it all at once.

    Examples
    --------
    >>> t = pa.table({"a": list(range(5))})
    >>> [b.num_rows for b in iter_batches(t, batch_size=2)]
    [2, 2, 1]
    """
    if isinstance(data, (str, os.PathLike)):
        import pyarrow.dataset as ds

        yield from ds.dataset(os.fspath(data), format="parquet").to_batches(batch_size=batch_size)
        return
    if isinstance(data, pa.RecordBatchReader):
        for batch in data:
            for start in range(0, batch.num_rows, batch_size):
                yield batch.slice(start, batch_size)
        return
    if type(data).__module__.startswith("polars") and hasattr(data, "collect"):
        data = data.collect()
    yield from to_table(data).to_batches(max_chunksize=batch_size)


def column(table: pa.Table, name: str, expected: str) -> pa.Array | None:
    """The column ``name`` as one contiguous array, or None when absent; two columns of that
    name raise SchemaError saying what one should hold (``expected``).

    Examples
    --------
    >>> column(pa.table({"a": [1]}), "b", "int64") is None
    True
    >>> column(pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"]), "a", "int64")
    Traceback (most recent call last):
    ...
    wzmedins.errors.SchemaError: column 'a': expected one column of int64, got 2 columns
    """
    if name not in table.column_names:
        return None
    if table.column_names.count(name) > 1:
        raise SchemaError(name, f"one column of {expected}", f"{table.column_names.count(name)} columns")
    col = table.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def required(table: pa.Table, name: str, expected: str) -> pa.Array:
    """The column ``name``; raises SchemaError naming it when it is missing."""
    arr = column(table, name, expected)
    if arr is None:
        raise SchemaError(name, expected, "no such column")
    return arr


def null_mask(arr: pa.Array) -> np.ndarray:
    """Boolean numpy mask of the nulls of ``arr``."""
    if arr.null_count == 0:
        return np.zeros(len(arr), dtype=bool)
    return np.asarray(pc.is_null(arr, nan_is_null=True).to_numpy(zero_copy_only=False))


def flag(reason: np.ndarray, mask: np.ndarray, code: str) -> None:
    """Give the rows in ``mask`` the reason ``code`` unless an earlier-listed one applies."""
    np.minimum(reason, np.where(mask, np.int16(CODE[code]), NO_REASON), out=reason)


# --------------------------------------------------------------------------- money


def _decimal_unscaled(arr: pa.Array, scale: int, name: str, expected: str):
    """Unscaled int64 values of a decimal array at ``scale``, and a mask of overflowing rows."""
    t = arr.type
    if t.scale > scale:
        raise SchemaError(name, expected, str(t))
    target = pa.decimal128(38, scale)
    if t != target:
        arr = pc.cast(arr, target)
    words = np.frombuffer(arr.buffers()[1], dtype="<i8")[2 * arr.offset : 2 * (arr.offset + len(arr))]
    words = words.reshape(-1, 2)
    low, high = words[:, 0].copy(), words[:, 1]
    too_large = high != (low >> 63)
    low[too_large] = 0
    return low, too_large


def money(table: pa.Table, name: str, reason: np.ndarray, *, is_required: bool) -> np.ndarray:
    """Column ``name`` as int64 fen; bad rows get a reason code in ``reason``.

    Accepts int64 fen, decimal yuan with scale <= 2, or float64 yuan that is a whole number of
    fen. A missing optional column or a null in an optional column is 0.

    Examples
    --------
    >>> t = pa.table({"c": [12.34, 0.1, 1.005, None]})
    >>> reason = np.full(4, NO_REASON)
    >>> money(t, "c", reason, is_required=True).tolist()
    [1234, 10, 0, 0]
    >>> [REASONS[r] if r != NO_REASON else "ok" for r in reason]
    ['ok', 'ok', 'AMOUNT_NOT_IN_FEN', 'MISSING_VALUE']
    """
    n = table.num_rows
    arr = required(table, name, MONEY_EXPECTED) if is_required else column(table, name, MONEY_EXPECTED)
    if arr is None:
        return np.zeros(n, dtype=np.int64)
    t = arr.type
    nulls = null_mask(arr)
    if pa.types.is_integer(t):
        fen = arr.fill_null(0).cast(pa.int64()).to_numpy()
        too_large = np.abs(fen) > MAX_AMOUNT_FEN
        not_fen = np.zeros(n, dtype=bool)
    elif pa.types.is_decimal(t):
        fen, too_large = _decimal_unscaled(arr.fill_null(0) if nulls.any() else arr, 2, name, MONEY_EXPECTED)
        too_large |= np.abs(fen) > MAX_AMOUNT_FEN
        not_fen = np.zeros(n, dtype=bool)
    elif pa.types.is_floating(t):
        yuan = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        yuan = np.where(nulls, 0.0, yuan)
        with np.errstate(invalid="ignore", over="ignore"):
            too_large = ~(np.abs(yuan) * 100 <= MAX_AMOUNT_FEN)
            yuan = np.where(too_large, 0.0, yuan)
            cents = np.rint(yuan * 100)
            # a float is a whole number of fen when it is the double nearest to k/100
            not_fen = cents / 100 != yuan
        fen = cents.astype(np.int64)
    else:
        raise SchemaError(name, MONEY_EXPECTED, str(t))
    ok_value = ~nulls & ~too_large
    if is_required:
        flag(reason, nulls, "MISSING_VALUE")
    flag(reason, ok_value & (fen < 0), "NEGATIVE_AMOUNT")
    flag(reason, ok_value & not_fen, "AMOUNT_NOT_IN_FEN")
    flag(reason, ~nulls & too_large, "AMOUNT_TOO_LARGE")
    return np.where(ok_value & ~not_fen, fen, 0).astype(np.int64)


def fen_to_yuan(fen: int) -> str:
    """Format an amount in fen as yuan with two decimals, exactly.

    Examples
    --------
    >>> fen_to_yuan(1708290), fen_to_yuan(-5), fen_to_yuan(0)
    ('17082.90', '-0.05', '0.00')
    """
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(int(fen)), 100)
    return f"{sign}{q}.{r:02d}"


# --------------------------------------------------------------------------- 1e-4 units


def e4(table: pa.Table, name: str, *, is_required: bool, structural: bool = True):
    """Column ``name`` (points, coefficients, point values) as int64 in units of 1e-4.

    Returns ``(values, nulls)``. Accepts decimal with scale <= 4, integers (whole units) and
    float64 holding a whole number of 1e-4; anything else raises SchemaError naming the value.

    Examples
    --------
    >>> e4(pa.table({"p": [1.05, 126.0]}), "p", is_required=True)[0].tolist()
    [10500, 1260000]
    """
    arr = required(table, name, E4_EXPECTED) if is_required else column(table, name, E4_EXPECTED)
    n = table.num_rows
    if arr is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    nulls = null_mask(arr)
    t = arr.type
    if pa.types.is_decimal(t):
        vals, too_large = _decimal_unscaled(arr.fill_null(0) if nulls.any() else arr, 4, name, E4_EXPECTED)
        if too_large.any():
            raise SchemaError(name, E4_EXPECTED, f"value {arr[int(np.argmax(too_large))]} out of range")
    elif pa.types.is_integer(t):
        vals = arr.fill_null(0).cast(pa.int64()).to_numpy() * 10_000
    elif pa.types.is_floating(t):
        x = np.where(nulls, 0.0, arr.cast(pa.float64()).to_numpy(zero_copy_only=False))
        with np.errstate(invalid="ignore"):
            k = np.rint(x * 10_000)
            bad = ~(k / 10_000 == x) | ~(np.abs(k) < 2**62)
        if bad.any():
            raise SchemaError(name, E4_EXPECTED, f"value {x[int(np.argmax(bad))]!r}")
        vals = k.astype(np.int64)
    else:
        raise SchemaError(name, E4_EXPECTED, str(t))
    return np.where(nulls, 0, vals).astype(np.int64), nulls


def decimal4(values: np.ndarray) -> pa.Array:
    """int64 values in 1e-4 units as ``decimal128(18, 4)``, exactly.

    Examples
    --------
    >>> decimal4(np.array([1260000, -5])).to_pylist()
    [Decimal('126.0000'), Decimal('-0.0005')]
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    words = np.empty((len(values), 2), dtype="<i8")
    words[:, 0] = values
    words[:, 1] = values >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 4), len(values), [None, pa.py_buffer(words.tobytes())])


# --------------------------------------------------------------------------- enums, ids, dates


def enum_codes(
    table: pa.Table,
    name: str,
    vocab: tuple[str, ...],
    reason: np.ndarray,
    unknown_code: str,
    *,
    default: str | None = None,
) -> np.ndarray:
    """Column ``name`` as int8 codes into ``vocab``.

    Plain or dictionary-encoded strings. With ``default`` the column is optional and a null
    takes the default; without it a null is MISSING_VALUE. Values outside ``vocab`` get
    ``unknown_code``.

    Examples
    --------
    >>> reason = np.full(3, NO_REASON)
    >>> enum_codes(pa.table({"v": ["b", "x", None]}), "v", ("a", "b"), reason, "UNKNOWN_AREA").tolist()
    [1, 0, 0]
    >>> [REASONS[r] for r in reason[1:]]
    ['UNKNOWN_AREA', 'MISSING_VALUE']
    """
    expected = "strings (plain or dictionary-encoded) from " + ", ".join(vocab)
    n = table.num_rows
    arr = column(table, name, expected)
    if arr is None:
        if default is None:
            raise SchemaError(name, expected, "no such column")
        return np.full(n, vocab.index(default), dtype=np.int8)
    if pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type.value_type) or pa.types.is_large_string(arr.type.value_type)):
            raise SchemaError(name, expected, str(arr.type))
        dict_codes = pc.index_in(arr.dictionary, value_set=pa.array(vocab, arr.type.value_type))
        dict_codes = dict_codes.fill_null(-1).to_numpy().astype(np.int16)
        idx = arr.indices.fill_null(0).to_numpy(zero_copy_only=False)
        codes = dict_codes[idx] if len(dict_codes) else np.full(n, -1, dtype=np.int16)
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
        codes = pc.index_in(arr, value_set=pa.array(vocab, pa.string())).fill_null(-1).to_numpy()
    else:
        raise SchemaError(name, expected, str(arr.type))
    nulls = null_mask(arr)
    if default is None:
        flag(reason, nulls, "MISSING_VALUE")
    else:
        codes = np.where(nulls, vocab.index(default), codes)
    flag(reason, ~nulls & (codes < 0), unknown_code)
    return np.where(codes < 0, 0, codes).astype(np.int8)


ID_EXPECTED = "string or int64"


def ids(table: pa.Table, name: str, reason: np.ndarray | None = None, *, is_required: bool = True):
    """An identifier column (string or integer), checked for type; nulls are MISSING_VALUE."""
    arr = required(table, name, ID_EXPECTED) if is_required else column(table, name, ID_EXPECTED)
    if arr is None:
        return None
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_large_string(t):
        arr = arr.cast(pa.string())
    elif pa.types.is_integer(t):
        arr = arr.cast(pa.int64())
    elif not (pa.types.is_string(t) or pa.types.is_null(t)):
        raise SchemaError(name, ID_EXPECTED, str(t))
    if reason is not None and is_required:
        flag(reason, null_mask(arr), "MISSING_VALUE")
    return arr


def dates(table: pa.Table, name: str, reason: np.ndarray) -> np.ndarray:
    """A date column as int32 days since 1970-01-01 (a timestamp is cut to its date).

    Examples
    --------
    >>> import datetime as dt
    >>> reason = np.full(1, NO_REASON)
    >>> dates(pa.table({"d": [dt.date(2022, 1, 2)]}), "d", reason).tolist()
    [18994]
    """
    expected = "date32 (or a timestamp, cut to its date)"
    arr = required(table, name, expected)
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        arr = pc.cast(arr, pa.date32())
    elif not pa.types.is_date32(t):
        raise SchemaError(name, expected, str(t))
    flag(reason, null_mask(arr), "MISSING_VALUE")
    return arr.fill_null(0).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int32)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic): spreads integers over
    all 64 bits.

    Examples
    --------
    >>> int(splitmix64(np.array([0], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF
    True
    """
    u = np.uint64
    with np.errstate(over="ignore"):
        z = x + u(0x9E3779B97F4A7C15)
        z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
    return z ^ (z >> u(31))


def hash64(ids: pa.Array) -> np.ndarray:
    """A 64-bit hash of each identifier (string or integer), computed without a hash table.

    Used to partition persons and to prove ids distinct cheaply; equal hashes are always
    checked exactly before anything depends on them.

    Examples
    --------
    >>> h = hash64(pa.array(["a", "b", "a"]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1])
    (True, False)
    """
    if pa.types.is_integer(ids.type):
        return splitmix64(ids.fill_null(0).cast(pa.int64()).to_numpy().view(np.uint64))
    import polars as pl

    return pl.from_arrow(ids).hash(seed=0).to_numpy()


def all_distinct(ids: pa.Array) -> bool:
    """True when no two values are equal (False may still be distinct: hashes collided).

    Examples
    --------
    >>> all_distinct(pa.array([3, 1, 2])), all_distinct(pa.array(["x", "y", "x"]))
    (True, False)
    """
    h = np.sort(hash64(ids))
    return not bool((h[1:] == h[:-1]).any())


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of days since 1970-01-01.

    Examples
    --------
    >>> year_of(np.array([0, 18993, 19357, 19358])).tolist()
    [1970, 2022, 2022, 2023]
    """
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64).astype(np.int32) + 1970


def integers(table: pa.Table, name: str, default: int = 0) -> np.ndarray:
    """An optional integer column as int64; absent or null takes ``default``."""
    arr = column(table, name, "int64")
    if arr is None:
        return np.full(table.num_rows, default, dtype=np.int64)
    if not pa.types.is_integer(arr.type):
        raise SchemaError(name, "int64", str(arr.type))
    return arr.fill_null(default).cast(pa.int64()).to_numpy()


# --------------------------------------------------------------------------- outputs

REJECTED_SCHEMA = pa.schema(
    [("row", pa.int64()), ("claim_id", pa.string()), ("reason", pa.string()), ("message", pa.string())]
)


def rejected_table(
    rows: np.ndarray,
    row_ids: pa.Array | None,
    reason: np.ndarray,
    messages: dict[str, str],
    details: list[str | None] | None = None,
) -> pa.Table:
    """The rejected table for the rows whose ``reason`` is set.

    ``row_ids`` are the identifiers of all input rows (cast to string in the output);
    ``messages`` maps a reason code to the message for it; ``details``, one per rejected
    row, overrides it where not None.
    """
    codes = reason[rows]
    names = np.array(REASONS, dtype=object)[codes] if len(rows) else np.array([], dtype=object)
    if row_ids is None:
        id_col = pa.nulls(len(rows), pa.string())
    else:
        id_col = pc.cast(row_ids.take(pa.array(rows, pa.int64())), pa.string())
    return pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "claim_id": id_col,
            "reason": pa.array(names.tolist(), pa.string()),
            "message": pa.array(
                [
                    (details[i] if details is not None and details[i] else messages.get(n, n))
                    for i, n in enumerate(names.tolist())
                ],
                pa.string(),
            ),
        },
        schema=REJECTED_SCHEMA,
    )
