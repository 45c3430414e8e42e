"""The year's memory paths (docs/year.md, "Scale"): tables parked on disk and kept rows spilled
per batch give the same year, to the fen, as the all-in-memory path."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wzmedins import year
from wzmedins.year.spill import Spill, Tables, compact

SMALL = 30_000


def _plain(t: pa.Table) -> pl.DataFrame:
    """A table with its dictionary columns decoded, for comparing values."""
    cols = {f.name: (t.column(f.name).cast(f.type.value_type) if pa.types.is_dictionary(f.type) else t.column(f.name))
            for f in t.schema}  # fmt: skip
    return pl.from_arrow(pa.table(cols))


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    inputs = year.synthetic(SMALL, seed=11)
    out = tmp_path_factory.mktemp("spilled")
    return year.run(inputs), year.run(inputs, out=out), out


def test_parked_and_spilled_year_equals_the_in_memory_year(both):
    memory, disk, _ = both
    assert memory.ok and disk.ok
    assert sorted(memory.tables) == sorted(disk.tables)
    for name in memory.tables:
        assert _plain(memory.tables[name]).equals(_plain(disk.tables[name])), name
    assert memory.counts == disk.counts
    assert memory.capitation_check == disk.capitation_check


def test_per_person_tables_live_on_disk_and_kept_rows_per_batch(both):
    _, disk, out = both
    for name in ("accounts", "enrolment", "employee_contributions", "resident_contributions"):
        assert disk.tables.parked(name) == out / f"{name}.parquet"
    assert disk.tables.parked("fund_city") is None  # small result tables stay in memory
    assert list((out / "kept" / "capitation").glob("part-*.arrow"))
    # only the columns the stage reads, enum columns as dictionaries
    inpatient = pa.ipc.open_file(next((out / "kept" / "inpatient").glob("part-*.arrow"))).read_all()
    assert "category" not in inpatient.column_names and "hospital_id" in inpatient.column_names
    assert pa.types.is_dictionary(inpatient.schema.field("visit_type").type)
    enrol = pq.read_schema(out / "enrolment.parquet")
    assert pa.types.is_dictionary(enrol.field("county").type) and pa.types.is_dictionary(enrol.field("scheme").type)


def test_compact_keeps_values_nulls_and_order():
    t = pa.table({"person_id": ["p", "q", "r"], "county": ["ruian", None, "lucheng"], "fund": [1, 2, 3]})
    c = compact(t)
    assert c.column("county").to_pylist() == ["ruian", None, "lucheng"]
    assert c.column("person_id").type == pa.string() and c.column("fund").type == pa.int64()
    assert c.column("county").chunk(0).indices.type == pa.int32()


def test_tables_and_spill_in_memory_without_a_folder():
    t = Tables()
    t.park("x", pa.table({"a": [1, 2]}))
    assert t.parked("x") is None and t.columns("x", ["a", "zz"]).column_names == ["a"]
    s = Spill()
    assert s.table() is None
    s.append(pa.table({"v": pa.array(["a"]).dictionary_encode()}))
    s.append(pa.table({"v": pa.array(["b", "a"]).dictionary_encode()}))
    assert s.table().column("v").to_pylist() == ["a", "b", "a"]


def test_spilled_parts_with_different_dictionaries_read_back_as_one(tmp_path):
    s = Spill(tmp_path / "k")
    s.append(pa.table({"v": pa.array(["x", "y"]).dictionary_encode(), "fund": [1, 2]}))
    s.append(pa.table({"v": pa.array(["z"]).dictionary_encode(), "fund": [3]}))
    t = s.table()
    assert t.column("v").to_pylist() == ["x", "y", "z"] and t.column("fund").to_pylist() == [1, 2, 3]
    assert t.column("v").num_chunks == 1


def test_unplaced_rows_read_the_parked_enrolment_back(tmp_path):
    """Claims of persons missing from the enrolment are placed by ``wz.fund.expenditure`` from
    the enrolment read back from disk: the same reasons and sums as in memory."""
    from dataclasses import replace

    inputs = year.synthetic(SMALL, seed=12)
    residents = inputs["residents"]
    fewer = replace(inputs, tables={**inputs.tables, "residents": residents.slice(0, residents.num_rows * 9 // 10)})
    memory, disk = year.run(fewer), year.run(fewer, out=tmp_path)
    unplaced = _plain(memory.tables["claims_unplaced"])
    assert unplaced.height > 0
    assert unplaced.equals(_plain(disk.tables["claims_unplaced"]))
    for name in ("expenditure", "budgets", "fund_city", "payers"):
        assert _plain(memory.tables[name]).equals(_plain(disk.tables[name])), name


def _person_counties_by_polars(workers: pa.Table, residents: pa.Table) -> pl.DataFrame:
    """The enrolment as a plain polars program: the first row of each person-year."""
    frames = [pl.from_arrow(t).select(pl.col("person_id").cast(pl.Utf8), pl.col("year").cast(pl.Int32),
                                      pl.col("county").cast(pl.Utf8)).with_columns(scheme=pl.lit(s))
              for t, s in ((workers, "employee"), (residents, "resident"))]  # fmt: skip
    return pl.concat(frames).unique(subset=["person_id", "year"], keep="first", maintain_order=True)


@pytest.mark.parametrize("years", [(2022,), (2021, 2022, None)])
def test_person_counties_equals_a_polars_unique(years):
    import random
    from dataclasses import replace

    from wzmedins.year.inputs import person_counties

    rng = random.Random(len(years))
    inp = year.synthetic(2_000, seed=1)

    def people(n):
        return pa.table({"person_id": [rng.choice([None, *[f"p{i}" for i in range(40)]]) for _ in range(n)],
                         "year": [rng.choice(years) for _ in range(n)],
                         "county": [rng.choice(["ruian", "lucheng", None]) for _ in range(n)]})  # fmt: skip

    w, r = people(300), people(200)
    got = _plain(person_counties(replace(inp, tables={**inp.tables, "workers": w, "residents": r})))
    assert got.equals(_person_counties_by_polars(w, r))


def test_person_index_finds_what_a_dict_finds():
    """The fold's compiled person index against a dict, nulls, unknown ids and integer ids
    included, with the full hash and with hashes narrowed to 2 bits (so most ids share a hash
    and only the byte-by-byte check tells them apart)."""
    import random

    import numpy as np

    from wzmedins.year.persons import PersonIndex

    rng = random.Random(5)
    # short ids, integers, ids of many lengths, ids longer than 16 bytes sharing their first 16
    for make in (lambda i: f"p{i}", lambda i: i, lambda i: "x" * (i % 5) + str(i),
                 lambda i: "a-long-person-id-" + "y" * (i % 3) + str(i)):  # fmt: skip
        enrolled = [rng.choice([None, *[make(i) for i in range(300)]]) for _ in range(500)]
        asked = [rng.choice([None, *[make(i) for i in range(400)]]) for _ in range(700)]
        for bits in (64, 2):
            ix = PersonIndex(pa.array(enrolled), hash_bits=bits)
            slot_of = {}  # each id's slot, as the rows it was built from give it
            for v, slot in zip(enrolled, ix.row_slots.tolist(), strict=True):
                assert (slot == -1) == (v is None)
                if v is not None:
                    assert slot_of.setdefault(v, slot) == slot  # one slot an id
            assert ix.n == len(slot_of) == len(set(slot_of.values()))  # and one id a slot
            assert set(slot_of.values()) == set(range(ix.n))
            want = np.array([-1 if v is None else slot_of.get(v, -1) for v in asked])
            assert np.array_equal(ix.find(pa.array(asked)), want), bits


def test_the_fold_with_shared_hashes_finds_the_same_persons():
    import numpy as np

    from wzmedins.year.tally import Enrolled

    enrolment = pa.table({"person_id": ["a", "b", "a"], "year": [2022] * 3, "county": ["ruian", "lucheng", "ouhai"],
                          "scheme": ["employee", "resident", "resident"]})  # fmt: skip
    e = Enrolled(enrolment, counties=("lucheng", "ruian", "ouhai"), signed=pa.array(["b", "s"]), hash_bits=1)
    county, scheme, signed = e.lookup(pa.array(["b", "a", "x", "s"]), np.array([2022] * 4))
    assert (county.tolist(), scheme.tolist(), signed.tolist()) == ([0, 1, -1, -1], [1, 0, -1, -1],
                                                                   [True, False, False, True])  # fmt: skip


def test_signings_and_enrolment_with_ids_of_two_kinds_are_refused():
    from wzmedins.errors import SchemaError
    from wzmedins.year.tally import Enrolled

    enrolment = pa.table({"person_id": ["a"], "year": [2022], "county": ["ruian"], "scheme": ["employee"]})
    with pytest.raises(SchemaError, match="person_id"):
        Enrolled(enrolment, counties=("ruian",), signed=pa.array([1]))


def test_settled_claims_are_written_only_when_asked(tmp_path):
    """``settled=True`` writes every settled claim (one part a batch); by default none."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    inputs = year.synthetic(5_000, seed=2, batch_size=2_000)
    plain, asked = year.run(inputs, out=tmp_path / "plain"), year.run(inputs, out=tmp_path / "asked", settled=True)
    assert not (tmp_path / "plain" / "settled").exists()
    parts = sorted((tmp_path / "asked" / "settled").glob("part-*.parquet"))
    assert len(parts) == 3
    settled = ds.dataset(parts).to_table()
    assert settled.num_rows == asked.counts["settled"] == plain.counts["settled"] == 5_000
    paid = sum(r["fund"] for r in plain.tables["payers"].to_pylist())
    assert pc.sum(settled.column("fund")).as_py() == paid > 0
