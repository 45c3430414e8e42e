"""Ledger.settle_rows (a group of plain claims, the short commit) against Ledger.settle.

Two ledgers of the test's backend get the same random groups under the same batch ids, one
through ``settle_rows``, the other through ``settle``: results and every stored table must be
equal (the batch record's content hash apart), then void and restore of a group committed on
the short path, replay by batch id, and a second writer between two groups.
"""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

import wzmedins as wz
from tests.helpers import SCHEME_CATEGORIES, claims_schema
from wzmedins.ledger.rows import NO_HASH
from wzmedins.settle.lean import SettledRows

CLAIMS = claims_schema()
CATEGORY = SCHEME_CATEGORIES


def random_groups(seed: int, n_groups: int = 12) -> list[list[dict]]:
    rng = random.Random(seed)
    groups, n, day = [], 0, {}
    for _ in range(n_groups):
        group = []
        for person in rng.sample([f"p{i}" for i in range(8)], rng.randint(1, 4)):
            n += 1
            scheme = rng.choice(["employee", "resident"])
            total = rng.randint(0, 2_000_000)
            own = rng.choice([None, rng.randint(0, total)])
            day[person] = day.get(person, 0) + rng.choice([0, 1, 5, 30, -3 if rng.random() < 0.1 else 2])
            claim = {
                "claim_id": f"c{n}" if rng.random() > 0.08 else f"c{max(n - 3, 1)}",  # now and then a repeat
                "person_id": person, "settle_date": dt.date(2022, 1, 10) + dt.timedelta(days=max(day[person], 0)),
                "seq": rng.choice([None, 0, 1]), "scheme": scheme,
                "category": rng.choice(CATEGORY[scheme] + (["retired"] if rng.random() < 0.05 else [])),
                "visit_type": rng.choice(["outpatient", "chronic", "special", "inpatient"]),
                "facility_level": rng.choice(["primary", "secondary", "tertiary"]),
                "area": rng.choice([None, "local", "province"]), "assistance": rng.choice([None, "none", "dibao"]),
                "total_cost": total, "self_pay": own,
                "class_b_self_pay": rng.choice([None, rng.randint(0, total - (own or 0))]),
            }  # fmt: skip
            group.append(claim)
        groups.append(group)
    return groups


def _table(ledger: wz.Ledger, name: str, keys) -> list[dict]:
    with ledger.store.transaction(write=False) as tx:
        rows = tx.query(f"SELECT * FROM {name}").to_pylist()
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))


def _same_ledgers(a: wz.Ledger, b: wz.Ledger) -> None:
    for name, keys in (
        ("settled", ["claim_id"]),
        ("rejected", ["batch_id", "row"]),
        ("state", ["person_id", "year"]),
        ("state_saved", ["saved_by", "person_id", "year"]),
        ("accounts", ["person_id", "year"]),
    ):
        assert _table(a, name, keys) == _table(b, name, keys), name
    drop = ("content_hash", "committed_at")
    batches = [[{k: v for k, v in r.items() if k not in drop} for r in _table(x, "batches", ["seqno"])] for x in (a, b)]
    assert batches[0] == batches[1]


def _same(a: SettledRows, b: SettledRows) -> None:
    assert a.settled == b.settled
    assert a.rejected == b.rejected
    key = lambda r: (r["person_id"], r["year"])  # noqa: E731
    assert sorted(a.state, key=key) == sorted(b.state, key=key)


@pytest.mark.parametrize("seed", [1, 2])
def test_settle_rows_equals_settle(new_location, policy, seed):
    lean, full = wz.Ledger(new_location("lean"), policy=policy), wz.Ledger(new_location("full"), policy=policy)
    accounts = pa.table({"person_id": ["p1", "p2"], "year": pa.array([2022, 2022], pa.int32()),
                         "current_balance": [50_000, 0], "hist_balance": [0, 120_000]})  # fmt: skip
    lean.load_accounts(accounts)
    full.load_accounts(accounts)
    for i, group in enumerate(random_groups(seed)):
        got = lean.settle_rows(group, batch_id=f"g{i}", schema=CLAIMS)
        _same(got, SettledRows.of(full.settle(pa.Table.from_pylist(group, CLAIMS), batch_id=f"g{i}")))
    _same_ledgers(lean, full)
    short = [r for r in _table(lean, "batches", ["seqno"]) if r["content_hash"] == NO_HASH]
    assert len(short) >= 3  # the short path was taken (the first group warms the store)
    lean.close()
    full.close()


