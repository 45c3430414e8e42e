"""Settling through the ledger gives exactly what wz.settle gives on the whole history."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wzmedins as wz
from tests.helpers import check_identities, load_example
from tests.ledger.claims import by_date, random_accounts, random_claims
from wzmedins.ledger import BatchConflictError
from wzmedins.settle.state import STATE_FIELDS

CUTS = [dt.date(2022, 3, 1), dt.date(2022, 7, 1), dt.date(2022, 11, 15)]


def rows_by_id(table: pa.Table) -> dict:
    return {r["claim_id"]: r for r in table.to_pylist()}


def state_rows(table: pa.Table) -> list[dict]:
    rows = table.select(["person_id", "year", *STATE_FIELDS]).to_pylist()
    return sorted(rows, key=lambda r: (r["person_id"], r["year"]))


@pytest.mark.parametrize("int_ids", [False, True], ids=["string_ids", "int_ids"])
def test_batches_equal_one_settlement(location, policy, int_ids):
    claims = random_claims(1500, 120, seed=7, int_ids=int_ids)
    accounts = random_accounts(120, seed=8, int_ids=int_ids)
    whole = wz.settle(claims, policy, accounts=accounts)
    ledger = wz.Ledger(location, policy=policy)
    assert ledger.load_accounts(accounts) == accounts.num_rows
    settled, rejected = [], 0
    for k, batch in enumerate(by_date(claims, CUTS)):
        out = ledger.settle(batch, batch_id=f"day-{k}")
        assert out.settled.num_rows + out.rejected.num_rows == batch.num_rows
        check_identities(batch, out, policy)
        settled.append(out.settled)
        rejected += out.rejected.num_rows
    assert rejected == whole.rejected.num_rows > 0
    assert rows_by_id(pa.concat_tables(settled)) == rows_by_id(whole.settled)
    assert state_rows(ledger.state()) == state_rows(whole.state)
    stored = ledger.table("settled")
    assert stored.num_rows == whole.settled.num_rows
    for name in whole.settled.column_names:  # every output column is stored, ids in their type
        assert rows_by_id(stored.select(whole.settled.column_names)) == rows_by_id(whole.settled), name
    assert ledger.batches()["batch_id"].to_pylist() == ["day-0", "day-1", "day-2", "day-3"]
    assert ledger.table("rejected").num_rows == rejected


@pytest.mark.parametrize("k", [2, 3, 7, 8])  # the examples with more than one claim
def test_worked_examples_one_claim_per_batch(location, policy, k):
    """Each claim of a §9 example in its own batch: the hand-worked figures still come out."""
    ex = load_example(k)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    if ex["accounts"] is not None:
        ledger.load_accounts(ex["accounts"])
    got = {}
    for i in range(ex["claims"].num_rows):
        out = ledger.settle(ex["claims"].slice(i, 1), batch_id=f"b{i}")
        assert out.rejected.num_rows == 0
        got.update(rows_by_id(out.settled))
    for expected in ex["expected"]:
        row = got[expected["claim_id"]]
        assert {f: row[f] for f in expected} == expected
    states = {(s["person_id"], s["year"]): s for s in ledger.state().to_pylist()}
    for expected in ex["expected_state"]:
        s = states[(expected["person_id"], expected["year"])]
        assert {f: s[f] for f in expected} == expected


def _snapshot(ledger) -> dict:
    return {name: ledger.table(name).to_pylist() for name in ("settled", "rejected", "state", "accounts", "batches")}


def test_same_batch_twice_returns_stored_result(location, policy):
    import polars as pl

    claims = random_claims(300, 30, seed=11)
    ledger = wz.Ledger(location, policy=policy)
    first = ledger.settle(claims, batch_id="d1")
    before = _snapshot(ledger)
    again = ledger.settle(claims, batch_id="d1")
    assert again.settled.to_pylist() == first.settled.to_pylist()
    assert again.settled.schema == first.settled.schema
    assert again.settled.schema.metadata[b"wzmedins.fingerprint"] == policy.fingerprint.encode()
    assert again.rejected.to_pylist() == first.rejected.to_pylist()
    assert state_rows(again.state) == state_rows(first.state)
    # the same content in another form (polars, dictionary strings, other chunking) is the same batch
    same = pl.from_arrow(claims)
    assert ledger.settle(same, batch_id="d1").settled.num_rows == first.settled.num_rows
    assert _snapshot(ledger) == before


def test_same_batch_id_other_content_is_refused(location, policy):
    claims = random_claims(50, 10, seed=12)
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(claims, batch_id="d1")
    before = _snapshot(ledger)
    changed = claims.set_column(claims.schema.get_field_index("total_cost"), "total_cost",
                                pc.add(claims["total_cost"], 1))  # fmt: skip
    with pytest.raises(BatchConflictError, match="'d1'.*different content"):
        ledger.settle(changed, batch_id="d1")
    other_policy = policy.with_changes({"chronic_bonus": 500})
    with pytest.raises(BatchConflictError, match="policy"):
        ledger.settle(claims, batch_id="d1", policy=other_policy)
    assert _snapshot(ledger) == before


def test_claim_settled_in_earlier_batch_is_duplicate(location, policy):
    claims = random_claims(40, 5, seed=13, bad_share=0).sort_by([("settle_date", "ascending"), ("seq", "ascending")])
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(claims.slice(0, 30), batch_id="d1")
    state_before = state_rows(ledger.state())
    # rows 25..39: 25..29 repeat claims of d1
    out = ledger.settle(claims.slice(25, 15), batch_id="d2")
    dup = out.rejected.filter(pc.equal(out.rejected["reason"], "DUPLICATE_CLAIM_ID"))
    assert dup["claim_id"].to_pylist() == claims["claim_id"].to_pylist()[25:30]
    assert dup["row"].to_pylist() == [0, 1, 2, 3, 4]
    assert out.settled["claim_id"].to_pylist() == claims["claim_id"].to_pylist()[30:40]
    whole = wz.settle(claims, policy)
    assert rows_by_id(ledger.table("settled").select(whole.settled.column_names)) == rows_by_id(whole.settled)
    assert state_before != state_rows(ledger.state()) == state_rows(whole.state)


def test_loads_only_the_batch_persons(location, policy, monkeypatch):
    """The batch's state and known ids are looked up, not the whole ledger; a ledger that
    settled the previous batch itself keeps its store warm and loads only persons it lacks."""
    from wzmedins.settle import Settler

    claims = random_claims(400, 80, seed=14, bad_share=0)
    wz.Ledger(location, policy=policy).settle(claims.slice(0, 300), batch_id="d1")
    seen = {"state": []}
    real_load, real_settle = Settler.load_state, Settler.settle

    def load_spy(self, table):
        seen["state"].append(table)
        return real_load(self, table)

    def settle_spy(self, claims, **kwargs):
        seen.update(kwargs)
        return real_settle(self, claims, **kwargs)

    monkeypatch.setattr(Settler, "load_state", load_spy)
    monkeypatch.setattr(Settler, "settle", settle_spy)
    batch = claims.slice(300, 5).set_column(0, "claim_id", pa.array(["c0", "x1", "x2", "x3", "x4"]))
    ledger = wz.Ledger(location, policy=policy)  # a new process: nothing warm
    ledger.settle(batch, batch_id="d2")
    persons = set(batch["person_id"].to_pylist())
    (state,) = seen["state"]
    assert set(state["person_id"].to_pylist()) <= persons
    assert state.num_rows == len(persons & set(claims.slice(0, 300)["person_id"].to_pylist()))
    assert seen["known_claim_ids"].to_pylist() == ["c0"]
    # the next batch of the same ledger: its persons of d2 are warm, only the others are loaded
    seen["state"].clear()
    nxt = claims.slice(305, 5)
    ledger.settle(nxt, batch_id="d3")
    loaded = {p for t in seen["state"] for p in t["person_id"].to_pylist()}
    assert loaded <= set(nxt["person_id"].to_pylist()) - persons
    store = wz.Settler(policy)  # the same three batches through one in-memory store
    for b in (claims.slice(0, 300), batch, nxt):
        store.settle(b)
    assert state_rows(ledger.state()) == state_rows(store.state())


def test_id_type_is_fixed_by_the_first_batch(location, policy):
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(random_claims(5, 2, seed=1), batch_id="d1")
    with pytest.raises(wz.SchemaError, match="claim_id"):
        ledger.settle(random_claims(5, 2, seed=2, int_ids=True, first_id=100), batch_id="d2")
    assert ledger.batches().num_rows == 1


def test_ledger_of_another_schema_version_is_refused(location, policy):
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(random_claims(5, 2, seed=3), batch_id="d1")
    with ledger.store.transaction(write=True) as tx:
        tx.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(wz.ledger.LedgerError, match="schema version 0"):
        ledger.settle(random_claims(5, 2, seed=4, first_id=10), batch_id="d2")


def test_two_writers_march_after_april_is_back_dated(location, policy):
    """The order rule holds across writers: the state a writer loads knows the last claim."""
    import datetime as dt

    def claim(cid, day):
        return pa.table({"claim_id": [cid], "person_id": ["p"], "settle_date": [day], "scheme": ["resident"],
                         "category": ["adult"], "visit_type": ["inpatient"], "facility_level": ["primary"],
                         "total_cost": [100_000]})  # fmt: skip

    april, march = wz.Ledger(location, policy=policy), wz.Ledger(location, policy=policy)
    march.settle(claim("c0", dt.date(2022, 2, 1)), batch_id="feb")  # march's store is now warm
    april.settle(claim("c2", dt.date(2022, 4, 1)), batch_id="apr")
    out = march.settle(claim("c1", dt.date(2022, 3, 1)), batch_id="mar")  # its warm store is stale
    assert out.rejected["reason"].to_pylist() == ["OUT_OF_ORDER"]
    assert march.state()["last_date"].to_pylist() == [dt.date(2022, 4, 1)]
