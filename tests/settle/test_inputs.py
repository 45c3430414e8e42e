"""Every input form of interfaces.md settles to the same fen."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from tests.helpers import load_example
from wzmedins.errors import UnitWarning

POLICY = wz.load_policy("wenzhou-2022")
EX4 = load_example(4)["claims"]  # amounts 120 000 / 10 000 / 3 000 yuan
COLUMNS = wz.settle(EX4, POLICY).settled.column_names  # the twin's, less any the kernel lacks yet
EXPECTED = wz.reference.settle(EX4, POLICY).settled.select(COLUMNS).to_pylist()


def settled(data):
    return wz.settle(data, POLICY).settled.to_pylist()


def test_the_twin_reads_every_input_form(tmp_path):
    """The twin reads its inputs itself (reference/claims_input.py): each form, same fen."""

    def twin(data):
        return wz.reference.settle(data, POLICY).settled.select(COLUMNS).to_pylist()

    assert twin(EX4.to_batches()[0]) == EXPECTED
    assert twin(pa.RecordBatchReader.from_batches(EX4.schema, EX4.to_batches())) == EXPECTED
    assert twin(pl.from_arrow(EX4)) == EXPECTED
    assert twin(pl.from_arrow(EX4).lazy()) == EXPECTED
    pq.write_table(EX4, tmp_path / "claims.parquet")
    assert twin(tmp_path / "claims.parquet") == EXPECTED
    enums = EX4.set_column(EX4.schema.get_field_index("scheme"), "scheme", pc.dictionary_encode(EX4["scheme"]))
    assert twin(enums) == EXPECTED


def test_record_batch_reader_polars_and_lazy(tmp_path):
    assert settled(EX4.to_batches()[0]) == EXPECTED
    assert settled(pa.RecordBatchReader.from_batches(EX4.schema, EX4.to_batches())) == EXPECTED
    assert settled(pl.from_arrow(EX4)) == EXPECTED
    assert settled(pl.from_arrow(EX4).lazy()) == EXPECTED
    pq.write_table(EX4, tmp_path / "claims.parquet")
    assert settled(tmp_path / "claims.parquet") == EXPECTED
    assert settled(str(tmp_path)) == EXPECTED  # a dataset folder


def test_money_as_decimal_and_float_yuan():
    for col, fen in (("total_cost", 12_000_000), ("self_pay", 1_000_000), ("class_b_self_pay", 300_000)):
        i = EX4.schema.get_field_index(col)
        as_decimal = EX4.set_column(i, col, pa.array([Decimal(fen) / 100], pa.decimal128(12, 2)))
        assert settled(as_decimal) == EXPECTED
        as_float = EX4.set_column(i, col, pa.array([fen / 100], pa.float64()))
        assert settled(as_float) == EXPECTED
        as_whole_yuan = EX4.set_column(i, col, pa.array([Decimal(fen // 100)], pa.decimal128(10, 0)))
        assert settled(as_whole_yuan) == EXPECTED


def test_dictionary_enums_timestamps_and_int_ids():
    t = EX4
    for col in ("scheme", "category", "visit_type", "facility_level", "assistance"):
        i = t.schema.get_field_index(col)
        t = t.set_column(i, col, pc.dictionary_encode(t[col]))
    i = t.schema.get_field_index("settle_date")
    t = t.set_column(i, "settle_date", pa.array([dt.datetime(2022, 6, 1, 23, 59)], pa.timestamp("s")))
    assert settled(t) == EXPECTED
    ints = t.set_column(0, "claim_id", pa.array([41], pa.int64())).set_column(1, "person_id", pa.array([7], pa.int32()))
    out = wz.settle(ints, POLICY).settled
    assert out["claim_id"].to_pylist() == [41] and out["person_id"].to_pylist() == [7]
    assert out["fund"].to_pylist() == [row["fund"] for row in EXPECTED]


def test_optional_columns_take_their_defaults():
    """No seq, area, assistance, self_pay or class_b column: 0, local, none, 0, 0."""
    claims = load_example(1)["claims"]
    assert "seq" not in claims.column_names
    bare = claims.drop_columns(["area", "assistance", "self_pay", "class_b_self_pay"])
    assert settled(bare)[0]["fund"] == 3_444_000
    nulls = claims.set_column(claims.schema.get_field_index("area"), "area", pa.nulls(1, pa.string()))
    assert settled(nulls)[0]["ratio_bp"] == 7_000


def test_outputs_carry_schema_metadata_and_requested_columns():
    extra = EX4.append_column("hospital", pa.array(["H1"]))
    out = wz.settle(extra, POLICY, carry=["hospital"])
    meta = out.settled.schema.metadata
    assert meta[b"wzmedins.policy"] == b"wenzhou-2022"
    assert meta[b"wzmedins.fingerprint"] == POLICY.fingerprint.encode()
    assert out.settled["hospital"].to_pylist() == ["H1"]
    assert pl.from_arrow(out.settled)["fund"].to_list() == [7_434_000]


def test_empty_batch():
    out = wz.settle(EX4.slice(0, 0), POLICY)
    assert (out.settled.num_rows, out.rejected.num_rows, out.state.num_rows) == (0, 0, 0)


def test_settle_stream_carries_state():
    """Example 2's three admissions in three batches: the deductible tops up across batches."""
    claims = load_example(2)["claims"]
    outs = list(wz.settle_stream([claims.slice(i, 1) for i in range(3)], POLICY))
    assert [o.settled["fund"].to_pylist()[0] for o in outs] == [136_000, 1_365_000, 375_000]
    assert outs[-1].state["admissions_tertiary"].to_pylist() == [1]


def _outpatient_batch(costs):
    n = len(costs)
    return pa.table({
        "claim_id": [f"c{i}" for i in range(n)], "person_id": [f"p{i % 7}" for i in range(n)],
        "settle_date": [dt.date(2022, 3, 1)] * n, "scheme": ["resident"] * n, "category": ["adult"] * n,
        "visit_type": ["outpatient"] * n, "facility_level": ["primary"] * n, "total_cost": costs,
    })  # fmt: skip


def test_yuan_given_as_integer_fen_warn_once_per_store():
    """Tried as a new user would: 200-yuan visits given as the integer 200 settled as 2-yuan
    visits (all deductible, fund 0) without a word."""
    policy = wz.load_policy("wenzhou-2022")
    batch = _outpatient_batch([200 + i for i in range(30)])
    with pytest.warns(UnitWarning, match=r"median total_cost of the batch is 2\.14 yuan \(214 fen\).*yuan given as"):
        wz.settle(batch, policy)
    settler = wz.Settler(policy)
    with pytest.warns(UnitWarning):
        settler.settle(batch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settler.settle(batch.set_column(0, "claim_id", pa.array([f"d{i}" for i in range(30)])))  # once per store
        wz.settle(_outpatient_batch([20_000 + i for i in range(30)]), policy)  # 200 yuan as fen: plausible
        wz.settle(_outpatient_batch([200 + i for i in range(19)]), policy)  # too few claims to judge


def test_fen_given_as_float_yuan_warn():
    with pytest.warns(UnitWarning, match="above the annual fund cap.*a float column is read as yuan"):
        wz.settle(_outpatient_batch([2e7 + i for i in range(30)]), wz.load_policy("wenzhou-2022"))
