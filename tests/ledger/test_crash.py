"""Crash safety and writers: a process killed in the middle of a commit leaves the ledger as it
was; a second writer waits or is refused, and never interleaves with the first."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from tests.ledger.claims import by_date, random_claims
from wzmedins.ledger import LedgerBusyError
from wzmedins.ledger.store import PAUSE_ENV, PAUSE_SECONDS_ENV

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys, pyarrow.parquet as pq, wzmedins as wz
ledger = wz.Ledger(sys.argv[1], policy="wenzhou-2022", lock_timeout=60)
out = ledger.settle(pq.read_table(sys.argv[2]), batch_id=sys.argv[3])
print(out.settled.num_rows)
"""


def start_writer(location: str, batch: pa.Table, batch_id: str, tmp_path: Path, pause: float) -> tuple:
    """A separate process settling ``batch`` that stops inside its commit for ``pause`` s."""
    path = tmp_path / f"{batch_id}.parquet"
    pq.write_table(batch, path)
    ready = tmp_path / f"{batch_id}.ready"
    env = {**os.environ, PAUSE_ENV: str(ready), PAUSE_SECONDS_ENV: str(pause),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", WRITER, location, str(path), batch_id], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"writer exited early: {proc.stderr.read()}")
        assert time.monotonic() < deadline, "writer never reached its commit"
        time.sleep(0.05)
    return proc


def snapshot(ledger) -> dict:
    return {n: ledger.table(n).to_pylist() for n in ("settled", "rejected", "state", "accounts", "batches")}


def by_id(table):
    return {r["claim_id"]: r for r in table.to_pylist()}


@pytest.fixture
def days():
    claims = random_claims(600, 40, seed=21, bad_share=0.01)
    return claims, by_date(claims, [dt.date(2022, 5, 1), dt.date(2022, 9, 1)])


def test_sigkill_in_commit_leaves_ledger_as_before(location, policy, days, tmp_path):
    """A writer stopped inside its commit holds the ledger: an impatient second writer is
    refused. Killed there, it leaves the ledger exactly as before, and the batch settles again."""
    claims, (d1, d2, d3) = days
    ledger = wz.Ledger(location, policy=policy)
    ledger.settle(d1, batch_id="d1")
    before = snapshot(ledger)
    proc = start_writer(location, d2, "d2", tmp_path, pause=600)
    try:
        impatient = wz.Ledger(location, policy=policy, lock_timeout=0.5)
        with pytest.raises(LedgerBusyError):
            impatient.settle(d3, batch_id="d3")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(ledger) == before
    # the batch can be settled again, and everything comes out as one settlement would
    ledger.settle(d2, batch_id="d2")
    ledger.settle(d3, batch_id="d3")
    whole = wz.settle(claims, policy)
    stored = ledger.table("settled").select(whole.settled.column_names)
    assert by_id(stored) == by_id(whole.settled)
    assert ledger.batches()["batch_id"].to_pylist() == ["d1", "d2", "d3"]


def test_second_writer_waits_and_sees_the_first(location, policy, days, tmp_path):
    """The waiting writer settles against the state the first one committed: the result is
    that of settling both batches in commit order."""
    claims, (d1, d2, d3) = days
    ledger = wz.Ledger(location, policy=policy, lock_timeout=60)
    ledger.settle(d1, batch_id="d1")
    proc = start_writer(location, d2, "d2", tmp_path, pause=2)
    started = time.monotonic()
    ledger.settle(d3, batch_id="d3")
    waited = time.monotonic() - started
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert waited > 0.5
    assert ledger.batches()["batch_id"].to_pylist() == ["d1", "d2", "d3"]
    whole = wz.settle(claims, policy)
    assert by_id(ledger.table("settled").select(whole.settled.column_names)) == by_id(whole.settled)


def test_writers_in_threads_take_turns(location, policy, days):
    """Ledger objects on the same ledger in two threads: both batches commit, one after the
    other, each against what the other committed (different persons' days commute)."""
    claims, _ = days
    persons = sorted(set(claims["person_id"].to_pylist()))
    half = pa.array(persons[: len(persons) // 2])
    mine = claims.filter(pc.is_in(claims["person_id"], value_set=half))
    theirs = claims.filter(pc.invert(pc.is_in(claims["person_id"], value_set=half)))
    errors = []

    def work(batch, batch_id):
        try:
            wz.Ledger(location, policy=policy, lock_timeout=60).settle(batch, batch_id=batch_id)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(b, i)) for b, i in ((mine, "a"), (theirs, "b"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    ledger = wz.Ledger(location, policy=policy)
    assert sorted(ledger.batches()["batch_id"].to_pylist()) == ["a", "b"]
    whole = wz.settle(claims, policy)
    assert by_id(ledger.table("settled").select(whole.settled.column_names)) == by_id(whole.settled)
