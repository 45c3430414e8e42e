"""settle_dataset on a LocalCluster equals wz.settle on one machine, to the fen."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from wzmedins.distributed import settle_dataset

from .data import claims_and_accounts

POLICY = wz.load_policy("wenzhou-2022")


@pytest.fixture(scope="module")
def data():
    claims, accounts = claims_and_accounts()
    return claims, accounts, wz.settle(claims, POLICY, accounts=accounts)


def assert_same_as_one_machine(run, one) -> None:
    settled = run.read("settled")
    accepted = sorted(set(range(one.settled.num_rows + one.rejected.num_rows)) - set(one.rejected["row"].to_pylist()))
    assert settled["row"].to_pylist() == accepted
    assert settled.drop_columns(["row"]).to_pylist() == one.settled.to_pylist()
    assert run.read("rejected").to_pylist() == one.rejected.to_pylist()
    keys = [("person_id", "ascending"), ("year", "ascending")]
    assert run.read("state").to_pylist() == one.state.sort_by(keys).to_pylist()
    totals = one.totals()
    assert run.totals.fen == totals
    assert (run.totals.settled, run.totals.rejected) == (one.settled.num_rows, one.rejected.num_rows)


def test_dataset_with_accounts_reversals_and_rejects(client, data, tmp_path):
    """A multi-file dataset source; every cross-person rule is exercised (see data.py)."""
    claims, accounts, one = data
    reasons = set(one.rejected["reason"].to_pylist())
    assert {"REVERSAL_PERSON_MISMATCH", "DUPLICATE_CLAIM_ID", "UNKNOWN_ORIGINAL", "ALREADY_REVERSED"} <= reasons
    assert one.settled.filter(pa.compute.is_valid(one.settled["reverses"])).num_rows >= 10
    src = tmp_path / "claims"
    src.mkdir()
    for i, start in enumerate(range(0, claims.num_rows, 1100)):
        pq.write_table(claims.slice(start, 1100), src / f"part-{i}.parquet", row_group_size=400)
    pq.write_table(accounts, tmp_path / "accounts.parquet", row_group_size=25)
    assert wz.settle(str(src), POLICY, accounts=accounts).settled.equals(one.settled)  # same input order
    run = settle_dataset(
        str(src), POLICY, tmp_path / "out", accounts=str(tmp_path / "accounts.parquet"), client=client, partitions=5
    )
    assert_same_as_one_machine(run, one)
    for name in ("settled", "rejected", "state"):
        files = sorted(os.listdir(tmp_path / "out" / name))
        assert files == [f"bucket={b}" for b in sorted(range(5), key=str)]
        assert all(os.listdir(tmp_path / "out" / name / f) == ["part-0.parquet"] for f in files)
    assert not (tmp_path / "out" / "_work").exists()


def test_tables_in_memory_and_one_bucket(client, data, tmp_path):
    claims, accounts, one = data
    run = settle_dataset(claims, POLICY, str(tmp_path), accounts=accounts, client=client, partitions=1)
    assert_same_as_one_machine(run, one)


def test_integer_person_ids_and_more_buckets_than_persons(client, tmp_path):
    claims = pa.table({
        "claim_id": [1, 2, 3, 4], "person_id": [10, 11, 10, 12],
        "settle_date": pa.array([19000, 19001, 19002, 19003], pa.int32()).cast(pa.date32()),
        "scheme": ["employee"] * 4, "category": ["in_service"] * 4, "visit_type": ["outpatient"] * 4,
        "facility_level": ["primary", "primary", "tertiary", "nowhere"], "total_cost": [50_000, 20_000, 90_000, 100],
    })  # fmt: skip
    accounts = pa.table({"person_id": pa.array([10, 11], pa.int32()), "year": [2022, 2022],
                         "current_balance": [30_000, 0], "hist_balance": [5_000, 1_000]})  # fmt: skip
    one = wz.settle(claims, POLICY, accounts=accounts)
    assert one.settled["account_current"].to_pylist()[0] == 30_000  # the whole balance: 300 of 500 yuan eligible
    run = settle_dataset(claims, POLICY, str(tmp_path), accounts=accounts, client=client, partitions=16)
    assert_same_as_one_machine(run, one)
    assert run.read("rejected").to_pylist()[0]["reason"] == "UNKNOWN_FACILITY_LEVEL"


def test_bad_input_gives_the_same_rejected_rows(client, data, tmp_path):
    """Rows broken in every row-level way are rejected as on one machine, in the same order."""
    claims = data[0].slice(0, 400)
    bad = claims.to_pylist()
    bad[3]["scheme"], bad[8]["category"], bad[13]["total_cost"] = "navy", "retired", None
    bad[21]["self_pay"], bad[34]["settle_date"], bad[55]["claim_id"] = 10**13, None, None
    bad[89]["area"], bad[144]["assistance"], bad[233]["visit_type"] = "mars", "rich", "teleport"
    bad[250]["claim_id"] = bad[251]["claim_id"]
    claims = pa.Table.from_pylist(bad, schema=claims.schema)
    one = wz.settle(claims, POLICY)
    assert one.rejected.num_rows >= 10
    run = settle_dataset(claims, POLICY, str(tmp_path), client=client, partitions=3)
    assert run.read("rejected").to_pylist() == one.rejected.to_pylist()
    assert_same_as_one_machine(run, one)


def test_a_missing_column_raises_on_the_client(client, data, tmp_path):
    with pytest.raises(wz.SchemaError, match="total_cost"):
        settle_dataset(data[0].drop_columns(["total_cost"]), POLICY, str(tmp_path), client=client)


def test_fsspec_urls_for_source_and_out(client, data, tmp_path):
    claims, accounts, _ = data
    claims = claims.slice(0, 600)
    pq.write_table(claims, tmp_path / "claims.parquet", row_group_size=200)
    one = wz.settle(claims, POLICY)
    run = settle_dataset(f"file://{tmp_path}/claims.parquet", POLICY, f"file://{tmp_path}/out", client=client,
                         partitions=2, chunk_rows=200)  # fmt: skip
    assert run.settled == f"file://{tmp_path}/out/settled"
    assert_same_as_one_machine(run, one)
    assert (tmp_path / "out" / "totals.json").exists()
