"""Claim settlement in plain Python, one claim at a time — read it against docs/rules/settlement.md.

The twin of ``wzmedins.settle``. It shares only the neutral contract (``wzmedins.contract``:
column names and types, units, reason codes) with the wrapper and its kernel; it reads the
input rows itself (``claims_input``), checks them against the policy and each other
(``matching``), keeps its own dict of person-years (``person_years``) and settles claim by
claim (``steps``) from the profile's parameters as written in the file. Slow on purpose;
exact by construction (Python ints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .. import contract as c
from ..errors import SchemaError
from .claims_input import as_id, first_reason, read_claims
from .matching import mark_duplicates, mark_late, mark_not_in_force, match_reversals, read_originals
from .person_years import later, open_year, read_keyed, state_table
from .steps import note, reverse_claim, settle_claim

ID_TYPES = {"int": pa.int64(), "str": pa.string()}


@dataclass
class SettleResult:
    """``settled``, ``rejected`` and ``state``, as :class:`wzmedins.SettleResult` has them."""

    settled: pa.Table
    rejected: pa.Table
    state: pa.Table

    def totals(self) -> dict[str, int]:
        """Sum in fen of each payer column and of total cost."""
        sums = {name: sum(self.settled[name].to_pylist()) for name in ("eligible", *c.PAYERS)}
        sums["total_cost"] = sum(sums[name] for name in c.PAYERS)
        return sums

    def to_polars(self):
        """The three tables as polars DataFrames (settled, rejected, state)."""
        import polars as pl

        return pl.from_arrow(self.settled), pl.from_arrow(self.rejected), pl.from_arrow(self.state)


def check_rows(rows: list[dict], policy, known: set, earlier: dict, reversed_before: set, carried: dict) -> list:
    """Every row's problems, in the order the checks depend on each other."""
    profiles = sorted(policy.profiles, key=lambda prof: prof.effective_from)
    carried_last = {key: s["last"] for key, s in carried.items() if s["last"] is not None}
    mark_not_in_force(rows, profiles)
    mark_duplicates(rows, known)
    for row in rows:
        if row["reverses"] is None and not row["problems"]:
            row["year"] = row["settle_date"].year
            mark_late(row, row["year"], carried_last, profiles)
    match_reversals(rows, earlier, reversed_before)
    for row in rows:
        if row["reverses"] is not None and not row["problems"]:
            original = row["original"][1]  # a reversal counts in its original's year, with its visit and level
            row["year"], row["visit_type"], row["facility_level"] = (
                original[k] for k in ("year", "visit_type", "facility_level")
            )  # a reversal is outside the order rule: never late, and it does not move the last
    for row in rows:
        row["reason"] = first_reason(row["problems"])
    return profiles


def settle_rows(accepted: list[dict], profiles: list, years: dict, accounts: dict) -> set:
    """Settle the accepted rows in settlement order; returns the person-years touched."""
    touched = set()
    for row in sorted(accepted, key=lambda r: (r["year"], r["settle_date"], r["seq"], r["row"])):
        key = (row["person_id"], row["year"])
        s = open_year(*key, years, accounts)
        touched.add(key)
        if row["reverses"] is not None:
            kind, original = row["original"]
            outputs = original["outputs"] if kind == "batch" else {f: original[f] for f in c.OUTPUT_FIELDS}
            row["outputs"] = reverse_claim(outputs, row["visit_type"], row["facility_level"], s)
            for name in c.OUTPUT_FIELDS[: len(c.MONEY_OUT) + 1]:
                note(row.get("trace"), "reversal", f"undoes claim {row['reverses']}: the negative of its "
                     f"{name}, given back to the accumulators", row["outputs"][name], output=name)  # fmt: skip
        else:
            w = settle_claim(row, profiles[row["profile"]].params, s, row.get("trace"))
            row["outputs"] = {f: w[f] for f in c.OUTPUT_FIELDS}
            s["last"] = later(s["last"], (row["settle_date"], row["seq"]))
    return touched


def settled_table(accepted: list[dict], claim_type: pa.DataType, person_type: pa.DataType) -> pa.Table:
    schema = c.settled_schema(claim_type, person_type)
    return pa.Table.from_pylist(
        [{"claim_id": r["claim_id"], "person_id": r["person_id"], "year": r["year"], **r["outputs"],
          "visit_type": r["visit_type"], "facility_level": r["facility_level"], "reverses": r["reverses"],
          c.LATE_COLUMN: bool(r.get("late"))} for r in accepted],
        schema=schema,
    )  # fmt: skip


def rejected_table(rows: list[dict]) -> pa.Table:
    out = [r for r in rows if r["reason"] is not None]
    return pa.Table.from_pylist(
        [{"row": r["row"], "claim_id": None if r["claim_id"] is None else str(r["claim_id"]),
          "reason": r["reason"], "message": message(r)} for r in out],
        schema=c.REJECTED_SCHEMA,
    )  # fmt: skip


