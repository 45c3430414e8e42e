"""Random batches streamed through the state store (``wz.settle_stream``, ``wz.Settler``)
against the twin: on the concatenation when the claims come in date order, batch by batch
(the twin carrying its own state, ids and originals) when they do not (late claims,
docs/settlement.md "The order rule")."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from tests.settle.compare import naming_late_rows, rejected_rows, settled_rows, state_rows
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


def touched(state: pa.Table, settled: pa.Table) -> pa.Table:
    """The rows of a whole state table for the person-years a batch settled claims into."""
    keys = {(r["person_id"], r["year"]) for r in settled.select(["person_id", "year"]).to_pylist()}
    mask = [(r["person_id"], r["year"]) in keys for r in state.select(["person_id", "year"]).to_pylist()]
    return state.filter(pa.array(mask, pa.bool_()))


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=40, bad=True, reversals=True), opening=accounts(),
       sizes=st.lists(st.integers(0, 15), max_size=4))  # fmt: skip
def test_stream_in_order_equals_the_twin_on_the_concatenation(policy, batch, opening, sizes):
    """Claims in date order, cut anywhere: the store recognises ids and originals across
    batches, so the stream settles exactly as the twin settles everything at once."""
    # ids unique: a repeat of a row rejected later in its batch (a bad reversal) is a duplicate in
    # one batch but not across batches (only settled ids are remembered), so no property to test
    batch = batch.set_column(0, "claim_id", pa.array([f"c{i}" for i in range(batch.num_rows)], pa.string()))
    batch = batch.take(pc.sort_indices(batch, [("settle_date", "ascending"), ("seq", "ascending")]))
    batches = cut(batch, sizes)
    results = list(wz.settle_stream(batches, policy, accounts=opening))
    twin = wz.reference.settle(batch, policy, accounts=opening)
    streamed = pa.concat_tables([r.settled.select(results[0].settled.column_names) for r in results])
    a, b = settled_rows(streamed, twin.settled)
    assert a == b  # in order, each claim once
    offsets = [sum(len(x) for x in batches[:k]) for k in range(len(batches))]
    shifted = [r.rejected.set_column(0, "row", pc.add(r.rejected["row"], offsets[k])) for k, r in enumerate(results)]
    rejected = pa.concat_tables(shifted)
    a, b = rejected_rows(rejected, twin.rejected)
    assert a == b
    whole = None
    for r in results:
        whole = carried(whole, r.state)
    a, b = state_rows(whole, twin.state)
    assert a == b


@SETTINGS
@given(policy=policies(), batches=st.lists(claims(max_rows=15, bad=True, reversals=True), min_size=1, max_size=4),
       opening=accounts(), mode=st.sampled_from(["reject", "settle"]))  # fmt: skip
def test_store_with_late_claims_equals_the_twin_batch_by_batch(policy, batches, opening, mode):
    """Batches with dates anywhere, through one ``wz.Settler``: late claims, repeated ids and
    reversals of earlier batches' claims, the same as the twin given its own earlier results."""
    policy = with_late_claims(policy, mode)
    # ids distinct across batches; reversals name claims of any batch
    batches = [b.set_column(0, "claim_id", pc.binary_join_element_wise(f"b{k % 2}", b["claim_id"], "")) for k, b in
               enumerate(batches)]  # fmt: skip
    batches = [b.set_column(13, "reverses", pc.binary_join_element_wise(f"b{k % 3 % 2}", b["reverses"], "")) for k, b
               in enumerate(batches)]  # fmt: skip
    settler = wz.Settler(policy, accounts=opening)
    state, earlier = None, []
    for batch in batches:
        result = settler.settle(batch)
        originals = pa.concat_tables(earlier) if earlier else None
        twin = wz.reference.settle(batch, policy, state=state, accounts=opening, originals=originals,
                                   known_claim_ids=None if originals is None else originals["claim_id"])  # fmt: skip
        a, b = rejected_rows(result.rejected, twin.rejected, rows=naming_late_rows(batch, twin.rejected))
        assert a == b
        a, b = settled_rows(result.settled, twin.settled)
        assert a == b
        a, b = state_rows(result.state, touched(twin.state, twin.settled))
        assert a == b
        state = twin.state
        earlier.append(twin.settled)
    a, b = state_rows(settler.state(), state)
    assert a == b
