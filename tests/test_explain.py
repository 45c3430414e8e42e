"""wz.explain: the steps of one claim, computed by the twin, checked against the kernel's
settled row on random claims and against the worked examples by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from tests.helpers import load_example
from tests.strategies import accounts, claims, dated_policies, policies
from wzmedins import contract

POLICY = wz.load_policy("wenzhou-2022")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AMOUNTS = (*contract.MONEY_OUT, "ratio_bp")
MOVES = {"account_current", "deductible", "fund", "critical_illness", "medical_assistance", "account_hist"}


def outputs(steps: pa.Table) -> dict[str, int]:
    rows = [r for r in steps.to_pylist() if r["output"] is not None]
    assert sorted(r["output"] for r in rows) == sorted(AMOUNTS), "each settled amount exactly once"
    return {r["output"]: r["amount"] for r in rows}


@SETTINGS
@given(policy=st.one_of(policies(), dated_policies()), batch=claims(bad=True, reversals=True),
       opening=accounts(), pick=st.integers(0, 39))  # fmt: skip
def test_explanation_amounts_are_the_kernels(policy, batch, opening, pick):
    kernel = wz.settle(batch, policy, accounts=opening)
    if kernel.settled.num_rows == 0:
        return
    row = kernel.settled.to_pylist()[pick % kernel.settled.num_rows]
    steps = wz.explain(batch, policy, claim_id=row["claim_id"], accounts=opening)
    assert outputs(steps) == {name: row[name] for name in AMOUNTS}
    for r in steps.to_pylist():
        if r["output"] in MOVES and r["accumulator"] is not None:  # the accumulator moved by the amount
            assert abs(r["after"] - r["before"]) == abs(r["amount"]), r
        if r["parameter"] is not None:
            assert r["source"] in ("FZ", "FV", "NR", "ND", "what-if"), r


def test_worked_example_4_step_by_step():
    """docs/rules/settlement.md §9 example 4: dibao, 120 000 yuan, tertiary inpatient."""
    ex = load_example(4)
    steps = wz.explain(ex["claims"], POLICY, claim_id="e4-1")
    got = outputs(steps)
    assert (got["deductible"], got["fund"], got["coinsurance"]) == (80_000, 7_434_000, 3_186_000)
    assert (got["critical_illness"], got["medical_assistance"], got["cash"]) == (1_667_900, 1_708_290, 1_189_810)
    by = {(r["step"], r["accumulator"]): r for r in steps.to_pylist()}
    ci_base = by[("critical illness", "ci_base")]
    assert (ci_base["before"], ci_base["after"], ci_base["amount"]) == (0, 3_566_000, 3_566_000)
    assert ci_base["value"] == "1000000"  # the poor person's critical-illness deductible, 10 000 yuan
    ma = by[("assistance", "ma_paid")]
    assert ma["parameter"] == "medical_assistance.dibao" and ma["source"] == "ND"
    assert '"ratio": 9000' in ma["value"]
    assert steps.schema.metadata[b"wzmedins.profile"] == b"wenzhou-2022"


def test_accumulators_carry_from_the_earlier_claims_of_the_year():
    """Example 2: the tertiary admission tops the deductible up from 300 to 800 yuan."""
    ex = load_example(2)
    steps = wz.explain(ex["claims"], POLICY, claim_id="e2-2").to_pylist()
    deductible = next(r for r in steps if r["output"] == "deductible")
    assert (deductible["before"], deductible["amount"], deductible["after"]) == (30_000, 50_000, 80_000)
    assert deductible["parameter"] == "deductible_inpatient.resident" and deductible["source"] == "FZ"
    fund = next(r for r in steps if r["output"] == "fund")
    assert (fund["before"], fund["amount"], fund["after"]) == (136_000, 1_365_000, 136_000 + 1_365_000)


def test_text_for_the_platform_names_accounts_and_sources():
    """Example 6: the current account pays 500, the historical account 1 150 yuan."""
    ex = load_example(6)
    text = wz.explain_text(ex["claims"], POLICY, claim_id=ex["claims"]["claim_id"][0].as_py(), accounts=ex["accounts"])
    assert "当年账户 current account 500.00 [account.current_first ND]" in text
    assert "历年账户 historical account 1150.00" in text
    assert "统筹基金 fund 350.00 at 70.00%" in text
    assert text.endswith("现金 cash 100.00")


def test_a_reversal_is_explained_as_the_negative_of_its_original():
    ex = load_example(1)
    rev = pa.Table.from_pylist([{"claim_id": "r1", "person_id": "p1", "settle_date": dt.date(2022, 4, 1),
                                 "reverses": "e1-1"}])  # fmt: skip
    first = wz.settle(ex["claims"], POLICY)
    steps = wz.explain(rev, POLICY, claim_id="r1", state=first.state, originals=first.settled)
    assert {r["step"] for r in steps.to_pylist()} == {"reversal"}
    assert outputs(steps)["fund"] == -3_444_000


def test_a_rejected_or_absent_claim_cannot_be_explained():
    ex = load_example(1)
    bad = ex["claims"].set_column(ex["claims"].column_names.index("scheme"), "scheme", pa.array(["military"]))
    with pytest.raises(wz.WzmedinsError, match="rejected UNKNOWN_SCHEME"):
        wz.explain(bad, POLICY, claim_id="e1-1")
    with pytest.raises(LookupError, match="no such claim_id"):
        wz.explain(ex["claims"], POLICY, claim_id="nope")
