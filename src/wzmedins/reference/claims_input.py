"""Claims in, as plain Python rows: the twin's own reading of the input contract.

Written apart from the wrapper's column coding (``wzmedins.settle``) on purpose: both read
the same contract (``wzmedins.contract``), each in its own way, so a differential test can
catch a mistake on either side. One row at a time, Python values only.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from .. import contract as c
from ..errors import SchemaError
from ..vocab import ENUMS, SCHEME_CATEGORIES

ENUM_EXPECTED = "strings (plain or dictionary-encoded) from "
REASON_RANK = {name: i for i, name in enumerate(c.REASONS)}


def as_table(data: Any) -> pa.Table:
    """Any accepted input form (Arrow, polars, Parquet path) as one ``pyarrow.Table``."""
    if data is None:
        return None
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, (str, os.PathLike)):
        import pyarrow.parquet as pq

        return pq.read_table(os.fspath(data))
    if type(data).__module__.startswith("polars"):
        return (data.collect() if hasattr(data, "collect") else data).to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(f"expected an Arrow table, a polars frame or a Parquet path; got {type(data).__name__}")


def values(table: pa.Table, name: str) -> list | None:
    """Python values of a column (dictionary arrays decoded), or None when it is absent."""
    if name not in table.column_names:
        return None
    return table.column(name).to_pylist()


# --------------------------------------------------------------------------- kinds of column


def id_kind(table: pa.Table, name: str) -> str | None:
    """``"int"`` or ``"str"`` for an identifier column; a SchemaError for anything else."""
    if name not in table.column_names:
        return None
    kind = table.schema.field(name).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return "str"
    raise SchemaError(name, c.ID_INPUT, str(kind))


def as_id(value: Any, kind: str, name: str) -> Any:
    """An identifier as the claims' id kind (the kernel casts the same way)."""
    if value is None:
        return None
    if kind == "str":
        return str(value)
    try:
        return int(value)
    except ValueError:
        raise SchemaError(name, "int64 ids, like the claims'", repr(value)) from None


def money_kind(table: pa.Table, name: str) -> str | None:
    if name not in table.column_names:
        return None
    kind = table.schema.field(name).type
    if pa.types.is_integer(kind):
        return "fen"
    if pa.types.is_decimal(kind):
        if kind.scale > c.MAX_DECIMAL_SCALE:
            raise SchemaError(name, c.MONEY_INPUT, str(kind))
        return "decimal"
    if pa.types.is_floating(kind):
        return "float"
    raise SchemaError(name, c.MONEY_INPUT, str(kind))


def exact_fen(value: Any, kind: str) -> int | Fraction | float | None:
    """A money value as an exact number of fen (an int, or a Fraction from yuan; a NaN or an
    infinity stays a float), or None for a null."""
    if value is None:
        return None
    if kind == "fen":
        return int(value)
    if kind == "decimal":
        return Fraction(Decimal(value)) * c.FEN_PER_YUAN
    if not math.isfinite(value):
        return value
    return Fraction(value) * c.FEN_PER_YUAN


def money_problems(fen: int | Fraction | float, kind: str) -> list[str]:
    """Every §7 problem of one (non-null) amount; the first in the order of REASONS wins."""
    if isinstance(fen, float):  # NaN or infinite: a value no amount can hold
        return ["NOT_A_NUMBER"]
    problems = []
    if fen < 0:
        problems.append("NEGATIVE_AMOUNT")
    if abs(fen) > c.MAX_AMOUNT_FEN:
        problems.append("AMOUNT_TOO_LARGE")
    elif kind == "float":
        whole = round(fen)
        if float(Fraction(whole, c.FEN_PER_YUAN)) != float(fen / c.FEN_PER_YUAN):  # not the double nearest a fen
            problems.append("AMOUNT_NOT_IN_FEN")
    return problems


