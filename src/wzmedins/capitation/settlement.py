"""Charges, community budgets and the year end of capitation (docs/rules/capitation.md §2–4).

:func:`prepare` codes signings and settled claims once (independent of the profile); :func:`run`
applies a profile, a per-capita amount and quality scores to what was prepared — scenarios
call it many times. :func:`settle` and :func:`provisional` are the two in one call.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..tables import NO_REASON, flag
from ..vocab import VISIT_TYPES
from . import _kernel
from .budget import per_capita_from_pool
from .columns import CLAIM_MESSAGES, SIGNING_MESSAGES, Claims, _dictionary_nulls, claim_columns, lookup, month_end
from .outputs import CapitationResult, communities_table, persons_table, rejected_table
from .profile import CapitationProfile, load_profile
from .signed import Year, accept, signing_year
from .yearend import year_end

MAX_PER_CAPITA_FEN = 10**9  # 10 million yuan a head: keeps a·w·months inside int64
SLIP_PER_CAPITA_FEN = 10_000  # below 100 yuan a year a per-capita amount was probably given in yuan


@dataclasses.dataclass
class Prepared:
    """Signings and settled claims coded once, for one year (and month)."""

    y: Year
    cl: Claims
    through_month: int | None
    claim_person: np.ndarray  # index into y.person_values, -1: not among the year's signings
    claim_community: np.ndarray  # index into y.communities; -1 none, -2 a community with no signings
    usable: np.ndarray  # accepted, counts in the year (and up to the month)
    reason: np.ndarray  # claims, with DUPLICATE_CLAIM_ID


def prepare(signings: Any, settled_claims: Any, *, year: int | None = None, through_month: int | None = None):
    """Code the signings and the settled claims for :func:`run` (no profile needed)."""
    cl = settled_claims if isinstance(settled_claims, Claims) else claim_columns(settled_claims)
    if year is None and cl.n and (cl.reason == NO_REASON).any():
        years = np.unique(cl.year[cl.reason == NO_REASON])
        year = int(years.max()) if len(years) else None
    y = signing_year(signings, year)
    year = y.year
    if through_month is not None:
        if isinstance(through_month, bool) or not isinstance(through_month, int) or not 1 <= through_month <= 12:
            raise SchemaError("through_month", "a month 1..12", repr(through_month))
        if cl.day is None:
            raise SchemaError("settle_date", "a date per claim for a provisional position", "no such column")
    reason = cl.reason.copy()
    if through_month is not None:
        flag(reason, tables.null_mask(tables.required(cl.table, "settle_date", "")), "MISSING_VALUE")
    usable = reason == NO_REASON
    if year is not None:
        usable &= cl.year == year
    if through_month is not None:
        usable &= cl.day <= month_end(year, through_month)
    claim_person = lookup(cl.person_id, y.person_values)
    if cl.n and len(y.person_values) and not (claim_person >= 0).any():
        warnings.warn(
            f"capitation: none of the {cl.n} claims' person_id matches a signed person (different id formats?)",
            stacklevel=3,
        )
    claim_community = _claim_communities(cl, y)
    _flag_duplicates(cl, usable & (claim_person >= 0), reason)
    usable &= reason == NO_REASON
    return Prepared(y, cl, through_month, claim_person, claim_community, usable, reason)


def _claim_communities(cl: Claims, y: Year) -> np.ndarray:
    """Community index of each claim's facility; a reversal with none takes its original's."""
    comm = lookup(cl.community_id, y.communities)
    null = _nulls(cl.community_id)
    comm[(comm < 0) & ~null] = -2
    if cl.has_community and len(y.communities) and (~null).any() and not (comm >= 0).any():
        warnings.warn(
            "capitation: no claim's community_id matches a community of the signings (different id formats?)",
            stacklevel=4,
        )
    if cl.reverses is not None and cl.claim_id is not None:
        rows = np.flatnonzero(cl.is_reversal & null)
        if len(rows):
            original = lookup(cl.reverses.take(pa.array(rows)), cl.claim_id)
            found = original >= 0
            comm[rows[found]] = comm[original[found]]
    return comm


def _nulls(arr: pa.Array) -> np.ndarray:
    if pa.types.is_dictionary(arr.type):
        return _dictionary_nulls(arr)
    return tables.null_mask(arr)


def _flag_duplicates(cl: Claims, candidates: np.ndarray, reason: np.ndarray) -> None:
    """DUPLICATE_CLAIM_ID on a candidate row whose claim_id an earlier candidate row has."""
    if cl.claim_id is None:
        return
    rows = np.flatnonzero(candidates)
    if len(rows) < 2:
        return
    ids = cl.claim_id.take(pa.array(rows))
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    if tables.all_distinct(ids):  # the usual case: one hash and one sort
        return
    codes = lookup(ids, pc.unique(ids))
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    again = np.zeros(len(rows), dtype=bool)
    again[order[1:][(sc[1:] == sc[:-1]) & (sc[1:] >= 0)]] = True
    dup = np.zeros(len(reason), dtype=bool)
    dup[rows[again]] = True
    flag(reason, dup, "DUPLICATE_CLAIM_ID")


def _quality(quality: Any, communities: list[str], default: int) -> list[int]:
    """Quality score per community (bp), from a mapping or a table (community_id, quality_bp)."""
    if quality is None:
        given: dict[str, Any] = {}
    elif isinstance(quality, Mapping):
        given = {str(k): v for k, v in quality.items()}
    else:
        t = tables.to_table(quality)
        ids = tables.required(t, "community_id", "community ids").cast(pa.string()).to_pylist()
        given = dict(zip(ids, tables.required(t, "quality_bp", "integers 0..10000").to_pylist(), strict=True))
    for k, v in given.items():
        if isinstance(v, np.integer):
            v = given[k] = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10_000:
            raise SchemaError("quality_bp", "a quality score in basis points 0..10000", f"{v!r} for {k}")
    unknown = sorted(set(given) - set(communities))
    if unknown:
        warnings.warn(f"capitation: quality given for communities with no signings: {', '.join(unknown)}", stacklevel=4)
    return [given.get(k, default) for k in communities]


def run(
    prep: Prepared,
    params: Any,
    *,
    per_capita: int | None = None,
    pool: int | None = None,
    quality: Any = None,
    claims_detail: bool = False,
) -> CapitationResult:
    """Apply a profile, a per-capita amount (or a pool) and quality scores to prepared inputs."""
    p: CapitationProfile = load_profile(params)
    acc = accept(prep.y, p)
    if (per_capita is None) == (pool is None):
        raise SchemaError("per_capita", "exactly one of per_capita= (fen) and pool= (fen)", "both or neither")
    if per_capita is None:
        per_capita = per_capita_from_pool(pool, int((acc.weight * acc.months).sum()))
    if isinstance(per_capita, bool) or not isinstance(per_capita, int) or not 0 <= per_capita <= MAX_PER_CAPITA_FEN:
        raise SchemaError(
            "per_capita", f"fen a year at weight 1, an integer in [0, {MAX_PER_CAPITA_FEN}]", repr(per_capita)
        )
    if 0 < per_capita < SLIP_PER_CAPITA_FEN and pool is None:
        warnings.warn(
            f"capitation: per_capita {per_capita} fen is {per_capita / 100:.2f} yuan a year; amounts are in fen",
            stacklevel=3,
        )
    n_comm = len(prep.y.communities)
    person_budget, comm_budget = _kernel._person_budgets(acc.weight, acc.months, per_capita, acc.community, n_comm)
    m = prep.through_month
    if m is not None:  # provisional: rnd(budget·m, 12) (docs/rules/capitation.md §4)
        person_budget = (2 * person_budget * m + 12) // 24
        comm_budget = (2 * comm_budget * m + 12) // 24
    own = np.zeros(len(acc.rows), dtype=np.int64)
    outside = np.zeros(len(acc.rows), dtype=np.int64)
    cl = prep.cl
    kinds = np.zeros(cl.n if claims_detail else 0, dtype=np.int8)
    charged_visit = np.array([v in p.visit_types for v in VISIT_TYPES], dtype=np.bool_)
    counts = _kernel._charge(
        claim_person=prep.claim_person,
        person_signing=acc.person_signing,
        claim_community=prep.claim_community,
        fund=cl.fund,
        usable=prep.usable,
        visit=cl.visit,
        charged_visit=charged_visit,
        signing_community=acc.community,
        outside_bp=p.outside_charge_bp,
        own=own,
        outside=outside,
        kinds=kinds,
    )
    own_k = _kernel._sum_by(acc.community, own, n_comm).tolist()
    out_k = _kernel._sum_by(acc.community, outside, n_comm).tolist()
    signed_k = np.bincount(acc.community, minlength=n_comm).tolist() if n_comm else []
    names = prep.y.communities.to_pylist()
    q = _quality(quality, names, p.default_quality_bp)
    rows = []
    for k, name in enumerate(names):
        b = int(comm_budget[k])
        charges = own_k[k] + out_k[k]
        s, retained, shares, bears, settlement = year_end(b, charges, q[k], p)
        rows.append((name, b, own_k[k], out_k[k], charges, s, retained, shares, bears, settlement, signed_k[k], q[k]))
    communities = communities_table(rows)
    persons = persons_table(prep.y, acc, person_budget, own, outside)
    rejected = rejected_table(prep.y.sg, acc.reason, cl, prep.reason, SIGNING_MESSAGES, CLAIM_MESSAGES)
    summary = _summary(prep, acc, counts)
    meta = {
        "profile": p.name,
        "profile_fingerprint": p.fingerprint(),
        "per_capita": str(per_capita),
        "year": str(prep.y.year),
        "through_month": str(m or 12),
    }
    detail = None
    if claims_detail:
        detail = pa.table(
            {
                "row": pa.array(np.arange(cl.n), pa.int64()),
                "kind": pa.array(kinds, pa.int8()),
            }
        )
    return CapitationResult(
        communities.replace_schema_metadata(meta),
        persons.replace_schema_metadata(meta),
        rejected,
        summary,
        per_capita,
        prep.y.year,
        m,
        detail,
    )


def _summary(prep: Prepared, acc, counts) -> dict[str, int]:
    cl = prep.cl
    sg_reason = acc.reason
    n_rejected_claims = int((prep.reason != NO_REASON).sum())
    usable = int(prep.usable.sum())
    own, outside, no_community, not_charged_visit = (int(c) for c in counts)
    return {
        "signings": len(sg_reason),
        "signings_used": len(acc.rows),
        "signings_rejected": int((sg_reason != NO_REASON).sum()),
        "signings_other_year": int((~prep.y.in_year & (sg_reason == NO_REASON)).sum()),
        "claims": cl.n,
        "claims_rejected": n_rejected_claims,
        "claims_other_period": cl.n - n_rejected_claims - usable,
        "claims_not_signed": usable - own - outside - not_charged_visit,
        "claims_visit_not_charged": not_charged_visit,
        "claims_own": own,
        "claims_outside": outside,
        "claims_outside_no_community": no_community,
    }


def settle(
    signings: Any,
    settled_claims: Any,
    params: Any = "wenzhou-2022",
    *,
    per_capita: int | None = None,
    pool: int | None = None,
    quality: Any = None,
    year: int | None = None,
    claims_detail: bool = False,
) -> CapitationResult:
    """The year end of family-doctor capitation (门诊按人头付费, 结余留用, 合理超支分担).

    Parameters
    ----------
    signings
        One row per signed resident and year: ``person_id``, ``community_id`` (the medical
        community 医共体 holding the contract), ``age_band`` (a band of the profile's
        ``weight_bp``), ``chronic`` (bool, default false), ``months`` (1–12, default 12) and an
        optional ``year``. Any input of ``wzmedins.tables.to_table``.
    settled_claims
        The ``settled`` table of :func:`wzmedins.settle` (or the ledger's) with the facility's
        ``community_id`` carried from the claims (``wz.settle(..., carry=["community_id",
        "settle_date"])`` or :func:`carry_claim_columns`): ``person_id``, ``fund``, ``visit_type``,
        ``year`` (or ``settle_date``), ``community_id`` (null: no community), optional
        ``claim_id``, ``reverses``, ``settle_date``. A claim without ``community_id`` counts as
        outside.
    params
        A capitation profile or its name or path.
    per_capita, pool
        Exactly one: the per-capita amount in fen a year at weight 1, or the capitation pool in
        fen from which it is derived (:func:`per_capita`).
    quality
        Quality score (考核) per community in bp: a mapping or a table (``community_id``,
        ``quality_bp``); a community not given scores ``default_quality_bp``.
    year
        The year; default the signings' only year, or the claims' latest.
    claims_detail
        Also return ``claims``: per input claim row, ``kind`` 0 not charged, 1 own, 2 outside.

    Returns
    -------
    CapitationResult
        ``communities`` (community_id, budget, own, outside, charges, surplus, retained,
        fund_shares, community_bears, settlement, signed, quality_bp, fund_cost), ``persons``
        (person_id, community_id, weight_bp, budget, charges, own, outside), ``rejected``
        (table, row, id, reason, message) and ``summary`` (counts). Money in fen.

    Examples
    --------
    Worked example 3 of docs/rules/capitation.md §6 (``a = 600`` yuan):

    >>> s = pa.table({"person_id": list("abcde"), "community_id": ["K1"] * 3 + ["K2"] * 2,
    ...     "age_band": ["60-79", "18-59", "0-6", "80+", "18-59"],
    ...     "chronic": [True, False, False, False, True], "months": [12, 12, 6, 12, 9]})
    >>> c = pa.table({"person_id": list("aaabcddez"), "year": [2022] * 9,
    ...     "visit_type": ["chronic", "outpatient", "inpatient", "outpatient", "outpatient",
    ...                    "outpatient", "chronic", "chronic", "outpatient"],
    ...     "community_id": ["K1", None, "K1", "K1", "K2", "K2", None, "K2", "K1"],
    ...     "fund": [90000, 30000, 2000000, 15000, 8000, 70000, 40000, 30000, 50000]})
    >>> res = settle(s, c, "wenzhou-2022", per_capita=60_000, quality={"K1": 9000})
    >>> res.communities.select(["community_id", "budget", "charges", "retained"]).to_pylist()
    [{'community_id': 'K1', 'budget': 219000, 'charges': 143000, 'retained': 15768}, \
{'community_id': 'K2', 'budget': 174000, 'charges': 140000, 'retained': 13920}]
    >>> res.summary["claims_outside_no_community"], res.summary["claims_not_signed"]
    (2, 1)
    """
    prep = prepare(signings, settled_claims, year=year)
    return run(prep, params, per_capita=per_capita, pool=pool, quality=quality, claims_detail=claims_detail)


def provisional(
    signings: Any,
    settled_claims: Any,
    params: Any = "wenzhou-2022",
    *,
    through_month: int,
    per_capita: int | None = None,
    pool: int | None = None,
    quality: Any = None,
    year: int | None = None,
    claims_detail: bool = False,
) -> CapitationResult:
    """The position through month ``m`` (月度预结算): budgets ``rnd(budget·m, 12)`` and the claims
    settled up to the end of month ``m`` (their ``settle_date``); arguments as :func:`settle`.

    Examples
    --------
    >>> s = pa.table({"person_id": ["a"], "community_id": ["K1"], "age_band": ["18-59"]})
    >>> import datetime as dt
    >>> c = pa.table({"person_id": ["a", "a"], "visit_type": ["outpatient"] * 2,
    ...     "community_id": ["K1", "K1"], "fund": [10000, 20000],
    ...     "settle_date": [dt.date(2022, 2, 10), dt.date(2022, 7, 1)]})
    >>> res = provisional(s, c, per_capita=60_000, through_month=6)
    >>> res.communities.select(["budget", "charges", "surplus"]).to_pylist()
    [{'budget': 24000, 'charges': 10000, 'surplus': 14000}]
    """
    prep = prepare(signings, settled_claims, year=year, through_month=through_month)
    return run(prep, params, per_capita=per_capita, pool=pool, quality=quality, claims_detail=claims_detail)


__all__ = ["prepare", "provisional", "run", "settle"]
