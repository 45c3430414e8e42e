"""The command line, run in-process through ``wzmedins.cli.main``."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import wzmedins
from wzmedins import synth
from wzmedins.cli import main


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("wzmedins: error: ")
    assert "Traceback" not in err[0]
    return err[0]


def test_help_on_every_command(capsys):
    for argv in (
        [],
        ["synth"],
        ["synth", "claims"],
        ["synth", "drg"],
        ["settle"],
        ["policy"],
        ["policy", "show"],
        ["policy", "check"],
        ["demo"],
    ):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--help"])
        assert exit_.value.code == 0
        assert "usage: wzmedins" in capsys.readouterr().out


def test_synth_claims_writes_what_the_generator_gives(tmp_path, capsys):
    out, acc = tmp_path / "claims.parquet", tmp_path / "accounts.parquet"
    argv = ["synth", "claims", "--n", "5000", "--seed", "3", "--batch-size", "1000"]
    assert main([*argv, "--out", str(out), "--accounts", str(acc)]) == 0
    assert "wrote 5,000 claims of 500 persons" in capsys.readouterr().out
    written = pq.read_table(out)
    assert written.equals(synth.claims(5000, seed=3))
    assert pq.read_table(acc).equals(synth.accounts(500, seed=3))


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["synth", "claims", "--n", "-5", "--out", "x.parquet"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2


def test_synth_drg_writes_one_file_per_table(tmp_path, capsys):
    if synth.drg is None:
        assert main(["synth", "drg", "--n", "100", "--out", str(tmp_path)]) == 1
        assert "DRG generator" in one_error_line(capsys)
        return
    assert main(["synth", "drg", "--n", "200", "--hospitals", "5", "--out", str(tmp_path)]) == 0
    names = {p.stem for p in tmp_path.glob("*.parquet")}
    assert {"cases", "catalog", "coefficients", "hospitals"} <= names
    assert pq.read_table(tmp_path / "cases.parquet").num_rows == 200


@pytest.fixture
def claims_file(tmp_path):
    path = tmp_path / "claims.parquet"
    pq.write_table(synth.claims(3000, n_persons=300, seed=9), path)
    pq.write_table(synth.accounts(300, seed=9), tmp_path / "accounts.parquet")
    return path


def test_settle_streams_to_the_same_result_as_one_batch(tmp_path, claims_file, capsys):
    out, state = tmp_path / "settled.parquet", tmp_path / "state.parquet"
    accounts = tmp_path / "accounts.parquet"
    argv = ["settle", str(claims_file), "--policy", "wenzhou-2022", "--out", str(out)]
    argv += [
        "--accounts",
        str(accounts),
        "--state-out",
        str(state),
        "--batch-size",
        "700",
        "--quiet",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    policy = wzmedins.load_policy("wenzhou-2022")
    whole = wzmedins.settle(pq.read_table(claims_file), policy, accounts=pq.read_table(accounts))
    settled = pq.read_table(out)
    assert settled.num_rows == 3000
    for name in ("claim_id", "fund", "critical_illness", "cash", "account_hist"):
        assert settled.column(name).equals(whole.settled.column(name)), name
    assert pq.read_table(state).num_rows == whole.state.num_rows
    assert "claims             3,000" in printed and "rejected               0" in printed
    fund = pc.sum(whole.settled.column("fund")).as_py()
    assert wzmedins.tables.fen_to_yuan(fund) in printed


def test_settle_carries_state_between_runs(tmp_path, capsys):
    claims = synth.claims(2000, n_persons=100, seed=4)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(claims.slice(0, 1200), first)
    pq.write_table(claims.slice(1200), second)
    common = ["--policy", "wenzhou-2022", "--quiet"]
    s1, s2 = tmp_path / "s1.parquet", tmp_path / "s2.parquet"
    o1, o2 = tmp_path / "o1.parquet", tmp_path / "o2.parquet"
    assert main(["settle", str(first), "--out", str(o1), "--state-out", str(s1), *common]) == 0
    assert (
        main(
            [
                "settle",
                str(second),
                "--out",
                str(o2),
                "--state-in",
                str(s1),
                "--state-out",
                str(s2),
                *common,
            ]
        )
        == 0
    )
    whole = wzmedins.settle(claims, wzmedins.load_policy("wenzhou-2022"))
    both = pa.concat_tables([pq.read_table(o1), pq.read_table(o2)])
    assert both.column("fund").equals(whole.settled.column("fund"))


def test_settle_writes_rejected_rows(tmp_path, capsys):
    claims = synth.claims(50, seed=1)
    total = claims.column("total_cost").to_pylist()
    total[7] = -1
    claims = claims.set_column(claims.schema.get_field_index("total_cost"), "total_cost", pa.array(total))
    path, out, rej = tmp_path / "c.parquet", tmp_path / "o.parquet", tmp_path / "r.parquet"
    pq.write_table(claims, path)
    argv = [
        "settle",
        str(path),
        "--policy",
        "wenzhou-2022",
        "--out",
        str(out),
        "--rejected",
        str(rej),
    ]
    assert main([*argv, "--quiet"]) == 0
    rejected = pq.read_table(rej)
    assert rejected.column("row").to_pylist() == [7]
    assert rejected.column("reason").to_pylist() == ["NEGATIVE_AMOUNT"]
    assert pq.read_table(out).num_rows == 49
    assert "NEGATIVE_AMOUNT: 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["settle", "{tmp}/none.parquet", "--policy", "wenzhou-2022", "--out", "{tmp}/o"],
            "not found",
        ),
        (
            ["settle", "{claims}", "--policy", "no-such-profile", "--out", "{tmp}/o"],
            "no-such-profile",
        ),
        (["settle", "{accounts}", "--policy", "wenzhou-2022", "--out", "{tmp}/o"], "claim_id"),
        (
            [
                "settle",
                "{claims}",
                "--policy",
                "wenzhou-2022",
                "--out",
                "{tmp}/o",
                "--state-in",
                "{tmp}/x",
            ],
            "state",
        ),
        (["policy", "check", "{tmp}/missing.toml"], "not found"),
        (["policy", "check", "{tmp}/bad.toml"], "bad.toml"),
        (["policy", "show", "no-such-profile"], "no-such-profile"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path, claims_file, capsys, argv, words):
    (tmp_path / "bad.toml").write_text("this is = = not toml\n")
    fill = {
        "tmp": str(tmp_path),
        "claims": str(claims_file),
        "accounts": str(tmp_path / "accounts.parquet"),
    }
    assert main([a.format(**fill) for a in argv]) == 1
    assert words in one_error_line(capsys)


def test_policy_show_lists_parameters_with_sources(capsys):
    assert main(["policy", "show", "wenzhou-2022"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("policy wenzhou-2022 (fingerprint ")
    line = next(line for line in out.splitlines() if "ratio_inpatient.resident" in line)
    assert "[8000, 7500, 7000]" in line and "[FZ]" in line


def test_policy_check_accepts_a_good_file(tmp_path, capsys):
    from importlib import resources

    profile = resources.files("wzmedins") / "policy" / "profiles" / "wenzhou-2022.toml"
    path = tmp_path / "p.toml"
    path.write_text(profile.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK wenzhou-2022")


def test_demo_small(capsys):
    assert main(["demo", "--claims", "3000", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "claims             3,000" in out and "accepted           3,000" in out


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "wzmedins", "synth", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "claims" in done.stdout


def test_summary_names_every_payer():
    from wzmedins.cli import PAYER_LABELS
    from wzmedins.contract import PAYERS

    assert tuple(PAYER_LABELS) == tuple(PAYERS)


def test_settle_an_empty_file_gives_empty_outputs(tmp_path, capsys):
    from wzmedins.synth.claims import CLAIMS_SCHEMA

    path, out, rej = tmp_path / "c.parquet", tmp_path / "o.parquet", tmp_path / "r.parquet"
    pq.write_table(CLAIMS_SCHEMA.empty_table(), path)
    argv = ["settle", str(path), "--policy", "wenzhou-2022", "--out", str(out)]
    argv += ["--rejected", str(rej)]
    assert main([*argv, "--quiet"]) == 0
    settled = pq.read_table(out)
    assert settled.num_rows == 0 and "fund" in settled.column_names
    assert pq.read_table(rej).column_names == ["row", "claim_id", "reason", "message"]
    assert "claims                 0" in capsys.readouterr().out


def test_command_groups_of_other_packages_are_registered(capsys):
    for group in ("drg", "ledger"):
        with pytest.raises(SystemExit) as exit_:
            main([group, "--help"])
        assert exit_.value.code == 0
        assert f"usage: wzmedins {group}" in capsys.readouterr().out


def test_settle_needs_out_or_a_ledger(claims_file, capsys):
    assert main(["settle", str(claims_file), "--policy", "wenzhou-2022"]) == 1
    assert "--out" in one_error_line(capsys)
    argv = ["settle", str(claims_file), "--policy", "wenzhou-2022", "--ledger", "x.duckdb"]
    assert main(argv) == 1
    assert "--batch-id" in one_error_line(capsys)


def test_settle_into_a_ledger(tmp_path, claims_file, capsys):
    pytest.importorskip("duckdb")
    ledger = str(tmp_path / "ledger.duckdb")
    argv = ["settle", str(claims_file), "--policy", "wenzhou-2022", "--ledger", ledger]
    assert main([*argv, "--batch-id", "2022-day-1", "--out", str(tmp_path / "o.parquet")]) == 0
    assert "batch 2022-day-1: 3000 claims, 3000 settled, 0 rejected" in capsys.readouterr().out
    whole = wzmedins.settle(pq.read_table(claims_file), wzmedins.load_policy("wenzhou-2022"))
    assert pq.read_table(tmp_path / "o.parquet").column("fund").equals(whole.settled.column("fund"))
