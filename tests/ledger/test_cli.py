"""The ``wzmedins ledger`` commands: exit codes, output files, one-line errors."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from tests.helpers import load_example
from wzmedins.ledger.cli import main


@pytest.fixture
def files(tmp_path):
    ex = load_example(6)
    pq.write_table(ex["claims"], tmp_path / "day.parquet")
    pq.write_table(ex["accounts"], tmp_path / "accounts.parquet")
    return tmp_path


def test_daily_cycle_on_the_command_line(location, files, capsys):
    assert main(["load-accounts", str(files / "accounts.parquet"), "--ledger", location]) == 0
    args = ["settle", str(files / "day.parquet"), "--ledger", location, "--batch-id", "2022-04-01",
            "--policy", "wenzhou-2022", "--out", str(files / "settled.parquet")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "batch 2022-04-01: 1 claims, 1 settled, 0 rejected" in out and "fund 350.00" in out
    assert pq.read_table(files / "settled.parquet")["account_hist"].to_pylist() == [115_000]
    assert main(args) == 0  # a replay is fine
    assert (
        main(
            [
                "statement",
                "p6",
                "2022",
                "--ledger",
                location,
                "--format",
                "html",
                "--out",
                str(files / "p6.html"),
            ]
        )
        == 0
    )
    assert "1 150.00" in (files / "p6.html").read_text()
    assert main(["close-year", "2022", "--ledger", location]) == 0
    assert "closed 2022: 1 persons" in capsys.readouterr().out
    assert main(["export", str(files / "backup"), "--ledger", location]) == 0
    assert main(["rebuild", str(files / "backup"), "--ledger", str(files / "copy.duckdb")]) == 0
    assert wz.Ledger(files / "copy.duckdb").table("accounts").num_rows == 2


def test_errors_are_one_line_and_nonzero(location, files, capsys):
    base = ["--ledger", location, "--policy", "wenzhou-2022"]
    assert main(["settle", str(files / "day.parquet"), "--batch-id", "d1", *base]) == 0
    changed = load_example(6)["claims"].set_column(0, "claim_id", pa.array(["other"]))
    pq.write_table(changed, files / "changed.parquet")
    capsys.readouterr()
    assert main(["settle", str(files / "changed.parquet"), "--batch-id", "d1", *base]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different content" in err
    assert main(["settle", str(files / "missing.parquet"), "--batch-id", "d2", *base]) == 1
    assert main(["rebuild", str(files / "nothing"), "--ledger", str(files / "x.duckdb")]) == 1
    assert "no manifest.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["settle", str(files / "day.parquet"), "--ledger", location])  # no --batch-id
    assert usage.value.code == 2
