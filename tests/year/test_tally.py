"""The year's claims folded batch by batch (wzmedins.year.tally) equal the in-memory entry points
on all the claims at once, to the fen."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wzmedins as wz
from wzmedins import year
from wzmedins.year.pipeline import CARRY
from wzmedins.year.tally import YearTally


@pytest.fixture(scope="module")
def settled_year():
    """A small synthetic year, its enrolment and its claims settled in one call of wz.settle."""
    inputs = year.synthetic(30_000, seed=4, batch_size=7_000)
    res = year.run(inputs)
    claims = pa.Table.from_batches(list(inputs.claims()))
    carry = [c for c in CARRY if c in claims.column_names]
    settled = wz.settle(claims, res.bundle.policy, accounts=res.tables["accounts"], carry=carry).settled
    return inputs, res, settled


def _tally(inputs, res, settled, batch: int) -> YearTally:
    b = res.bundle
    tally = YearTally(res.tables["enrolment"], counties=tuple(b.fund.counties),
                      signed_persons=inputs["signings"].column("person_id"),
                      capitation_visits=tuple(b.capitation.visit_types))  # fmt: skip
    for part in settled.to_batches(max_chunksize=batch):
        tally.add(pa.Table.from_batches([part]))
    return tally


def test_spending_equals_wz_fund_expenditure_on_all_claims(settled_year):
    inputs, res, settled = settled_year
    want = []
    inpatient = pc.equal(settled.column("visit_type").cast(pa.string()), "inpatient")
    for kind, rows in ((True, inpatient), (False, pc.invert(inpatient))):
        part = settled.filter(rows).select(["claim_id", "person_id", "year", "fund", "settle_date"])
        e = wz.fund.expenditure(part, res.tables["enrolment"], res.bundle.fund, year=inputs.year)
        assert e.rejected.num_rows == 0
        want.append(pl.from_arrow(e.monthly).with_columns(inpatient=pl.lit(kind)))
    keys = ["county", "scheme", "year", "month", "inpatient"]
    want = pl.concat(want).sort(keys)
    for batch in (1_000, 30_000):
        got = _tally(inputs, res, settled, batch).spending().sort(keys)
        assert got.select(want.columns).equals(want), batch
    assert res.spending.select(want.columns).sort(keys).equals(want)  # and the year's own
    assert int(want["claims"].sum()) > 0


def test_rows_kept_for_drg_and_capitation_are_the_filters_of_all_claims(settled_year):
    inputs, res, settled = settled_year
    tally = _tally(inputs, res, settled, 999)
    visit = settled.column("visit_type").cast(pa.string())
    inpatient = settled.filter(pc.equal(visit, "inpatient"))
    assert tally.kept("inpatient").column("claim_id").to_pylist() == inpatient.column("claim_id").to_pylist()
    signed = pc.is_in(settled.column("person_id"), value_set=inputs["signings"].column("person_id").combine_chunks())
    scope = pc.is_in(visit, value_set=pa.array(list(res.bundle.capitation.visit_types)))
    want = settled.filter(pc.and_(signed, scope))
    got = tally.kept("capitation")
    assert got.num_rows == want.num_rows > 0
    assert got.column("claim_id").to_pylist() == want.column("claim_id").to_pylist()
    assert pc.sum(got.column("fund")).as_py() == pc.sum(want.column("fund")).as_py()
    assert tally.kept("unplaced") is None


def test_rows_without_enrolment_are_left_to_wz_fund_expenditure(settled_year):
    """A person nobody enrolled, and a county outside the profile: not placed, kept, and
    wz.fund.expenditure gives them UNKNOWN_COUNTY."""
    inputs, res, settled = settled_year
    enrol = pl.from_arrow(res.tables["enrolment"])
    first = enrol["person_id"][0]
    moved = enrol.with_columns(county=pl.when(pl.col("person_id") == first).then(pl.lit("atlantis"))
                               .otherwise(pl.col("county")))  # fmt: skip
    stranger = settled.slice(0, 3).set_column(1, "person_id", pa.array(["nobody"] * 3))
    mine = settled.filter(pc.equal(settled.column("person_id"), first))
    b = res.bundle
    tally = YearTally(moved.to_arrow(), counties=tuple(b.fund.counties), signed_persons=pa.array(["x"]),
                      capitation_visits=("outpatient",))  # fmt: skip
    tally.add(pa.concat_tables([stranger, mine, settled.slice(100, 50)]).unify_dictionaries())
    unplaced = tally.kept("unplaced")
    assert unplaced.num_rows == 3 + mine.num_rows
    e = wz.fund.expenditure(unplaced.select(["claim_id", "person_id", "year", "fund", "settle_date"]),
                            moved.to_arrow(), b.fund, year=inputs.year)  # fmt: skip
    assert set(e.rejected.column("reason").to_pylist()) == {"UNKNOWN_COUNTY"}
    assert e.rejected.num_rows == unplaced.num_rows


def test_the_person_lookup_equals_a_plain_lookup():
    """A large batch looked up range by range (year.persons): the same answer as one dict."""
    import numpy as np

    from wzmedins.year.tally import Enrolled

    n = 5_000
    ids = [f"P{i:06d}" for i in range(n)]
    counties = ("a", "b", "c")
    enrolment = pa.table({"person_id": ids, "year": [2022] * n, "county": [counties[i % 3] for i in range(n)],
                          "scheme": ["resident" if i % 2 else "employee" for i in range(n)]})  # fmt: skip
    e = Enrolled(enrolment, counties=counties, signed=pa.array(ids[::7]))
    rng = np.random.default_rng(1)
    asked = [f"P{int(i):06d}" for i in rng.integers(0, n + 500, 250_000)]  # some nobody enrolled
    county, scheme, signed = e.lookup(pa.array(asked), np.full(len(asked), 2022))
    number = np.array([int(a[1:]) for a in asked])
    known = number < n
    assert (county == np.where(known, number % 3, -1)).all()
    assert (scheme == np.where(known, np.where(number % 2 == 1, 1, 0), -1)).all()
    assert (signed == (known & (number % 7 == 0))).all()


def test_payers_equal_a_group_by_of_all_claims(settled_year):
    from wzmedins.contract import PAYERS

    inputs, res, settled = settled_year
    keys = ["scheme", "visit_type", "area"]
    want = (
        pl.from_arrow(settled.select([*keys, "total_cost", *PAYERS]))
        .with_columns(pl.col(c).cast(pl.Utf8) for c in keys)
        .group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("n_claims"), *[pl.col(c).sum() for c in ("total_cost", *PAYERS)])
        .sort(keys)
    )
    got = _tally(inputs, res, settled, 4_000).payers()
    assert got.select(want.columns).equals(want)
    assert int(want["n_claims"].sum()) == settled.num_rows
    # a word outside the house's vocabularies is grouped as it is, not lost
    odd = settled.slice(0, 10).set_column(settled.column_names.index("area"), "area", pa.array(["moon"] * 10))
    tally = _tally(inputs, res, settled.slice(10), 4_000)
    tally.add(odd)
    got = tally.payers()
    assert int(got["n_claims"].sum()) == settled.num_rows
    assert int(got.filter(pl.col("area") == "moon")["n_claims"].sum()) == 10
    assert {c: int(got[c].sum()) for c in PAYERS} == {c: int(want[c].sum()) for c in PAYERS}
