"""Hypothesis strategies for the DRG differential tests: valid cases, catalogs, profiles."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

import wzmedins.drg as drg

CODES = ("AB11", "AB13", "FR23", "GB15", "XJ19", "BZ19")
HOSPITALS = ("H1", "H2", "H3")
DAY0 = dt.date(2022, 1, 1).toordinal()
BASE = drg.load_profile("wenzhou-2022")

# amounts: mostly realistic, sometimes at the limits the kernels promise to handle exactly
money = st.one_of(st.integers(0, 5_000_000), st.integers(0, 10**12), st.sampled_from([0, 1, 10**12]))
points = st.one_of(st.integers(0, 5_000_000), st.integers(0, 10**9))


@st.composite
def profiles(draw, calibration=False):
    changes = {
        "reference_cost": draw(st.one_of(st.integers(100, 2_000_000), st.integers(100, 10**8))),
        "low_bp": draw(st.integers(0, 10_000)),
        "high_inclusive": draw(st.booleans()),
        "partial_enabled": draw(st.booleans()),
        "incomplete_enabled": draw(st.booleans()),
        "ungroupable_bp": draw(st.integers(0, 10**5)),
        "ambiguous_bp": draw(st.integers(0, 10**5)),
        "readmission_days": draw(st.integers(0, 10)),
        "readmission_bp": draw(st.integers(0, 10_000)),
        "readmission_exempt": draw(st.lists(st.sampled_from(["A", "AB1", "FR", "G"]), max_size=2)),
        "reserve_bp": draw(st.integers(0, 10_000)),
        "prepay_bp": draw(st.integers(0, 10_000)),
        "share_band_bp": draw(st.integers(0, 10_000)),
        "share_bp": draw(st.integers(0, 10_000)),
        "pool_funds": draw(st.booleans()),
    }
    upper = draw(st.integers(0, 10_000))
    changes.update(partial_upper_bp=upper, partial_beta_bp=10_000 - upper)
    bounds = sorted(set(draw(st.lists(st.integers(1, 10**8), max_size=3))))
    changes["high_band_upper"] = bounds
    changes["high_multiple_bp"] = draw(
        st.lists(st.integers(10_000, 10**5), min_size=len(bounds) + 1, max_size=len(bounds) + 1)
    )
    if calibration:
        lo = draw(st.integers(0, 12_000))
        lo_c = draw(st.integers(0, 12_000))
        changes.update(
            trim_low_bp=lo,
            trim_high_bp=draw(st.integers(lo, 10**6)),
            min_cases=draw(st.integers(1, 6)),
            cv_max_bp=draw(st.integers(0, 20_000)),
            coef_weight_bp=draw(st.integers(0, 10_000)),
            coef_lo_bp=lo_c,
            coef_hi_bp=draw(st.integers(lo_c, 10**6)),
        )
    return BASE.with_changes(changes)


@st.composite
def catalogs(draw):
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
    out = {}
    for code in codes:
        daily = draw(st.one_of(st.none(), points)) if draw(st.integers(0, 4)) == 0 else None
        out[code] = {
            "base": draw(st.one_of(st.none(), points)) if daily is not None else draw(points),
            "stable": draw(st.integers(0, 4)) > 0,
            "basic": draw(st.integers(0, 4)) == 0,
            "daily": daily,
        }
    return out


@st.composite
def score_inputs(draw):
    catalog = draw(catalogs())
    coefficients = {}
    for h in HOSPITALS:
        for code in catalog:
            if draw(st.booleans()):
                coefficients[(h, code)] = draw(st.one_of(st.integers(8_000, 12_000), st.integers(0, 10**6)))
    codes = list(catalog) + ["0000", "FQY", "ZZ99"]
    n = draw(st.integers(0, 25))
    rows = []
    for _ in range(n):
        admit = DAY0 + draw(st.integers(0, 20))  # dense, so that readmission windows are hit
        discharge = admit + draw(st.integers(0, 5))
        cost = draw(money)
        manual = draw(points) if draw(st.integers(0, 6)) == 0 else None
        rows.append(
            {
                "person_id": draw(st.sampled_from(["p1", "p2", "p3"])),
                "hospital_id": draw(st.sampled_from(HOSPITALS + ("H9",))),
                "fund": draw(st.sampled_from(["employee", "resident"])),
                "drg_code": draw(st.sampled_from(codes)),
                "total_cost": cost,
                "patient_paid": draw(st.integers(0, cost)),
                "fund_ffs": draw(st.integers(0, cost)),
                "admit_date": admit,
                "discharge_date": discharge,
                "los": draw(st.one_of(st.just(discharge - admit), st.integers(0, 10**5))),
                "manual_points": manual,
                "bonus_points": draw(st.one_of(st.just(0), points)),
                "incomplete": draw(st.integers(0, 3)) == 0,
            }
        )
    return rows, catalog, coefficients


@st.composite
def calib_inputs(draw):
    hospitals = {f"H{i}": draw(st.sampled_from(["primary", "secondary", "tertiary"])) for i in range(4)}
    n = draw(st.integers(1, 60))
    cost = st.one_of(st.integers(1, 3_000_000), st.integers(1, 10**10))
    history = [
        {
            "hospital_id": draw(st.sampled_from(list(hospitals) + ["H9"])),
            "drg_code": draw(st.sampled_from(["A1", "A2", "B1", "0000", "CQY"])),
            "total_cost": draw(cost),
        }
        for _ in range(n)
    ]
    basic = draw(st.lists(st.sampled_from(["A1", "B1"]), max_size=1))
    return history, hospitals, basic
