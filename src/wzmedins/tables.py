"""Arrow in, Arrow out: input coercion, money conversion and the output schemas.

Every entry point accepts a ``pyarrow.Table``, ``RecordBatch``, ``RecordBatchReader``, a
``polars.DataFrame`` or ``LazyFrame``, or a path to a Parquet file or dataset
(docs/rules/interfaces.md, "Tables"). Columns are turned into numpy arrays of integer codes and int64
fen here, once, so that kernels see nothing but arrays.

Row problems are reported as a per-row reason code (``reasons.CODE``); structural problems
raise :class:`~wzmedins.errors.SchemaError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _ingest
from .errors import SchemaError
from .reasons import CODE, MAX_AMOUNT_FEN, REASONS

NO_REASON = np.int16(np.iinfo(np.int16).max)

# Limits of values no claim can hold (docs/settlement.md "Rejected rows"): VALUE_OUT_OF_RANGE.
MAX_ID_BYTES = 256  # an identifier's UTF-8 length; both ledger backends store it as an indexed key
FIRST_DAY = -25_567  # 1900-01-01, in days since 1970-01-01
LAST_DAY = 84_005  # 2199-12-31
SEQ_RANGE = (-(2**31), 2**31 - 1)  # seq: an order number within a day

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
    return _unique_names(_to_table(data))


def _unique_names(table: pa.Table) -> pa.Table:
    """A table with two columns of one name is a structural error (which one would count?)."""
    names = table.column_names
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise SchemaError(twice, "one column of that name", f"{names.count(twice)} columns named {twice!r}")
    return table


def _to_table(data: Any) -> pa.Table:
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
    if isinstance(col, pa.ChunkedArray):  # one chunk: the array itself (combining would copy it)
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col


def contiguous(table: pa.Table, names=None) -> pa.Table:
    """``table`` with the columns ``names`` (all when None) in one chunk each: chunks are
    combined once here, so that the many readers of a column each get it without a copy;
    other columns and one-chunk columns are left as they are.

    Examples
    --------
    >>> two = contiguous(pa.concat_tables([pa.table({"a": [1], "b": [2]})] * 2), ["a"])
    >>> two["a"].num_chunks, two["b"].num_chunks
    (1, 2)
    """
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if col.num_chunks > 1 and (names is None or name in names):
            table = table.set_column(i, table.field(i), pa.chunked_array([col.combine_chunks()], col.type))
    return table


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
    return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False))  # a NaN is not a null: NOT_A_NUMBER


def force(reason: np.ndarray, mask: np.ndarray, code: str) -> None:
    """Give the rows in ``mask`` the reason ``code`` whatever else applies (values no claim can
    hold: NaN, out of range)."""
    reason[mask] = np.int16(CODE[code])


def not_a_number(table: pa.Table, names) -> np.ndarray:
    """Rows where any of the float columns ``names`` holds a NaN or an infinity."""
    out = np.zeros(table.num_rows, dtype=bool)
    for name in names:
        arr = column(table, name, MONEY_EXPECTED)
        if arr is not None and pa.types.is_floating(arr.type):
            values = arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
            out |= ~np.isfinite(values)
    return out


def flag(reason: np.ndarray, mask: np.ndarray, code: str) -> None:
    """Give the rows in ``mask`` the reason ``code`` unless an earlier-listed one applies."""
    if not mask.any():  # the usual case: one pass over a boolean mask, nothing written
        return
    rows = np.flatnonzero(mask)
    reason[rows] = np.minimum(reason[rows], np.int16(CODE[code]))


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
    nan = np.zeros(n, dtype=bool)
    if pa.types.is_null(t):  # an all-null column (polars writes these)
        fen, too_large, not_fen = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    elif pa.types.is_integer(t) and not pa.types.is_uint64(t) and n:  # one compiled pass
        values = arr.cast(pa.int64()) if t != pa.int64() else arr
        values = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset : values.offset + n]
        if not arr.null_count and not _ingest.money_problems(
            values, MAX_AMOUNT_FEN, reason, CODE["NEGATIVE_AMOUNT"], CODE["AMOUNT_TOO_LARGE"]
        ):
            return values  # every value is its own fen: the Arrow buffer itself, read only
        fen = np.empty(n, dtype=np.int64)
        _ingest.integer_money(values, nulls if arr.null_count else nulls[:0], MAX_AMOUNT_FEN, reason,
                              CODE["MISSING_VALUE"] if is_required else -1, CODE["NEGATIVE_AMOUNT"],
                              CODE["AMOUNT_TOO_LARGE"], fen)  # fmt: skip
        return fen
    elif pa.types.is_integer(t):
        big = _above(arr.fill_null(0), MAX_AMOUNT_FEN)  # uint64 beyond int64 must not reach the cast
        fen = pc.if_else(pa.array(big), pa.scalar(0, t), arr.fill_null(0)).cast(pa.int64()).to_numpy()
        too_large = big | (np.abs(fen) > MAX_AMOUNT_FEN)
        not_fen = np.zeros(n, dtype=bool)
    elif pa.types.is_decimal(t):
        arr = arr.fill_null(0) if nulls.any() else arr
        big = np.zeros(n, dtype=bool)
        if t.precision > 18:  # could exceed decimal128(38): compare first, at the column's own width
            bound = pa.scalar(Decimal(MAX_AMOUNT_FEN).scaleb(-2), pa.decimal256(76, t.scale))
            big = _above(pc.abs(arr.cast(pa.decimal256(76, t.scale))), bound)
            arr = pc.if_else(pa.array(big), pa.scalar(0, pa.int64()).cast(t), arr) if big.any() else arr
        fen, too_large = _decimal_unscaled(arr, 2, name, MONEY_EXPECTED)
        too_large |= big | (np.abs(fen) > MAX_AMOUNT_FEN)
        not_fen = np.zeros(n, dtype=bool)
    elif pa.types.is_floating(t):
        yuan = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        yuan = np.where(nulls, 0.0, yuan)
        nan = ~np.isfinite(yuan)
        yuan = np.where(nan, 0.0, yuan)
        with np.errstate(invalid="ignore", over="ignore"):
            too_large = ~(np.abs(yuan) * 100 <= MAX_AMOUNT_FEN)
            yuan = np.where(too_large, 0.0, yuan)
            cents = np.rint(yuan * 100)
            # a float is a whole number of fen when it is the double nearest to k/100
            not_fen = cents / 100 != yuan
        fen = cents.astype(np.int64)
    else:
        raise SchemaError(name, MONEY_EXPECTED, str(t))
    ok_value = ~nulls & ~too_large & ~nan
    if is_required:
        flag(reason, nulls, "MISSING_VALUE")
    flag(reason, ok_value & (fen < 0), "NEGATIVE_AMOUNT")
    flag(reason, ok_value & not_fen, "AMOUNT_NOT_IN_FEN")
    flag(reason, ~nulls & ~nan & too_large, "AMOUNT_TOO_LARGE")
    flag(reason, nan, "NOT_A_NUMBER")
    return np.where(ok_value & ~not_fen, fen, 0).astype(np.int64)


def _above(arr: pa.Array, bound) -> np.ndarray:
    """``arr > bound`` as a numpy mask (nulls: False), compared in Arrow at the column's width."""
    if not isinstance(bound, pa.Scalar):
        if pa.types.is_unsigned_integer(arr.type) and bound < 0:
            return np.ones(len(arr), dtype=bool)
        bound = pa.scalar(bound, arr.type if pa.types.is_unsigned_integer(arr.type) else pa.int64())
    if pa.types.is_integer(arr.type) and not pa.types.is_unsigned_integer(arr.type):
        arr = arr.cast(pa.int64())
    return np.asarray(pc.greater(arr, bound).fill_null(False).to_numpy(zero_copy_only=False))


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
        return _dictionary_codes(arr, vocab, reason, unknown_code, default)
    elif pa.types.is_null(arr.type):  # an all-null column
        codes = np.full(n, -1, dtype=np.int16)
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
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


