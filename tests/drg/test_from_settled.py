"""DRG cases from settled inpatient claims (wz.drg.cases_from_settled), worked by hand.

wenzhou-2022 settlement: a resident at a tertiary hospital has an inpatient deductible of 800 yuan
and a fund ratio of 70 %; an employee at a secondary hospital 500 yuan and 88 %.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

import wzmedins as wz
import wzmedins.drg as drg

D = dt.date(2022, 3, 9)


def claims():
    n = 5
    return pa.table(
        {
            "claim_id": ["a", "b", "c", "d", "e"],
            "person_id": ["p", "p", "q", "q", "r"],
            "settle_date": [D] * n,
            "seq": [0, 1, 0, 1, 0],
            "scheme": ["resident", "resident", "employee", "employee", "nobody"],
            "category": ["adult", "adult", "in_service", "in_service", "adult"],
            "visit_type": ["inpatient", "outpatient", "inpatient", "inpatient", "inpatient"],
            "facility_level": ["tertiary", "primary", "secondary", "secondary", "primary"],
            "total_cost": pa.array([1_200_000, 10_000, 900_000, 900_000, 500_000], pa.int64()),
            "reverses": [None, None, None, "c", None],
            "hospital_id": ["H1", "H9", "H2", "H2", "H3"],
            "drg_code": ["GB15", None, "ES35", "ES35", "GB15"],
            "admit_date": [dt.date(2022, 3, 1), None, dt.date(2022, 3, 2), dt.date(2022, 3, 2), D],
        }
    )


@pytest.fixture(scope="module")
def out():
    c = claims()
    settled = wz.settle(c, wz.load_policy("wenzhou-2022"))
    assert settled.rejected.column("claim_id").to_pylist() == ["e"]
    with pytest.warns(drg.DrgWarning, match="1 inpatient claims have no settled row"):
        return drg.cases_from_settled(c, settled)


def test_amounts_come_from_the_settlement(out):
    rows = out.cases.to_pylist()
    assert [r["case_id"] for r in rows] == ["a"]
    a = rows[0]
    # fund (12 000 − 800) × 70 % = 7 840; the person bore 800 + 3 360 = 4 160 (cash)
    assert (a["total_cost"], a["fund_ffs"], a["patient_paid"]) == (1_200_000, 784_000, 416_000)
    assert (a["fund"], a["hospital_id"], a["drg_code"]) == ("resident", "H1", "GB15")
    assert (a["admit_date"], a["discharge_date"]) == (dt.date(2022, 3, 1), D)


def test_reversed_and_rejected_claims_are_left_out_with_a_reason(out):
    assert out.left_out.to_pylist() == [
        {"claim_id": "c", "why": "reversed"},
        {"claim_id": "d", "why": "reversal"},
        {"claim_id": "e", "why": "not settled"},
    ]


def test_the_cases_score_and_clear(out):
    catalog = pa.table({"drg_code": ["GB15", "ES35"], "base_points": [100.0, 80.0]})
    cl = drg.clear(out.cases, {"resident": 1_000_000}, catalog=catalog)
    # GB15 100 points; pool = 10 000 − 500 + 4 160 = 13 660 yuan → PV 136.6
    assert cl.funds.column("point_value").to_pylist() == [Decimal("136.6000")]
    h = cl.hospitals.to_pylist()[0]
    # prepaid 85 % of 7 840 = 6 664; fund due 13 660 − 4 160 = 9 500; balance 2 836
    assert (h["prepaid"], h["fund_due"], h["balance"]) == (666_400, 950_000, 283_600)
