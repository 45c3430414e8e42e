"""A small synthetic year from enrolment to settlement: contributions -> accounts -> wz.settle."""

from __future__ import annotations

import datetime as dt
import importlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import wzmedins as wz
from wzmedins.reference import fund as twin
from wzmedins.synth import enrolment

synth_claims = importlib.import_module("wzmedins.synth.claims")  # the module, not synth.claims()
FP = wz.fund.load_profile("wenzhou-2022")
A = {2021: 700_000}


def test_a_worker_pays_in_and_his_account_pays_his_outpatient_claim():
    workers = pa.table({"person_id": ["w1"], "year": [2022], "county": ["lucheng"], "category": ["in_service"],
                        "wage_prev": [1_200_000], "months": [12]})  # fmt: skip
    acc = wz.fund.accounts(wz.fund.employee_contributions(workers, FP, social_avg_wage=A), FP)
    assert acc.to_pylist() == [{"person_id": "w1", "year": 2022, "current_balance": 288_000, "hist_balance": 0}]
    claims = pa.table({"claim_id": ["c1"], "person_id": ["w1"], "settle_date": [dt.date(2022, 3, 1)],
                       "scheme": ["employee"], "category": ["in_service"], "visit_type": ["outpatient"],
                       "facility_level": ["primary"], "total_cost": [10_000]})  # fmt: skip
    out = wz.settle(claims, wz.load_policy("wenzhou-2022"), accounts=acc)
    # 100 yuan from the current-year account credited by 2 880 yuan of contributions
    assert out.settled["account_current"].to_pylist() == [10_000]
    assert out.state["current_balance"].to_pylist() == [278_000]


def test_synthetic_year_enrolment_to_settlement():
    n_persons, seed = 400, 11
    e = enrolment.generate(n_persons, seed=seed)
    emp = wz.fund.employee_contributions(e["workers"], FP, social_avg_wage=A)
    assert emp.column("reason").null_count == emp.num_rows  # the generator makes no bad rows
    acc = wz.fund.accounts(emp, FP)
    assert acc.equals(twin.accounts(twin.employee_contributions(e["workers"], FP, social_avg_wage=A), FP))
    # every employee of the claims generator has an account row, and nobody else
    p = synth_claims.persons(np.arange(n_persons), seed=seed)
    employees = set(synth_claims.person_ids(np.flatnonzero(p["scheme"] == 0)).to_pylist())
    assert set(acc.column("person_id").to_pylist()) == employees
    # a retiree enrolled all year is credited 1 800 yuan; one in service 2 % of the clamped wage a month
    for w, a in zip(e["workers"].to_pylist(), acc.to_pylist(), strict=True):
        assert w["person_id"] == a["person_id"]
        base = min(max(w["wage_prev"], 420_000), 2_100_000)
        want = {
            "retired": (2 * 180_000 * w["months"] + 12) // 24,
            "in_service": (base * 200 * 2 + 10_000) // 20_000 * w["months"],
            "flexible": (base * 200 * 2 + 10_000) // 20_000 * w["months"],
        }[w["category"]]
        assert a["current_balance"] == want, (w, a)
    claims = synth_claims.claims(4_000, n_persons=n_persons, seed=seed)
    out = wz.settle(claims, wz.load_policy("wenzhou-2022"), accounts=acc)
    assert out.rejected.num_rows == 0
    paid = out.settled.group_by("person_id").aggregate([("account_current", "sum")]).to_pylist()
    opening = dict(zip(acc["person_id"].to_pylist(), acc["current_balance"].to_pylist(), strict=True))
    closing = dict(zip(out.state["person_id"].to_pylist(), out.state["current_balance"].to_pylist(), strict=True))
    used = 0
    for row in paid:
        pid, spent = row["person_id"], row["account_current_sum"]
        if pid in opening:
            assert closing[pid] == opening[pid] - spent >= 0
            used += spent
        else:
            assert spent == 0  # residents have no account
    assert used > 0
    assert int(pc.sum(out.settled["account_current"]).as_py()) == used
