"""Synthetic claims: determinism, shares, schema, streaming."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from wzmedins import synth
from wzmedins.synth.claims import BLOCK, CLAIMS_SCHEMA, DEFAULT_MIX, Mix, persons
from wzmedins.vocab import ASSISTANCE, CATEGORIES, ENUMS, SCHEME_CATEGORIES


@pytest.fixture(scope="module")
def sample() -> pa.Table:
    return synth.claims(150_000, seed=11)


def shares(table: pa.Table, column: str) -> dict[str, float]:
    counts = pc.value_counts(table.column(column).combine_chunks().dictionary_decode())
    n = table.num_rows
    return {c["values"].as_py(): c["counts"].as_py() / n for c in counts}


def test_same_seed_same_data_whatever_the_batch_size():
    a = synth.claims(BLOCK + 1000, seed=5, batch_size=BLOCK + 1000)
    b = synth.claims(BLOCK + 1000, seed=5, batch_size=999)
    assert a.equals(b)


def test_other_seed_other_data():
    a = synth.claims(2000, seed=5)
    b = synth.claims(2000, seed=6)
    assert not a.column("total_cost").equals(b.column("total_cost"))
    assert not a.column("person_id").equals(b.column("person_id"))


def test_schema_follows_the_claims_table(sample):
    assert sample.schema == CLAIMS_SCHEMA
    for name, vocab in ENUMS.items():
        values = set(sample.column(name).combine_chunks().dictionary_decode().unique().to_pylist())
        assert values <= set(vocab), name
    assert len(sample.column("claim_id").combine_chunks().unique()) == sample.num_rows
    for name in CLAIMS_SCHEMA.names:
        assert sample.column(name).null_count == 0, name


def test_categories_belong_to_their_scheme(sample):
    pairs = sample.group_by(["scheme", "category"]).aggregate([]).to_pylist()
    for row in pairs:
        assert row["category"] in SCHEME_CATEGORIES[row["scheme"]]


def test_money_is_int64_fen_and_split_is_consistent(sample):
    total = sample.column("total_cost").to_numpy()
    self_pay = sample.column("self_pay").to_numpy()
    class_b = sample.column("class_b_self_pay").to_numpy()
    assert (total >= 100).all() and (self_pay >= 0).all() and (class_b >= 0).all()
    assert (self_pay + class_b <= total).all()
    assert 0.2 < (self_pay > 0).mean() < 0.7 and 0.2 < (class_b > 0).mean() < 0.8


def test_person_shares_match_the_mix():
    p = persons(np.arange(200_000), seed=3)
    got = np.bincount(p["category"], minlength=len(CATEGORIES)) / 200_000
    assert np.allclose(got, DEFAULT_MIX.category_share, atol=0.005)
    got = np.bincount(p["assistance"], minlength=len(ASSISTANCE)) / 200_000
    assert np.allclose(got, DEFAULT_MIX.assistance_share, atol=0.003)
    for code in range(1, len(ASSISTANCE)):  # a few percent in each assistance class
        assert 0.005 < got[code] < 0.06


def test_a_person_keeps_their_attributes_across_batches(sample):
    rows = sample.select(["person_id", "scheme", "category", "assistance"])
    per_person = rows.group_by("person_id").aggregate(
        [
            ("scheme", "count_distinct"),
            ("category", "count_distinct"),
            ("assistance", "count_distinct"),
        ]
    )
    for name in ("scheme", "category", "assistance"):
        assert pc.max(per_person.column(f"{name}_count_distinct")).as_py() == 1


def test_visit_mix_and_costs(sample):
    visits = shares(sample, "visit_type")
    assert visits["outpatient"] > 10 * visits["inpatient"] > 0
    assert visits["chronic"] > 0.03 and visits["special"] > 0.005
    areas = shares(sample, "area")
    assert 0.85 < areas["local"] < 0.97 and areas["national_unregistered"] > 0
    visit = sample.column("visit_type").combine_chunks().dictionary_decode().to_numpy(zero_copy_only=False)
    level = sample.column("facility_level").combine_chunks().dictionary_decode().to_numpy(zero_copy_only=False)
    total = sample.column("total_cost").to_numpy()

    def median(v, lvl):
        return np.median(total[(visit == v) & (level == lvl)])

    assert median("outpatient", "primary") < median("outpatient", "tertiary") < median("inpatient", "primary")
    inpatient = total[visit == "inpatient"]
    assert inpatient.mean() > 1.5 * np.median(inpatient)  # skewed, log-normal-like


def test_claims_spread_over_the_year_and_unsorted(sample):
    days = sample.column("settle_date").to_pylist()
    assert min(days) >= dt.date(2022, 1, 1) and max(days) <= dt.date(2022, 12, 31)
    months = np.bincount([d.month for d in days], minlength=13)[1:]
    assert months.min() > 0.06 * len(days)
    person = sample.column("person_id").to_pylist()
    assert person != sorted(person)
    assert days == sorted(days)  # a daily feed: batches can be settled in turn


def test_without_daily_order_dates_are_in_no_order():
    t = synth.claims(5000, seed=1, daily=False)
    days = t.column("settle_date").to_pylist()
    assert days != sorted(days)
    assert min(days) < dt.date(2022, 2, 1) and max(days) > dt.date(2022, 12, 1)
    assert not t.equals(synth.claims(5000, seed=1))


def test_some_persons_could_reach_the_fund_cap(sample):
    """Eligible spend of at least 600 000 yuan surely reaches the 400 000 / 300 000 caps."""
    eligible = pc.subtract(
        sample.column("total_cost"),
        pc.add(sample.column("self_pay"), sample.column("class_b_self_pay")),
    )
    per_person = pa.table({"p": sample.column("person_id"), "e": eligible}).group_by("p").aggregate([("e", "sum")])
    assert pc.sum(pc.greater(per_person.column("e_sum"), 60_000_000)).as_py() >= 1


def test_streaming_batches_and_person_count():
    batches = synth.claim_batches(10_000, n_persons=50, seed=2, batch_size=3000)
    sizes, people = [], set()
    for batch in batches:
        assert isinstance(batch, pa.RecordBatch)
        sizes.append(batch.num_rows)
        people |= set(batch.column("person_id").to_pylist())
    assert sizes == [3000, 3000, 3000, 1000]
    assert 40 <= len(people) <= 50


def test_accounts_are_for_employees_of_the_same_population():
    n_persons = 2000
    acc = synth.accounts(n_persons, seed=4)
    claims = synth.claims(20_000, n_persons=n_persons, seed=4)
    employee_ids = set(
        claims.filter(pc.equal(claims.column("scheme").combine_chunks().dictionary_decode(), "employee"))
        .column("person_id")
        .to_pylist()
    )
    account_ids = set(acc.column("person_id").to_pylist())
    assert employee_ids <= account_ids
    resident_ids = set(claims.column("person_id").to_pylist()) - employee_ids
    assert not (resident_ids & account_ids)
    assert (acc.column("current_balance").to_numpy() > 0).all()
    assert acc.column("year").to_pylist()[0] == 2022


def test_mix_is_a_parameter():
    only_residents = Mix(category_share=(0, 0, 1, 0, 0, 0))
    t = synth.claims(500, seed=1, mix=only_residents)
    assert set(t.column("category").combine_chunks().dictionary_decode().to_pylist()) == {"adult"}


def test_bad_sizes_raise():
    with pytest.raises(ValueError):
        list(synth.claim_batches(10, n_persons=0))


def test_rows_do_not_depend_on_the_threads():
    one = synth.claims(120_000, seed=8, batch_size=120_000, threads=1)
    two = synth.claims(120_000, seed=8, batch_size=120_000, threads=2)
    assert one.equals(two)


def test_the_compiled_persons_are_the_numpy_persons(sample):
    """Every claim's scheme, category and assistance are those of persons(its person number)."""
    number = np.array([int(p[2:]) for p in sample.column("person_id").to_pylist()])
    attrs = persons(number, seed=11)
    for name in ("scheme", "category", "assistance"):
        got = sample.column(name).combine_chunks().indices.to_numpy()
        assert (got == attrs[name]).all(), name


