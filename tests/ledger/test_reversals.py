"""Reversals through the ledger (settlement.md §6): in the same batch as the original or in a
later one, with the checks, and re-settlement after a reversal."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wzmedins as wz
from tests.helpers import check_identities, load_example
from tests.ledger.claims import by_date, random_accounts, random_claims
from wzmedins.settle.state import STATE_FIELDS

ZEROED = ("outpatient_deductible_used", "inpatient_deductible_used", "admissions_primary",
          "admissions_secondary", "admissions_tertiary", "fund_paid", "ci_base", "ci_paid",
          "ma_base", "ma_paid")  # fmt: skip


def reversals(claims: pa.Table, date: dt.date, prefix: str = "r-") -> pa.Table:
    """A reversals-only batch undoing every claim of ``claims`` (no claim columns needed)."""
    ids = claims["claim_id"].to_pylist()
    return pa.table({
        "claim_id": [prefix + str(i) for i in ids],
        "person_id": claims["person_id"],
        "settle_date": pa.array([date] * len(ids), pa.date32()),
        "reverses": claims["claim_id"],
    })  # fmt: skip


@pytest.mark.parametrize("k", range(1, 9))
def test_reverse_then_settle_again_gives_the_worked_figures(location, k):
    ex = load_example(k)
    claims = ex["claims"]
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    if ex["accounts"] is not None:
        ledger.load_accounts(ex["accounts"])
    first = ledger.settle(claims, batch_id="claims")
    opened = {(r["person_id"], r["year"]) for r in first.state.to_pylist()}
    undo = ledger.settle(reversals(claims, dt.date(2023, 6, 30)), batch_id="refunds")
    assert undo.rejected.num_rows == 0
    original = {r["claim_id"]: r for r in first.settled.to_pylist()}
    for r in undo.settled.to_pylist():
        o = original[r["reverses"]]
        assert r["year"] == o["year"] and r["visit_type"] == o["visit_type"]
        for m in ("eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
                  "critical_illness", "medical_assistance", "account_hist", "cash"):  # fmt: skip
            assert r[m] == -o[m], m
    for s in ledger.state().to_pylist():  # everything given back
        assert (s["person_id"], s["year"]) in opened
        assert {f: s[f] for f in ZEROED} == dict.fromkeys(ZEROED, 0)
    stored = ledger.table("settled")
    assert sum(stored["total_cost"].to_pylist()) == 0  # a reversal stores the negated bill
    # the same bills again, under new claim ids: the hand-worked figures of the fixture
    again = claims.set_column(0, "claim_id", pc.binary_join_element_wise(claims["claim_id"], "-again", ""))
    # they are dated before the person-years' last claims: back-dated under the order rule
    # (docs/settlement.md), so settled in arrival order by a profile that says so
    late_ok = wz.load_policy("wenzhou-2022").with_changes({"late_claims": "settle"})
    out = ledger.settle(again, batch_id="again", policy=late_ok)
    assert out.rejected.num_rows == 0
    got = {r["claim_id"].removesuffix("-again"): r for r in out.settled.to_pylist()}
    for expected in ex["expected"]:
        row = got[expected["claim_id"]]
        assert {f: row[f] for f in expected if f != "claim_id"} == {
            f: v for f, v in expected.items() if f != "claim_id"
        }
    check_identities(again, out)


def test_reversal_in_the_same_batch(location):
    """Example 2 with its tertiary stay refunded in the same batch: the later secondary stay is
    not re-settled, and the year's deductible and admissions lose what the stay took."""
    ex = load_example(2)
    rev = pa.table({"claim_id": ["e2-2-r"], "person_id": ["p2"],
                    "settle_date": pa.array([dt.date(2022, 10, 1)], pa.date32()), "reverses": ["e2-2"]})  # fmt: skip
    batch = pa.concat_tables([ex["claims"], rev], promote_options="default")
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    out = ledger.settle(batch, batch_id="d1")
    fund = {r["claim_id"]: r["fund"] for r in out.settled.to_pylist()}
    assert fund == {"e2-1": 136_000, "e2-2": 1_365_000, "e2-3": 375_000, "e2-2-r": -1_365_000}
    (state,) = ledger.state().to_pylist()
    assert state["inpatient_deductible_used"] == 30_000  # 300 + 500 + 0 - 500 yuan
    assert (
        state["admissions_primary"],
        state["admissions_secondary"],
        state["admissions_tertiary"],
    ) == (1, 1, 0)
    assert state["fund_paid"] == 136_000 + 375_000
    stored = {r["claim_id"]: r for r in ledger.table("settled").to_pylist()}
    assert stored["e2-2-r"]["reverses"] == "e2-2"
    assert stored["e2-2-r"]["total_cost"] == -2_000_000 and stored["e2-2-r"]["scheme"] == "resident"


