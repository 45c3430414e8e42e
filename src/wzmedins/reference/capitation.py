"""Capitation in plain Python, one signing and one claim at a time: the twin of
``wzmedins.capitation``.

Written to be read against docs/rules/capitation.md. Python integers throughout, so nothing
here can overflow; the kernel must agree with it to the fen. It shares only the input contract
with the wrapper: column names, units (fen, basis points), reason codes.

Signings are dicts with ``person_id``, ``community_id``, ``age_band``, optional ``chronic``
(default False), ``months`` (default 12) and ``year``. Claims are dicts with ``person_id``,
``fund`` (fen), ``visit_type``, ``year``, optional ``community_id``, ``settle_date``
(``datetime.date``), ``claim_id`` and ``reverses``. The profile is read by attribute, as
written (``p.weight_bp`` is a dict of age band to bp).

Examples
--------
>>> from wzmedins.capitation import load_profile
>>> p = load_profile("wenzhou-2022")
>>> split_budget(10_000, 600, p)
{'drg': 5170, 'capitation': 2820, 'other': 1410, 'out_of_area': 600}
>>> weight({"age_band": "60-79", "chronic": True}, p)
22500
"""

from __future__ import annotations

import datetime as dt

from ..reasons import MAX_AMOUNT_FEN, REASONS
from ..rounding import half_up as rnd  # docs/rules/capitation.md: the one rounding rule

ONE = 10_000
VISIT_TYPES = ("outpatient", "chronic", "special", "inpatient")  # the claims' vocabulary


def split_budget(total: int, out_of_area: int, p) -> dict[str, int]:
    """§1: every pool but the first gets ``rnd(rest·share, 10⁴)``; the first the remainder."""
    rest = total - out_of_area
    names = list(p.pool_shares_bp)
    pools = {}
    for name in names[1:]:
        pools[name] = rnd(rest * p.pool_shares_bp[name], ONE)
    out = {names[0]: rest - sum(pools.values())}
    out.update(pools)
    out["out_of_area"] = out_of_area
    return out


def weight(signing: dict, p) -> int:
    """§2: ``weight_bp[age_band]``, times ``chronic_weight_bp`` for a chronic patient."""
    w = p.weight_bp[signing["age_band"]]
    if signing.get("chronic", False):
        w = rnd(w * p.chronic_weight_bp, ONE)
    return w


def _signing_reason(s: dict) -> str | None:
    for key in ("person_id", "community_id", "age_band"):
        if s.get(key) is None:
            return "MISSING_VALUE"
    if "chronic" in s and s["chronic"] is None:
        return "MISSING_VALUE"
    if "months" in s and s["months"] is None:
        return "MISSING_VALUE"
    if "year" in s and s["year"] is None:
        return "MISSING_VALUE"
    if not 1 <= s.get("months", 12) <= 12:
        return "MONTH_OUT_OF_RANGE"
    return None


def _claim_reason(c: dict) -> str | None:
    for key in ("person_id", "fund", "visit_type", "year"):
        if c.get(key) is None:
            return "MISSING_VALUE"
    reversal = c.get("reverses") is not None
    if c["fund"] < 0 and not reversal and abs(c["fund"]) <= MAX_AMOUNT_FEN:
        return "NEGATIVE_AMOUNT"
    if abs(c["fund"]) > MAX_AMOUNT_FEN:
        return "AMOUNT_TOO_LARGE"
    if c["visit_type"] not in VISIT_TYPES:
        return "UNKNOWN_VISIT_TYPE"
    return None


def _first_reason(*reasons: str | None) -> str | None:
    found = [r for r in reasons if r is not None]
    return min(found, key=REASONS.index) if found else None


def signed(signings: list[dict], p, year: int | None):
    """The signings used: ``{person_id: (row, signing)}``, the rejected ``(row, reason)`` and
    the communities (sorted) of the year's rows without a problem of their own."""
    rejected = []
    used: dict = {}
    communities = set()
    year_persons = set()
    for row, s in enumerate(signings):
        reason = _signing_reason(s)
        in_year = year is None or "year" not in s or s["year"] == year
        if reason is None and in_year:
            communities.add(str(s["community_id"]))
            year_persons.add(s["person_id"])
            if s["age_band"] not in p.weight_bp:
                reason = "UNKNOWN_AGE_BAND"
            elif s["person_id"] in used:
                reason = "DUPLICATE_SIGNING"
            else:
                used[s["person_id"]] = (row, s)
        if reason is not None:
            rejected.append((row, reason))
    return used, rejected, sorted(communities), year_persons


def per_capita(pool: int, signings: list[dict], p, year: int | None = None) -> int:
    """§2: ``a = rnd(C·10⁴·12, Σ w·months)`` over the signings used.

    Examples
    --------
    >>> from wzmedins.capitation import load_profile
    >>> s = [{"person_id": 1, "community_id": "K", "age_band": "18-59", "months": 6}]
    >>> per_capita(100_000, s, load_profile("wenzhou-2022"))  # 1 000 yuan over 0.8 × 6 months
    250000
    """
    used, _, _, _ = signed(signings, p, year)
    total = sum(weight(s, p) * s.get("months", 12) for _, s in used.values())
    return rnd(pool * ONE * 12, total)


