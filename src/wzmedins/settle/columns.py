"""Check and code a claims table: every row either becomes integer columns or gets a reason.

This is the one place where claims are validated; ``wz.settle`` and ``wz.reference.settle``
both start here, so they see the same accepted rows (docs/rules/settlement.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..errors import SchemaError
from ..policy import Policy
from ..reasons import REASONS
from ..vocab import AREAS, ASSISTANCE, CATEGORY_SCHEME, ENUMS, FACILITY_LEVELS, SCHEMES, VISIT_TYPES
from .reversals import Originals
from .reversals import resolve as resolve_reversals
from .state import STATE_FIELDS

MESSAGES = {
    "MISSING_VALUE": "a required column is null",
    "NEGATIVE_AMOUNT": "an amount is negative",
    "SPLIT_EXCEEDS_TOTAL": "self_pay + class_b_self_pay exceeds total_cost",
    "AMOUNT_NOT_IN_FEN": "an amount is not a whole number of fen",
    "AMOUNT_TOO_LARGE": "an amount is above 10^12 fen",
    "UNKNOWN_SCHEME": "scheme is not one of " + ", ".join(SCHEMES),
    "UNKNOWN_CATEGORY": "category is unknown or does not belong to the scheme",
    "UNKNOWN_VISIT_TYPE": "visit_type is not one of " + ", ".join(VISIT_TYPES),
    "UNKNOWN_FACILITY_LEVEL": "facility_level is not one of " + ", ".join(FACILITY_LEVELS),
    "UNKNOWN_AREA": "area is not one of " + ", ".join(AREAS),
    "UNKNOWN_ASSISTANCE": "assistance is not one of " + ", ".join(ASSISTANCE),
    "DUPLICATE_CLAIM_ID": "claim_id was already settled (earlier in this batch or before)",
    "POLICY_NOT_IN_FORCE": "no loaded profile is in force on settle_date",
    "UNKNOWN_ORIGINAL": "reverses names no settled claim",
    "ALREADY_REVERSED": "the original claim is already reversed",
    "REVERSAL_PERSON_MISMATCH": "the original claim belongs to another person",
    "OUT_OF_ORDER": "settle_date and seq are before the last claim settled in the person-year (a back-dated claim)",
    "NOT_A_NUMBER": "an amount is NaN or infinite",
    "VALUE_OUT_OF_RANGE": "an id, settle_date or seq outside what a claim can hold",
}
assert set(MESSAGES) <= set(REASONS)


@dataclass
class ClaimColumns:
    """A claims batch as numpy columns (input order). Rows with ``reason != NO_REASON`` are
    rejected; their other values are meaningless."""

    table: pa.Table
    claim_id: pa.Array
    person_id: pa.Array
    date: np.ndarray  # int32 days since 1970-01-01
    year: np.ndarray  # int32
    seq: np.ndarray
    profile: np.ndarray  # int64 index into policy.profiles
    scheme: np.ndarray
    category: np.ndarray
    visit: np.ndarray
    level: np.ndarray
    area: np.ndarray
    assistance: np.ndarray
    total: np.ndarray
    self_pay: np.ndarray
    class_b: np.ndarray
    reason: np.ndarray
    reverses: pa.Array  # claim_id each row reverses (null: an ordinary claim)
    rev_kind: np.ndarray  # reversals.ORDINARY, IN_BATCH or EARLIER
    rev_index: np.ndarray  # the original's batch row, or its row in ``originals``
    originals: Originals
    person_hash: np.ndarray | None = None  # a hash per row of person_id (the person index's)

    @property
    def accepted(self) -> np.ndarray:
        return np.flatnonzero(self.reason == t.NO_REASON)

    @property
    def rejected_rows(self) -> np.ndarray:
        return np.flatnonzero(self.reason != t.NO_REASON)

    def rejected(self) -> pa.Table:
        rows = self.rejected_rows
        return t.rejected_table(
            rows, self.claim_id, self.reason, MESSAGES, explain(self.table, rows, self.reason[rows])
        )


REQUIRED = ("claim_id", "person_id", "settle_date", "scheme", "category", "visit_type", "facility_level", "total_cost")
AMOUNTS = ("total_cost", "self_pay", "class_b_self_pay")
READ = (*REQUIRED, *AMOUNTS, "seq", "area", "assistance", "reverses")  # the columns checked here


def _quotes_values(name: str) -> bool:
    """Whether ``explain``'s message for reason ``name`` quotes the row's values."""
    if name.startswith("UNKNOWN_") and name[8:].lower() in ENUMS:
        return True
    return name in ("MISSING_VALUE", "NEGATIVE_AMOUNT", "UNKNOWN_CATEGORY", "AMOUNT_NOT_IN_FEN", "AMOUNT_TOO_LARGE",
                    "SPLIT_EXCEEDS_TOTAL", "UNKNOWN_ORIGINAL", "ALREADY_REVERSED", "REVERSAL_PERSON_MISMATCH",
                    "NOT_A_NUMBER", "VALUE_OUT_OF_RANGE")  # fmt: skip


QUOTES_VALUES = np.array([_quotes_values(name) for name in REASONS], dtype=bool)  # by reason code


def explain(table: pa.Table, rows: np.ndarray, codes: np.ndarray) -> list[str | None]:
    """A message per rejected row naming the column and value at fault (rejected rows only)."""
    out: list[str | None] = [None] * len(rows)
    named = QUOTES_VALUES[codes]
    if not named.any():  # no reason here quotes its row (a back-dated claim, a duplicate id): no row read
        return out
    at = np.flatnonzero(named)
    rows, codes = rows[at], codes[at]
    present = [c for c in (*REQUIRED, *AMOUNTS, "area", "assistance", "reverses", "seq") if c in table.column_names]
    sub = table.select(list(dict.fromkeys(present))).take(pa.array(rows, pa.int64()))
    if "settle_date" in sub.column_names:  # a date out of Python's range must not stop the messages
        day = sub["settle_date"]
        days = day.cast(pa.int32()) if pa.types.is_date32(day.type) else pc.is_valid(day).cast(pa.int8())
        sub = sub.set_column(sub.schema.get_field_index("settle_date"), "settle_date", days)
    values = sub.to_pylist()
    for i, row, code in zip(at.tolist(), values, codes.tolist(), strict=True):
        name = REASONS[code]
        msg = None
        if name == "MISSING_VALUE":
            cols = ("claim_id", "person_id", "settle_date") if row.get("reverses") is not None else REQUIRED
            msg = next((f"null in required column {c!r}" for c in cols if row.get(c) is None), None)
        elif name == "NEGATIVE_AMOUNT":
            msg = next((f"{c} is negative: {row[c]}" for c in AMOUNTS if row.get(c) is not None and row[c] < 0), None)
        elif name == "UNKNOWN_CATEGORY":
            msg = f"category {row.get('category')!r} is not a category of scheme {row.get('scheme')!r}"
        elif name.startswith("UNKNOWN_") and name[8:].lower() in ENUMS:
            col = name[8:].lower()
            msg = f"{col} {row.get(col)!r} is not one of {', '.join(ENUMS[col])}"
        elif name in ("AMOUNT_NOT_IN_FEN", "AMOUNT_TOO_LARGE", "SPLIT_EXCEEDS_TOTAL"):
            amounts = ", ".join(f"{c}={row[c]}" for c in AMOUNTS if c in row)
            msg = f"{MESSAGES[name]} ({amounts})"
        elif name in ("UNKNOWN_ORIGINAL", "ALREADY_REVERSED", "REVERSAL_PERSON_MISMATCH"):
            msg = f"{MESSAGES[name]}: reverses {row.get('reverses')!r}"
        elif name == "NOT_A_NUMBER":
            msg = next((f"{c} is {row[c]}" for c in AMOUNTS if _not_finite(row.get(c))), MESSAGES[name])
        elif name == "VALUE_OUT_OF_RANGE":
            msg = _out_of_range_message(row)
        out[i] = msg
    return out


def _not_finite(value) -> bool:
    return isinstance(value, float) and not np.isfinite(value)


def _out_of_range_message(row: dict) -> str:
    for c in ("claim_id", "person_id"):
        if isinstance(row.get(c), str) and len(row[c].encode()) > t.MAX_ID_BYTES:
            return f"{c} is {len(row[c].encode())} bytes long; at most {t.MAX_ID_BYTES}"
    day = row.get("settle_date")
    if isinstance(day, int) and not t.FIRST_DAY <= day <= t.LAST_DAY:
        return f"settle_date {day} days from 1970-01-01 is outside 1900-01-01 .. 2199-12-31"
    low, high = t.SEQ_RANGE
    if row.get("seq") is not None and not low <= row["seq"] <= high:
        return f"seq {row['seq']} is outside {low} .. {high}"
    return MESSAGES["VALUE_OUT_OF_RANGE"]


def _enum(table, name, reason, default=None):
    code = "UNKNOWN_" + name.upper()
    return t.enum_codes(table, name, ENUMS[name], reason, code, default=default)


def claim_columns(claims, policy: Policy, *, known_claim_ids: pa.Array | None = None, originals=None) -> ClaimColumns:
    """Validate and code a claims table (any input accepted by ``tables.to_table``).

    ``known_claim_ids`` are ids settled in earlier batches (a ledger passes them); a row
    repeating one, or an earlier accepted row of this batch, is ``DUPLICATE_CLAIM_ID``.
    ``originals`` are settled rows of earlier batches that reversals may name.
    """
    table = t.contiguous(_reversals_only(t.to_table(claims)), READ)
    n = table.num_rows
    core = np.full(n, t.NO_REASON, dtype=np.int16)  # the checks a reversal row must pass
    out_of_range = np.zeros(n, dtype=bool)  # values no claim can hold: this reason comes first
    claim_id, claim_hash = t.ids(table, "claim_id", core, out_of_range=out_of_range, with_hashes=True)
    person_id, person_hash = t.ids(table, "person_id", core, out_of_range=out_of_range, with_hashes=True)
    date = t.dates(table, "settle_date", core, out_of_range=out_of_range)
    reason = core.copy()
    seq = t.integers(table, "seq", 0)
    out_of_range |= (seq < t.SEQ_RANGE[0]) | (seq > t.SEQ_RANGE[1])  # the ordering key packs seq
    scheme = _enum(table, "scheme", reason)
    category = _enum(table, "category", reason)
    visit = _enum(table, "visit_type", reason)
    level = _enum(table, "facility_level", reason)
    area = _enum(table, "area", reason, default="local")
    assistance = _enum(table, "assistance", reason, default="none")
    wrong_scheme = np.asarray(CATEGORY_SCHEME, dtype=np.int8)[category] != scheme
    # a known category of the other scheme; a row with an unknown scheme keeps that reason
    t.flag(reason, wrong_scheme, "UNKNOWN_CATEGORY")
    total = t.money(table, "total_cost", reason, is_required=True)
    self_pay = t.money(table, "self_pay", reason, is_required=False)
    class_b = t.money(table, "class_b_self_pay", reason, is_required=False)
    t.flag(reason, self_pay + class_b > total, "SPLIT_EXCEEDS_TOTAL")

    c = policy.compiled
    profile = np.searchsorted(c.start, date, side="right") - 1
    in_force = (profile >= 0) & (date <= c.end[np.maximum(profile, 0)])
    t.flag(reason, ~in_force, "POLICY_NOT_IN_FORCE")
    profile = np.maximum(profile, 0)

    reverses = t.ids(table, "reverses", is_required=False)
    if reverses is None:
        reverses = pa.nulls(n, claim_id.type)
    else:
        reverses = reverses.cast(claim_id.type)
        is_rev = ~t.null_mask(reverses)
        reason[is_rev] = core[is_rev]  # a reversal takes the original's amounts and enums
    # NaN and out-of-range values are what is wrong with a row whatever else is: forced, not ranked
    t.force(reason, out_of_range, "VALUE_OUT_OF_RANGE")
    t.force(reason, t.not_a_number(table, AMOUNTS) & t.null_mask(reverses), "NOT_A_NUMBER")
    _flag_duplicates(claim_id, claim_hash, reason, known_claim_ids)
    cols = ClaimColumns(
        table, claim_id, person_id, date, t.year_of(date), seq, profile, scheme, category, visit,
        level, area, assistance, total, self_pay, class_b, reason, reverses,
        np.zeros(n, dtype=np.int8), np.full(n, -1, dtype=np.int64),
        Originals(None if originals is None else t.to_table(originals), claim_id.type, person_id.type),
        person_hash,
    )  # fmt: skip
    if reverses.null_count < n:
        cols.rev_kind, cols.rev_index = resolve_reversals(cols, reverses, cols.originals)
    return cols


CLAIM_FIELDS = {
    "scheme": pa.string(), "category": pa.string(), "visit_type": pa.string(),
    "facility_level": pa.string(), "total_cost": pa.int64(),
}  # fmt: skip


def check_balances(table: pa.Table, what: str) -> None:
    """Refuse a state or accounts table with a negative balance or accumulator: it would give
    a negative account payment or a deductible above the bill, silently."""
    if table is None or table.num_rows == 0:
        return
    for name in table.column_names:
        if name not in STATE_FIELDS or not pa.types.is_integer(table.schema.field(name).type):
            continue
        low = pc.min(table[name]).as_py()
        if low is not None and low < 0:
            at = pc.index(table[name], low).as_py()
            raise SchemaError(
                name,
                f"amounts >= 0 in the {what} table",
                f"{low} for person {table['person_id'][at].as_py()}, year {table['year'][at].as_py()}"
                if "year" in table.column_names and "person_id" in table.column_names
                else str(low),
            )


def _reversals_only(table: pa.Table) -> pa.Table:
    """A batch of nothing but reversals needs no claim columns: they come from the originals."""
    rev = t.column(table, "reverses", t.ID_EXPECTED)
    if rev is None or rev.null_count > 0 or table.num_rows == 0:
        return table
    for name, kind in CLAIM_FIELDS.items():
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table


def _flag_duplicates(claim_id: pa.Array, hashes: np.ndarray, reason: np.ndarray, known: pa.Array | None) -> None:
    """Among rows that passed every other check, all but the first of an id are duplicates."""
    ok = np.flatnonzero(reason == t.NO_REASON)
    if len(ok) == 0:
        return
    every = len(ok) == len(reason)
    ids = claim_id if every else claim_id.take(pa.array(ok))
    dup = np.zeros(len(ok), dtype=bool)
    if not t.all_distinct(ids, hashes if every else hashes[ok]):  # rare: find the repeats exactly
        codes = pc.dictionary_encode(ids).indices.to_numpy()
        by_code = np.argsort(codes, kind="stable")
        first_of_run = np.ones(len(codes), dtype=bool)
        first_of_run[1:] = codes[by_code][1:] != codes[by_code][:-1]
        dup[by_code[~first_of_run]] = True
    if known is not None and len(known):
        dup |= pc.is_in(ids, value_set=known.cast(ids.type)).to_numpy(zero_copy_only=False)
    mask = np.zeros(len(reason), dtype=bool)
    mask[ok[dup]] = True
    t.flag(reason, mask, "DUPLICATE_CLAIM_ID")


__all__ = ["ClaimColumns", "claim_columns", "check_balances", "MESSAGES"]
