"""State and opening balances (settlement.md §5), worked by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from tests.helpers import load_example
from wzmedins.settle.state import STATE_FIELDS

POLICY = wz.load_policy("wenzhou-2022")
ENGINES = pytest.mark.parametrize("engine", [wz.settle, wz.reference.settle], ids=["kernel", "reference"])


def outpatient(claim_id, day, total, person="e1"):
    return {
        "claim_id": claim_id,
        "person_id": person,
        "settle_date": day,
        "scheme": "employee",
        "category": "retired",
        "visit_type": "outpatient",
        "facility_level": "primary",
        "total_cost": total,
    }


@ENGINES
def test_rollover_from_last_years_accounts_row(engine):
    """No claim in 2022, only a 2022 accounts row: 2023 opens with hist = 100 + 800."""
    accounts = pa.Table.from_pylist(
        [{"person_id": "e1", "year": 2022, "current_balance": 80_000, "hist_balance": 10_000}]
    )
    out = engine(pa.Table.from_pylist([outpatient("a", dt.date(2023, 2, 1), 100_000)]), POLICY, accounts=accounts)
    assert out.settled["account_hist"].to_pylist() == [74_500]  # 1 000 - 255 fund, within 900 yuan
    assert out.state.to_pylist()[0]["hist_balance"] == 90_000 - 74_500


@ENGINES
def test_carried_state_takes_precedence_over_accounts(engine):
    """Example 8 split at the year end: 2023 opens from the carried 2022 state (500 unused
    current + 100 historical), not from the 2022 accounts row."""
    ex = load_example(8)
    first = engine(ex["claims"].slice(0, 1), POLICY, accounts=ex["accounts"])
    second = engine(ex["claims"].slice(1, 1), POLICY, state=first.state, accounts=ex["accounts"])
    assert second.settled["account_hist"].to_pylist() == [60_000]
    assert sorted((s["year"], s["hist_balance"]) for s in second.state.to_pylist()) == [(2022, 10_000), (2023, 0)]


@ENGINES
def test_untouched_state_rows_pass_through(engine):
    state = pa.Table.from_pylist([
        {"person_id": "other", "year": 2022, **dict.fromkeys(STATE_FIELDS, 0), "fund_paid": 123}
    ])  # fmt: skip
    out = engine(pa.Table.from_pylist([outpatient("a", dt.date(2022, 2, 1), 100)]), POLICY, state=state)
    rows = {r["person_id"]: r for r in out.state.to_pylist()}
    assert rows["other"]["fund_paid"] == 123 and rows["e1"]["outpatient_deductible_used"] == 100


def test_duplicate_state_rows_are_structural():
    row = {"person_id": "e1", "year": 2022, **dict.fromkeys(STATE_FIELDS, 0)}
    with pytest.raises(wz.SchemaError, match="one row per person and year"):
        wz.settle(
            pa.Table.from_pylist([outpatient("a", dt.date(2022, 2, 1), 100)]),
            POLICY,
            state=pa.Table.from_pylist([row, row]),
        )