def _dictionary_codes(arr: pa.DictionaryArray, vocab, reason, unknown_code: str, default: str | None) -> np.ndarray:
    """A dictionary column's codes through a lookup of its dictionary (a few values), in one
    compiled pass over the indices, whatever their integer type."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int8)
    lookup = pc.index_in(arr.dictionary, value_set=pa.array(vocab, arr.type.value_type))
    lookup = lookup.fill_null(-1).to_numpy().astype(np.int16)
    lookup = np.append(lookup, np.int16(-1))  # a null's index may be anything: kept in range below
    indices = arr.indices
    width = np.dtype(indices.type.to_pandas_dtype())
    idx = np.frombuffer(indices.buffers()[1], dtype=width)[indices.offset : indices.offset + len(indices)]
    nulls = null_mask(arr) if arr.null_count else np.zeros(0, dtype=bool)
    out = np.empty(len(arr), dtype=np.int8)
    _ingest.dictionary_codes(idx, nulls, lookup, -1 if default is None else vocab.index(default), reason,
                             CODE["MISSING_VALUE"], CODE[unknown_code], out)  # fmt: skip
    return out


ID_EXPECTED = "string or int64"


def ids(
    table: pa.Table,
    name: str,
    reason: np.ndarray | None = None,
    *,
    is_required: bool = True,
    out_of_range: np.ndarray | None = None,
    with_hashes: bool = False,
):
    """An identifier column (string or integer), checked for type.

    With ``reason``: a null, an empty or blank string, or a string holding NUL is
    MISSING_VALUE; a string longer than ``MAX_ID_BYTES`` (UTF-8) is VALUE_OUT_OF_RANGE, or is
    marked in ``out_of_range`` when given (the caller forces that reason). With
    ``with_hashes``, returns ``(ids, hashes)``: a 64-bit hash per row, from the same pass
    (``hash64`` for integers).

    Examples
    --------
    >>> reason = np.full(4, NO_REASON)
    >>> _ = ids(pa.table({"i": ["a", " ", "b" + chr(0), "x" * 300]}), "i", reason)
    >>> [REASONS[r] if r != NO_REASON else "ok" for r in reason]
    ['ok', 'MISSING_VALUE', 'MISSING_VALUE', 'VALUE_OUT_OF_RANGE']
    """
    arr = required(table, name, ID_EXPECTED) if is_required else column(table, name, ID_EXPECTED)
    if arr is None:
        return None
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_large_string(t) or str(t) == "string_view":
        arr = arr.cast(pa.string())
    elif pa.types.is_integer(t):
        if pa.types.is_uint64(t) and _above(arr, 2**63 - 1).any():
            value = arr[int(np.argmax(_above(arr, 2**63 - 1)))]
            raise SchemaError(name, ID_EXPECTED + " (integers within the int64 range)", f"value {value}")
        arr = arr.cast(pa.int64())
    elif not (pa.types.is_string(t) or pa.types.is_null(t)):
        raise SchemaError(name, ID_EXPECTED, str(t))
    hashes = None
    if reason is not None and is_required:
        flag(reason, null_mask(arr), "MISSING_VALUE")
        if pa.types.is_string(arr.type):
            missing, too_long, hashes = scan_ids(arr)
            flag(reason, missing, "MISSING_VALUE")
            if out_of_range is None:
                flag(reason, too_long, "VALUE_OUT_OF_RANGE")
            else:
                out_of_range |= too_long
    if not with_hashes:
        return arr
    if hashes is None:
        hashes = scan_ids(arr)[2] if pa.types.is_string(arr.type) else hash64(arr)
    return arr, hashes


def string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (a view, ``len(arr) + 1`` of them) and data bytes of a string or large_string
    array: what compiled code reads instead of Python strings."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data


def scan_ids(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One compiled pass over a string id column's bytes: masks of ids that name nobody
    (empty, blank, holding NUL) and of ids longer than ``MAX_ID_BYTES``, and a 64-bit hash of
    each id (the hash the state store's person index uses; nulls: neither, any hash).

    Examples
    --------
    >>> missing, too_long, h = scan_ids(pa.array(["a", " ", "a", None]))
    >>> missing.tolist(), too_long.tolist(), bool(h[0] == h[2]), bool(h[0] == h[1])
    ([False, True, False, False], [False, False, False, False], True, False)
    """
    n = len(arr)
    hashes = np.empty(n, dtype=np.uint64)
    found = np.empty(n, dtype=np.uint8)
    if n:
        _ingest.scan_string_ids(*string_buffers(arr), MAX_ID_BYTES, hashes, found)
    if arr.null_count:
        found[null_mask(arr)] = 0
    missing = (found & _ingest.ID_MISSING) != 0
    maybe = np.flatnonzero(found & _ingest.ID_MAYBE_BLANK)
    if len(maybe):  # whitespace-like bytes beyond ASCII (U+3000, say): Arrow's reading of Unicode
        trimmed = pc.utf8_trim_whitespace(arr.take(pa.array(maybe)))
        missing[maybe] = np.asarray(pc.equal(trimmed, "").fill_null(False).to_numpy(zero_copy_only=False))
    return missing, (found & _ingest.ID_TOO_LONG) != 0, hashes


