"""The one-claim answer (service/answer.py) against the batch answer (platform.to_platform and
proc_info) of the same claims, field by field; and a worked example by hand."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.platform import from_platform, load_codes, proc_info, to_platform
from wzmedins.platform.proc_info import state_before
from wzmedins.service.answer import GroupTexts, answer, explanation, explanations

POLICY = wz.load_policy("wenzhou-2022")
CODES = load_codes()

RECORDS = [  # one person's year and another's: deductibles carried, accounts paying, self-paid splits
    {"psn_no": "E1", "insutype": "310", "psn_type": "11", "med_type": "11", "hosp_lv": "09",
     "medfee_sumamt": "820.50", "fulamt_ownpay_amt": "20.00", "overlmt_selfpay": "5.50", "preselfpay_amt": "15.00"},
    {"psn_no": "E1", "insutype": "310", "psn_type": "11", "med_type": "21", "hosp_lv": "05",
     "medfee_sumamt": "23000.00", "psn_idet_type": "22"},
    {"psn_no": "R1", "insutype": "390", "psn_type": "24", "med_type": "14", "hosp_lv": "02",
     "medfee_sumamt": "3000.00"},
    {"psn_no": "R1", "insutype": "390", "psn_type": "24", "med_type": "21", "hosp_lv": "02",
     "medfee_sumamt": "250000.00"},
]  # fmt: skip


def _claims():
    records = [dict(r, mdtrt_id=f"M{i}", setl_id=f"H1:{i}", fixmedins_code="H1", setl_time=f"2022-03-0{i + 1}")
               for i, r in enumerate(RECORDS)]  # fmt: skip
    mapped = from_platform(records, codes=CODES)
    assert mapped.rejected.num_rows == 0
    return mapped.claims


@pytest.mark.parametrize("reverse_last", [False, True])
def test_one_claim_answer_equals_the_batch_answer(reverse_last):
    claims = _claims()
    accounts = pa.table({"person_id": ["E1"], "year": [2022], "current_balance": [30_000], "hist_balance": [50_000]})
    settler = wz.Settler(POLICY, accounts=accounts)
    seen = 0
    for i in range(claims.num_rows):
        one = claims.slice(i, 1)
        before = settler.state()
        out = settler.settle(one.select([c for c in one.column_names if c != "row"]))
        assert out.rejected.num_rows == 0
        row, echo = out.settled.to_pylist()[0], one.to_pylist()[0]
        state = next(s for s in out.state.to_pylist() if s["year"] == row["year"])
        mine = before.filter(pa.compute.equal(before["person_id"], row["person_id"])) if before.num_rows else None
        own = accounts.filter(pa.compute.equal(accounts["person_id"], row["person_id"]))
        texts = proc_info(out.settled, one, policy=POLICY, state_before=mine if mine and mine.num_rows else None,
                          accounts=own)  # fmt: skip
        want = to_platform(out.settled, one, codes=CODES, state=out.state, explanations=texts).records()[0]
        text = explanation(row, echo, POLICY, state=state)
        assert state_before(state, row)["fund_paid"] + row["fund"] == state["fund_paid"]
        assert answer(row, echo, CODES, state=state, explanation=text) == want
        seen += 1
    if reverse_last:  # a reversal: negated amounts, self-paid part reported whole as 全自费
        rev = pa.table({"claim_id": ["H1:R"], "person_id": ["R1"], "settle_date": [dt.date(2022, 3, 9)],
                        "reverses": ["H1:3"]})  # fmt: skip
        out = settler.settle(rev)
        row = out.settled.to_pylist()[0]
        echo = {"claim_id": "H1:R", "settle_date": dt.date(2022, 3, 9), "seq": 0, "scheme": "resident",
                "fixmedins_code": "H1", "mdtrt_id": None}  # fmt: skip
        state = out.state.to_pylist()[0]
        want = to_platform(out.settled, pa.Table.from_pylist([echo]), codes=CODES, state=out.state).records()[0]
        assert explanation(row, echo, POLICY, state=state) is None
        got = answer(row, echo, CODES, state=state)
        assert got == want and got["setlinfo"]["reverses"] == "H1:3"
        assert got["setlinfo"]["medfee_sumamt"] == decimal.Decimal("-250000.00")
    assert seen == len(RECORDS)


def test_worked_example_by_hand():
    # docs/rules/settlement.md worked example 1: a resident's 50 000 yuan at a tertiary hospital
    mapped = from_platform([{"psn_no": "P1", "mdtrt_id": "M1", "setl_id": "H1:1", "insutype": "390",
                             "psn_type": "21", "med_type": "21", "hosp_lv": "02", "setl_time": "2022-03-01",
                             "medfee_sumamt": "50000.00"}], codes=CODES)  # fmt: skip
    out = wz.settle(mapped.claims, POLICY)
    row, echo, state = out.settled.to_pylist()[0], mapped.claims.to_pylist()[0], out.state.to_pylist()[0]
    text = explanation(row, echo, POLICY, state=state)
    got = answer(row, echo, CODES, state=state, explanation=text)
    info = got["setlinfo"]
    assert (info["act_pay_dedc"], info["hifp_pay"], info["psn_cash_pay"]) == (
        decimal.Decimal("800.00"),
        decimal.Decimal("34440.00"),
        decimal.Decimal("15560.00"),
    )
    assert info["medfee_sumamt"] == info["fund_pay_sumamt"] + info["psn_part_amt"]
    assert info["psn_part_amt"] == info["acct_pay"] + info["psn_cash_pay"]
    assert got["setldetail"][0]["setl_proc_info"].startswith("政策范围内 eligible 50000.00; 起付线 deductible 800.00")


def test_a_groups_explanations_equal_each_claims_own():
    claims = _claims()
    first = wz.settle(claims.slice(0, 1).drop_columns(["row"]), POLICY)  # E1's year already under way
    group = claims.slice(1, 2).drop_columns(["row"])  # E1's second claim and R1's first: one group
    out = wz.settle(group, POLICY, state=first.state)
    rows, inputs = out.settled.to_pylist(), group.to_pylist()
    states = {(s["person_id"], s["year"]): s for s in out.state.to_pylist()}
    items = [(r, c, states[(r["person_id"], r["year"])]) for r, c in zip(rows, inputs, strict=True)]
    together = explanations(items, POLICY)
    alone = {r["claim_id"]: explanation(r, c, POLICY, state=s) for r, c, s in items}
    assert together == alone and len(together) == 2
    # E1 is a dibao (psn_idet_type 22): assistance pays; R1's 3000 yuan has nothing self-paid
    assert "医疗救助 assistance" in together["H1:1"] and together["H1:2"].startswith("政策范围内 eligible 3000.00;")
    texts = GroupTexts()
    texts.items.extend(items)
    assert [texts.text(r, c, POLICY, state=s) for r, c, s in items] == [together["H1:1"], together["H1:2"]]
    with pytest.raises(ValueError, match="one claim per person"):
        explanations(items + items[:1], POLICY)
