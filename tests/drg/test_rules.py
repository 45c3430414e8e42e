"""Boundaries of the case rules (docs/rules/drg.md §3) and bad rows (reject, never lose a row)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

import wzmedins.drg as drg
from wzmedins.errors import SchemaError

CATALOG = pa.table({"drg_code": ["GB15", "ES35", "RB11"], "base_points": [100.0, 80.0, 100.0]})
D = dt.date(2022, 5, 1)


def cases(**cols):
    n = len(next(iter(cols.values()))) if cols else 1
    base = {
        "case_id": list(range(n)),
        "person_id": ["p"] * n,
        "hospital_id": ["H1"] * n,
        "fund": ["resident"] * n,
        "drg_code": ["GB15"] * n,
        "total_cost": [10_000.0] * n,
        "patient_paid": [0.0] * n,
        "admit_date": [D] * n,
        "discharge_date": [D] * n,
    }
    base.update(cols)
    return pa.table(base)


def points(out):
    return [float(p) for p in out.scored.column("points").to_pylist()]


@pytest.mark.parametrize("gap, halved", [(-1, False), (0, True), (15, True), (16, False)])
def test_readmission_window_is_inclusive(gap, halved):
    d1 = D + dt.timedelta(days=5)
    t = cases(
        admit_date=[D, d1 + dt.timedelta(days=gap)],
        discharge_date=[d1, d1 + dt.timedelta(days=gap + 3)],
    )
    out = drg.score(t, CATALOG)
    assert points(out) == ([50.0, 100.0] if halved else [100.0, 100.0])
    assert out.scored.column("readmission").to_pylist() == [halved, False]


def test_readmission_needs_same_code_same_person_and_respects_exempt_prefixes():
    t = cases(
        person_id=["p", "p", "q", "q"],
        drg_code=["GB15", "ES35", "RB11", "RB11"],
        admit_date=[D, D + dt.timedelta(2), D, D + dt.timedelta(2)],
        discharge_date=[D, D + dt.timedelta(4), D, D + dt.timedelta(4)],
    )
    assert points(drg.score(t, CATALOG)) == [100.0, 80.0, 50.0, 100.0]
    p = drg.load_profile("wenzhou-2022").with_changes(readmission_exempt=["RB"])
    assert points(drg.score(t, CATALOG, None, p)) == [100.0, 80.0, 100.0, 100.0]


def test_readmission_orders_by_admission_not_input():
    t = cases(
        admit_date=[D + dt.timedelta(10), D],
        discharge_date=[D + dt.timedelta(12), D + dt.timedelta(3)],
    )
    assert points(drg.score(t, CATALOG)) == [100.0, 50.0]  # the second row is the earlier stay


def test_boundaries_low_partial_high():
    # S = 10 350.55: low below 4 140.22, partial up to 8 280.44, high above 31 051.65
    t = cases(total_cost=[4140.21, 4140.22, 8280.44, 8280.45, 31051.65, 31051.66])
    types = drg.score(t, CATALOG).scored.column("case_type").to_pylist()
    assert types == ["low", "partial", "partial", "normal", "normal", "high"]
    jx = drg.load_profile("jiaxing-2024")  # H = 2 with >=: 20 701.10 is high
    types = drg.score(cases(total_cost=[20701.09, 20701.10]), CATALOG, None, jx).scored.column("case_type").to_pylist()
    assert types == ["normal", "high"]


def test_bad_rows_are_rejected_with_codes_and_nothing_is_lost():
    t = cases(
        case_id=[1, 2, 3, 4, 5, 6, 1, 8],
        fund=[
            "resident",
            "other",
            "resident",
            "resident",
            "resident",
            "employee",
            "resident",
            None,
        ],
        drg_code=["GB15", "GB15", "NOPE", "GB15", "GB15", "GB15", "GB15", "GB15"],
        total_cost=[100.0, 100.0, 100.0, -5.0, 100.001, 100.0, 100.0, 100.0],
        patient_paid=[0.0, 0.0, 0.0, 0.0, 0.0, 200.0, 0.0, 0.0],
    )
    out = drg.score(t, CATALOG)
    assert out.scored.num_rows + out.rejected.num_rows == t.num_rows
    assert out.scored.column("case_id").to_pylist() == [1]
    got = dict(
        zip(
            out.rejected.column("row").to_pylist(),
            out.rejected.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert got == {
        1: "UNKNOWN_SCHEME",
        2: "UNKNOWN_DRG",
        3: "NEGATIVE_AMOUNT",
        4: "AMOUNT_NOT_IN_FEN",
        5: "SPLIT_EXCEEDS_TOTAL",
        6: "DUPLICATE_CLAIM_ID",
        7: "MISSING_VALUE",
    }
    assert out.rejected.column("case_id").to_pylist()[:2] == ["2", "3"]


def test_special_case_with_code_outside_catalog_is_accepted():
    t = cases(drg_code=["ZZ99"], manual_points=pa.array([Decimal("12.5")], pa.decimal128(10, 4)))
    out = drg.score(t, CATALOG)
    assert out.rejected.num_rows == 0 and points(out) == [12.5]


def test_structural_errors_name_the_column():
    with pytest.raises(SchemaError, match="total_cost"):
        drg.score(cases(total_cost=["x"]), CATALOG)
    with pytest.raises(SchemaError, match="drg_code"):
        drg.score(cases().drop_columns(["drg_code"]), CATALOG)
    with pytest.raises(SchemaError, match="base_points"):
        drg.score(cases(), pa.table({"drg_code": ["GB15"], "base_points": [100.00001]}))
    with pytest.raises(SchemaError, match="drg_code"):
        drg.score(cases(), pa.table({"drg_code": ["GB15", "GB15"], "base_points": [1.0, 2.0]}))


def test_polars_in_polars_out():
    import polars as pl

    out = drg.score(pl.from_arrow(cases()), CATALOG)
    df = pl.from_arrow(out.scored)
    assert df["points"].to_list() == [Decimal("100.0000")]


def test_huge_point_value_is_still_exact():
    # 0.0001 points against a budget of 10^10 yuan: PV beyond the kernel's range → Python ints
    scored = pa.table(
        {
            "hospital_id": ["H1"],
            "fund": ["resident"],
            "drg_code": ["GB15"],
            "points": pa.array([Decimal("0.0001")], pa.decimal128(18, 4)),
            "total_cost": pa.array([100], pa.int64()),
            "patient_paid": pa.array([0], pa.int64()),
        }
    )
    with pytest.warns(drg.DrgWarning, match="fee-for-service"):
        out = drg.clear(scored, {"resident": 10**12})
    pv = out.funds.column("point_value").to_pylist()[0]
    assert pv == Decimal("95000000000000.0000")  # pool 9.5·10^11 fen · 10^6 / 1
    assert out.cases.column("value").to_pylist() == [950_000_000_000]
    assert out.hospitals.column("money").to_pylist() == [950_000_000_000]


def test_incomplete_stay_rule():
    # GB15, B = 100, c = 1.10 at H1; flagged incomplete; rule on:
    # 5 000 yuan → rnd(100 · 11 000 · 500 000, 1 035 055) = rnd(531 372.73) → 53.1373 points;
    # 20 000 yuan → 212.5490 capped at B = 100.0000 (the cap is B, not B·c)
    coef = pa.table({"hospital_id": ["H1"], "drg_code": ["GB15"], "coefficient": [1.1]})
    t = cases(
        total_cost=[5000.0, 20000.0, 5000.0],
        incomplete=[True, True, False],
        person_id=["a", "b", "c"],
    )
    on = drg.load_profile("wenzhou-2022").with_changes(incomplete_enabled=True)
    out = drg.score(t, CATALOG, coef, on).scored
    assert out.column("case_type").to_pylist() == ["incomplete", "incomplete", "partial"]
    assert points(drg.score(t, CATALOG, coef, on))[:2] == [53.1373, 100.0]
    off = drg.score(t, CATALOG, coef).scored.column("case_type").to_pylist()
    assert off == ["partial", "normal", "partial"]


def test_clear_on_raw_cases_warns_about_rejected_rows():
    t = cases(drg_code=["GB15", "NOPE"], person_id=["a", "b"])
    with pytest.warns(UserWarning, match="1 of 2 cases rejected"):
        out = drg.clear(t, {"resident": 1_000_000}, catalog=CATALOG)
    assert out.funds.column("cases").to_pylist() == [1]
