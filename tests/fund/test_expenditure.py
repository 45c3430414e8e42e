"""Expenditure per county and month from settled claims, a DRG clearing and capitation results
(the capitation ``communities`` table by its column names, made by hand)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wzmedins as wz
from wzmedins.errors import SchemaError

FP = wz.fund.load_profile("wenzhou-2022")

SETTLED = pa.table({
    "claim_id": ["c1", "c2", "c3", "c4"],
    "person_id": ["a", "a", "b", "z"],
    "year": [2022] * 4,
    "settle_date": [dt.date(2022, 1, 5), dt.date(2022, 3, 9), dt.date(2022, 12, 30), dt.date(2022, 6, 1)],
    "visit_type": ["outpatient", "inpatient", "outpatient", "outpatient"],
    "fund": [10_000, 50_000, 3_000, 999],
})  # fmt: skip
ENROLMENT = {
    "employee": pa.table({"person_id": ["a"], "year": [2022], "county": ["ruian"], "reason": pa.nulls(1, pa.string())}),
    "resident": pa.table({"person_id": ["b"], "year": [2022], "county": ["lucheng"]}),
}
HOSPITALS = pa.table({  # the hospitals table of wz.drg.clear (the columns used)
    "hospital_id": ["H1", "H2", "H3"],
    "fund": ["employee", "all", "resident"],
    "fund_due": [110_005, 0, 0],
    "reserve_share": [5_000, 0, 0],
    "prepaid": [120_005, 0, 12],
    "balance": [-5_000, 0, 0],
})  # fmt: skip
COMMUNITIES = pa.table({  # capitation.md §7 columns
    "community_id": ["K1", "K2", "K3"],
    "budget": [219_000, 116_000, 1],
    "own": [105_000, 100_000, 0],
    "outside": [38_000, 40_000, 0],
    "charges": [143_000, 140_000, 0],
    "surplus": [76_000, -24_000, 1],
    "retained": [2_000, 0, 0],
    "fund_shares": [0, 5_800, 0],
    "community_bears": [0, 700, 0],
    "settlement": [2_000, -700, 0],
})  # fmt: skip


def test_claims_drg_and_capitation_by_county_and_month():
    where = pa.table({"community_id": ["K1", "K2"], "county": ["lucheng", "ruian"]})
    out = wz.fund.expenditure(
        SETTLED, ENROLMENT, FP,
        drg=HOSPITALS, hospital_county={"H1": "ruian", "H2": "lucheng"},
        capitation=COMMUNITIES, community_county=where,
    )  # fmt: skip
    rows = {(r["county"], r["scheme"], r["month"]): r for r in out.monthly.to_pylist()}
    # lucheng residents: b's December claim and K1's retained surplus
    assert rows[("lucheng", "resident", 12)] == {
        "county": "lucheng", "scheme": "resident", "year": 2022, "month": 12,
        "claims": 3_000, "drg": 0, "capitation": 2_000, "expenditure": 5_000,
    }  # fmt: skip
    # ruian employees: a's January claim (his inpatient stay is paid by points), H1 prepaid
    # 120 005 over twelve months (10 001 in months 1-5) and its balance -5 000 in December
    assert rows[("ruian", "employee", 1)]["expenditure"] == 10_000 + 10_001
    assert [rows[("ruian", "employee", m)]["drg"] for m in (5, 6, 11, 12)] == [10_001, 10_000, 10_000, 5_000]
    assert rows[("ruian", "resident", 12)]["capitation"] == -700
    total = out.county_year("employee", 2022).to_pylist()
    assert total == [{"county": "ruian", "expenditure": 10_000 + 110_005 + 5_000}]  # claims + fund_due + reserve share
    assert out.rejected.to_pylist() == [
        {"source": "claims", "row": 3, "id": "c4", "reason": "UNKNOWN_COUNTY"},  # z is not enrolled
        {"source": "drg", "row": 1, "id": "H2", "reason": "UNKNOWN_SCHEME"},  # pooled funds: no scheme
        {"source": "drg", "row": 2, "id": "H3", "reason": "UNKNOWN_COUNTY"},
        {"source": "capitation", "row": 2, "id": "K3", "reason": "UNKNOWN_COUNTY"},
    ]
    months = sorted({r["month"] for r in out.monthly.to_pylist() if r["county"] == "ruian"})
    assert months == list(range(1, 13))


def test_without_drg_every_claim_counts():
    out = wz.fund.expenditure(SETTLED, ENROLMENT, FP)
    assert sum(out.monthly["claims"].to_pylist()) == 10_000 + 50_000 + 3_000
    assert out.rejected.num_rows == 1  # accepted + rejected = the claims


def test_needs_the_month():
    with pytest.raises(SchemaError, match="settle_date"):
        wz.fund.expenditure(SETTLED.drop_columns(["settle_date"]), ENROLMENT, FP)


def test_monthly_flows_feed_the_warning():
    out = wz.fund.expenditure(SETTLED, ENROLMENT, FP)
    rev = pa.table({"county": ["ruian", "lucheng"], "scheme": ["employee", "resident"], "year": [2022, 2022],
                    "revenue": [120_000, 12_011]})  # fmt: skip
    flows = wz.fund.monthly_flows(out, rev, scheme="employee")
    rows = flows.to_pylist()
    assert [r["county"] for r in rows] == [None] * 12 + ["ruian"] * 12  # the city first
    assert rows[12] == {"county": "ruian", "year": 2022, "month": 1, "revenue": 10_000, "expenditure": 10_000}
    assert rows[14]["expenditure"] == 50_000  # a's inpatient stay in March
    warned = wz.fund.warning(flows, FP, opening={"ruian": 0, None: 0}).to_pylist()
    # ruian in March: balance 0 + 30 000 − 60 000 = −30 000: nothing payable, red
    assert (warned[14]["balance"], warned[14]["months_e1"], warned[14]["level"]) == (-30_000, 0, "red")
    res = wz.fund.monthly_flows(out, rev, scheme="resident").to_pylist()
    assert [r["revenue"] for r in res[12:]][:2] == [1_001, 1_001] and sum(r["revenue"] for r in res[12:]) == 12_011


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "z"]), st.integers(1, 12), st.booleans(), st.integers(0, 10**7)),
             max_size=30),
    st.lists(st.tuples(st.sampled_from(["H1", "H2", "H9"]), st.sampled_from(["employee", "resident", "all"]),
                       st.integers(0, 10**7), st.integers(-10**6, 10**6)), max_size=6),
)  # fmt: skip
def test_totals_and_nothing_lost(claims, hospitals):
    settled = pa.table({
        "claim_id": [f"c{i}" for i in range(len(claims))], "person_id": [c[0] for c in claims],
        "year": pa.array([2022] * len(claims), pa.int32()), "month": pa.array([c[1] for c in claims], pa.int64()),
        "visit_type": ["inpatient" if c[2] else "outpatient" for c in claims],
        "fund": pa.array([c[3] for c in claims], pa.int64()),
    })  # fmt: skip
    drg = pa.table({
        "hospital_id": [h[0] for h in hospitals], "fund": [h[1] for h in hospitals],
        "prepaid": pa.array([h[2] for h in hospitals], pa.int64()),
        "balance": pa.array([h[3] for h in hospitals], pa.int64()),
    })  # fmt: skip
    where = {"H1": "ruian", "H2": "ouhai"}
    out = wz.fund.expenditure(settled, ENROLMENT, FP, year=2022, drg=drg, hospital_county=where)
    rejected = out.rejected.to_pylist()
    placed_claims = [c for c in claims if not c[2] and c[0] != "z"]
    placed_hospitals = [h for h in hospitals if h[0] != "H9" and h[1] != "all"]
    assert sum(out.monthly["claims"].to_pylist()) == sum(c[3] for c in placed_claims)
    assert sum(out.monthly["drg"].to_pylist()) == sum(h[2] + h[3] for h in placed_hospitals)
    n_claims = sum(1 for r in rejected if r["source"] == "claims")
    assert n_claims + len(placed_claims) == sum(1 for c in claims if not c[2])  # inpatient: paid by DRG
    assert sum(1 for r in rejected if r["source"] == "drg") + len(placed_hospitals) == len(hospitals)
