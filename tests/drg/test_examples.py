"""docs/rules/drg.md §6: every worked example, through the kernel and through the reference twin."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

import wzmedins.drg as drg
from wzmedins.reference import drg as ref

from .drg_fixtures import cases_table, catalog_table, coefficient_table, load, reference_inputs

CASES = load("section6_cases.json")
CLEARING = load("section6_clearing.json")


def fen(yuan: str | None) -> int | None:
    return None if yuan is None else int(Decimal(yuan) * 100)


def e4(points: str) -> int:
    return int(Decimal(points) * 10_000)


@pytest.fixture(scope="module")
def scored() -> pa.Table:
    out = drg.score(
        cases_table(CASES["cases"]),
        catalog_table(CASES["catalog"]),
        coefficient_table(CASES["coefficients"]),
        "wenzhou-2022",
    )
    assert out.rejected.num_rows == 0
    return out.scored


@pytest.mark.parametrize("k", range(len(CASES["cases"])), ids=lambda k: f"case{k + 1}")
def test_case_points(scored, k):
    want = CASES["cases"][k]
    got = scored.slice(k, 1).to_pylist()[0]
    assert got["case_id"] == want["case_id"]
    assert got["case_type"] == want["expect_type"]
    assert got["points"] == Decimal(want["expect_points"])
    assert got["standard_cost"] == fen(want["expect_standard_cost"])
    assert got["readmission"] is want.get("expect_readmission", False)


def test_reference_twin_agrees_on_section6():
    p = drg.load_profile("wenzhou-2022")
    rows, catalog, coefficients = reference_inputs(CASES)
    out, rejected = ref.score(rows, catalog, coefficients, p)
    assert rejected == []
    for got, want in zip(out, CASES["cases"], strict=True):
        assert (got["case_type"], got["points"]) == (want["expect_type"], e4(want["expect_points"]))


def test_clearing_example():
    out = drg.clear(
        cases_table(CLEARING["cases"]),
        {"resident": 3_000_000},
        "wenzhou-2022",
        catalog=catalog_table(CASES["catalog"]),
        coefficients=coefficient_table(CLEARING["coefficients"]),
    )
    fund = out.funds.to_pylist()[0]
    want = CLEARING["expect_fund"]
    assert fund["point_value"] == Decimal("92.7083") == Decimal(want["point_value"])
    assert (fund["budget"], fund["reserve"], fund["pool"]) == (
        fen(want["budget"]),
        fen(want["reserve"]),
        fen(want["pool"]),
    )
    assert fund["points"] == Decimal(want["points"])
    got = {r["hospital_id"]: r for r in out.hospitals.to_pylist()}
    for w in CLEARING["expect_hospitals"]:
        h = got[w["hospital_id"]]
        assert h["points"] == Decimal(w["points"])
        for col in ("money", "fund_due", "prepaid", "reserve_share", "balance"):
            assert h[col] == fen(w[col]), (w["hospital_id"], col)
    assert got["H1"]["balance"] == -96251 and got["H2"]["balance"] == 156875
    # what is left of the reserve stays with the fund
    assert fund["reserve_shared"] == 15626 and fund["reserve_left"] == 150000 - 15626


def test_clearing_reference_twin():
    p = drg.load_profile("wenzhou-2022")
    pts = {"a": 1_100_000, "b": 1_100_000, "c": 800_000, "d": 1_000_000, "e": 800_000}
    rows = [
        {
            "hospital_id": c["hospital_id"],
            "fund": "resident",
            "points": pts[c["case_id"]],
            "total_cost": fen(c["total_cost"]),
            "patient_paid": fen(c["patient_paid"]),
            "fund_ffs": fen(c["fund_ffs"]),
            "base_points": None,
        }
        for c in CLEARING["cases"]
    ]
    funds, hospitals = ref.clear(rows, {"resident": 3_000_000}, p)
    assert funds["resident"]["point_value"] == 927_083
    assert hospitals[("H1", "resident")]["balance"] == -96_251
    assert hospitals[("H2", "resident")]["balance"] == 156_875
    assert hospitals[("H2", "resident")]["reserve_share"] == 15_626


def test_gain_per_case_and_per_drg():
    out = drg.clear(
        cases_table(CLEARING["cases"]),
        {"resident": 3_000_000},
        catalog=catalog_table(CASES["catalog"]),
        coefficients=coefficient_table(CLEARING["coefficients"]),
    )
    case_a = out.cases.to_pylist()[0]
    # 110 points × 92.7083 = 10 197.913 → 10 197.91 yuan; cost 12 000
    assert (case_a["value"], case_a["gain"]) == (1_019_791, 1_019_791 - 1_200_000)
    drgs = {r["drg_code"]: r for r in out.drgs.to_pylist()}
    assert drgs["GB15"]["points"] == Decimal("320.0000") and drgs["GB15"]["money"] == 2_966_666


def test_provisional_point_value_through_month():
    t = cases_table(
        [
            {**c, "discharge_date": f"2022-{m:02d}-10", "admit_date": f"2022-{m:02d}-01"}
            for c, m in zip(CLEARING["cases"], (1, 1, 2, 3, 3), strict=True)
        ]
    )
    kw = dict(
        catalog=catalog_table(CASES["catalog"]),
        coefficients=coefficient_table(CLEARING["coefficients"]),
    )
    jan = drg.clear(t, {"resident": 3_000_000}, through_month=1, **kw).funds.to_pylist()[0]
    # January: budget 30 000 / 12 = 2 500, reserve 125, pool 2 375 + 7 500 patient paid, 220 points
    assert (jan["months"], jan["budget"], jan["reserve"], jan["pool"]) == (
        1,
        250_000,
        12_500,
        987_500,
    )
    assert jan["point_value"] == Decimal("44.8864")  # 9 875 / 220 = 44.886363…
    march = drg.clear(t, {"resident": 3_000_000}, through_month=3, **kw).funds.to_pylist()[0]
    assert march["cases"] == 5 and march["budget"] == 750_000
    table = drg.provisional(drg.score(t, kw["catalog"], kw["coefficients"]).scored, {"resident": 3_000_000})
    assert table.num_rows == 12
    assert table.column("point_value").to_pylist()[0] == Decimal("44.8864")


def test_fund_without_points_says_so():
    out = drg.clear(
        cases_table(CLEARING["cases"]),
        {"resident": 3_000_000, "employee": 1_000_000},
        catalog=catalog_table(CASES["catalog"]),
        coefficients=coefficient_table(CLEARING["coefficients"]),
    )
    emp = [f for f in out.funds.to_pylist() if f["fund"] == "employee"][0]
    assert emp["point_value"] is None and emp["note"] == "no points: no point value"
