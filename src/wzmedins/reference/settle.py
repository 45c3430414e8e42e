"""Claim settlement in plain Python, one claim at a time — read it against settlement.md.

The twin of ``wzmedins.settle._kernel``: it shares only the input checks
(``settle.columns.claim_columns``) and works from the profile's parameters as written in
the file, not from the compiled tables. Slow on purpose; exact by construction (Python ints).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .. import tables as t
from ..policy import Policy
from ..rounding import half_up
from ..settle.columns import claim_columns
from ..settle.state import ACCOUNT_FIELDS, STATE_FIELDS, carried_state, state_schema
from ..vocab import (
    AREAS,
    ASSISTANCE,
    CATEGORIES,
    FACILITY_LEVELS,
    SCHEMES,
    VISIT_TYPES,
)  # fmt: skip

BP = 10_000
POOL = {"outpatient": "outpatient", "chronic": "outpatient", "special": None, "inpatient": "inpatient"}
LEVEL_ADMISSIONS = {
    "primary": "admissions_primary",
    "secondary": "admissions_secondary",
    "tertiary": "admissions_tertiary",
}


def rnd(n: int, d: int) -> int:
    """n / d rounded half up (n >= 0): settlement.md §1."""
    assert n >= 0 and d > 0
    return half_up(n, d)


def banded(u: int, deductible: int, bands: list[tuple[int | None, int]]) -> int:
    """G(u) of settlement.md §5, in fen × basis points (not yet rounded)."""
    total, lower = 0, 0
    for upper, ratio in bands:
        hi = u if upper is None else min(u, upper)
        total += ratio * max(0, hi - max(lower, deductible))
        if upper is None:
            break
        lower = upper
    return total


def settle_claim(c: dict, p: dict, s: dict) -> dict:
    """Settle one claim ``c`` under parameters ``p``, updating the person-year state ``s``."""
    scheme, visit, level, asst = c["scheme"], c["visit_type"], c["facility_level"], c["assistance"]
    group = p["groups"][scheme][c["category"]]
    lv = FACILITY_LEVELS.index(level)
    out: dict[str, int] = {}

    # Step 0 — split
    E = c["total_cost"] - c["self_pay"] - c["class_b_self_pay"]
    # Step 1 — benefit lookup
    if visit in ("outpatient", "chronic"):
        r = p["ratio_outpatient"][group][lv] + (p["chronic_bonus"] if visit == "chronic" else 0)
    else:
        r = p["ratio_inpatient"][group][lv]
    r = min(max(r + p["area_adjust"][c["area"]], 0), BP)
    # Step 2 — current-year account
    acc = p["account"]
    A1 = 0
    if scheme in acc["schemes"] and visit in acc["current_first"]:
        A1 = min(E, s["current_balance"])
        s["current_balance"] -= A1
    E1 = E - A1
    # Step 3 — deductible
    pool = POOL[visit]
    if pool == "outpatient":
        d = min(E1, max(0, p["deductible_outpatient"][group] - s["outpatient_deductible_used"]))
        s["outpatient_deductible_used"] += d
    elif pool == "inpatient":
        inp = p["inpatient_deductible"]
        if inp["mode"] == "annual_highest_level":
            levels = [i for i, name in enumerate(FACILITY_LEVELS) if s[LEVEL_ADMISSIONS[name]] > 0]
            top = max([lv, *levels])
            due = max(0, p["deductible_inpatient"][group][top] - s["inpatient_deductible_used"])
            d = min(E1, due)
        else:
            k = sum(s[LEVEL_ADMISSIONS[name]] for name in FACILITY_LEVELS)
            factors = inp["per_admission_factors"]
            std = rnd(p["deductible_inpatient"][group][lv] * factors[min(k, len(factors) - 1)], BP)
            d = min(E1, std)
        s["inpatient_deductible_used"] += d
        s[LEVEL_ADMISSIONS[level]] += 1
    else:
        d = 0
    # Step 4 — pooled fund
    B = E1 - d
    raw = rnd(B * r, BP)
    F = min(raw, max(0, p["fund_cap"][scheme] - s["fund_paid"]))
    s["fund_paid"] += F
    C, O = B - raw, raw - F  # noqa: E741 (the spec's names)
    S = d + C + O
    # Step 5 — critical illness
    ci = p["critical_illness"]
    x = S + (c["class_b_self_pay"] if ci["compliant_includes_class_b"] else 0)
    CI = 0
    ci_added = 0
    if scheme in ci["schemes"] and visit in ci["visit_types"]:
        poor = asst in ci["poor"]
        D = rnd(ci["deductible"] * ci["poor_deductible_factor"], BP) if poor else ci["deductible"]
        bonus = ci["poor_ratio_bonus"] if poor else 0
        bands = [(b.get("upper"), min(b["ratio"] + bonus, BP)) for b in ci["bands"]]
        u0, u1 = s["ci_base"], s["ci_base"] + x
        raw_ci = rnd(banded(u1, D, bands), BP) - rnd(banded(u0, D, bands), BP)
        capped = not (poor and ci["poor_uncapped"]) and ci["cap"] != "none"
        CI = min(raw_ci, max(0, ci["cap"] - s["ci_paid"])) if capped else raw_ci
        s["ci_base"], s["ci_paid"] = u1, s["ci_paid"] + CI
        ci_added = x
    # Step 6 — medical assistance
    ma = p["medical_assistance"]
    MA = 0
    ma_added = 0
    if asst != "none" and visit in ma["visit_types"]:
        cls = ma[asst]
        y = x - CI
        u0, u1 = s["ma_base"], s["ma_base"] + y
        H = lambda u: cls["ratio"] * max(0, u - cls["deductible"])  # noqa: E731
        raw_ma = rnd(H(u1), BP) - rnd(H(u0), BP)
        MA = raw_ma if cls["cap"] == "none" else min(raw_ma, max(0, cls["cap"] - s["ma_paid"]))
        s["ma_base"], s["ma_paid"] = u1, s["ma_paid"] + MA
        ma_added = y
    # Step 7 — historical account and cash
    R = c["total_cost"] - A1 - F - CI - MA
    A2 = 0
    if scheme in acc["schemes"] and acc["hist_pays"]:
        A2 = max(0, min(R - (0 if acc["hist_covers_self_pay"] else c["self_pay"]), s["hist_balance"]))
        s["hist_balance"] -= A2
    out.update(
        eligible=E, account_current=A1, deductible=d, fund=F, coinsurance=C, over_cap=O,
        critical_illness=CI, medical_assistance=MA, account_hist=A2, cash=R - A2, ratio_bp=r,
        ci_base_added=ci_added, ma_base_added=ma_added,
    )  # fmt: skip
    return out


def reverse_claim(original: dict, visit: str, level: str, s: dict) -> dict:
    """Undo a settled claim (settlement.md §6): negate its outputs, give back what it took."""
    s["current_balance"] += original["account_current"]
    if POOL[visit] == "outpatient":
        s["outpatient_deductible_used"] -= original["deductible"]
    elif POOL[visit] == "inpatient":
        s["inpatient_deductible_used"] -= original["deductible"]
        s[LEVEL_ADMISSIONS[level]] -= 1
    s["fund_paid"] -= original["fund"]
    s["ci_base"] -= original["ci_base_added"]
    s["ci_paid"] -= original["critical_illness"]
    s["ma_base"] -= original["ma_base_added"]
    s["ma_paid"] -= original["medical_assistance"]
    s["hist_balance"] += original["account_hist"]
    out = {name: -original[name] for name in original}
    out["ratio_bp"] = original["ratio_bp"]  # a rate, not an amount: kept as it was
    return out


def _rows_by_key(table: pa.Table | None, fields: tuple[str, ...]) -> dict[tuple[Any, int], dict]:
    if table is None:
        return {}
    return {(row["person_id"], row["year"]): {f: row[f] for f in fields} for row in table.to_pylist()}


def open_year(person: Any, year: int, state: dict, accounts: dict) -> dict:
    """A person-year's state at its first claim (settlement.md §5)."""
    if (person, year) in state:
        return state[(person, year)]
    s = {f: 0 for f in STATE_FIELDS}
    if (person, year) in accounts:
        s.update(accounts[(person, year)])
    elif (person, year - 1) in state:
        last = state[(person, year - 1)]
        s["hist_balance"] = last["hist_balance"] + last["current_balance"]
    elif (person, year - 1) in accounts:
        last = accounts[(person, year - 1)]
        s["hist_balance"] = last["hist_balance"] + last["current_balance"]
    return s


