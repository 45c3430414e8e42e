"""The kernel against its pure-Python twin on random claims and random policies, plus the
properties settlement.md promises: identities, batch splitting, order and partition.

The twin shares only ``wzmedins.contract`` with the kernel's wrapper (test_twin.py checks
that), so these comparisons can fail on reading, checking, matching, carrying or settling."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from tests.helpers import MONEY
from tests.settle.compare import assert_same, kernel_has_order_rule
from tests.strategies import accounts, claims, dated_policies, policies, with_late_claims

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ORDER_RULE = pytest.mark.skipif(
    not kernel_has_order_rule(), reason="wz.settle does not keep last_date/last_seq yet (the state store)"
)


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def state_rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["person_id"], r["year"]))


def assert_identical(a: wz.SettleResult, b: wz.SettleResult) -> None:
    """Two results of the kernel: equal in everything, messages included."""
    assert rows(a.settled) == rows(b.settled)
    assert rows(a.rejected) == rows(b.rejected)
    assert state_rows(a.state) == state_rows(b.state)


def check_rows(batch: pa.Table, out: wz.SettleResult) -> None:
    """settlement.md §4 identities on every row; a reversal is the negative of its original."""
    rejected = set(out.rejected["row"].to_pylist())
    inputs = [row for i, row in enumerate(batch.to_pylist()) if i not in rejected]
    settled = out.settled.to_pylist()
    assert [r["claim_id"] for r in inputs] == [r["claim_id"] for r in settled]  # input order
    total_of = {s["claim_id"]: c["total_cost"] for c, s in zip(inputs, settled, strict=True)}
    by_id = {s["claim_id"]: s for s in settled}
    for r in settled:
        if r["reverses"] is None:
            total = total_of[r["claim_id"]]
            assert all(r[m] >= 0 for m in MONEY), r
        else:
            original = by_id.get(r["reverses"])
            if original is not None:
                assert all(r[m] == -original[m] for m in MONEY), (r, original)
                total = -total_of[r["reverses"]]
            else:  # reverses a claim of an earlier batch
                total = sum(r[m] for m in wz.contract.PAYERS)
        assert total == sum(r[m] for m in wz.contract.PAYERS), r
        assert r["eligible"] == r["account_current"] + r["deductible"] + r["coinsurance"] + r["over_cap"] + r["fund"]
        assert 0 <= r["ratio_bp"] <= 10_000
    assert out.settled.num_rows + out.rejected.num_rows == batch.num_rows


def check_caps(policy: wz.Policy, out: wz.SettleResult) -> None:
    p = policy.params
    for s in out.state.to_pylist():
        assert 0 <= s["fund_paid"] <= max(p["fund_cap"].values())
        assert s["current_balance"] >= 0 and s["hist_balance"] >= 0
        assert s["ci_paid"] >= 0 and s["ma_paid"] >= 0
        ci_cap = p["critical_illness"]["cap"]
        if ci_cap != "none" and not (p["critical_illness"]["poor_uncapped"] and p["critical_illness"]["poor"]):
            assert s["ci_paid"] <= ci_cap
        ma_caps = [c["cap"] for k, c in p["medical_assistance"].items() if k != "visit_types"]
        if "none" not in ma_caps:
            assert s["ma_paid"] <= max(ma_caps)


@SETTINGS
@given(policy=policies(), batch=claims(bad=True, reversals=True), opening=accounts())
def test_kernel_equals_reference(policy, batch, opening):
    out = wz.settle(batch, policy, accounts=opening)
    assert_same(out, wz.reference.settle(batch, policy, accounts=opening))
    check_rows(batch, out)
    check_caps(policy, out)


@SETTINGS
@given(policy=dated_policies(), batch=claims(bad=True, reversals=True), opening=accounts())
def test_several_dated_profiles(policy, batch, opening):
    """Each claim under the profile in force on its date; outside every profile rejected."""
    out = wz.settle(batch, policy, accounts=opening)
    assert_same(out, wz.reference.settle(batch, policy, accounts=opening))
    check_rows(batch, out)


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=30, reversals=True), opening=accounts(),
       cut=st.integers(0, 729))  # fmt: skip
def test_two_batches_equal_one(policy, batch, opening, cut):
    """Settling A then B with A's state (and A's settled rows for reversals and duplicates)
    equals settling A+B at once, when B comes after A in time; and the twin agrees on B."""
    days = pc.cast(batch["settle_date"], pa.int32()).to_numpy()
    first = pa.array(days < 18993 + cut)
    a, b = batch.filter(first), batch.filter(pc.invert(first))
    whole = wz.settle(batch, policy, accounts=opening)
    out_a = wz.settle(a, policy, accounts=opening)
    out_b = wz.settle(
        b, policy, state=out_a.state, accounts=opening,
        known_claim_ids=out_a.settled["claim_id"], originals=out_a.settled,
    )  # fmt: skip
    joined = pa.concat_tables([out_a.settled, out_b.settled])
    by_id = {r["claim_id"]: r for r in joined.to_pylist()}
    assert by_id == {r["claim_id"]: r for r in whole.settled.to_pylist()}
    assert state_rows(out_b.state) == state_rows(whole.state)
    ref_a = wz.reference.settle(a, policy, accounts=opening)
    ref_b = wz.reference.settle(
        b, policy, state=ref_a.state, accounts=opening,
        known_claim_ids=ref_a.settled["claim_id"], originals=ref_a.settled,
    )  # fmt: skip
    assert_same(out_b, ref_b)


@ORDER_RULE
@SETTINGS
@given(policy=policies(), first=claims(max_rows=25, reversals=True, bad=True),
       second=claims(max_rows=25, reversals=True, bad=True), opening=accounts(),
       mode=st.sampled_from(["reject", "settle"]))  # fmt: skip
def test_late_claims_across_batches(policy, first, second, opening, mode):
    """A second batch with dates anywhere: rows before what the first batch settled for their
    person-year are late (rejected OUT_OF_ORDER or settled flagged), the same in both."""
    policy = with_late_claims(policy, mode)
    second = second.set_column(0, "claim_id", pc.binary_join_element_wise("b", second["claim_id"], ""))
    kernel = wz.settle(first, policy, accounts=opening)
    twin = wz.reference.settle(first, policy, accounts=opening)
    assert_same(kernel, twin)
    kernel2 = wz.settle(second, policy, state=kernel.state, accounts=opening,
                        known_claim_ids=kernel.settled["claim_id"], originals=kernel.settled)  # fmt: skip
    twin2 = wz.reference.settle(second, policy, state=twin.state, accounts=opening,
                                known_claim_ids=twin.settled["claim_id"], originals=twin.settled)  # fmt: skip
    assert_same(kernel2, twin2, batch=second)


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=30), seed=st.integers(0, 2**32 - 1))
def test_order_and_partition_change_nothing(policy, batch, seed):
    """Shuffling the rows, or settling each person apart, gives every claim the same result."""
    batch = batch.set_column(3, "seq", pa.array(np.arange(batch.num_rows), pa.int64()))  # no ties
    whole = {r["claim_id"]: r for r in wz.settle(batch, policy).settled.to_pylist()}
    perm = np.random.default_rng(seed).permutation(batch.num_rows)
    shuffled = wz.settle(batch.take(pa.array(perm, pa.int64())), policy)
    assert {r["claim_id"]: r for r in shuffled.settled.to_pylist()} == whole
    assert shuffled.settled["claim_id"].to_pylist() == batch.take(pa.array(perm, pa.int64()))["claim_id"].to_pylist()
    parts = {}
    for person in set(batch["person_id"].to_pylist()):
        part = batch.filter(pc.equal(batch["person_id"], person))
        parts.update({r["claim_id"]: r for r in wz.settle(part, policy).settled.to_pylist()})
    assert parts == whole


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=40, reversals=True, bad=True), opening=accounts())
def test_parts_change_nothing(policy, batch, opening, monkeypatch_parts):
    """A batch split into parts of persons (as large batches are) settles exactly as one."""
    whole = wz.settle(batch, policy, accounts=opening)
    with monkeypatch_parts(3):
        first = wz.settle(batch, policy, accounts=opening)
        assert_identical(first, whole)
        again = wz.settle(batch, policy, state=first.state, accounts=opening)
    with monkeypatch_parts(1 << 20):
        assert_identical(again, wz.settle(batch, policy, state=first.state, accounts=opening))
