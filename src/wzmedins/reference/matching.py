"""The checks of a row against the policy and the other rows, in plain Python: the profile in
force, duplicate ids, reversals and their originals, and the order rule.

Each function adds reason codes to ``row["problems"]``; a row's reason is the first of its
problems in the order of docs/rules/settlement.md §7, except ``OUT_OF_ORDER``, which is
decided last (docs/settlement.md, "The order rule").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import contract as c
from ..errors import SchemaError
from .claims_input import as_id, as_table


def profile_in_force(profiles: list, day: dt.date) -> int | None:
    """Index of the profile in force on ``day``: the latest one started on or before it, if
    that one has not ended (a later profile takes over from its own start)."""
    started = [i for i, prof in enumerate(profiles) if prof.effective_from <= day]
    if not started:
        return None
    i = max(started, key=lambda k: profiles[k].effective_from)
    end = profiles[i].effective_to
    return i if end is None or day <= end else None


def late_claims_mode(profile) -> str:
    """``"reject"`` or ``"settle"``: the profile's ``late_claims`` (default reject)."""
    value = profile.params.get(c.LATE_CLAIMS_KEY, c.LATE_CLAIMS_DEFAULT) if profile is not None else None
    return value or c.LATE_CLAIMS_DEFAULT


def mark_not_in_force(rows: list[dict], profiles: list) -> None:
    """Every row gets its profile; an ordinary row outside every profile is rejected."""
    for row in rows:
        row["profile"] = None if row["settle_date"] is None else profile_in_force(profiles, row["settle_date"])
        if row["profile"] is None and row["reverses"] is None and not row["problems"]:
            row["problems"].append("POLICY_NOT_IN_FORCE")


def mark_duplicates(rows: list[dict], known: set) -> None:
    """A row repeating an id settled before, or the id of an earlier row of the batch that
    passed every check so far, is ``DUPLICATE_CLAIM_ID``."""
    seen = set(known)
    for row in rows:
        if row["problems"]:
            continue
        if row["claim_id"] in seen:
            row["problems"].append("DUPLICATE_CLAIM_ID")
        seen.add(row["claim_id"])


def is_late(row: dict, year: int, carried_last: dict) -> bool:
    """Before its person-year's last (settle_date, seq) as earlier batches left it."""
    last = carried_last.get((row["person_id"], year))
    return last is not None and (row["settle_date"], row["seq"]) < last


def mark_late(row: dict, year: int, carried_last: dict, profiles: list) -> None:
    row["late"] = is_late(row, year, carried_last)
    profile = profiles[row["profile"]] if row["profile"] is not None else None
    if row["late"] and late_claims_mode(profile) == "reject":
        row["problems"].append("OUT_OF_ORDER")


def read_originals(data: Any, claim_kind: str, person_kind: str) -> tuple[dict, set]:
    """Settled rows of earlier batches by claim id (the first row of an id), and the ids
    that earlier reversals already reversed."""
    table = as_table(data)
    if table is None:
        return {}, set()
    needed = ("claim_id", "person_id", "year", "visit_type", "facility_level", *c.OUTPUT_FIELDS)
    for name in needed:
        if name not in table.column_names:
            raise SchemaError(name, "a column of the settled table", "no such column")
    by_id, reversed_ids = {}, set()
    for row in table.to_pylist():
        row["claim_id"] = as_id(row["claim_id"], claim_kind, "claim_id")
        row["person_id"] = as_id(row["person_id"], person_kind, "person_id")
        row["reverses"] = as_id(row.get("reverses"), claim_kind, "reverses")
        by_id.setdefault(row["claim_id"], row)
        if row["reverses"] is not None:
            reversed_ids.add(row["reverses"])
    return by_id, reversed_ids


def before(a: dict, b: dict) -> bool:
    """Row ``a`` comes before row ``b`` in settlement order (date, seq, input position)."""
    return (a["settle_date"], a["seq"], a["row"]) < (b["settle_date"], b["seq"], b["row"])


def match_reversals(rows: list[dict], earlier: dict, reversed_before: set) -> None:
    """Point every reversal row that passed its checks at its original (§6), or reject it.

    The original is an accepted ordinary row of the batch that comes before the reversal, else
    a settled row of an earlier batch that is not itself a reversal. Two reversals of one
    original: the first in settlement order wins (date, seq, input position).
    """
    in_batch = {row["claim_id"]: row for row in rows if row["reverses"] is None and not row["problems"]}
    claimed = set()
    candidates = [row for row in rows if row["reverses"] is not None and not row["problems"]]
    for row in sorted(candidates, key=lambda r: (r["settle_date"], r["seq"], r["row"])):
        target = row["reverses"]
        original = in_batch.get(target)
        if original is not None:
            row["original"] = ("batch", original) if before(original, row) else None
        elif target in earlier and earlier[target]["reverses"] is None:
            row["original"] = ("earlier", earlier[target])
        else:
            row["original"] = None
        if row["original"] is None:
            row["problems"].append("UNKNOWN_ORIGINAL")
            continue
        if target in reversed_before:
            row["problems"].append("ALREADY_REVERSED")
        if row["original"][1]["person_id"] != row["person_id"]:
            row["problems"].append("REVERSAL_PERSON_MISMATCH")
        if not row["problems"]:
            if target in claimed:
                row["problems"].append("ALREADY_REVERSED")
            claimed.add(target)