def date_of(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def check_date_column(table: pa.Table) -> None:
    kind = table.schema.field("settle_date").type if "settle_date" in table.column_names else None
    expected = "date32 (or a timestamp, cut to its date)"
    if kind is None:
        raise SchemaError("settle_date", expected, "no such column")
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        raise SchemaError("settle_date", expected, str(kind))


def check_enum_column(table: pa.Table, name: str, required: bool) -> None:
    expected = ENUM_EXPECTED + ", ".join(ENUMS[name])
    if name not in table.column_names:
        if required:
            raise SchemaError(name, expected, "no such column")
        return
    kind = table.schema.field(name).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise SchemaError(name, expected, str(table.schema.field(name).type))


# --------------------------------------------------------------------------- rows


def read_claims(claims: Any) -> tuple[list[dict], str, str]:
    """The claims as rows ``{column: value, "problems": [reason codes]}`` in input order,
    with the id kinds of ``claim_id`` and ``person_id``.

    A row's problems are the row checks of docs/rules/settlement.md §7 that do not depend on
    other rows or on the policy (those come later). A reversal row (``reverses`` set) is only
    checked for its ids and date: it takes its original's amounts and enums.
    """
    table = as_table(claims)
    for name in ("claim_id", "person_id"):
        if name not in table.column_names:
            raise SchemaError(name, c.ID_INPUT, "no such column")
    claim_kind, person_kind = id_kind(table, "claim_id"), id_kind(table, "person_id")
    reverses_kind = id_kind(table, "reverses")
    check_date_column(table)
    reverses = values(table, "reverses") or [None] * table.num_rows
    if reverses_kind is not None:
        reverses = [as_id(v, claim_kind, "reverses") for v in reverses]
    only_reversals = table.num_rows > 0 and all(r is not None for r in reverses)
    for name in c.CLAIM_ENUMS:
        check_enum_column(table, name, name in c.CLAIM_REQUIRED and not only_reversals)
    kinds = {name: money_kind(table, name) for name in c.CLAIM_AMOUNTS}
    if kinds["total_cost"] is None and not only_reversals:
        raise SchemaError("total_cost", c.MONEY_INPUT, "no such column")
    seq = values(table, "seq")
    if seq is not None and not pa.types.is_integer(table.schema.field("seq").type):
        raise SchemaError("seq", "int64", str(table.schema.field("seq").type))
    names = dict.fromkeys((*c.CLAIM_REQUIRED, *c.CLAIM_ENUMS, *c.CLAIM_AMOUNTS))
    columns = {name: values(table, name) for name in names}
    rows = []
    for i in range(table.num_rows):
        raw = {name: (col[i] if col is not None else None) for name, col in columns.items()}
        row = {
            "row": i,
            "claim_id": as_id(raw["claim_id"], claim_kind, "claim_id"),
            "person_id": as_id(raw["person_id"], person_kind, "person_id"),
            "settle_date": date_of(raw["settle_date"]),
            "seq": c.CLAIM_DEFAULTS["seq"] if seq is None or seq[i] is None else seq[i],
            "reverses": reverses[i],
            "raw": raw,
        }
        row["problems"] = row_problems(row, raw, kinds)
        rows.append(row)
    return rows, claim_kind, person_kind


def row_problems(row: dict, raw: dict, kinds: dict) -> list[str]:
    """The reason codes that apply to one row on its own (ids, date, enums, amounts)."""
    problems = []
    is_reversal = row["reverses"] is not None
    required = c.REVERSAL_REQUIRED if is_reversal else c.CLAIM_REQUIRED
    if any(raw[name] is None for name in required if name not in c.CLAIM_AMOUNTS):
        problems.append("MISSING_VALUE")
    problems += own_column_problems(row)
    if is_reversal:
        return problems
    for name in c.CLAIM_ENUMS:
        value = raw[name] if raw[name] is not None else c.CLAIM_DEFAULTS.get(name)
        if value is not None and value not in ENUMS[name]:
            problems.append("UNKNOWN_" + name.upper())
        row[name] = value
    if row["scheme"] in SCHEME_CATEGORIES and row["category"] in ENUMS["category"]:
        if row["category"] not in SCHEME_CATEGORIES[row["scheme"]]:
            problems.append("UNKNOWN_CATEGORY")
    exact = {}
    for name in c.CLAIM_AMOUNTS:
        value = None if kinds[name] is None else exact_fen(raw[name], kinds[name])
        if value is None:
            if name in c.CLAIM_REQUIRED:
                problems.append("MISSING_VALUE")
                row[name] = None
                continue
            value = c.CLAIM_DEFAULTS[name]
        problems += money_problems(value, kinds[name] or "fen")
        exact[name] = value
        row[name] = round(value) if not isinstance(value, float) else None
    numbers = [exact.get(name) for name in c.CLAIM_AMOUNTS]
    if all(x is not None and not isinstance(x, float) for x in numbers) and numbers[1] + numbers[2] > numbers[0]:
        problems.append("SPLIT_EXCEEDS_TOTAL")
    return problems


def names_nobody(value: Any) -> bool:
    """An empty or blank string id, or one holding NUL, names nobody: like a null."""
    return isinstance(value, str) and (not value.strip() or "\x00" in value)


def own_column_problems(row: dict) -> list[str]:
    """Ids that name nobody, and ids, dates and seq no claim can hold (the row's own columns)."""
    problems = []
    for name in ("claim_id", "person_id"):
        value = row[name]
        if names_nobody(value):
            problems.append("MISSING_VALUE")
        elif isinstance(value, str) and len(value.encode("utf-8")) > c.MAX_ID_BYTES:
            problems.append("VALUE_OUT_OF_RANGE")
    day = row["settle_date"]
    if day is not None and not c.FIRST_DATE <= day <= c.LAST_DATE:
        problems.append("VALUE_OUT_OF_RANGE")
    if not c.MIN_SEQ <= row["seq"] <= c.MAX_SEQ:
        problems.append("VALUE_OUT_OF_RANGE")
    return problems


def first_reason(problems: list[str]) -> str | None:
    """The reason of a row: a value no claim can hold first (NaN, out of range), else the
    first of its problems in the order of docs/rules/settlement.md §7."""
    if not problems:
        return None
    impossible = [p for p in problems if p in c.IMPOSSIBLE_VALUE_REASONS]
    return min(impossible or problems, key=REASON_RANK.__getitem__)
