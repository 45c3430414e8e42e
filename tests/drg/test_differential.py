"""Kernels == reference twin on random cases, catalogs and profiles (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import wzmedins.drg as drg
from wzmedins.reference import drg as ref

from .strategies_drg import calib_inputs, profiles, score_inputs

pytestmark = pytest.mark.filterwarnings("ignore::wzmedins.drg.DrgWarning")  # random budgets warn

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def e4(values):
    """Integers in 1e-4 units → decimal128(22, 4), exactly."""
    return pa.array([None if v is None else Decimal(v).scaleb(-4) for v in values], pa.decimal128(22, 4))


def date(ordinals):
    return pa.array([dt.date.fromordinal(o) for o in ordinals], pa.date32())


def arrow_cases(rows):
    return pa.table(
        {
            "case_id": pa.array(list(range(len(rows))), pa.int64()),
            "person_id": [r["person_id"] for r in rows],
            "hospital_id": [r["hospital_id"] for r in rows],
            "fund": [r["fund"] for r in rows],
            "drg_code": [r["drg_code"] for r in rows],
            "total_cost": pa.array([r["total_cost"] for r in rows], pa.int64()),
            "patient_paid": pa.array([r["patient_paid"] for r in rows], pa.int64()),
            "fund_ffs": pa.array([r["fund_ffs"] for r in rows], pa.int64()),
            "admit_date": date([r["admit_date"] for r in rows]),
            "discharge_date": date([r["discharge_date"] for r in rows]),
            "los": pa.array([r["los"] for r in rows], pa.int64()),
            "manual_points": e4([r["manual_points"] for r in rows]),
            "bonus_points": e4([r["bonus_points"] for r in rows]),
            "incomplete": pa.array([r["incomplete"] for r in rows], pa.bool_()),
        }
    )


def arrow_catalog(catalog):
    codes = list(catalog)
    return pa.table(
        {
            "drg_code": codes,
            "base_points": e4([catalog[c]["base"] for c in codes]),
            "stable": [catalog[c]["stable"] for c in codes],
            "basic": [catalog[c]["basic"] for c in codes],
            "daily_points": e4([catalog[c]["daily"] for c in codes]),
        }
    )


@SETTINGS
@given(data=score_inputs(), p=profiles())
def test_score_kernel_equals_reference(data, p):
    rows, catalog, coefficients = data
    cases, cat = arrow_cases(rows), arrow_catalog(catalog)
    coef = pa.table(
        {
            "hospital_id": [k[0] for k in coefficients],
            "drg_code": [k[1] for k in coefficients],
            "coefficient": e4(list(coefficients.values())),
        }
    )
    out = drg.score(cases, cat, coef, p)
    want, rejected = ref.score(rows, catalog, coefficients, p)
    assert out.rejected.column("row").to_pylist() == [r for r, _ in rejected]
    assert set(out.rejected.column("reason").to_pylist()) <= {"UNKNOWN_DRG"}
    got = out.scored.to_pylist()
    assert len(got) + out.rejected.num_rows == len(rows)
    for g, w in zip(got, want, strict=True):
        assert g["row"] == w["row"]
        assert g["case_type"] == w["case_type"], (g, w)
        assert g["standard_cost"] == w["standard_cost"], (g, w)
        assert int(g["points"].scaleb(4)) == w["points"], (g, w)
        assert g["readmission"] == w["readmission"]
        assert (None if g["coefficient"] is None else int(g["coefficient"].scaleb(4))) == w["coefficient"], (g, w)

    # clearing of the same cases, against the reference
    budgets = {"employee": 10**7 + len(rows), "resident": 3 * 10**7}
    cl = drg.clear(out.scored, budgets, p)
    ref_rows = [
        {
            "hospital_id": g["hospital_id"],
            "fund": g["fund"],
            "points": int(g["points"].scaleb(4)),
            "total_cost": g["total_cost"],
            "patient_paid": g["patient_paid"],
            "fund_ffs": g["fund_ffs"],
            "base_points": None if g["base_points"] is None else int(g["base_points"].scaleb(4)),
        }
        for g in got
    ]
    funds, hospitals = ref.clear(ref_rows, budgets, p)
    for f in cl.funds.to_pylist():
        rf = funds[f["fund"]]
        pv = None if f["point_value"] is None else int(f["point_value"].scaleb(4))
        assert (pv, f["reserve"], f["pool"], f["reserve_shared"]) == (
            rf["point_value"],
            rf["reserve"],
            rf["pool"],
            rf["reserve_shared"],
        )
    assert cl.hospitals.num_rows == len(hospitals)
    for h in cl.hospitals.to_pylist():
        rh = hospitals[(h["hospital_id"], h["fund"])]
        cmi = None if h["cmi"] is None else int(h["cmi"].scaleb(4))
        assert (h["money"], h["fund_due"], h["prepaid"], h["reserve_share"], h["balance"], cmi) == (
            rh["money"],
            rh["fund_due"],
            rh["prepaid"],
            rh["reserve_share"],
            rh["balance"],
            rh["cmi"],
        )


@SETTINGS
@given(data=calib_inputs(), p=profiles(calibration=True))
def test_calibrate_kernel_equals_reference(data, p):
    history, levels, basic = data
    try:
        M, catalog, coefficients = ref.calibrate(history, levels, p, basic=basic)
    except ValueError:
        assume(False)
    hist = pa.table(
        {
            "hospital_id": [r["hospital_id"] for r in history],
            "drg_code": [r["drg_code"] for r in history],
            "total_cost": pa.array([r["total_cost"] for r in history], pa.int64()),
        }
    )
    hosp = pa.table({"hospital_id": list(levels), "level": list(levels.values())})
    cal = drg.calibrate(hist, hosp, p, basic=basic)
    assert cal.reference_cost == M
    got = {r["drg_code"]: r for r in cal.catalog.to_pylist()}
    assert set(got) == set(catalog)
    for code, w in catalog.items():
        g = got[code]
        assert (
            int(g["base_points"].scaleb(4)),
            g["stable"],
            g["basic"],
            g["cases"],
            g["trimmed"],
            g["mean_cost"],
        ) == (w["base"], w["stable"], w["basic"], w["n"], w["n_trimmed"], w["mean"])
    coef = {(r["hospital_id"], r["drg_code"]): int(r["coefficient"].scaleb(4)) for r in cal.coefficients.to_pylist()}
    assert coef == coefficients


@settings(max_examples=40, deadline=None)
@given(a=st.integers(0, 10**13), b=st.integers(0, 10**6), d=st.integers(1, 10**10))
def test_mulrnd_is_exact_within_its_limits(a, b, d):
    from wzmedins.rounding import mulrnd

    assume(2 * d * b + d < 2**63)
    assume(a * b // d < 2**62)
    assert mulrnd(a, b, d) == ref.rnd(a * b, d)
