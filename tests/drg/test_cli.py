"""``wzmedins drg calibrate|score|clear`` on Parquet files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from wzmedins.drg.cli import main
from wzmedins.synth.drg import generate

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("drg")
    data = generate(2_000, seed=5, n_hospitals=5, n_groups=30)
    for name, table in data.items():
        pq.write_table(table, d / f"{name}.parquet")
    return d


def test_calibrate_score_clear(files, capsys):
    d = files
    assert (
        main(
            [
                "drg",
                "calibrate",
                str(d / "history.parquet"),
                "--hospitals",
                str(d / "hospitals.parquet"),
                "--year",
                "2022",
                "--catalog-out",
                str(d / "cat.parquet"),
                "--coefficients-out",
                str(d / "coef.parquet"),
            ]
        )
        == 0
    )
    assert "reference cost" in capsys.readouterr().out
    assert pq.read_table(d / "cat.parquet").num_rows > 0
    assert (
        main(
            [
                "drg",
                "score",
                str(d / "cases.parquet"),
                "--catalog",
                str(d / "catalog.parquet"),
                "--coefficients",
                str(d / "coefficients.parquet"),
                "--out",
                str(d / "scored.parquet"),
                "--rejected",
                str(d / "rej.parquet"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("2000 cases: 2000 scored, 0 rejected")
    assert (
        main(
            [
                "drg",
                "clear",
                str(d / "scored.parquet"),
                "--budget",
                "employee=9000000",
                "--budget",
                "resident=11000000.50",
                "--out",
                str(d / "hosp.parquet"),
                "--funds-out",
                str(d / "funds.parquet"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "employee:" in out and "point value" in out
    funds = pq.read_table(d / "funds.parquet").to_pylist()
    assert [f["budget"] for f in funds] == [900_000_000, 1_100_000_050]


def test_errors_are_one_line_and_nonzero(files, capsys):
    d = files
    code = main(
        [
            "drg",
            "clear",
            str(d / "cases.parquet"),
            "--budget",
            "resident=1.001",
            "--out",
            str(d / "x.parquet"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "resident" in err and "Traceback" not in err
    code = main(
        [
            "drg",
            "score",
            str(d / "nope.parquet"),
            "--catalog",
            str(d / "catalog.parquet"),
            "--out",
            "x",
        ]
    )
    assert code == 2 and "error" in capsys.readouterr().err
    code = main(
        [
            "drg",
            "score",
            str(d / "cases.parquet"),
            "--catalog",
            str(d / "cases.parquet"),
            "--out",
            "x",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "drg_code" in err and "unique" in err


def test_help_runs_as_a_program():
    env = {**os.environ, "PYTHONPATH": SRC}
    res = subprocess.run(
        [sys.executable, "-m", "wzmedins.drg.cli", "drg", "clear", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert res.returncode == 0 and "--budget" in res.stdout
