"""Reversals (settlement.md §6), worked by hand on example 2's three admissions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from tests.helpers import MONEY, load_example

POLICY = wz.load_policy("wenzhou-2022")
ENGINES = pytest.mark.parametrize("engine", [wz.settle, wz.reference.settle], ids=["kernel", "reference"])


def reversal(claim_id: str, reverses: str, person: str = "p2", day: dt.date = dt.date(2022, 10, 1)) -> dict:
    return {"claim_id": claim_id, "person_id": person, "settle_date": day, "reverses": reverses}


def with_rows(claims: pa.Table, *rows: dict) -> pa.Table:
    schema = claims.schema.append(pa.field("reverses", pa.string()))
    base = claims.append_column("reverses", pa.nulls(claims.num_rows, pa.string())).to_pylist()
    return pa.Table.from_pylist(base + [{**dict.fromkeys(schema.names), **r} for r in rows], schema=schema)


@ENGINES
def test_reversal_in_the_same_batch_gives_everything_back(engine):
    """Reversing the tertiary admission of example 2: the year's top level falls back to
    secondary, so the deductible used falls to 300 (primary) and the admission count too."""
    claims = with_rows(load_example(2)["claims"], reversal("r1", "e2-2"))
    out = engine(claims, POLICY)
    rows = {r["claim_id"]: r for r in out.settled.to_pylist()}
    assert all(rows["r1"][m] == -rows["e2-2"][m] for m in MONEY)
    assert rows["r1"]["fund"] == -1_365_000 and rows["r1"]["year"] == 2022
    (state,) = out.state.to_pylist()
    assert state["inpatient_deductible_used"] == 30_000  # 300 + 500 - 500
    assert (state["admissions_primary"], state["admissions_secondary"], state["admissions_tertiary"]) == (1, 1, 0)
    assert state["fund_paid"] == 136_000 + 375_000
    assert state["ci_base"] == 64_000 + 125_000  # example 2's cash: 640 and 1 250 yuan


@ENGINES
def test_reversal_in_a_later_batch_and_the_next_claim(engine):
    """After reversing the tertiary stay, a new secondary stay tops the deductible up to 500."""
    first = engine(with_rows(load_example(2)["claims"]), POLICY)
    later = with_rows(
        load_example(2)["claims"].slice(0, 0),
        reversal("r1", "e2-2"),
        {"claim_id": "n1", "person_id": "p2", "settle_date": dt.date(2022, 11, 1), "scheme": "resident",
         "category": "adult", "visit_type": "inpatient", "facility_level": "secondary", "total_cost": 1_000_000},
    )  # fmt: skip
    out = engine(later, POLICY, state=first.state, known_claim_ids=first.settled["claim_id"], originals=first.settled)
    rows = {r["claim_id"]: r for r in out.settled.to_pylist()}
    assert rows["r1"]["fund"] == -1_365_000
    assert rows["n1"]["deductible"] == 20_000  # 500 (secondary) - 300 already used
    assert rows["n1"]["fund"] == (1_000_000 - 20_000) * 3 // 4


@ENGINES
def test_reversal_rejections(engine):
    first = engine(with_rows(load_example(2)["claims"]), POLICY)
    batch = with_rows(
        load_example(2)["claims"].slice(0, 0),
        reversal("r1", "nope"),
        reversal("r2", "e2-1", person="someone-else"),
        reversal("r3", "e2-3"),
        reversal("r4", "e2-3"),
        reversal("r5", "r3"),
    )
    out = engine(batch, POLICY, state=first.state, originals=first.settled)
    assert out.rejected.select(["claim_id", "reason"]).to_pylist() == [
        {"claim_id": "r1", "reason": "UNKNOWN_ORIGINAL"},
        {"claim_id": "r2", "reason": "REVERSAL_PERSON_MISMATCH"},
        {"claim_id": "r4", "reason": "ALREADY_REVERSED"},
        {"claim_id": "r5", "reason": "UNKNOWN_ORIGINAL"},  # a reversal is not itself reversed
    ]
    again = engine(with_rows(load_example(2)["claims"].slice(0, 0), reversal("r6", "e2-3")), POLICY,
                   originals=pa.concat_tables([first.settled, out.settled]))  # fmt: skip
    assert again.rejected["reason"].to_pylist() == ["ALREADY_REVERSED"]


def test_reversal_dated_before_its_original_is_unknown():
    claims = with_rows(load_example(2)["claims"], reversal("r1", "e2-3", day=dt.date(2022, 1, 1)))
    assert wz.settle(claims, POLICY).rejected["reason"].to_pylist() == ["UNKNOWN_ORIGINAL"]


def test_reversal_across_the_year_end_counts_in_the_original_year():
    """A January 2023 refund of a 2022 stay gives back to 2022, not to 2023."""
    claims = with_rows(load_example(2)["claims"], reversal("r1", "e2-3", day=dt.date(2023, 1, 5)))
    out = wz.settle(claims, POLICY)
    assert out.settled.filter(pa.compute.equal(out.settled["claim_id"], "r1"))["year"].to_pylist() == [2022]
    assert [(s["year"], s["admissions_secondary"]) for s in out.state.to_pylist()] == [(2022, 0)]


@ENGINES
def test_two_reversals_of_one_claim_the_earlier_dated_wins(engine):
    """Two reversals of e2-3 in one batch, the later row dated first: it wins, as it would if
    the batch were split by date (found by the one-batch-equals-two property test)."""
    first = engine(with_rows(load_example(2)["claims"]), POLICY)
    late, early = reversal("r1", "e2-3", day=dt.date(2022, 12, 1)), reversal("r2", "e2-3", day=dt.date(2022, 11, 1))
    out = engine(with_rows(load_example(2)["claims"].slice(0, 0), late, early), POLICY, state=first.state,
                 originals=first.settled)  # fmt: skip
    assert out.settled["claim_id"].to_pylist() == ["r2"]
    assert out.rejected.select(["claim_id", "reason"]).to_pylist() == [{"claim_id": "r1", "reason": "ALREADY_REVERSED"}]
