"""The command line as an integrator drives it (issue 9): every option works or is refused,
outputs never overwrite inputs, hostile files give one line naming the file, the summary is
checked against the input. Each test failed before its fix."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from wzmedins import synth
from wzmedins.cli import main

POLICY = "wenzhou-2022"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("wzmedins: error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def files(tmp_path):
    pq.write_table(synth.claims(600, n_persons=60, seed=5), tmp_path / "claims.parquet")
    pq.write_table(synth.accounts(60, seed=5), tmp_path / "accounts.parquet")
    return tmp_path


# ------------------------------------------------------------------ 1: --ledger and the other options


@pytest.mark.parametrize("option", [["--accounts", "{d}/accounts.parquet"], ["--state-in", "{d}/accounts.parquet"],
                                    ["--batch-size", "100"], ["--carry", "seq"]])  # fmt: skip
def test_options_that_cannot_work_with_a_ledger_are_refused(files, capsys, option):
    # failed before: --accounts, --state-in and --batch-size were ignored (employees' accounts paid 0)
    option = [o.format(d=files) for o in option]
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--ledger", str(files / "l.duckdb"),
            "--batch-id", "d1", "--quiet", *option]  # fmt: skip
    assert main(argv) == 1
    assert option[0] in one_error_line(capsys)
    assert not (files / "l.duckdb").exists()


def test_state_out_json_and_threshold_work_with_a_ledger(files, capsys):
    ledger = str(files / "l.duckdb")
    wz.Ledger(ledger).load_accounts(pq.read_table(files / "accounts.parquet"))
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--ledger", ledger, "--batch-id", "d1",
            "--state-out", str(files / "state.parquet"), "--json", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    whole = wz.settle(files / "claims.parquet", wz.load_policy(POLICY), accounts=files / "accounts.parquet")
    assert summary["paid_fen"]["account_current"] == whole.totals()["account_current"] > 0
    assert pq.read_table(files / "state.parquet").num_rows == whole.state.num_rows


# ------------------------------------------------------------------ 3: negative opening balances


def test_negative_balances_in_files_are_one_line(files, capsys):
    acc = pq.read_table(files / "accounts.parquet")
    acc = acc.set_column(acc.schema.get_field_index("current_balance"), "current_balance",
                         pa.array([-100] * acc.num_rows, pa.int64()))  # fmt: skip
    pq.write_table(acc, files / "negative.parquet")
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet"), "--quiet"]
    assert main([*argv, "--accounts", str(files / "negative.parquet")]) == 1
    assert "current_balance" in one_error_line(capsys)
    assert main([*argv, "--state-out", str(files / "state.parquet")]) == 0
    capsys.readouterr()
    state = pq.read_table(files / "state.parquet")
    state = state.set_column(state.schema.get_field_index("fund_paid"), "fund_paid",
                             pa.array([-1] * state.num_rows, pa.int64()))  # fmt: skip
    pq.write_table(state, files / "bad-state.parquet")
    argv[argv.index("--out") + 1] = str(files / "o2.parquet")
    assert main([*argv, "--state-in", str(files / "bad-state.parquet")]) == 1
    assert "fund_paid" in one_error_line(capsys)


# ------------------------------------------------------------------ 6: outputs equal to inputs


@pytest.mark.parametrize("clash", [["--out", "{d}/claims.parquet"], ["--rejected", "{d}/accounts.parquet"],
                                   ["--out", "{d}/o.parquet", "--rejected", "{d}/./o.parquet"],
                                   ["--out", "{d}/o.parquet", "--state-out", "{d}/o.parquet"]])  # fmt: skip
def test_outputs_equal_to_an_input_or_each_other_are_refused(files, capsys, clash):
    before = (files / "claims.parquet").read_bytes()
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--accounts", str(files / "accounts.parquet"),
            "--quiet", *[c.format(d=files) for c in clash]]  # fmt: skip
    if "--out" not in clash:
        argv += ["--out", str(files / "x.parquet")]
    assert main(argv) == 1  # failed before: the claims were overwritten, exit 0
    assert "same file" in one_error_line(capsys)
    assert (files / "claims.parquet").read_bytes() == before
    assert not (files / "o.parquet").exists()


# ------------------------------------------------------------------ 13: hostile files and pipes


def test_corrupt_parquet_and_binary_toml_name_the_file(files, capsys):
    (files / "bad.parquet").write_bytes(b"PAR1 this is not parquet at all PAR1")
    assert main(["settle", str(files / "bad.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet")]) == 1
    assert "bad.parquet" in one_error_line(capsys)
    (files / "bin.toml").write_bytes(bytes(range(256)))
    assert main(["policy", "show", str(files / "bin.toml")]) == 1
    assert "bin.toml" in one_error_line(capsys)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_devices_and_fifos_are_refused_not_read(files, capsys):
    # failed before: policy show /dev/zero read until memory ran out; a FIFO hung
    assert main(["policy", "show", "/dev/zero"]) == 1
    assert "regular file" in one_error_line(capsys)
    os.mkfifo(files / "pipe.toml")
    assert main(["policy", "check", str(files / "pipe.toml")]) == 1
    assert "regular file" in one_error_line(capsys)
    os.mkfifo(files / "pipe.parquet")
    assert main(["settle", str(files / "pipe.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet")]) == 1
    assert "regular file" in one_error_line(capsys)


def test_a_driver_error_is_one_line(files, capsys, monkeypatch):
    import duckdb

    def boom(*args, **kwargs):
        raise duckdb.IOException("IO Error: disk full")

    monkeypatch.setattr("wzmedins.ledger.core.Ledger.settle", boom)
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--ledger", str(files / "l.duckdb"),
            "--batch-id", "d1", "--quiet"]  # fmt: skip
    assert main(argv) == 1  # failed before: a raw traceback
    assert "disk full" in one_error_line(capsys)


def test_a_broken_pipe_is_quiet(monkeypatch, capsys):
    # failed before: a BrokenPipeError traceback when the reader (| head) went away
    class GoneReader:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", GoneReader())
    assert main(["policy", "show", "wenzhou-2022"]) == 141
    assert capsys.readouterr().err == ""
    proc = subprocess.run(
        f"{sys.executable} -m wzmedins policy show wenzhou-2022 | head -1",
        shell=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "src"},
    )  # fmt: skip
    assert proc.stdout.startswith("policy wenzhou-2022")
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ 16: summary checked, carry, input rows


def test_summary_checks_payers_against_the_input_total_and_rows_are_file_rows(files, capsys):
    claims = pq.read_table(files / "claims.parquet")
    total = claims["total_cost"].to_pylist()
    total[450] = -1  # in the second batch of 200
    claims = claims.set_column(claims.schema.get_field_index("total_cost"), "total_cost", pa.array(total))
    pq.write_table(claims, files / "c.parquet")
    argv = ["settle", str(files / "c.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet"),
            "--rejected", str(files / "r.parquet"), "--batch-size", "200", "--carry", "total_cost", "--carry", "seq",
            "--json", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert pq.read_table(files / "r.parquet")["row"].to_pylist() == [450]  # failed before: 50 (row in the batch)
    settled = pq.read_table(files / "o.parquet")
    assert settled["total_cost"].to_pylist() == [t for i, t in enumerate(total) if i != 450]
    assert summary["input_total_fen"] == sum(t for i, t in enumerate(total) if i != 450)
    assert summary["input_total_fen"] == sum(summary["paid_fen"].values())
    assert summary["rejected_by_reason"] == {"NEGATIVE_AMOUNT": 1}


# ------------------------------------------------------------------ 17: logging, JSON, --max-rejected


def test_max_rejected_makes_the_exit_status_non_zero(files, capsys):
    claims = pq.read_table(files / "claims.parquet")
    total = claims["total_cost"].to_pylist()
    for i in (3, 4, 5):
        total[i] = -1
    pq.write_table(claims.set_column(claims.schema.get_field_index("total_cost"), "total_cost", pa.array(total)),
                   files / "c.parquet")  # fmt: skip
    argv = ["settle", str(files / "c.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet"), "--quiet"]
    assert main([*argv, "--max-rejected", "3"]) == 0
    capsys.readouterr()
    assert main([*argv, "--max-rejected", "2"]) == 3
    assert "3 rejected rows, more than --max-rejected 2" in capsys.readouterr().err
    assert main([*argv, "--max-rejected", "0.1%"]) == 3  # 3 of 600 is 0.5 %


def test_logging_speaks_through_logging_without_person_ids(files, capsys, caplog):
    acc = pq.read_table(files / "accounts.parquet")
    stray = pa.table({"person_id": ["nobody-like-this"], "year": pa.array([2022], pa.int32()),
                      "current_balance": [5], "hist_balance": [0]})  # fmt: skip
    pq.write_table(pa.concat_tables([acc, stray.cast(acc.schema)]), files / "a2.parquet")
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet"),
            "--accounts", str(files / "a2.parquet"), "--batch-size", "200", "--quiet"]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="wzmedins"):
        assert main(argv) == 0
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("batch 3" in m for m in info)
    persons = set(pq.read_table(files / "claims.parquet")["person_id"].to_pylist())
    assert not any(str(p) in m.split() for m in info for p in persons)
    # the stray row, and any employee of the sample who made no claim (the data decide how many):
    # counted, logged at INFO (insured persons without claims are normal), not a warning
    idle = len(set(acc["person_id"].to_pylist()) - persons)
    assert any(f"{1 + idle} accounts row" in m and "no claimant" in m for m in info)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"accounts rows matching no claimant: {1 + idle}" in capsys.readouterr().out


def test_accounts_whose_ids_match_nobody_warn(files, capsys, caplog):
    """Most accounts rows matching no claimant is the symptom of ids in another form."""
    acc = pq.read_table(files / "accounts.parquet")
    renamed = acc.set_column(0, "person_id", pa.array([f"X{p}" for p in acc["person_id"].to_pylist()]))
    pq.write_table(renamed, files / "a3.parquet")
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--out", str(files / "o.parquet"),
            "--accounts", str(files / "a3.parquet"), "--quiet"]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="wzmedins"):
        assert main(argv) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"{acc.num_rows} of {acc.num_rows} accounts rows matched no claimant (check the ids)"]


# ------------------------------------------------------------------ 18: several profiles


def test_several_policies_and_overlaps(files, capsys, tmp_path):
    builtin = wz.policy.profile.builtin_profiles()
    assert builtin == ["wenzhou-2022"]
    from importlib import resources

    base = (resources.files("wzmedins.policy") / "profiles" / "wenzhou-2022.toml").read_text("utf-8")
    later = base.replace('name = "wenzhou-2022"', 'name = "later"').replace(
        "effective_from = 2022-01-01", "effective_from = 2022-07-01"
    )
    (tmp_path / "later.toml").write_text(later)
    argv = ["settle", str(files / "claims.parquet"), "--policy", POLICY, "--policy", str(tmp_path / "later.toml"),
            "--out", str(files / "o.parquet"), "--quiet"]  # fmt: skip
    assert main(argv) == 0  # failed before: "--policy" given twice kept only the last
    assert "policy wenzhou-2022+later" in capsys.readouterr().out
    bounded = base.replace("effective_from = 2022-01-01", "effective_from = 2022-01-01\neffective_to = 2022-12-31")
    (tmp_path / "bounded.toml").write_text(bounded)
    with pytest.raises(wz.PolicyError, match="overlap"):  # failed before: bounded silently cut at 2022-06-30
        wz.load_policy(tmp_path / "bounded.toml", tmp_path / "later.toml")
    assert main(["policy", "check", POLICY]) == 0  # failed before: "policy file not found"
    assert capsys.readouterr().out.startswith("OK wenzhou-2022")


# ------------------------------------------------------------------ 12: readers need a ledger


def test_ledger_readers_refuse_a_mistyped_path(files, capsys):
    for argv in (["ledger", "statement", "p1", "2022"], ["ledger", "export", str(files / "backup")],
                 ["ledger", "close-year", "2022"]):  # fmt: skip
        assert main([*argv, "--ledger", str(files / "typo.duckdb")]) == 1
        assert "no ledger" in one_error_line(capsys)
        assert not (files / "typo.duckdb").exists()


def test_ledger_settle_and_load_accounts_guard_their_files(files, capsys):
    before = (files / "claims.parquet").read_bytes()
    argv = ["ledger", "settle", str(files / "claims.parquet"), "--batch-id", "d1", "--policy", POLICY,
            "--ledger", str(files / "l.duckdb"), "--out", str(files / "claims.parquet")]  # fmt: skip
    assert main(argv) == 1  # failed before: the claims file was overwritten by the settled rows
    assert "same file" in one_error_line(capsys)
    assert (files / "claims.parquet").read_bytes() == before
    (files / "bad.parquet").write_bytes(b"PAR1 nonsense PAR1")
    assert main(["ledger", "load-accounts", str(files / "bad.parquet"), "--ledger", str(files / "l.duckdb")]) == 1
    assert "bad.parquet" in one_error_line(capsys)


def test_a_library_warning_is_one_log_line(tmp_path, capsys):
    """Tried as a new user would: yuan given as integers warned as '<frozen runpy>:88: UnitWarning: ...'."""
    import datetime as dt

    n = 30
    pq.write_table(pa.table({
        "claim_id": [f"c{i}" for i in range(n)], "person_id": [f"p{i % 7}" for i in range(n)],
        "settle_date": [dt.date(2022, 3, 1)] * n, "scheme": ["resident"] * n, "category": ["adult"] * n,
        "visit_type": ["outpatient"] * n, "facility_level": ["primary"] * n, "total_cost": [200 + i for i in range(n)],
    }), tmp_path / "c.parquet")  # fmt: skip
    argv = ["settle", str(tmp_path / "c.parquet"), "--policy", POLICY, "--out", str(tmp_path / "o.parquet"), "--quiet"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the test configuration silences UnitWarning (random amounts)
        assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("wzmedins: WARNING: UnitWarning: the median total_cost of the batch is 2.14 yuan")
