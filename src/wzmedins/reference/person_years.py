"""The twin's person-years: a plain dict ``{(person_id, year): state}`` (docs/rules/settlement.md §5).

Read from the carried ``state`` and ``accounts`` tables (contract columns), opened at a
person's first claim of a year, written back as a state table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from .. import contract as c
from ..errors import SchemaError
from .claims_input import as_id, as_table


def read_keyed(data: Any, fields: tuple[str, ...], what: str, person_kind: str) -> tuple[dict, list]:
    """``{(person_id, year): {field: int}}`` from a state or accounts table, and its rows in
    input order (for the untouched rows of the output state)."""
    table = as_table(data)
    if table is None:
        return {}, []
    for name in ("person_id", "year", *fields):
        if name not in table.column_names:
            raise SchemaError(name, f"an integer column of the {what} table", "no such column")
        kind = table.schema.field(name).type
        if name != "person_id" and not pa.types.is_integer(kind):
            raise SchemaError(name, f"an integer column of the {what} table", str(kind))
        if name != "person_id" and table.column(name).null_count:
            raise SchemaError(name, f"no nulls in the {what} table", f"{table.column(name).null_count} nulls")
    keyed, order = {}, []
    has_order = all(f in table.column_names for f in c.STATE_ORDER) and what == "state"
    for row in table.to_pylist():
        key = (as_id(row["person_id"], person_kind, "person_id"), row["year"])
        if key in keyed:
            raise SchemaError("person_id, year", f"one row per person and year in the {what} table", f"{key} twice")
        keyed[key] = {f: row[f] for f in fields}
        if what == "state":
            last = (row["last_date"], row["last_seq"]) if has_order else (None, None)
            keyed[key]["last"] = None if last[0] is None else (last[0], last[1] or 0)
        order.append(key)
    return keyed, order


def closing(s: dict) -> int:
    """A year's closing balance that rolls into next year's historical account."""
    return s["hist_balance"] + s["current_balance"]


def open_year(person: Any, year: int, years: dict, accounts: dict) -> dict:
    """A person-year's state at its first claim: the carried row, else the accounts row, else
    zero with last year's closing balance in the historical account (§5)."""
    if (person, year) in years:
        return years[(person, year)]
    s = {f: 0 for f in c.STATE_ACCUMULATORS}
    s["last"] = None
    if (person, year) in accounts:
        s.update(accounts[(person, year)])
    elif (person, year - 1) in years:
        s["hist_balance"] = closing(years[(person, year - 1)])
    elif (person, year - 1) in accounts:
        s["hist_balance"] = closing(accounts[(person, year - 1)])
    years[(person, year)] = s
    return s


def state_table(years: dict, keys: list, person_type: pa.DataType) -> pa.Table:
    """The state rows of ``keys`` (person, year) as a contract state table."""
    schema = c.state_schema(person_type)
    rows = []
    for person, year in keys:
        s = years[(person, year)]
        last_date, last_seq = s["last"] if s["last"] is not None else (None, None)
        rows.append({"person_id": person, "year": year, **{f: s[f] for f in c.STATE_ACCUMULATORS},
                     "last_date": last_date, "last_seq": last_seq})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def later(last: tuple[dt.date, int] | None, when: tuple[dt.date, int]) -> tuple[dt.date, int]:
    """The greater of a person-year's last (settle_date, seq) and a settled row's."""
    return when if last is None or when > last else last