def test_void_restore_replay_and_second_writer(new_location, policy):
    loc = new_location()
    ledger = wz.Ledger(loc, policy=policy)
    base = {"person_id": "p", "scheme": "resident", "category": "adult", "visit_type": "inpatient",
            "facility_level": "primary", "total_cost": 200_000}  # fmt: skip
    ledger.settle_rows([{**base, "claim_id": "a", "settle_date": dt.date(2022, 3, 1)}], batch_id="g1")
    b = [{**base, "claim_id": "b", "settle_date": dt.date(2022, 3, 2)}]
    first = ledger.settle_rows(b, batch_id="g2")
    with ledger.store.transaction(write=False) as tx:
        assert tx.query("SELECT content_hash FROM batches WHERE batch_id = 'g2'").to_pylist() == [
            {"content_hash": NO_HASH}
        ]
    # the second inpatient claim of the year: no deductible left to pay (300 yuan taken by a)
    assert first.settled[0]["deductible"] == 0
    again = ledger.settle_rows(b, batch_id="g2")  # exactly once: the stored result
    assert again.settled[0]["fund"] == first.settled[0]["fund"]
    assert ledger.void("g2") == 1
    assert ledger.state()["inpatient_deductible_used"].to_pylist() == [30_000]
    assert ledger.restore("g2") == 1
    # another writer (its own Ledger) commits in between: the warm store is stale, and the next
    # group must see that writer's claim
    other = wz.Ledger(loc, policy=policy)
    other.settle(pa.Table.from_pylist([{**base, "claim_id": "x", "settle_date": dt.date(2022, 3, 3)}]), batch_id="o1")
    other.close()
    late = ledger.settle_rows([{**base, "claim_id": "c", "settle_date": dt.date(2022, 3, 2)}], batch_id="g3")
    assert [r["reason"] for r in late.rejected] == ["OUT_OF_ORDER"]  # dated before x
    dup = ledger.settle_rows([{**base, "claim_id": "x", "settle_date": dt.date(2022, 3, 4)}], batch_id="g4")
    assert [r["reason"] for r in dup.rejected] == ["DUPLICATE_CLAIM_ID"]
    ledger.close()


def test_closed_year(new_location, policy):
    """After a year end, groups of the next year take the short path; a late claim of the
    closed year goes the batch path (its change is carried into the next year), as settle."""
    lean, full = wz.Ledger(new_location("lean"), policy=policy), wz.Ledger(new_location("full"), policy=policy)
    accounts = pa.table({"person_id": ["p1"], "year": pa.array([2022], pa.int32()),
                         "current_balance": [500_000], "hist_balance": [0]})  # fmt: skip
    base = {"person_id": "p1", "scheme": "employee", "category": "in_service", "visit_type": "outpatient",
            "facility_level": "primary", "total_cost": 30_000}  # fmt: skip
    groups = [[{**base, "claim_id": "a", "settle_date": dt.date(2022, 12, 1)}], "close",
              [{**base, "claim_id": "b", "settle_date": dt.date(2023, 1, 5)}],
              [{**base, "claim_id": "c", "settle_date": dt.date(2023, 1, 6)}],
              [{**base, "claim_id": "d", "settle_date": dt.date(2022, 12, 20)}]]  # fmt: skip
    for x in (lean, full):
        x.load_accounts(accounts)
    for i, group in enumerate(groups):
        if group == "close":
            assert lean.close_year(2022) == full.close_year(2022)
            continue
        got = lean.settle_rows(group, batch_id=f"g{i}", schema=CLAIMS)
        _same(got, SettledRows.of(full.settle(pa.Table.from_pylist(group, CLAIMS), batch_id=f"g{i}")))
    _same_ledgers(lean, full)
    hashes = {r["batch_id"]: r["content_hash"] for r in _table(lean, "batches", ["seqno"])}
    assert hashes["g3"] == NO_HASH and hashes["g4"] != NO_HASH  # 2023 short; 2022 (closed) in full
    lean.close()
    full.close()
