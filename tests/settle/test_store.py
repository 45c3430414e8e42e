"""The state store (``wz.Settler``): one batch == many batches == shuffled persons, the order
rule against a plain model of it, threads, and the id index's exactness."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from tests.strategies import accounts, claims, policies
from wzmedins.settle import ids as ids_module
from wzmedins.settle.ids import IdIndex

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # a failure shows as found: shrinking takes minutes
POLICY = wz.load_policy("wenzhou-2022")


def by_id(tables) -> dict:
    return {r["claim_id"]: r for t in tables for r in t.to_pylist()}


def state_rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["person_id"], r["year"]))


def date_slices(batch: pa.Table, cuts: list[int]) -> list[pa.Table]:
    """The batch in slices of consecutive date ranges (each person's claims stay in date order)."""
    days = pc.cast(batch["settle_date"], pa.int32()).to_numpy()
    bounds = [-(10**9), *sorted(18993 + c for c in cuts), 10**9]
    return [batch.filter(pa.array((days >= lo) & (days < hi))) for lo, hi in zip(bounds, bounds[1:], strict=False)]


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=30, reversals=True), opening=accounts(),
       cuts=st.lists(st.integers(0, 729), max_size=4), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_one_batch_equals_many_equals_shuffled(policy, batch, opening, cuts, seed):
    batch = batch.set_column(3, "seq", pa.array(np.arange(batch.num_rows), pa.int64()))  # no ties to break
    # one reversal per original: of two, one batch keeps the first in input order, many batches
    # the first in time (docs/settlement.md, Reversals)
    targets = batch["reverses"].to_pylist()
    batch = batch.filter(pa.array([t is None or t not in targets[:i] for i, t in enumerate(targets)], pa.bool_()))
    whole = wz.settle(batch, policy, accounts=opening)
    settler = wz.Settler(policy, accounts=opening)
    outs = [settler.settle(part) for part in date_slices(batch, cuts)]
    assert by_id(o.settled for o in outs) == by_id([whole.settled])
    got_rejected = sorted((r["claim_id"], r["reason"]) for o in outs for r in o.rejected.to_pylist())
    assert got_rejected == sorted((r["claim_id"], r["reason"]) for r in whole.rejected.to_pylist())
    assert state_rows(settler.state()) == state_rows(whole.state)
    # each delta holds exactly the person-years its batch touched, as the snapshot had them then
    touched = {(r["person_id"], r["year"]) for r in outs[-1].settled.to_pylist()}
    assert {(r["person_id"], r["year"]) for r in outs[-1].state.to_pylist()} == touched
    # shuffled rows and persons: every claim the same
    perm = np.random.default_rng(seed).permutation(batch.num_rows)
    shuffled = wz.Settler(policy, accounts=opening)
    parts = [shuffled.settle(p.take(pa.array(np.random.default_rng(seed).permutation(p.num_rows), pa.int64())))
             for p in date_slices(batch.take(pa.array(perm, pa.int64())), cuts)]  # fmt: skip
    assert by_id(o.settled for o in parts) == by_id([whole.settled])


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=40, reversals=True, bad=True), opening=accounts())
def test_threads_change_nothing(policy, batch, opening, monkeypatch_parts):
    """Persons settled in parallel ranges give exactly what one thread gives."""
    one = wz.Settler(policy, accounts=opening, threads=1).settle(batch)
    with monkeypatch_parts(2):
        two = wz.Settler(policy, accounts=opening, threads=2).settle(batch)
    assert one.settled.to_pylist() == two.settled.to_pylist()
    assert one.rejected.to_pylist() == two.rejected.to_pylist()
    assert state_rows(one.state) == state_rows(two.state)


def late_model(batches: list[pa.Table]) -> set[str]:
    """The order rule in plain Python: a claim is late when its (date, seq) is before the
    greatest (date, seq) that earlier batches settled into its person-year."""
    last: dict = {}
    late = set()
    for batch in batches:
        rows = batch.to_pylist()
        for r in rows:
            key = (r["person_id"], r["settle_date"].year)
            if key in last and (r["settle_date"], r["seq"]) < last[key]:
                late.add(r["claim_id"])
        for r in rows:
            if r["claim_id"] not in late:
                key = (r["person_id"], r["settle_date"].year)
                last[key] = max(last.get(key, (dt.date.min, -1)), (r["settle_date"], r["seq"]))
    return late


