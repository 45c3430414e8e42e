"""The ledger statement carries the twin's steps (wz.explain_text) for each claim, from the
person's year as the ledger settled it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

import wzmedins as wz


def test_statement_steps_follow_the_year(tmp_path):
    ledger = wz.Ledger(tmp_path / "l.duckdb", policy="wenzhou-2022")
    ledger.load_accounts(pa.table({"person_id": ["e1"], "year": [2022], "current_balance": [50_000],
                                   "hist_balance": [200_000]}))  # fmt: skip

    def claims(ids, person, days, levels, totals, scheme="resident", category="adult", visit="inpatient", **extra):
        n = len(ids)
        return pa.table({"claim_id": ids, "person_id": [person] * n,
                         "settle_date": [dt.date(2022, 2, d) for d in days], "scheme": [scheme] * n,
                         "category": [category] * n, "visit_type": [visit] * n, "facility_level": levels,
                         "total_cost": totals, **extra})  # fmt: skip

    # worked example 2: primary 2 000 (deductible 300), tertiary 20 000 (tops up 500, fund 13 650)
    ledger.settle(claims(["c1"], "p2", [1], ["primary"], [200_000]), batch_id="d1")
    ledger.settle(claims(["c2"], "p2", [2], ["tertiary"], [2_000_000]), batch_id="d2")
    ledger.settle(pa.table({"claim_id": ["r1"], "person_id": ["p2"], "settle_date": [dt.date(2022, 3, 1)],
                            "reverses": ["c1"]}), batch_id="d3")  # fmt: skip
    # worked example 6: employee outpatient 2 100 (100 self-paid), balances 500 and 2 000
    ledger.settle(claims(["e"], "e1", [3], ["tertiary"], [210_000], scheme="employee", category="in_service",
                         visit="outpatient", self_pay=[10_000]), batch_id="d4")  # fmt: skip
    steps = {r["claim_id"]: r["steps"] for r in ledger.statement("p2", 2022).table.to_pylist()}
    assert "起付线 deductible 300.00" in steps["c1"]
    assert "起付线 deductible 500.00" in steps["c2"] and "统筹基金 fund 13650.00" in steps["c2"]
    assert steps["r1"] is None  # a reversal: the statement's sentence says what it undid
    (emp,) = ledger.statement("e1", 2022).table.to_pylist()
    assert "统筹基金 fund 350.00" in emp["steps"] and "现金 cash 100.00" in emp["steps"]
