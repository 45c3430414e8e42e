"""Hypothesis strategies: random signings, settled claims and capitation profiles."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

import wzmedins as wz

BASE = wz.capitation.load_profile("wenzhou-2022")
BANDS = ("0-6", "7-17", "18-59", "60-79", "80+")
COMMUNITIES = ("K1", "K2", "K3", "K4")
PERSONS = tuple(f"p{i}" for i in range(12))
YEAR = 2022


@st.composite
def profiles(draw):
    bands = draw(st.lists(st.sampled_from(BANDS), min_size=1, max_size=5, unique=True))
    cut = draw(st.lists(st.integers(0, 10_000), min_size=2, max_size=2))
    lo, hi = sorted(cut)
    names = draw(st.permutations(["drg", "capitation", "other"]))
    shares = {names[0]: lo, names[1]: hi - lo, names[2]: 10_000 - hi}
    return BASE.with_changes(
        pool_shares_bp=shares,
        weight_bp={b: draw(st.integers(1, 100_000)) for b in bands},
        chronic_weight_bp=draw(st.integers(0, 100_000)),
        visit_types=draw(st.lists(st.sampled_from(["outpatient", "chronic", "special", "inpatient"]), unique=True)),
        outside_charge_bp=draw(st.integers(0, 100_000)),
        surplus_cap_bp=draw(st.integers(0, 10_000)),
        retain_bp=draw(st.integers(0, 10_000)),
        overspend_band_bp=draw(st.integers(0, 10_000)),
        overspend_share_bp=draw(st.integers(0, 10_000)),
        default_quality_bp=draw(st.integers(0, 10_000)),
    )


def _maybe(value_strategy, null_chance=0.05):
    return st.one_of(value_strategy, st.none()) if null_chance else value_strategy


@st.composite
def signings(draw, max_size=12):
    rows = []
    for _ in range(draw(st.integers(0, max_size))):
        row = {
            "person_id": draw(
                st.one_of(st.sampled_from(PERSONS), st.none())
                if draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
                else st.sampled_from(PERSONS)
            ),
            "community_id": draw(st.sampled_from(COMMUNITIES)),
            "age_band": draw(st.sampled_from((*BANDS, "99+"))),
            "chronic": draw(st.booleans()),
            "months": draw(st.one_of(st.integers(1, 12), st.integers(1, 12), st.sampled_from([0, 13, None]))),
            "year": draw(st.sampled_from([YEAR, YEAR, YEAR, YEAR - 1])),
        }
        rows.append(row)
    return rows


@st.composite
def claims(draw, max_size=25):
    rows = []
    n = draw(st.integers(0, max_size))
    for i in range(n):
        reversal = i > 0 and draw(st.integers(0, 9)) == 0
        fund = draw(st.one_of(st.integers(0, 10**7), st.integers(0, 10**12), st.integers(-(10**5), -1)))
        row = {
            "claim_id": f"c{draw(st.integers(0, n + 2))}" if draw(st.integers(0, 9)) == 0 else f"c{i}",
            "person_id": draw(st.sampled_from((*PERSONS, "zz"))),
            "visit_type": draw(
                st.sampled_from(["outpatient", "chronic", "special", "inpatient", "outpatient", "bogus"])
            ),
            "community_id": draw(st.sampled_from((*COMMUNITIES, "K9", None))),
            "fund": -abs(fund) if reversal else fund,
            "year": draw(st.sampled_from([YEAR, YEAR, YEAR, YEAR - 1])),
            "settle_date": dt.date(YEAR, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364))),
            "reverses": f"c{draw(st.integers(0, i - 1))}" if reversal else None,
        }
        if reversal and draw(st.booleans()):
            row["community_id"] = None
        rows.append(row)
    return rows


@st.composite
def quality(draw):
    return {k: draw(st.integers(0, 10_000)) for k in COMMUNITIES if draw(st.booleans())}
