"""``wzmedins settle DATASET --scheduler ... --partitions N --out DIR``."""

from __future__ import annotations

import pyarrow.parquet as pq

import wzmedins as wz
from wzmedins.cli import main
from wzmedins.distributed.settle import DatasetResult, Totals
from wzmedins.tables import fen_to_yuan

from .data import claims_and_accounts


def test_settle_on_a_running_scheduler(client, tmp_path, capsys):
    claims, accounts = claims_and_accounts(800, seed=3)
    pq.write_table(claims, tmp_path / "claims.parquet", row_group_size=200)
    pq.write_table(accounts, tmp_path / "accounts.parquet")
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    status = main(["settle", str(tmp_path / "claims.parquet"), "--policy", "wenzhou-2022",
                   "--out", str(tmp_path / "out"), "--accounts", str(tmp_path / "accounts.parquet"),
                   "--scheduler", address, "--partitions", "3"])  # fmt: skip
    assert status == 0
    one = wz.settle(claims, wz.load_policy("wenzhou-2022"), accounts=accounts)
    out = capsys.readouterr()
    assert f"rejected  {one.rejected.num_rows:>14,}" in out.out
    assert fen_to_yuan(one.totals()["fund"]) in out.out
    assert "settle" in out.err  # the progress bars
    run = DatasetResult(Totals({}, 0, 0), *(str(tmp_path / "out" / n) for n in ("settled", "rejected", "state")), 3)
    assert run.read("rejected").to_pylist() == one.rejected.to_pylist()


def test_usage_errors_are_one_line(tmp_path, capsys):
    assert main(["settle", str(tmp_path / "none.parquet"), "--policy", "wenzhou-2022", "--out", str(tmp_path),
                 "--scheduler", "local"]) == 1  # fmt: skip
    assert "claims file not found" in capsys.readouterr().err
    assert main(["settle", "x.parquet", "--policy", "wenzhou-2022", "--scheduler", "local"]) == 1
    assert "needs --out" in capsys.readouterr().err