def test_reversal_checks_across_batches(location):
    ex = load_example(1)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(ex["claims"], batch_id="d1")
    day = pa.array([dt.date(2022, 4, 1)] * 4, pa.date32())
    batch = pa.table({
        "claim_id": ["r1", "r2", "r3", "r4"],
        "person_id": ["someone-else", "p1", "p1", "p1"],
        "settle_date": day,
        "reverses": ["e1-1", "no-such-claim", "e1-1", "e1-1"],
    })  # fmt: skip
    out = ledger.settle(batch, batch_id="d2")
    reasons = dict(zip(out.rejected["claim_id"].to_pylist(), out.rejected["reason"].to_pylist(), strict=True))
    assert reasons == {
        "r1": "REVERSAL_PERSON_MISMATCH",
        "r2": "UNKNOWN_ORIGINAL",
        "r4": "ALREADY_REVERSED",
    }
    assert out.settled["claim_id"].to_pylist() == ["r3"]
    later = pa.table({"claim_id": ["r5", "r6"], "person_id": ["p1", "p1"],
                      "settle_date": pa.array([dt.date(2022, 5, 1)] * 2, pa.date32()),
                      "reverses": ["e1-1", "r3"]})  # fmt: skip
    out = ledger.settle(later, batch_id="d3")
    assert out.rejected["reason"].to_pylist() == ["ALREADY_REVERSED", "UNKNOWN_ORIGINAL"]
    assert ledger.state()["fund_paid"].to_pylist() == [0]


def test_random_reversals_equal_one_settlement(location, policy):
    """Claims over three batches, a refunds batch reversing a random tenth of them (some of the
    same batch): the ledger ends exactly where one settlement of everything ends."""
    claims = random_claims(900, 60, seed=31, days=300)
    accounts = random_accounts(60, seed=32)
    rng = np.random.default_rng(33)
    pick = np.sort(rng.choice(claims.num_rows, 90, replace=False))
    refunds = reversals(claims.take(pick), dt.date(2022, 12, 20))
    days = by_date(claims, [dt.date(2022, 4, 1), dt.date(2022, 8, 1)])
    days[-1] = pa.concat_tables([days[-1], refunds.slice(0, 30)], promote_options="default")  # same batch
    days.append(refunds.slice(30))
    ledger = wz.Ledger(location, policy=policy)
    ledger.load_accounts(accounts)
    results = [ledger.settle(b, batch_id=f"b{i}") for i, b in enumerate(days)]
    whole = wz.settle(pa.concat_tables([claims, refunds], promote_options="default"), policy, accounts=accounts)
    got = {r["claim_id"]: r for out in results for r in out.settled.to_pylist()}
    want = {r["claim_id"]: r for r in whole.settled.to_pylist()}
    assert got == want
    assert sum(out.rejected.num_rows for out in results) == whole.rejected.num_rows
    key = lambda r: (r["person_id"], r["year"])  # noqa: E731
    assert sorted(ledger.state().to_pylist(), key=key) == sorted(
        whole.state.select(["person_id", "year", *STATE_FIELDS, "last_date", "last_seq"]).to_pylist(), key=key
    )
