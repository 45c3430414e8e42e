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
    assert code == 1 and err.count("\n") == 1 and "resident" in err and "Traceback" not in err
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
    assert code == 1 and "error" in capsys.readouterr().err
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
    assert code == 1 and "drg_code" in err and "unique" in err


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


def run(capsys, *argv):
    code = main(["drg", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_basic_codes_do_not_swallow_the_positional(files, capsys):
    d = files
    code, out, err = run(
        capsys, "calibrate", "--basic", "AB11,AB13", "--basic", "FR23", d / "history.parquet",
        "--hospitals", d / "hospitals.parquet", "--year", "2022",
        "--catalog-out", d / "cat2.parquet", "--coefficients-out", d / "coef2.parquet",
    )  # fmt: skip
    assert code == 0, err


def test_calibration_without_reference_years_says_which(files, capsys):
    d = files
    code, _, err = run(
        capsys, "calibrate", d / "history.parquet", "--hospitals", d / "hospitals.parquet", "--year", "2030",
        "--catalog-out", d / "x.parquet", "--coefficients-out", d / "y.parquet",
    )  # fmt: skip
    assert code == 1 and err.count("\n") == 1
    assert "2028–2029" in err and "discharges in 2020, 2021" in err


def test_provisional_scenarios_explain_and_profile(files, capsys):
    d = files
    cat = ["--catalog", d / "catalog.parquet", "--coefficients", d / "coefficients.parquet"]
    code, out, err = run(capsys, "provisional", d / "cases.parquet", *cat, "--budget", "employee=9000000",
                         "--budget", "居民=1100000000fen", "--out", d / "pv.parquet")  # fmt: skip
    assert code == 0, err
    assert pq.read_table(d / "pv.parquet").num_rows == 24 and out.splitlines()[1].split()[0] == "1"
    code, out, err = run(
        capsys, "scenarios", d / "cases.parquet", *cat, "--budget", "employee=9000000", "--budget",
        "resident=11000000", "--scenario", "base=wenzhou-2022", "--scenario", "jinhua=jinhua-2024",
        "--scenario", "tight=budget=9500", "--scenario", "h25=high_multiple_bp=25000,20000,15000",
        "--out", d / "sc.parquet",
    )  # fmt: skip
    assert code == 0, err
    assert pq.read_table(d / "sc.parquet").column("scenario").unique().to_pylist() == ["base", "jinhua", "tight", "h25"]
    code, _, err = run(capsys, "scenarios", d / "cases.parquet", *cat, "--budget", "resident=1",
                       "--scenario", "a=budget=105")  # fmt: skip
    assert code == 1 and "budget_bp: 105 is out of range" in err
    code, out, err = run(capsys, "explain", d / "cases.parquet", *cat, "--case", "1", "--labels", "zh")
    assert code == 0 and "case 1: hospital" in out and "standard cost S" in out, err
    code, out, _ = run(capsys, "profile", "show", "jinhua-2024")
    assert code == 0 and "high_multiple_bp" in out and "[30000, 25000, 20000]" in out
    code, _, err = run(capsys, "profile", "check", d / "missing.toml")
    assert code == 1 and "not found" in err


def test_clear_exports_and_warns_in_one_line(files, capsys, tmp_path):
    d = files
    code, out, err = run(
        capsys, "clear", d / "cases.parquet", "--catalog", d / "catalog.parquet",
        "--budget", "employee=90", "--budget", "resident=110",
        "--excel", tmp_path / "c.xlsx", "--csv", tmp_path / "csv", "--labels", "zh",
    )  # fmt: skip
    assert code == 0, err
    assert "warning: clear: the budget of fund 'employee'" in err and "Traceback" not in err
    assert "职工" in out and (tmp_path / "c.xlsx").exists() and (tmp_path / "csv" / "by_drg.csv").exists()


def test_usage_errors_exit_2(files, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["drg", "clear", str(files / "cases.parquet")])  # --budget missing
    assert exc.value.code == 2


def test_demo_drg_runs(capsys):
    from types import SimpleNamespace

    from wzmedins.cli import build_parser

    assert build_parser().parse_args(["demo", "drg"]).what == "drg"  # the full demo runs in make demo

    from wzmedins.drg.demo import run as demo

    assert demo(SimpleNamespace(cases=3_000, seed=1, hospitals=6)) == 0
    out = capsys.readouterr().out
    assert "point value" in out and "mean CMI of tertiary hospitals" in out
