"""A ledger held open (``hold=True``): the same rows as one opened for each batch, a commit
survives a killed process, another process waits for the file, the vacuum keeps the rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from tests.ledger.claims import by_date, random_accounts, random_claims
from wzmedins.ledger import LedgerBusyError, duckdb_store
from wzmedins.ledger.batch import content_hash

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("settled", "rejected", "state", "accounts", "batches", "state_saved")


def contents(ledger) -> dict:
    drop = {"committed_at"}
    return {n: [{k: v for k, v in r.items() if k not in drop} for r in ledger.table(n).to_pylist()] for n in TABLES}


@pytest.fixture
def days():
    claims = random_claims(900, 60, seed=5, bad_share=0.02)
    return by_date(claims, [dt.date(2022, 4, 1), dt.date(2022, 7, 1), dt.date(2022, 10, 1)])


def test_held_equals_opened_each_time(tmp_path, policy, days, monkeypatch):
    """Batch after batch, a void and a restore, through a held file and through a file opened
    for each operation (checkpoints vacuuming at every second generation): the same tables."""
    monkeypatch.setattr(duckdb_store, "VACUUM_EVERY", 2)
    accounts = random_accounts(60, seed=3)
    plain = wz.Ledger(tmp_path / "plain.duckdb", policy=policy)
    with wz.Ledger(tmp_path / "held.duckdb", policy=policy, hold=True) as held:
        for ledger in (plain, held):
            ledger.load_accounts(accounts)
            for k, day in enumerate(days):
                ledger.settle(day, batch_id=f"d{k}")
            ledger.void(f"d{len(days) - 1}")
            ledger.restore(f"d{len(days) - 1}")
            ledger.settle(days[0], batch_id="d0")  # a replay
        assert contents(held) == contents(plain)
        person = days[0]["person_id"][0].as_py()
        assert held.statement(person, 2022).to_text() == plain.statement(person, 2022).to_text()
    reopened = wz.Ledger(tmp_path / "held.duckdb", create=False)  # closed (vacuumed): opens as any ledger
    assert contents(reopened) == contents(plain)


KILLED_AFTER_COMMIT = """
import os, signal, sys, pyarrow.parquet as pq, wzmedins as wz
ledger = wz.Ledger(sys.argv[1], policy="wenzhou-2022", hold=True)
for k, path in enumerate(sys.argv[2:]):
    ledger.settle(pq.read_table(path), batch_id=f"d{k}")
print("committed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint: the commits are in the log
"""


def test_commit_survives_a_killed_holder(tmp_path, policy, days):
    paths = []
    for k, day in enumerate(days):
        paths.append(str(tmp_path / f"d{k}.parquet"))
        pq.write_table(day, paths[-1])
    location = str(tmp_path / "held.duckdb")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, location, *paths], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "committed" in proc.stdout
    expected = wz.Ledger(tmp_path / "expected.duckdb", policy=policy)
    for k, day in enumerate(days):
        expected.settle(day, batch_id=f"d{k}")
    assert contents(wz.Ledger(location, create=False)) == contents(expected)


HOLDER = """
import sys, time, wzmedins as wz
ledger = wz.Ledger(sys.argv[1], policy="wenzhou-2022", hold=True)
ledger.batches()  # opens the file
print("open", flush=True)
time.sleep(120)
"""


def test_another_process_waits_for_a_held_file(tmp_path, policy, days):
    location = str(tmp_path / "held.duckdb")
    wz.Ledger(location, policy=policy).settle(days[0], batch_id="d0")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, location], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        with pytest.raises(LedgerBusyError):
            wz.Ledger(location, policy=policy, lock_timeout=0.3).settle(days[1], batch_id="d1")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert wz.Ledger(location, policy=policy).settle(days[1], batch_id="d1").settled.num_rows > 0


def test_content_hash_is_sha256_of_the_ipc_stream():
    """The hash is streamed into SHA-256; it must equal the digest of the whole stream written to
    a buffer (what ledgers written before stored), or replays of their batches would conflict."""
    table = random_claims(500, 50, seed=9)
    names = sorted(table.column_names)
    sink = pa.BufferOutputStream()
    canon = table.select(names)
    with pa.ipc.new_stream(sink, canon.schema) as writer:
        writer.write_table(canon)
    assert content_hash(table) == hashlib.sha256(sink.getvalue()).hexdigest()