def year_end(budget: int, charges: int, q: int, p) -> dict:
    """§4: surplus retained or overspend shared, for one community."""
    s = budget - charges
    out = {"surplus": s, "retained": 0, "fund_shares": 0, "community_bears": 0}
    if s >= 0:
        cap = rnd(budget * p.surplus_cap_bp, ONE)
        out["retained"] = rnd(min(s, cap) * p.retain_bp * q, ONE * ONE)
        out["settlement"] = out["retained"]
    else:
        o = -s
        band = rnd(budget * p.overspend_band_bp, ONE)
        out["fund_shares"] = rnd(min(o, band) * p.overspend_share_bp, ONE)
        out["community_bears"] = o - out["fund_shares"]
        out["settlement"] = -out["community_bears"]
    return out


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return nxt - dt.timedelta(days=1)


def settle(
    signings: list[dict],
    claims: list[dict],
    p,
    *,
    per_capita: int | None = None,
    pool: int | None = None,
    quality: dict | None = None,
    year: int | None = None,
    through_month: int | None = None,
) -> dict:
    """§2–4: budgets, charges and the year end (or the position through a month).

    Returns ``communities`` (dicts sorted by community_id), ``persons`` (dicts in signing
    order), ``rejected`` (``("signings" | "claims", row, reason)``) and ``kinds`` (per claim:
    ``None`` not charged, ``"own"`` or ``"outside"``).

    Examples
    --------
    >>> from wzmedins.capitation import load_profile
    >>> s = [{"person_id": "b", "community_id": "K1", "age_band": "18-59"}]
    >>> c = [{"person_id": "b", "fund": 15000, "visit_type": "outpatient", "year": 2022, "community_id": "K1"}]
    >>> out = settle(s, c, load_profile("wenzhou-2022"), per_capita=60_000, year=2022)
    >>> out["communities"][0]["budget"], out["communities"][0]["retained"], out["kinds"]
    (48000, 3840, ['own'])
    """
    if year is None:  # the claims' latest year, else the signings' only one
        years = [c["year"] for c in claims if _claim_reason(c) is None]
        if years:
            year = max(years)
        else:
            sy = {s["year"] for s in signings if "year" in s and _signing_reason(s) is None}
            year = sy.pop() if len(sy) == 1 else None
    used, rejected_s, communities, year_persons = signed(signings, p, year)
    if per_capita is None:
        total = sum(weight(s, p) * s.get("months", 12) for _, s in used.values())
        per_capita = rnd(pool * ONE * 12, total)
    persons = {}
    for pid, (_row, s) in sorted(used.items(), key=lambda kv: kv[1][0]):
        w = weight(s, p)
        b = rnd(per_capita * w * s.get("months", 12), ONE * 12)
        if through_month is not None:
            b = rnd(b * through_month, 12)
        persons[pid] = {
            "person_id": pid,
            "community_id": str(s["community_id"]),
            "weight_bp": w,
            "budget": b,
            "own": 0,
            "outside": 0,
        }
    # which claims count: accepted, in the year (and up to the month), not repeating a claim id
    rejected_c = []
    usable = []
    seen_ids = set()
    for row, c in enumerate(claims):
        reason = _claim_reason(c)
        if reason is None and through_month is not None and c.get("settle_date") is None:
            reason = "MISSING_VALUE"
        ok = reason is None and c["year"] == year if year is not None else reason is None
        if ok and through_month is not None:
            ok = c["settle_date"] <= _month_end(year, through_month)
        if ok and c["person_id"] in year_persons and c.get("claim_id") is not None:
            if c["claim_id"] in seen_ids:
                reason, ok = "DUPLICATE_CLAIM_ID", False
            seen_ids.add(c["claim_id"])
        if reason is not None:
            rejected_c.append((row, reason))
        usable.append(ok)
    kinds = []
    for row, c in enumerate(claims):
        person = persons.get(c["person_id"])
        if not usable[row] or person is None or c["visit_type"] not in p.visit_types:
            kinds.append(None)
            continue
        community = c.get("community_id")
        if community is None and c.get("reverses") is not None:  # a reversal: its original's facility
            for original in claims:
                if original.get("claim_id") == c["reverses"]:
                    community = original.get("community_id")
                    break
        if community is not None and str(community) == person["community_id"]:
            person["own"] += c["fund"]
            kinds.append("own")
        else:
            f = c["fund"]
            charge = rnd(abs(f) * p.outside_charge_bp, ONE)
            person["outside"] += charge if f >= 0 else -charge
            kinds.append("outside")
    quality = quality or {}
    out_communities = []
    for k in communities:
        members = [q for q in persons.values() if q["community_id"] == k]
        budget = sum(q["budget"] for q in members)
        if through_month is not None:
            full = 0
            for q in members:
                _, s = used[q["person_id"]]
                full += rnd(per_capita * weight(s, p) * s.get("months", 12), ONE * 12)
            budget = rnd(full * through_month, 12)
        own = sum(q["own"] for q in members)
        outside = sum(q["outside"] for q in members)
        q_k = quality.get(k, p.default_quality_bp)
        row = {"community_id": k, "budget": budget, "own": own, "outside": outside, "charges": own + outside}
        row.update(year_end(budget, own + outside, q_k, p))
        row.update({"signed": len(members), "quality_bp": q_k})
        row["fund_cost"] = row["charges"] + row["settlement"]
        out_communities.append(row)
    for q in persons.values():
        q["charges"] = q["own"] + q["outside"]
    rejected = [("signings", r, why) for r, why in rejected_s] + [("claims", r, why) for r, why in rejected_c]
    return {
        "per_capita": per_capita,
        "communities": out_communities,
        "persons": list(persons.values()),
        "rejected": rejected,
        "kinds": kinds,
    }