def test_stays_depend_only_on_the_stay():
    """A stay's hospital, DRG code and length are a hash of its claim: the same in any batch;
    other rows get nulls; admit_date = settle_date - los."""
    from wzmedins.synth.stays import add_stays

    world = synth.drg.generate(10, seed=1, n_hospitals=8)
    claims = synth.claims(20_000, seed=4)
    whole = add_stays(claims, world["hospitals"], world["catalog"], seed=4)
    inpatient = pc.equal(claims.column("visit_type").cast(pa.string()), "inpatient")
    alone = add_stays(claims.filter(inpatient), world["hospitals"], world["catalog"], seed=4)
    assert whole.filter(inpatient).equals(alone)
    others = whole.filter(pc.invert(inpatient))
    for name in ("hospital_id", "drg_code", "los", "admit_date"):
        assert others.column(name).null_count == others.num_rows, name
    los = alone.column("los").to_numpy()
    settle = alone.column("settle_date").cast(pa.int32()).to_numpy()
    days = settle - alone.column("admit_date").cast(pa.int32()).to_numpy()
    assert (los >= 1).all() and (days == los).all()


def test_a_daily_feed_never_goes_back_in_date_and_seq(sample):
    days = sample.column("settle_date").cast(pa.int32()).to_numpy().astype(np.int64)
    seq = sample.column("seq").to_numpy()
    key = days * 4 + seq
    assert (np.diff(key) >= 0).all()
    assert set(np.unique(seq).tolist()) == {0, 1, 2, 3}
