"""Random batches streamed through ``wz.settle_stream`` against the twin: on the concatenation
when the claims come in order, batch by batch (the twin carrying its own state) when they do
not (late claims, docs/settlement.md "The order rule")."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from tests.settle.compare import assert_same, kernel_has_order_rule, settled_rows, state_rows
from tests.strategies import accounts, claims, policies, with_late_claims

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def carried(full: pa.Table | None, delta: pa.Table) -> pa.Table:
    """The whole state after a batch: each result's ``state`` holds the person-years the batch
    touched (the store's delta), which replace the rows they had."""
    if full is None:
        return delta
    key = lambda r: (r["person_id"], r["year"])  # noqa: E731
    rows = {key(r): r for r in full.to_pylist()} | {key(r): r for r in delta.to_pylist()}
    return pa.Table.from_pylist(list(rows.values()), schema=delta.schema)


def cut(batch: pa.Table, sizes: list[int]) -> list[pa.Table]:
    """The batch in consecutive slices of the given sizes (the rest in a last slice)."""
    out, start = [], 0
    for size in sizes:
        out.append(batch.slice(start, size))
        start += size
    return [*out, batch.slice(start)]


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=40), opening=accounts(), sizes=st.lists(st.integers(0, 15), max_size=4))
def test_stream_in_order_equals_the_twin_on_the_concatenation(policy, batch, opening, sizes):
    batch = batch.take(pc.sort_indices(batch, [("settle_date", "ascending"), ("seq", "ascending")]))
    results = list(wz.settle_stream(cut(batch, sizes), policy, accounts=opening))
    twin = wz.reference.settle(batch, policy, accounts=opening)
    streamed = pa.concat_tables([r.settled.select(results[0].settled.column_names) for r in results])
    a, b = settled_rows(streamed, twin.settled)
    assert a == b  # in order, each claim once
    assert sum(r.rejected.num_rows for r in results) == twin.rejected.num_rows == 0
    full = None
    for r in results:
        full = carried(full, r.state)
    a, b = state_rows(full, twin.state)
    assert a == b


@pytest.mark.skipif(not kernel_has_order_rule(), reason="wz.settle does not keep last_date/last_seq yet")
@SETTINGS
@given(policy=policies(), batches=st.lists(claims(max_rows=15), min_size=1, max_size=4), opening=accounts(),
       mode=st.sampled_from(["reject", "settle"]))  # fmt: skip
def test_stream_with_late_claims_equals_the_twin_batch_by_batch(policy, batches, opening, mode):
    policy = with_late_claims(policy, mode)
    batches = [b.set_column(0, "claim_id", pc.binary_join_element_wise(f"b{k}", b["claim_id"], "")) for k, b in
               enumerate(batches)]  # fmt: skip
    state = full = None
    for batch, result in zip(batches, wz.settle_stream(batches, policy, accounts=opening), strict=True):
        twin = wz.reference.settle(batch, policy, state=state, accounts=opening)
        full = carried(full, result.state)
        assert_same(wz.SettleResult(result.settled, result.rejected, full), twin)
        state = twin.state