@SETTINGS
@given(policy=policies(), batch=claims(max_rows=30), opening=accounts(), n=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_back_dated_claims_follow_the_order_rule(policy, batch, opening, n, seed):
    """Batches in any order: the late claims are those of the model; under "reject" the rest
    settle exactly as their concatenation in one batch, under "settle" every claim is settled
    and flagged."""
    days = pc.cast(batch["settle_date"], pa.int32()).to_numpy()
    batch = batch.filter(pa.array(days < 18993 + 365))  # one year: opening a year is not re-done
    rng = np.random.default_rng(seed)
    cut = np.sort(rng.integers(0, batch.num_rows + 1, n - 1)) if batch.num_rows else np.zeros(0, int)
    perm = pa.array(rng.permutation(batch.num_rows), pa.int64())
    parts = [p for p in np.split(np.arange(batch.num_rows), cut)]
    batches = [batch.take(perm).take(pa.array(p, pa.int64())) for p in parts]
    late = late_model(batches)

    settler = wz.Settler(policy, accounts=opening)
    outs = [settler.settle(b) for b in batches]
    rejected = {r["claim_id"]: r["reason"] for o in outs for r in o.rejected.to_pylist()}
    assert {c for c, reason in rejected.items() if reason == "OUT_OF_ORDER"} == late
    kept = pa.concat_tables([b.filter(pc.invert(pc.is_in(b["claim_id"], pa.array(sorted(late), pa.string()))))
                             for b in batches])  # fmt: skip
    assert by_id(o.settled for o in outs) == by_id([wz.settle(kept, policy, accounts=opening).settled])

    lenient = policy.with_changes({"late_claims": "settle"})
    settler = wz.Settler(lenient, accounts=opening)
    outs = [settler.settle(b) for b in batches]
    flagged = {r["claim_id"] for o in outs for r in o.settled.to_pylist() if r["late"]}
    assert flagged == late_model(batches) and sum(o.rejected.num_rows for o in outs) == 0


def claim(cid, person, day, cost=100_000, **extra):
    row = {"claim_id": cid, "person_id": person, "settle_date": day, "scheme": "resident", "category": "adult",
           "visit_type": "inpatient", "facility_level": "primary", "total_cost": cost, **extra}  # fmt: skip
    return pa.Table.from_pylist([row])


def test_reversals_and_duplicates_across_batches():
    settler = wz.Settler(POLICY)
    settler.settle(claim("c1", "p", dt.date(2022, 3, 1)))
    settler.settle(claim("c2", "p", dt.date(2022, 4, 1)))
    rev = pa.table({"claim_id": ["r1", "r2"], "person_id": ["p", "p"],
                    "settle_date": [dt.date(2022, 5, 1)] * 2, "reverses": ["c1", "c1"]})  # fmt: skip
    out = settler.settle(rev)
    assert out.settled["deductible"].to_pylist() == [-30_000]
    assert out.rejected["reason"].to_pylist() == ["ALREADY_REVERSED"]
    again = settler.settle(pa.table({"claim_id": ["r3"], "person_id": ["p"], "settle_date": [dt.date(2022, 5, 2)],
                                     "reverses": ["c1"]}))  # fmt: skip
    assert again.rejected["reason"].to_pylist() == ["ALREADY_REVERSED"]
    # reversals (dated 1 May) do not move the person-year's last claim (c2, 1 April): a claim of
    # 1 April is not late (equal is not before), one of 31 March is
    assert settler.settle(claim("c0", "p", dt.date(2022, 3, 31))).rejected["reason"].to_pylist() == ["OUT_OF_ORDER"]
    out = settler.settle(claim("c1b", "p", dt.date(2022, 4, 1)))
    assert out.rejected.num_rows == 0 and out.settled["late"].to_pylist() == [False]
    assert settler.settle(claim("c2", "p", dt.date(2022, 6, 1))).rejected["reason"].to_pylist() == [
        "DUPLICATE_CLAIM_ID"
    ]
    assert sorted(settler.known_claim_ids.to_pylist()) == ["c1", "c1b", "c2", "r1"]


def test_load_state_round_trip_and_old_state_without_order_fields():
    first = wz.Settler(POLICY)
    first.settle(claim("c1", "p", dt.date(2022, 3, 1)))
    snapshot = first.state()
    second = wz.Settler(POLICY)
    second.load_state(snapshot)
    assert second.state().to_pylist() == snapshot.to_pylist()
    assert second.settle(claim("c0", "p", dt.date(2022, 2, 1))).rejected["reason"].to_pylist() == ["OUT_OF_ORDER"]
    third = wz.Settler(POLICY)
    third.load_state(snapshot.drop_columns(["last_date", "last_seq"]))  # an older state: nothing is late
    out = third.settle(claim("c0", "p", dt.date(2022, 2, 1)))
    assert out.rejected.num_rows == 0 and out.settled["deductible"].to_pylist() == [0]  # 300 yuan already used


def test_late_claim_reversed_in_its_own_batch_has_no_original():
    settler = wz.Settler(POLICY)
    settler.settle(claim("c1", "p", dt.date(2022, 3, 1)))
    batch = pa.concat_tables([
        claim("c0", "p", dt.date(2022, 2, 1), reverses=None),
        pa.Table.from_pylist([{"claim_id": "r0", "person_id": "p", "settle_date": dt.date(2022, 4, 1),
                               "reverses": "c0"}]),
    ], promote_options="default")  # fmt: skip
    out = settler.settle(batch)
    assert out.rejected.select(["claim_id", "reason"]).to_pylist() == [
        {"claim_id": "c0", "reason": "OUT_OF_ORDER"}, {"claim_id": "r0", "reason": "UNKNOWN_ORIGINAL"},
    ]  # fmt: skip


def test_id_index_tells_colliding_strings_apart(monkeypatch):
    """Every string hashed to the same value: the index still gives distinct ids distinct slots."""

    def same_hash(offsets, data, rows, out):
        out[:] = 7

    monkeypatch.setattr(ids_module, "hash_strings", same_hash)
    index = IdIndex("person_id")
    words = pa.array(["a", "b", "ab", "a", "", "b"])
    assert index.slots(words, add=True).tolist() == [0, 1, 2, 0, 3, 1]
    assert index.slots(pa.array(["ba", "ab"])).tolist() == [-1, 2]
    assert index.ids().to_pylist() == ["a", "b", "ab", ""]
    # ids sharing their first 16 bytes (kept in the table entry) are told apart in the arena;
    # a trailing NUL makes another id (the length is compared too)
    long = pa.array(["x" * 16 + "tail-a", "x" * 16 + "tail-b", "x" * 16 + "tail-a", "a\x00", "x" * 16])
    assert index.slots(long, add=True).tolist() == [4, 5, 4, 6, 7]
    assert index.slots(pa.array(["x" * 16 + "tail-c", "x" * 16 + "tail-b"])).tolist() == [-1, 5]


def test_checking_hashes_ids_as_the_index_does():
    """The claims check hashes person ids once and the index uses those hashes: the same hash."""
    from wzmedins import tables
    from wzmedins.settle.ids import hash_strings

    words = pa.array(["p1", "", "\u3000", "患者-7", "x" * 300, None, " \t"])
    missing, too_long, hashes = tables.scan_ids(words)
    assert missing.tolist() == [False, True, True, False, False, False, True]
    assert too_long.tolist() == [False, False, False, False, True, False, False]
    offsets, data = tables.string_buffers(words)
    again = np.empty(len(words), dtype=np.uint64)
    hash_strings(offsets, data, np.arange(len(words)), again)
    assert (again[:5] == hashes[:5]).all()


def test_id_index_grows_while_finding():
    """Room follows the distinct ids met (not the rows of a batch), and slots survive growth."""
    index = IdIndex("person_id")
    words = pa.array([f"person-{i % 3000:05d}-with-a-long-name" for i in range(20_000)])
    slots = index.slots(words, add=True)
    assert index.n == 3000 and slots[:3000].tolist() == list(range(3000))
    assert (slots == np.arange(20_000) % 3000).all()
    assert index.table.shape[0] <= 8192  # about twice the ids held, not the 20 000 rows
    assert index.ids(np.array([2999, 0])).to_pylist() == [words[2999].as_py(), words[0].as_py()]


def test_id_index_grows_and_keeps_slots():
    index = IdIndex("claim_id")
    first = index.slots(pa.array([f"id{i}" for i in range(1000)]), add=True)
    more = index.slots(pa.array([f"id{i}" for i in range(500, 5000)]), add=True)
    assert first.tolist() == list(range(1000)) and more[:500].tolist() == list(range(500, 1000))
    ints = IdIndex("person_id")
    assert ints.slots(pa.array([2**62, -1, 2**62], pa.int64()), add=True).tolist() == [0, 1, 0]
    with pytest.raises(wz.SchemaError):
        ints.slots(pa.array(["x"]))


def test_enum_columns_as_codes_whatever_their_dictionary():
    """polars Categorical and Enum, and Arrow dictionaries of any index type, settle as plain strings."""
    import polars as pl

    plain = pa.concat_tables(
        [claim("a", "p", dt.date(2022, 3, 1)), claim("b", "p", dt.date(2022, 3, 2), 5_000, visit_type="outpatient")]
    )
    want = wz.settle(plain, POLICY).settled.to_pylist()
    df = pl.from_arrow(plain).with_columns(
        pl.col("scheme").cast(pl.Categorical),
        pl.col("visit_type").cast(pl.Enum(["outpatient", "chronic", "special", "inpatient"])),
    )
    assert wz.settle(df, POLICY).settled.to_pylist() == want
    for index in (pa.int8(), pa.uint16(), pa.int64()):
        coded = plain.set_column(5, "visit_type", pa.DictionaryArray.from_arrays(
            pa.array([1, 0], index), pa.array(["outpatient", "inpatient"])))  # fmt: skip
        assert wz.settle(coded, POLICY).settled.to_pylist() == want


def test_a_batch_state_is_its_own_when_read_after_later_batches():
    """Each result's state is built when first read, yet shows the store as that batch left it
    (worked by hand: the resident inpatient deductible at a primary hospital is 300 yuan)."""
    settler = wz.Settler(POLICY)
    first = settler.settle(claim("c1", "p", dt.date(2022, 3, 1), 20_000))  # 200 yuan: all deductible
    second = settler.settle(claim("c2", "p", dt.date(2022, 3, 2), 50_000))  # tops it up to 300 yuan
    read_now = second.state["inpatient_deductible_used"].to_pylist()
    settler.settle(claim("c3", "p", dt.date(2022, 3, 3), 50_000))
    assert first.state["inpatient_deductible_used"].to_pylist() == [20_000]
    assert read_now == second.state["inpatient_deductible_used"].to_pylist() == [30_000]
    assert first.state["last_date"].to_pylist() == [dt.date(2022, 3, 1)]
    one_shot = wz.settle(claim("c1", "p", dt.date(2022, 3, 1), 20_000), POLICY)
    assert one_shot.state.select(["person_id", "inpatient_deductible_used"]).to_pylist() == [
        {"person_id": "p", "inpatient_deductible_used": 20_000}
    ]


def test_kept_results_keep_their_money_while_the_store_reuses_memory():
    """The settled columns' arrays are recycled for later batches only once nothing refers to
    them: a result, a column or a numpy view kept across many batches keeps its values (worked
    by hand: 200 then 500 yuan inpatient at a primary hospital, deductible 300 yuan)."""
    settler = wz.Settler(POLICY)
    first = settler.settle(claim("c1", "p", dt.date(2022, 3, 1), 20_000))
    column = settler.settle(claim("c2", "p", dt.date(2022, 3, 2), 50_000)).settled["deductible"]
    view = settler.settle(claim("c3", "q", dt.date(2022, 3, 2), 50_000)).settled["deductible"].to_numpy()
    for day in range(3, 20):  # more batches than the store keeps arrays for
        settler.settle(claim(f"d{day}", "r", dt.date(2022, 3, day), 70_000 + day))
    assert first.settled["deductible"].to_pylist() == [20_000]
    assert column.to_pylist() == [10_000]
    assert view.tolist() == [30_000]


def test_settlement_order_is_a_stable_sort_by_person_year_date_seq():
    from wzmedins.settle.store import order_by_person

    rng = np.random.default_rng(7)
    for t in range(300):
        m = int(rng.integers(1, 200))
        codes = rng.integers(0, 15, m)
        year = rng.integers(2021, 2024, m).astype(np.int32)
        date = rng.integers(18_000, 19_500, m).astype(np.int32)
        wide = (10, 2**40, 2**61)[t % 3]  # the last does not pack into 62 bits: the plain sort
        seq = rng.integers(-wide, wide, m)
        want = np.lexsort((np.arange(m), seq, date, year, codes))
        assert order_by_person(codes, year, date, seq).tolist() == want.tolist()
