"""A Ledger keeps its state store warm between batches; every path that uses it (persons read
once, new person-years appended, replaced ones rewritten, the warm store dropped when another
writer, an accounts change, a void or a year end changed the ledger) must leave exactly the
ledger that a new Ledger per operation (a cold store each time) leaves."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

import wzmedins as wz
from tests.ledger.claims import by_date, random_accounts, random_claims

CUTS = [dt.date(2022, 4, 1), dt.date(2022, 8, 1), dt.date(2022, 11, 1)]
STAMPS = {"committed_at", "voided_at", "restored_at", "closed_at"}  # wall-clock times differ
TABLES = ("settled", "rejected", "state", "accounts", "state_saved", "adjustments", "voided_settled",
          "voided_rejected", "batches", "closed_years", "voids")  # fmt: skip


def contents(ledger: wz.Ledger) -> dict:
    out = {}
    for name in TABLES:
        table = ledger.table(name)
        out[name] = table.drop_columns([c for c in table.column_names if c in STAMPS]).to_pylist()
    return out


def refunds(ledger: wz.Ledger, n: int) -> pa.Table:
    """Reversals, dated in January 2023, of the first ``n`` settled 2022 claims."""
    settled = ledger.table("settled")
    originals = settled.filter(pc.and_(pc.equal(settled["year"], 2022), pc.is_null(settled["reverses"]))).slice(0, n)
    return pa.table({"claim_id": [f"r-{c}" for c in originals["claim_id"].to_pylist()],
                     "person_id": originals["person_id"], "settle_date": [dt.date(2023, 1, 20)] * n,
                     "reverses": originals["claim_id"]})  # fmt: skip


def test_warm_and_cold_stores_give_the_same_ledger(new_location, policy):
    claims = random_claims(900, 70, seed=31, bad_share=0.01)
    accounts = random_accounts(70, seed=32)
    days = by_date(claims, CUTS)
    january = random_claims(200, 70, seed=33, start=dt.date(2023, 1, 2), days=15, first_id=5000, bad_share=0.01)
    february = random_claims(200, 70, seed=34, start=dt.date(2023, 2, 1), days=20, first_id=6000, bad_share=0)
    employee = accounts["person_id"][0].as_py()
    adjustment = pa.table({"person_id": [employee], "year": [2022], "current_balance": [500]})
    cold_at, warm_at = new_location("cold"), new_location("warm")
    warm, other = wz.Ledger(warm_at, policy=policy), wz.Ledger(warm_at, policy=policy)

    def both(op, *args, by_other=False, **kwargs):
        cold_result = getattr(wz.Ledger(cold_at, policy=policy), op)(*args, **kwargs)  # a new store every time
        warm_result = getattr(other if by_other else warm, op)(*args, **kwargs)
        if op == "settle":
            for part in ("settled", "rejected", "state"):
                assert getattr(warm_result, part).to_pylist() == getattr(cold_result, part).to_pylist(), part
        else:
            assert warm_result == cold_result

    both("load_accounts", accounts)
    both("settle", days[0], batch_id="d0")
    kept = warm._warm[1]
    both("settle", days[1], batch_id="d1")  # warm: its d0 persons come from memory
    assert warm._warm[1] is kept  # the same store went on
    both("void", "d1")
    both("restore", "d1")
    both("settle", days[2], batch_id="d2")
    both("adjust_accounts", adjustment, batch_id="adj", note="by another writer", by_other=True)
    both("settle", days[3], batch_id="d3")  # the other writer's adjustment made the warm store stale
    both("close_year", 2022)
    both("settle", january, batch_id="jan")
    both("settle", refunds(wz.Ledger(cold_at), 4), batch_id="refunds")  # changes a closed year: carried
    both("settle", february, batch_id="feb", by_other=True)
    both("settle", february.slice(0, 50), batch_id="feb-again")  # duplicates, after another writer's batch
    assert contents(warm) == contents(wz.Ledger(cold_at))
    assert warm.state().num_rows > 70  # both years: persons were both new and replaced
    assert warm.table("state_saved").num_rows > 0


def test_every_writer_counts_a_generation(location, policy):
    """The warm store's check is one meta key that each writing operation moves on."""
    from wzmedins.ledger import warm

    ledger = wz.Ledger(location, policy=policy)

    def generation() -> int:
        with ledger.store.transaction(write=False) as tx:
            return warm.generation(tx)

    seen = [generation()]
    accounts = random_accounts(12, seed=3)
    ledger.load_accounts(accounts)
    seen.append(generation())
    ledger.settle(random_claims(40, 12, seed=4, bad_share=0), batch_id="d1")
    seen.append(generation())
    ledger.void("d1")
    seen.append(generation())
    ledger.restore("d1")
    seen.append(generation())
    ledger.adjust_accounts(pa.table({"person_id": [accounts["person_id"][0].as_py()], "year": [2022],
                                     "current_balance": [100]}), batch_id="adj")  # fmt: skip
    seen.append(generation())
    ledger.close_year(2022)
    seen.append(generation())
    ledger.settle(random_claims(40, 12, seed=4, bad_share=0), batch_id="d1")  # a replay changes nothing
    seen.append(generation())
    assert seen == [0, 1, 2, 3, 4, 5, 6, 6]