def message(row: dict) -> str:
    """A short message naming what is at fault (the reason code is the contract; this is prose)."""
    raw = row["raw"]
    reason = row["reason"]
    if reason == "MISSING_VALUE":
        names = c.REVERSAL_REQUIRED if row["reverses"] is not None else c.CLAIM_REQUIRED
        nulls = [repr(n) for n in names if raw[n] is None]
        return "null in required column " + ", ".join(nulls) if nulls else "a blank id names nobody"
    if reason.startswith("UNKNOWN_") and reason[8:].lower() in c.CLAIM_ENUMS:
        name = reason[8:].lower()
        return f"{name} {raw[name]!r} is not known" + (" for its scheme" if name == "category" else "")
    if reason in ("NEGATIVE_AMOUNT", "AMOUNT_NOT_IN_FEN", "AMOUNT_TOO_LARGE", "SPLIT_EXCEEDS_TOTAL"):
        return reason.lower().replace("_", " ") + ": " + ", ".join(f"{n}={raw[n]}" for n in c.CLAIM_AMOUNTS)
    if reason in ("UNKNOWN_ORIGINAL", "ALREADY_REVERSED", "REVERSAL_PERSON_MISMATCH"):
        return reason.lower().replace("_", " ") + f": reverses {row['reverses']!r}"
    if reason == "OUT_OF_ORDER":
        return f"settle_date {row['settle_date']} (seq {row['seq']}) is before the last claim already settled"
    return reason.lower().replace("_", " ")


def settle(
    claims: Any,
    policy,
    *,
    state: Any = None,
    accounts: Any = None,
    known_claim_ids: Any = None,
    originals: Any = None,
    trace: dict | None = None,
) -> SettleResult:
    """Pure-Python settlement with the contract of :func:`wzmedins.settle`.

    ``trace``, a dict ``{claim_id: []}``, collects the steps of the named claims (see
    :func:`wzmedins.explain`).

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> claims = pa.table({
    ...     "claim_id": ["c1"], "person_id": ["p1"], "settle_date": [dt.date(2022, 3, 1)],
    ...     "scheme": ["resident"], "category": ["adult"], "visit_type": ["inpatient"],
    ...     "facility_level": ["tertiary"], "total_cost": [5_000_000],
    ... })
    >>> out = wz.reference.settle(claims, wz.load_policy("wenzhou-2022"))
    >>> out.settled["fund"].to_pylist(), out.settled["cash"].to_pylist()
    ([3444000], [1556000])
    """
    rows, claim_kind, person_kind = read_claims(claims)
    carried, carried_order = read_keyed(state, c.STATE_ACCUMULATORS, "state", person_kind)
    opening, _ = read_keyed(accounts, c.ACCOUNT_FIELDS, "accounts", person_kind)
    earlier, reversed_before = read_originals(originals, claim_kind, person_kind)
    known = set()
    if known_claim_ids is not None:
        known = {as_id(v, claim_kind, "claim_id") for v in _pylist(known_claim_ids)} - {None}
    profiles = check_rows(rows, policy, known, earlier, reversed_before, carried)
    accepted = [r for r in rows if r["reason"] is None]
    years = {key: dict(s) for key, s in carried.items()}
    _trace_rows(accepted, profiles, trace)
    touched = settle_rows(accepted, profiles, years, opening)
    claim_type, person_type = ID_TYPES[claim_kind], ID_TYPES[person_kind]
    keys = [k for k in carried_order if k not in touched] + sorted(touched, key=lambda k: (str(k[0]), k[1]))
    meta = {c.META_POLICY: policy.name.encode(), c.META_FINGERPRINT: policy.fingerprint.encode()}
    return SettleResult(
        settled_table(accepted, claim_type, person_type).replace_schema_metadata(meta),
        rejected_table(rows),
        state_table(years, keys, person_type).replace_schema_metadata(meta),
    )


def _pylist(values: Any) -> list:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_pylist()
    if type(values).__module__.startswith("polars"):
        return values.to_list()
    if isinstance(values, (pa.Table, pa.RecordBatch)):
        raise SchemaError("known_claim_ids", "an array of claim ids", "a table")
    return list(values)


class Trace(list):
    """The steps of one claim (``steps.note`` rows), with the input row and the profile it
    was settled under."""

    row: int | None = None
    profile = None


def _trace_rows(accepted: list[dict], profiles: list, trace: dict | None) -> None:
    """Hand each traced claim its list (the steps append to it while it is settled)."""
    if trace:
        for row in accepted:
            if row["claim_id"] in trace:
                row["trace"] = trace[row["claim_id"]]
                if isinstance(row["trace"], Trace):
                    row["trace"].row = row["row"]
                    row["trace"].profile = profiles[row["profile"]] if row["profile"] is not None else None


__all__ = ["SettleResult", "Trace", "settle"]
