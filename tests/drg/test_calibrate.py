"""Calibration (docs/rules/drg.md §2) against a small history worked by hand.

The working (yuan; wenzhou-2022 with min_cases = 3, G3 basic):

- G1: 11 raw cases, S = 20 000, n = 11. Trim 0.4·S ≤ 11·x ≤ 3·S keeps 800 … 1 200 and drops
  10 000 (11·10 000 > 60 000). Trimmed: 10 cases, 10 000 → M_G1 = 1 000. Unstable: n·Σx² =
  11 · 110 240 000 ≥ 2·(Σx)² = 800 000 000 (the outlier makes CV ≥ 1).
- G2: 8 cases, 15 500 → M_G2 = 1 937.50; stable (8 · 31 750 000 < 2 · 240 250 000).
- G3: 5 cases, 2 900 → 580.00; G4: 2 cases at 4 000 (n < 3: unstable).
- Unknown hospital D, code 0000 and GQY are left out.
- M = (10 000 + 15 500 + 2 900 + 8 000) / 25 = 1 456.00.
- B = rnd(10^6 · M_g, M): 68.6813, 133.0701 (1 330 700.55 → …701), 39.8352, 274.7253.
- Coefficients, w = 0.5: G1 tertiary level mean 7 600 / 7 = 1 085.71; A: 0.5·1 000/1 000 +
  rnd(0.5·1 085.71/1 000) = 0.5 + 0.5429 = 1.0429; B: 0.6 + 0.5429 = 1.1429; C (secondary,
  outlier trimmed): 0.4 + 0.4 = 0.8. G2 tertiary mean 2 200: A 0.5161 + 0.5677 = 1.0838; B has
  2 < 3 cases → level alone 2 200 / 1 937.5 = 1.1355; C 0.3871·2 = 0.7742 → clamped to 0.8.
  G3 basic → 1; G4 level has 2 < 3 cases → 1.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

import wzmedins.drg as drg
from wzmedins.errors import SchemaError
from wzmedins.reference import drg as ref

from .drg_fixtures import DEC2, dec, load

FIX = load("calibration_small.json")


def inputs():
    hist = pa.table(
        {
            "hospital_id": [r[0] for r in FIX["history"]],
            "drg_code": [r[1] for r in FIX["history"]],
            "total_cost": pa.array([dec(r[2], DEC2) for r in FIX["history"]], DEC2),
        }
    )
    hosp = pa.table(
        {
            "hospital_id": [h["hospital_id"] for h in FIX["hospitals"]],
            "level": [h["level"] for h in FIX["hospitals"]],
        }
    )
    return hist, hosp, drg.load_profile("wenzhou-2022").with_changes(FIX["changes"])


def test_hand_worked_history():
    hist, hosp, p = inputs()
    cal = drg.calibrate(hist, hosp, p, basic=FIX["basic"])
    assert cal.reference_cost == int(Decimal(FIX["expect_reference_cost"]) * 100) == 145_600
    cat = cal.catalog.to_pylist()
    for got, want in zip(cat, FIX["expect_catalog"], strict=True):
        assert got["drg_code"] == want["drg_code"]
        assert got["base_points"] == Decimal(want["base_points"])
        assert (got["stable"], got["basic"], got["cases"], got["trimmed"]) == (
            want["stable"],
            want["basic"],
            want["cases"],
            want["trimmed"],
        )
        assert got["mean_cost"] == int(Decimal(want["mean_cost"]) * 100)
    coef = {(r["hospital_id"], r["drg_code"]): r["coefficient"] for r in cal.coefficients.to_pylist()}
    assert coef == {(w["hospital_id"], w["drg_code"]): Decimal(w["coefficient"]) for w in FIX["expect_coefficients"]}


def test_reference_twin_agrees():
    hist, hosp, p = inputs()
    rows = [{"hospital_id": r[0], "drg_code": r[1], "total_cost": int(Decimal(r[2]) * 100)} for r in FIX["history"]]
    M, catalog, coefficients = ref.calibrate(
        rows, {h["hospital_id"]: h["level"] for h in FIX["hospitals"]}, p, basic=FIX["basic"]
    )
    assert M == 145_600
    assert catalog["G2"]["base"] == 1_330_701 and catalog["G1"]["stable"] is False
    assert coefficients[("B", "G2")] == 11_355 and coefficients[("C", "G1")] == 8_000


def test_calibrated_catalog_scores():
    hist, hosp, p = inputs()
    cal = drg.calibrate(hist, hosp, p, basic=FIX["basic"])
    p2 = p.with_changes(reference_cost=cal.reference_cost)
    cases = pa.table(
        {
            "case_id": [1],
            "person_id": [1],
            "hospital_id": ["A"],
            "fund": ["resident"],
            "drg_code": ["G2"],
            "total_cost": [2000.0],
            "patient_paid": [500.0],
            "admit_date": pa.array([19000], pa.date32()),
            "discharge_date": pa.array([19005], pa.date32()),
        }
    )
    got = drg.score(cases, cal.catalog, cal.coefficients, p2).scored.to_pylist()[0]
    # 1 330 701 × 10 838 / 10^4 = 1 442 213.74 → 144.2214
    assert (got["case_type"], got["points"]) == ("normal", Decimal("144.2214"))


def test_year_filter_keeps_reference_years():
    hist, hosp, p = inputs()
    n = hist.num_rows
    years = [19000 + 365 * (i % 4) for i in range(n)]  # 2022, 2023, 2024, 2025
    hist = hist.append_column("discharge_date", pa.array(years, pa.date32()))
    cal = drg.calibrate(hist, hosp, p, year=2025)  # reference years 2023 and 2024
    total = sum(cal.catalog.column("cases").to_pylist())
    valid = [i for i in range(n) if FIX["history"][i][0] != "D" and FIX["history"][i][1] not in ("0000", "GQY")]
    assert total == sum(1 for i in valid if i % 4 in (1, 2))


def test_structural_errors_name_the_column():
    hist, hosp, p = inputs()
    with pytest.raises(SchemaError, match="total_cost"):
        drg.calibrate(hist.drop_columns(["total_cost"]), hosp, p)
    with pytest.raises(SchemaError, match="level"):
        drg.calibrate(hist, hosp.drop_columns(["level"]), p)
    with pytest.raises(SchemaError, match="hospital_id"):
        drg.calibrate(hist, pa.concat_tables([hosp, hosp]), p)
