"""Year end (settlement.md §5): closing a year rolls unused balances into next year's
historical account; opening balances can be loaded."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from tests.helpers import load_example
from wzmedins.ledger import LedgerError


def accounts_of(ledger, year):
    return {r["person_id"]: (r["current_balance"], r["hist_balance"])
            for r in ledger.table("accounts").to_pylist() if r["year"] == year}  # fmt: skip


def test_example_8_across_close_year(location):
    """Worked example 8, one batch per year with the year closed in between."""
    ex = load_example(8)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(ex["accounts"])
    # p9 has opening balances but no claims in 2022: closing equals opening
    ledger.load_accounts(
        pa.table(
            {
                "person_id": ["p9"],
                "year": [2022],
                "current_balance": [30_000],
                "hist_balance": [5_000],
            }
        )
    )
    ledger.settle(ex["claims"].slice(0, 1), batch_id="2022-12-30")
    assert ledger.close_year(2022) == 2
    assert accounts_of(ledger, 2023) == {"p8": (0, 60_000), "p9": (0, 35_000)}
    # the insurer loads 2023's current-year allocation afterwards; the rolled-over part stays
    ledger.load_accounts(pa.table({"person_id": ["p9"], "year": [2023], "current_balance": [40_000]}))
    assert accounts_of(ledger, 2023)["p9"] == (40_000, 35_000)
    out = ledger.settle(ex["claims"].slice(1, 1), batch_id="2023-01-03")
    (row,) = out.settled.to_pylist()
    assert (row["deductible"], row["fund"], row["account_hist"], row["cash"]) == (
        70_000,
        25_500,
        60_000,
        14_500,
    )
    assert ledger.table("closed_years")["year"].to_pylist() == [2022]


def test_close_year_leaves_opened_years_alone(location):
    ex = load_example(8)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(ex["accounts"])
    ledger.settle(ex["claims"], batch_id="both-years")  # 2023 already opened with the roll-over
    assert ledger.close_year(2022) == 0
    assert accounts_of(ledger, 2023) == {}
    states = {r["year"]: r for r in ledger.state().to_pylist()}
    assert states[2023]["hist_balance"] == 0 and states[2023]["current_balance"] == 0


def test_accounts_of_an_opened_year_are_refused(location):
    ex = load_example(6)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(ex["accounts"])
    ledger.settle(ex["claims"], batch_id="d1")
    before = ledger.table("accounts").to_pylist()
    with pytest.raises(LedgerError, match="already has settled claims"):
        ledger.load_accounts(ex["accounts"])
    assert ledger.table("accounts").to_pylist() == before
    with pytest.raises(LedgerError, match="accounts row 0"):
        ledger.load_accounts(
            pa.table({"person_id": ["x"], "year": [2024], "current_balance": [-1], "hist_balance": [0]})
        )


def test_close_year_matches_settling_without_accounts_rows(location, policy):
    """Closing writes what §5 would derive anyway: settling 2023 after close_year gives the
    same as one settlement of both years."""
    from tests.ledger.claims import random_accounts, random_claims

    y22 = random_claims(300, 30, seed=41, bad_share=0)
    y23 = random_claims(300, 30, seed=42, start=dt.date(2023, 1, 1), first_id=10_000, bad_share=0)
    accounts = random_accounts(30, seed=43)
    ledger = wz.Ledger(location, policy=policy)
    ledger.load_accounts(accounts)
    ledger.settle(y22, batch_id="2022")
    ledger.close_year(2022)
    out = ledger.settle(y23, batch_id="2023")
    whole = wz.settle(pa.concat_tables([y22, y23]), policy, accounts=accounts)
    want = {r["claim_id"]: r for r in whole.settled.to_pylist() if r["year"] == 2023}
    assert {r["claim_id"]: r for r in out.settled.to_pylist()} == want