def settle(
    claims: Any, policy: Policy, *, state: Any = None, accounts: Any = None, known_claim_ids=None, originals=None
):
    """Pure-Python settlement with the contract of :func:`wzmedins.settle`.

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
    from ..settle import OUTPUT_COLUMNS, SettleResult, metadata

    cols = claim_columns(claims, policy, known_claim_ids=known_claim_ids, originals=originals)
    earlier = t.to_table(originals).to_pylist() if originals is not None else []
    state_in = None if state is None else t.to_table(state)
    acc_table = None if accounts is None else t.to_table(accounts)
    carried = _rows_by_key(state_in, STATE_FIELDS)
    opening = _rows_by_key(acc_table, ACCOUNT_FIELDS)
    claim_ids, person_ids = cols.claim_id.to_pylist(), cols.person_id.to_pylist()
    rows = [int(i) for i in cols.accepted]
    # a reversal counts in its original's year (cols.year holds it)
    rows.sort(key=lambda i: (person_ids[i], int(cols.year[i]), int(cols.date[i]), int(cols.seq[i]), i))
    results: dict[int, dict] = {}
    touched: dict[tuple[Any, int], dict] = {}
    for i in rows:
        person, year = person_ids[i], int(cols.year[i])
        key = (person, year)
        if key not in touched:
            touched[key] = open_year(person, year, {**carried, **touched}, opening)
            carried.pop(key, None)
        if cols.rev_kind[i] != 0:
            j = int(cols.rev_index[i])
            original = results[j] if cols.rev_kind[i] == 1 else {f: earlier[j][f] for f in OUTPUT_COLUMNS}
            visit, level = VISIT_TYPES[cols.visit[i]], FACILITY_LEVELS[cols.level[i]]
            results[i] = reverse_claim(original, visit, level, touched[key])
            continue
        claim = {
            "scheme": SCHEMES[cols.scheme[i]], "category": CATEGORIES[cols.category[i]],
            "visit_type": VISIT_TYPES[cols.visit[i]], "facility_level": FACILITY_LEVELS[cols.level[i]],
            "area": AREAS[cols.area[i]], "assistance": ASSISTANCE[cols.assistance[i]],
            "total_cost": int(cols.total[i]), "self_pay": int(cols.self_pay[i]),
            "class_b_self_pay": int(cols.class_b[i]),
        }  # fmt: skip
        results[i] = settle_claim(claim, policy.profiles[int(cols.profile[i])].params, touched[key])

    accepted = sorted(results)
    settled = {
        "claim_id": pa.array([claim_ids[i] for i in accepted], cols.claim_id.type),
        "person_id": pa.array([person_ids[i] for i in accepted], cols.person_id.type),
        "year": pa.array([int(cols.year[i]) for i in accepted], pa.int32()),
    }
    for name in OUTPUT_COLUMNS:
        settled[name] = pa.array([results[i][name] for i in accepted], pa.int32() if name == "ratio_bp" else pa.int64())
    settled["visit_type"] = pa.array([VISIT_TYPES[cols.visit[i]] for i in accepted], pa.string())
    settled["facility_level"] = pa.array([FACILITY_LEVELS[cols.level[i]] for i in accepted], pa.string())
    settled["reverses"] = cols.reverses.take(pa.array(accepted, pa.int64()))
    new_state = pa.Table.from_pylist(
        [{"person_id": p, "year": y, **s} for (p, y), s in touched.items()], schema=state_schema(cols.person_id.type)
    )
    if state_in is not None:
        keep = [
            i
            for i, r in enumerate(state_in.select(["person_id", "year"]).to_pylist())
            if (r["person_id"], r["year"]) not in touched
        ]
        used = sorted(set(range(state_in.num_rows)) - set(keep))
        new_state = carried_state(state_in, used, new_state)
    meta = metadata(policy)
    return SettleResult(
        pa.table(settled).replace_schema_metadata(meta), cols.rejected(), new_state.replace_schema_metadata(meta)
    )
