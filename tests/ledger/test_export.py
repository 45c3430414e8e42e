"""Export to Parquet with a checksum manifest, and rebuild from it."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from tests.ledger.claims import by_date, random_accounts, random_claims
from wzmedins.ledger.export import IntegrityError, verify

TABLES = ("settled", "rejected", "state", "accounts", "batches", "closed_years")


@pytest.fixture
def history(policy):
    claims = random_claims(500, 40, seed=51)
    return (
        claims,
        random_accounts(40, seed=52),
        by_date(claims, [dt.date(2022, 6, 1), dt.date(2022, 10, 1)]),
    )


def test_export_then_rebuild_is_the_same_ledger(location, new_location, history, policy, tmp_path, backend):
    claims, accounts, (d1, d2, d3) = history
    ledger = wz.Ledger(location, policy=policy)
    ledger.load_accounts(accounts)
    ledger.settle(d1, batch_id="d1")
    ledger.settle(d2, batch_id="d2")
    manifest = ledger.export(tmp_path / "export")
    exported = {name: ledger.table(name).to_pylist() for name in TABLES}
    assert manifest["tables"]["settled"]["rows"] == len(exported["settled"]) > 0
    copy = wz.Ledger.rebuild(tmp_path / "export", new_location("copy"), policy=policy)
    # a DuckDB file can be rebuilt from any backend's export
    other = wz.Ledger.rebuild(tmp_path / "export", tmp_path / "other.duckdb")
    for name in TABLES:
        assert copy.table(name).to_pylist() == exported[name], name
        assert other.table(name).to_pylist() == exported[name], name
    # both go on identically: the same next batch gives the same result, replays still work
    assert copy.settle(d3, batch_id="d3").settled.to_pylist() == ledger.settle(d3, batch_id="d3").settled.to_pylist()
    assert (
        copy.settle(d2, batch_id="d2").settled.num_rows
        == d2.num_rows - ledger.settle(d2, batch_id="d2").rejected.num_rows
    )
    assert copy.state().to_pylist() == ledger.state().to_pylist()


def test_changed_file_is_detected(location, history, policy, tmp_path):
    claims, accounts, (d1, _, _) = history
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(d1, batch_id="d1")
    out = tmp_path / "export"
    ledger.export(out)
    verify(out)
    # a clerk "fixes" one amount in the settled file: same rows, same columns
    settled = pq.read_table(out / "settled.parquet")
    fund = settled["fund"].to_pylist()
    fund[0] += 1
    pq.write_table(
        settled.set_column(settled.schema.get_field_index("fund"), "fund", pa.array(fund)),
        out / "settled.parquet",
    )
    with pytest.raises(IntegrityError, match="settled.parquet: checksum"):
        wz.Ledger.rebuild(out, tmp_path / "copy.duckdb")
    assert not (tmp_path / "copy.duckdb").exists()


def test_missing_extra_and_manifest_problems(location, policy, tmp_path):
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(random_claims(20, 5, seed=53), batch_id="d1")
    out = tmp_path / "export"
    ledger.export(out)
    (out / "notes.txt").write_text("hello")
    with pytest.raises(IntegrityError, match="not in the manifest: notes.txt"):
        verify(out)
    (out / "notes.txt").unlink()
    (out / "state.parquet").unlink()
    with pytest.raises(IntegrityError, match="state.parquet: missing"):
        verify(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["schema_version"] = "0"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="manifest"):
        verify(out)


def test_rebuild_refuses_a_ledger_with_data(location, policy, tmp_path):
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(random_claims(20, 5, seed=54), batch_id="d1")
    ledger.export(tmp_path / "export")
    with pytest.raises(wz.ledger.LedgerError, match="not empty"):
        wz.Ledger.rebuild(tmp_path / "export", location)