def unusable_ids(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Masks of string ids that name nobody (empty, blank, holding NUL) and of ids longer
    than ``MAX_ID_BYTES`` bytes (nulls: neither).

    Examples
    --------
    >>> [m.tolist() for m in unusable_ids(pa.array(["a", "", "  ", "a" + chr(0), None, "y" * 257]))]
    [[False, True, True, True, False, False], [False, False, False, False, False, True]]
    """
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return np.zeros(len(arr), dtype=bool), np.zeros(len(arr), dtype=bool)
    missing, too_long, _ = scan_ids(arr)
    return missing, too_long


def dates(table: pa.Table, name: str, reason: np.ndarray, *, out_of_range: np.ndarray | None = None) -> np.ndarray:
    """A date column as int32 days since 1970-01-01 (a timestamp is cut to its date).

    A null is MISSING_VALUE; a date outside 1900-01-01 .. 2199-12-31 is VALUE_OUT_OF_RANGE
    (or marked in ``out_of_range`` when given) and comes back as 0.

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
    if pa.types.is_null(t):  # an all-null column
        flag(reason, np.ones(len(arr), dtype=bool), "MISSING_VALUE")
        return np.zeros(len(arr), dtype=np.int32)
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        arr = pc.cast(arr, pa.date32())
    elif not pa.types.is_date32(t):
        raise SchemaError(name, expected, str(t))
    if arr.null_count == 0 and len(arr):  # the Arrow buffer itself when every day is in range
        days = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr)]
        bad = (days < FIRST_DAY) | (days > LAST_DAY)
        if not bad.any():
            return days
    nulls = null_mask(arr)
    flag(reason, nulls, "MISSING_VALUE")
    days = arr.fill_null(0).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int32)
    bad = ~nulls & ((days < FIRST_DAY) | (days > LAST_DAY))
    if out_of_range is None:
        flag(reason, bad, "VALUE_OUT_OF_RANGE")
    else:
        out_of_range |= bad
    return np.where(bad, 0, days).astype(np.int32)


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


