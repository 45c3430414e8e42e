"""DRG point payment in plain Python, one case at a time: the twin of ``wzmedins.drg._kernel``.

Written to be read against ``docs/rules/drg.md``. Python integers throughout, so nothing here can
overflow; the kernels must agree with it to the 1e-4 point and to the fen.

Inputs are plain values: money in fen, points and coefficients in 1e-4 (e4), dates as ordinals.

Examples
--------
>>> from wzmedins.drg import load_profile
>>> p = load_profile("wenzhou-2022")
>>> fr23 = {"base": 1_200_000, "stable": True, "basic": False, "daily": None}
>>> score_case({"drg_code": "FR23", "total_cost": 1_200_000}, fr23, 10_500, p)
('normal', 1304169, 1260000)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from ..rounding import half_up as rnd  # settlement.md §1, the one rounding rule

ONE = 10_000


def kind_of(code: str) -> str:
    """``"ungroupable"`` for 0000, ``"ambiguous"`` for a code ending in QY, else ``"group"``.

    Examples
    --------
    >>> kind_of("0000"), kind_of("GQY"), kind_of("FR23")
    ('ungroupable', 'ambiguous', 'group')
    """
    if code == "0000":
        return "ungroupable"
    if code.endswith("QY"):
        return "ambiguous"
    return "group"


def high_multiple(p, base: int) -> int:
    """``H(B)`` of docs/rules/drg.md §3: the multiple of the band that holds ``base`` (e4 points).

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> high_multiple(load_profile("wenzhou-2022"), 2_500_000)
    20000
    """
    for upper, mult in zip(p.high_band_upper, p.high_multiple_bp, strict=False):
        if base <= upper:
            return mult
    return p.high_multiple_bp[-1]


# --------------------------------------------------------------------------- §3 one case (docs/rules/drg.md)


def score_case(case: Mapping, group: Mapping | None, coefficient: int, p) -> tuple[str, int | None, int]:
    """Type, standard cost (fen, None outside the catalog) and points (e4) of one case.

    ``case`` has ``drg_code``, ``total_cost`` and optionally ``los``, ``manual_points`` and
    ``incomplete``;
    ``group`` is the catalog row (``base``, ``stable``, ``basic``, ``daily``; ``base`` None
    only for per-diem groups) or None.
    Readmission and bonus are applied by :func:`score`.
    """
    C = case["total_cost"]
    M = p.reference_cost
    standard = None
    if group is not None:
        B = group["base"] or 0  # per-diem groups may have no base points
        c = ONE if group["basic"] else coefficient
        standard = None if group["base"] is None else rnd(M * B * c, 10**10)
    if case.get("manual_points") is not None:
        return "special", standard, case["manual_points"]
    kind = kind_of(case["drg_code"])
    if kind == "ungroupable":
        return "ungroupable", standard, rnd(p.ungroupable_bp * 100 * C, M)
    if kind == "ambiguous":
        return "ambiguous", standard, rnd(p.ambiguous_bp * 100 * C, M)
    if group is None:
        raise KeyError(case["drg_code"])  # UNKNOWN_DRG
    S = standard
    if group["daily"] is not None:
        return "per_diem", S, group["daily"] * case["los"]
    if not group["stable"]:
        return "unstable", S, rnd(10**6 * C, M)
    if p.incomplete_enabled and case.get("incomplete"):
        # provincial-2019 rule min(B·c·C / M_g, B); M_g = M·B / 10^6 is the group's mean cost
        return "incomplete", S, min(rnd(B * c * C * 10**6, 10**4 * M * B) if B else 0, B)
    H = high_multiple(p, B)
    if C * 10**4 < p.low_bp * S:
        return "low", S, rnd(10**6 * C, M)
    if C * 10**4 > H * S or (p.high_inclusive and C * 10**4 == H * S):
        # normal points + the cost above the threshold H(B)·S at the reference rate
        return "high", S, rnd(B * c, 10**4) + rnd((C * 10**4 - H * S) * 100, M)
    if p.partial_enabled and C * 10**4 <= p.partial_upper_bp * S:
        return "partial", S, rnd(10**6 * C, M) + rnd(p.partial_beta_bp * B * c, 10**8)
    return "normal", S, rnd(B * c, 10**4)


def score(cases: list[Mapping], catalog: Mapping[str, Mapping], coefficients: Mapping, p):
    """Score valid cases: returns ``(scored, rejected)``.

    ``scored`` has, per accepted case in input order, the input row's ``row`` and
    ``case_type``, ``standard_cost``, ``points``, ``readmission``, ``coefficient`` (the one
    used: 1 for basic groups and missing pairs, None outside the catalog); ``rejected`` is a list of
    ``(row, "UNKNOWN_DRG")``. Each case needs ``person_id``, ``hospital_id``, ``drg_code``,
    ``total_cost``, ``admit_date``, ``discharge_date`` (ordinals), and optionally ``los``,
    ``manual_points``, ``bonus_points``. ``coefficients`` maps (hospital_id, drg_code) to e4.

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> stay = {"person_id": 1, "hospital_id": "H2", "drg_code": "GB15", "total_cost": 1_100_000,
    ...         "admit_date": 738273, "discharge_date": 738281}
    >>> again = dict(stay, total_cost=1_050_000, admit_date=738291, discharge_date=738295)
    >>> gb15 = {"GB15": {"base": 1_000_000, "stable": True, "basic": False, "daily": None}}
    >>> scored, rejected = score([stay, again], gb15, {}, load_profile("wenzhou-2022"))
    >>> [(r["points"], r["readmission"]) for r in scored]
    [(500000, True), (1000000, False)]
    """
    out, rejected = [], []
    for row, case in enumerate(cases):
        code = case["drg_code"]
        group = catalog.get(code)
        c = coefficients.get((case["hospital_id"], code), ONE)
        try:
            case_type, standard, points = score_case(case, group, c, p)
        except KeyError:
            rejected.append((row, "UNKNOWN_DRG"))
            continue
        out.append(
            {
                "row": row,
                "case_type": case_type,
                "standard_cost": standard,
                "points": points,
                "readmission": False,
                "coefficient": None if group is None else (ONE if group["basic"] else c),
                "_case": case,
            }
        )
    # Readmission: per person in order of admission (ties: discharge, input order).
    by_person = defaultdict(list)
    for r in out:
        by_person[r["_case"]["person_id"]].append(r)
    for stays in by_person.values():
        stays.sort(key=lambda r: (r["_case"]["admit_date"], r["_case"]["discharge_date"], r["row"]))
        for this, nxt in zip(stays, stays[1:], strict=False):
            code = this["_case"]["drg_code"]
            if this["case_type"] in ("special", "ungroupable", "ambiguous"):
                continue
            if nxt["_case"]["drg_code"] != code or kind_of(code) != "group":
                continue
            if any(code.startswith(prefix) for prefix in p.readmission_exempt):
                continue
            days = nxt["_case"]["admit_date"] - this["_case"]["discharge_date"]
            if 0 <= days <= p.readmission_days:
                this["points"] = rnd(this["points"] * p.readmission_bp, 10**4)
                this["readmission"] = True
    for r in out:
        case = r.pop("_case")
        if r["case_type"] != "special":
            r["points"] += case.get("bonus_points") or 0
    return out, rejected


# --------------------------------------------------------------------------- §2 calibration


def calibrate(history: Iterable[Mapping], levels: Mapping, p, basic: Iterable[str] = ()):
    """Reference cost, catalog and coefficients from history rows (docs/rules/drg.md §2).

    ``history`` rows have ``hospital_id``, ``drg_code``, ``total_cost``; ``levels`` maps a
    hospital to its level. Returns ``(M, catalog, coefficients)`` with ``catalog[code] =
    {"base", "stable", "n", "n_trimmed", "mean"}`` and ``coefficients[(hospital, code)] = c``.

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> rows = [{"hospital_id": h, "drg_code": "A", "total_cost": x}
    ...         for h, x in [("H1", 10_000)] * 5 + [("H2", 30_000)] * 5]
    >>> M, catalog, coef = calibrate(rows, {"H1": "x", "H2": "y"}, load_profile("wenzhou-2022"))
    >>> M, catalog["A"]["base"], coef
    (20000, 1000000, {('H1', 'A'): 8000, ('H2', 'A'): 12000})
    """
    rows = [r for r in history if kind_of(r["drg_code"]) == "group" and r["hospital_id"] in levels]
    raw = defaultdict(list)
    for r in rows:
        raw[r["drg_code"]].append(r)
    trimmed = {}
    for g, rs in raw.items():
        S, n = sum(r["total_cost"] for r in rs), len(rs)
        trimmed[g] = [r for r in rs if p.trim_low_bp * S <= 10**4 * n * r["total_cost"] <= p.trim_high_bp * S]
    all_kept = [r["total_cost"] for rs in trimmed.values() for r in rs]
    if not all_kept:
        raise ValueError("no history case survives the trim")
    M = rnd(sum(all_kept), len(all_kept))
    if M == 0:
        raise ValueError("the reference cost of the history is 0")
    basic = set(basic)
    catalog, coefficients = {}, {}
    for g, rs in sorted(raw.items()):
        xs = [r["total_cost"] for r in rs]
        n, sx, sxx = len(xs), sum(xs), sum(x * x for x in xs)
        kept = trimmed[g]
        # CV < k  <=>  n·Σx² − (Σx)² < k²·(Σx)²  (in 1e-4: ·10^8)
        stable = n >= p.min_cases and (n * sxx - sx * sx) * 10**8 < p.cv_max_bp**2 * sx * sx
        if kept:
            Mg = rnd(sum(r["total_cost"] for r in kept), len(kept))
            B = rnd(10**6 * Mg, M)
        else:  # every case trimmed away (cannot happen with lo <= 1 <= hi); keep the raw mean
            Mg = rnd(sx, n)
            B = rnd(10**6 * Mg, M)
        catalog[g] = {
            "base": B,
            "stable": stable,
            "basic": g in basic,
            "n": n,
            "n_trimmed": len(kept),
            "mean": Mg,
        }
        for h in sorted({r["hospital_id"] for r in rs}, key=str):
            coefficients[(h, g)] = coefficient(kept, h, levels, Mg, g in basic, p)
    return M, catalog, coefficients


def coefficient(kept: list[Mapping], h, levels: Mapping, Mg: int, is_basic: bool, p) -> int:
    """Hospital coefficient for one group (docs/rules/drg.md §2 step 5), from the group's trimmed rows.

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> kept = [{"hospital_id": "H1", "total_cost": 105}] * 5
    >>> coefficient(kept, "H1", {"H1": "x"}, 100, False, load_profile("wenzhou-2022"))
    10500
    """
    if is_basic or Mg == 0:
        return ONE
    mine = [r["total_cost"] for r in kept if r["hospital_id"] == h]
    level = [r["total_cost"] for r in kept if levels[r["hospital_id"]] == levels[h]]
    if len(level) < p.min_cases:
        return ONE
    m_l = rnd(sum(level), len(level))
    if len(mine) < p.min_cases:
        c = rnd(ONE * m_l, Mg)
    else:
        w = p.coef_weight_bp
        m_h = rnd(sum(mine), len(mine))
        c = rnd(w * m_h, Mg) + rnd((ONE - w) * m_l, Mg)
    return min(max(c, p.coef_lo_bp), p.coef_hi_bp)


# --------------------------------------------------------------------------- §4–5 clearing


def clear(scored: Iterable[Mapping], budgets: Mapping[str, int], p):
    """Point value per fund and the settlement of each hospital (docs/rules/drg.md §4–5).

    ``scored`` rows have ``hospital_id``, ``fund``, ``points``, ``total_cost``,
    ``patient_paid``, ``fund_ffs`` and ``base_points`` (None outside the catalog). With
    ``p.pool_funds`` every fund is ``"all"`` and the budgets are added. Returns
    ``(funds, hospitals)``: dicts keyed by fund and by (hospital, fund).

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> rows = [{"hospital_id": "H1", "fund": "resident", "points": 1_000_000,
    ...          "total_cost": 900_000, "patient_paid": 300_000, "fund_ffs": 600_000,
    ...          "base_points": 1_000_000}]
    >>> funds, hospitals = clear(rows, {"resident": 1_000_000}, load_profile("wenzhou-2022"))
    >>> funds["resident"]["point_value"], hospitals[("H1", "resident")]["balance"]
    (1250000, 440000)
    """
    if p.pool_funds:
        budgets = {"all": sum(budgets.values())}
    funds = {f: {"budget": b, "points": 0, "patient_paid": 0, "cases": 0} for f, b in budgets.items()}
    hospitals = {}
    for r in scored:
        f = "all" if p.pool_funds else r["fund"]
        if f not in funds:
            funds[f] = {"budget": 0, "points": 0, "patient_paid": 0, "cases": 0}
        funds[f]["points"] += r["points"]
        funds[f]["patient_paid"] += r["patient_paid"]
        funds[f]["cases"] += 1
        h = hospitals.setdefault(
            (r["hospital_id"], f),
            {
                "cases": 0,
                "points": 0,
                "cost": 0,
                "patient_paid": 0,
                "prepaid": 0,
                "sum_base": 0,
                "n_base": 0,
            },
        )
        h["cases"] += 1
        h["points"] += r["points"]
        h["cost"] += r["total_cost"]
        h["patient_paid"] += r["patient_paid"]
        h["prepaid"] += rnd((r.get("fund_ffs") or 0) * p.prepay_bp, 10**4)
        if r.get("base_points") is not None:
            h["sum_base"] += r["base_points"]
            h["n_base"] += 1
    for fu in funds.values():
        fu["reserve"] = rnd(fu["budget"] * p.reserve_bp, 10**4)
        fu["pool"] = fu["budget"] - fu["reserve"] + fu["patient_paid"]
        fu["point_value"] = rnd(fu["pool"] * 10**6, fu["points"]) if fu["points"] > 0 else None
        fu["claims"] = 0
    for (_, f), h in hospitals.items():
        pv = funds[f]["point_value"]
        h["cmi"] = rnd(h["sum_base"], h["n_base"] * 100) if h["n_base"] else None
        if pv is None:
            h.update(money=None, fund_due=None, claim=0)
            continue
        h["money"] = rnd(h["points"] * pv, 10**6)
        h["fund_due"] = h["money"] - h["patient_paid"]
        loss = h["cost"] - h["money"]
        within = loss > 0 and h["money"] * 10**4 >= (10**4 - p.share_band_bp) * h["cost"]
        h["claim"] = rnd(loss * p.share_bp, 10**4) if within else 0
        funds[f]["claims"] += h["claim"]
    for (_, f), h in hospitals.items():
        fu = funds[f]
        if fu["claims"] > fu["reserve"]:
            h["reserve_share"] = h["claim"] * fu["reserve"] // fu["claims"]
        else:
            h["reserve_share"] = h["claim"]
        h["balance"] = None if h["money"] is None else h["fund_due"] + h["reserve_share"] - h["prepaid"]
    for f, fu in funds.items():
        fu["reserve_shared"] = sum(h["reserve_share"] for (hid, g), h in hospitals.items() if g == f)
    return funds, hospitals


def provisional_budget(budget: int, months: int) -> int:
    """The budget of the first ``months`` months, ``rnd(budget·months, 12)`` (docs/rules/drg.md §4).

    Examples
    --------
    >>> provisional_budget(3_000_000, 5)
    1250000
    """
    return rnd(budget * months, 12)
