"""wz.synth.enrolment agrees with the persons of the claims generator."""

from __future__ import annotations

import importlib

import numpy as np
import pyarrow.compute as pc

import wzmedins as wz
from wzmedins.synth import enrolment

claims_module = importlib.import_module("wzmedins.synth.claims")
FP = wz.fund.load_profile("wenzhou-2022")


def test_every_claimant_is_enrolled_as_the_claims_say():
    n, seed = 3_000, 5
    e = enrolment.generate(n, seed=seed)
    claims = claims_module.claims(20_000, n_persons=n, seed=seed)
    enrolled = {r["person_id"]: r for r in e["persons"].to_pylist()}
    workers = {r["person_id"]: r for r in e["workers"].to_pylist()}
    residents = {r["person_id"]: r for r in e["residents"].to_pylist()}
    for c in claims.select(["person_id", "scheme", "category", "assistance"]).to_pylist()[:3000]:
        person = enrolled[c["person_id"]]
        assert person["scheme"] == c["scheme"]
        if c["scheme"] == "employee":
            w = workers[c["person_id"]]
            # in service may be flexible employment (灵活就业); retired stays retired
            assert (w["category"] == "retired") == (c["category"] == "retired")
        else:
            r = residents[c["person_id"]]
            assert (r["category"], r["assistance"]) == (c["category"], c["assistance"])
    assert set(e["persons"]["county"].to_pylist()) == set(FP.counties)


def test_enrolment_runs_through_the_fund():
    e = enrolment.generate(2_000, seed=9)
    emp = wz.fund.employee_contributions(e["workers"], FP, social_avg_wage={2021: 700_000})
    er = wz.fund.employer_contributions(e["employers"], FP)
    std = wz.fund.resident_standards(
        e["counties"], FP, income_prev={2021: 6_070_000}, policy_amounts={2022: (135_000, 45_000)}
    )
    res = wz.fund.resident_contributions(e["residents"], std, FP)
    for t in (emp, er, std, res):
        assert t.column("reason").null_count == t.num_rows
    flexible = pc.equal(emp["category"].cast("string"), "flexible")
    assert 0 < pc.sum(flexible).as_py() < emp.num_rows
    # an employer's payroll in a month is the wages of its workers in service enrolled that month
    w = e["workers"].to_pylist()
    january = sum(r["wage_prev"] for r in w if r["employer_id"] is not None and r["months"] == 12)
    assert int(pc.sum(e["employers"].filter(pc.equal(e["employers"]["month"], 1))["payroll"]).as_py()) == january
    monthly = enrolment.generate(2_000, seed=9, monthly=True)["workers"]
    assert monthly.num_rows == int(np.sum(e["workers"]["months"].to_numpy()))
    emp_m = wz.fund.employee_contributions(monthly, FP, social_avg_wage={2021: 700_000})
    # person-month rows give the same account credits as person-year rows, except retirees'
    # rounding of rnd(annual·m, 12) (1 800 yuan divides by 12: equal here too)
    assert wz.fund.accounts(emp_m, FP).equals(wz.fund.accounts(emp, FP))