def all_distinct(ids: pa.Array, hashes: np.ndarray | None = None) -> bool:
    """True when no two values are equal (False may still be distinct: hashes collided);
    ``hashes`` of the ids, when already made, save hashing them again.

    Examples
    --------
    >>> all_distinct(pa.array([3, 1, 2])), all_distinct(pa.array(["x", "y", "x"]))
    (True, False)
    """
    h = np.sort(hash64(ids) if hashes is None else hashes)
    return not bool((h[1:] == h[:-1]).any())


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of days since 1970-01-01.

    Examples
    --------
    >>> year_of(np.array([0, 18993, 19357, 19358])).tolist()
    [1970, 2022, 2022, 2023]
    """
    out = np.empty(len(days), dtype=np.int32)
    _ingest.years_of_days(np.ascontiguousarray(days), out)
    return out


def integers(table: pa.Table, name: str, default: int = 0) -> np.ndarray:
    """An optional integer column as int64; absent or null takes ``default``."""
    arr = column(table, name, "int64")
    if arr is None or pa.types.is_null(arr.type):
        return np.full(table.num_rows, default, dtype=np.int64)
    if not pa.types.is_integer(arr.type):
        raise SchemaError(name, "int64", str(arr.type))
    if pa.types.is_uint64(arr.type):  # values beyond int64 become its largest (a range check catches them)
        arr = pc.min_element_wise(arr, pa.scalar(2**63 - 1, pa.uint64()))
    if arr.null_count:  # fill_null copies even when there is nothing to fill
        arr = arr.fill_null(default)
    return (arr if arr.type == pa.int64() else arr.cast(pa.int64())).to_numpy()


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
