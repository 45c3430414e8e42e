"""A small group of plain claims settled against the state store without Arrow checks.

``Settler.settle`` validates and codes a claims table column by column with Arrow compute:
about a dozen passes whose fixed cost (10–15 ms) dwarfs one claim's kernel time. A real-time
caller (``wzmedins serve``) settles a handful of claims it has already validated, given as
Python dicts. :func:`settle_rows` codes those in plain Python and runs the same kernel on the
same store (``Settler._run``), and hands back plain rows.

It takes only the ordinary case: every claim well formed, of string ids, not a reversal, not
settled before, not back-dated, under a profile in force. For anything else it returns None
*before touching the store*, and the caller settles the group with ``Settler.settle``, whose
rules (rejections, reasons, messages) are then the only ones applied. So the two paths give
the same result for every group (tests/settle/test_lean.py checks it to the fen on random
claims).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from .. import tables as t
from ..reasons import MAX_AMOUNT_FEN
from ..vocab import AREAS, ASSISTANCE, CATEGORIES, CATEGORY_SCHEME, FACILITY_LEVELS, SCHEMES, VISIT_TYPES
from .columns import ClaimColumns
from .reversals import Originals

EPOCH = dt.date(1970, 1, 1)
_CODES = {
    "scheme": {v: i for i, v in enumerate(SCHEMES)},
    "category": {v: i for i, v in enumerate(CATEGORIES)},
    "visit_type": {v: i for i, v in enumerate(VISIT_TYPES)},
    "facility_level": {v: i for i, v in enumerate(FACILITY_LEVELS)},
    "area": {v: i for i, v in enumerate(AREAS)},
    "assistance": {v: i for i, v in enumerate(ASSISTANCE)},
}
DEFAULTS = {"area": "local", "assistance": "none"}
KEYS = frozenset(("claim_id", "person_id", "settle_date", "seq", "scheme", "category", "visit_type",
                  "facility_level", "area", "assistance", "total_cost", "self_pay", "class_b_self_pay",
                  "reverses"))  # fmt: skip


@dataclass
class SettledRows:
    """A group's result as plain values: ``settled`` rows (dicts with the columns of
    ``Settler.settle``'s ``settled``, input order), ``rejected`` rows (``row``, ``claim_id``,
    ``reason``, ``message``), ``state`` rows of the person-years the group touched, and the Arrow
    schema the ``settled`` table has (what a ledger records for its replay)."""

    settled: list[dict]
    rejected: list[dict]
    state: list[dict]
    settled_schema: pa.Schema

    @classmethod
    def of(cls, out) -> SettledRows:
        """The rows of a :class:`~wzmedins.SettleResult`."""
        return cls(out.settled.to_pylist(), out.rejected.to_pylist(), out.state.to_pylist(), out.settled.schema)


def _id(value) -> bool:
    """A string id both paths read the same way: ASCII, not blank, no NUL, short enough."""
    return (type(value) is str and value.isascii() and value.strip() != "" and "\x00" not in value
            and len(value) <= t.MAX_ID_BYTES)  # fmt: skip


def _money(value, *, required: bool) -> bool:
    if value is None:
        return not required
    return type(value) is int and 0 <= value <= MAX_AMOUNT_FEN


def code_claims(claims: list[dict], policy) -> dict[str, np.ndarray] | None:
    """The claims' codes and amounts as the kernel reads them, or None when one of them is
    anything but an ordinary well-formed claim (the full path must judge it)."""
    n = len(claims)
    out = {name: np.empty(n, dtype=np.int8) for name in _CODES}
    date = np.empty(n, dtype=np.int32)
    seq = np.zeros(n, dtype=np.int64)
    money = np.zeros((3, n), dtype=np.int64)
    low, high = t.SEQ_RANGE
    for i, c in enumerate(claims):
        if not KEYS.issuperset(c) or c.get("reverses") is not None:
            return None
        if not (_id(c.get("claim_id")) and _id(c.get("person_id"))):
            return None
        day = c.get("settle_date")
        if type(day) is not dt.date:
            return None
        days = (day - EPOCH).days
        if not t.FIRST_DAY <= days <= t.LAST_DAY:
            return None
        date[i] = days
        q = c.get("seq")
        if q is not None:
            if type(q) is not int or not low <= q <= high:
                return None
            seq[i] = q
        for name, codes in _CODES.items():
            value = c.get(name)
            if value is None:
                value = DEFAULTS.get(name)
            code = codes.get(value) if type(value) is str else None
            if code is None:
                return None
            out[name][i] = code
        if CATEGORY_SCHEME[out["category"][i]] != out["scheme"][i]:
            return None
        total, own, b = c.get("total_cost"), c.get("self_pay"), c.get("class_b_self_pay")
        if not (_money(total, required=True) and _money(own, required=False) and _money(b, required=False)):
            return None
        money[:, i] = total, own or 0, b or 0
        if money[1, i] + money[2, i] > total:
            return None
    compiled = policy.compiled
    profile = np.searchsorted(compiled.start, date, side="right") - 1
    if (profile < 0).any() or (date > compiled.end[np.maximum(profile, 0)]).any():
        return None
    out.update(date=date, seq=seq, profile=profile, total=money[0], self_pay=money[1], class_b=money[2])
    return out


def settle_rows(settler, claims: list[dict], known_claim_ids=()) -> SettledRows | None:
    """See :meth:`wzmedins.Settler.settle_rows`."""
    n = len(claims)
    if n == 0 or settler.persons.kind == "int":
        return None
    codes = code_claims(claims, settler.policy)
    if codes is None:
        return None
    ids = [c["claim_id"] for c in claims]
    if len(set(ids)) != n or not set(ids).isdisjoint(known_claim_ids):
        return None
    claim_id = pa.array(ids, pa.string())
    if settler.claims is not None and settler.claims.known(claim_id) is not None:
        return None
    date = codes["date"]
    cols = ClaimColumns(
        pa.table({"claim_id": claim_id}), claim_id, pa.array([c["person_id"] for c in claims], pa.string()),
        date, t.year_of(date), codes["seq"], codes["profile"], codes["scheme"], codes["category"],
        codes["visit_type"], codes["facility_level"], codes["area"], codes["assistance"], codes["total"],
        codes["self_pay"], codes["class_b"], np.full(n, t.NO_REASON, dtype=np.int16), pa.nulls(n, pa.string()),
        np.zeros(n, dtype=np.int8), np.full(n, -1, dtype=np.int64), Originals(None, pa.string(), pa.string()),
    )  # fmt: skip
    known = settler.persons.slots(cols.person_id, rows=cols.accepted)  # read only: -1 for a new person
    late = settler._check_order(cols, known)  # reads the store; rejects (flags) only: then the full path judges
    if late.any() or (cols.reason != t.NO_REASON).any():
        return None
    settler._freeze_snapshots()
    threads = numba.get_num_threads()  # this thread's: a handful of claims is settled on it alone
    numba.set_num_threads(1)  # (waking numba's pool for one claim cost 10-20 ms a parallel loop on a busy machine)
    try:
        slots = settler.persons.slots(cols.person_id, rows=cols.accepted, add=True)
        return SettledRows.of(settler._run(cols, late, (), slots))
    finally:
        numba.set_num_threads(threads)


__all__ = ["SettledRows", "settle_rows", "code_claims"]
