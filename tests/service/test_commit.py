"""Group commit: claims of many calls committed in one transaction, each answered with its own
row; and a service killed between settling a group and committing it loses nothing and doubles
nothing (the client's retry with the same msgid settles the claim once)."""

from __future__ import annotations

import collections
import concurrent.futures
import datetime as dt
import os
import signal
import time

import httpx
import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.ledger.store import PAUSE_ENV, PAUSE_SECONDS_ENV
from wzmedins.service.stores import open_ledger
from wzmedins.service.writer import Inbox, Writer

from .conftest import Server, postgres_location, settle_call, uid

POLICY = wz.load_policy("wenzhou-2022")


def _claim(i: int, person: str, cost: int) -> dict:
    return {"claim_id": f"g{i}", "person_id": person, "settle_date": dt.date(2022, 6, 1), "seq": 0,
            "scheme": "resident", "category": "adult", "visit_type": "inpatient", "facility_level": "secondary",
            "area": "local", "assistance": "none", "total_cost": cost, "self_pay": 0, "class_b_self_pay": 0,
            "reverses": None}  # fmt: skip


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def location(request, tmp_path):
    where = str(tmp_path / "l.duckdb") if request.param == "duckdb" else postgres_location()
    yield where
    if request.param == "postgres":
        wz.Ledger(where).store.drop()


def test_a_group_of_claims_is_one_commit(location):
    ledger = open_ledger(location, policy=POLICY, lock_timeout=30)
    try:
        writer = Writer.__new__(Writer)  # the writer's steps without its thread, so the group is known
        writer.ledger, writer.max_group, writer.on_group = ledger, 256, None
        writer._held, writer._queue = collections.deque(), Inbox()
        # p1 twice: its second claim must wait for the next group
        claims = [_claim(0, "p1", 200_000), _claim(1, "p2", 50_000), _claim(2, "p1", 300_000), _claim(3, "p3", 900)]
        futures = [writer.submit(c) for c in claims]
        group, _ = writer._next_group()
        assert [j.claim["claim_id"] for j in group] == ["g0", "g1", "g3"]
        writer._settle(group)
        group, _ = writer._next_group()
        writer._settle(group)
        outcomes = [f.result(0) for f in futures]
        with ledger.store.transaction(write=False) as tx:
            batches = tx.query("SELECT batch_id, n_rows FROM batches ORDER BY seqno").to_pylist()
            stored = tx.query("SELECT claim_id, batch_id, fund FROM settled ORDER BY claim_id").to_pylist()
        assert [b["n_rows"] for b in batches] == [3, 1]  # two transactions for four claims
        assert [r["batch_id"] for r in stored] == [batches[0]["batch_id"]] * 2 + [batches[1]["batch_id"]] + [
            batches[0]["batch_id"]]  # fmt: skip
        # each call gets its own row, and the rows equal wz.settle of the claims in arrival order
        want = wz.settle(pa.Table.from_pylist(claims).drop_columns(["reverses"]), POLICY).settled.to_pylist()
        assert [o.settled["claim_id"] for o in outcomes] == ["g0", "g1", "g2", "g3"]
        for o, w in zip(outcomes, want, strict=True):
            assert {k: o.settled[k] for k in ("fund", "deductible", "cash")} == {
                k: w[k] for k in ("fund", "deductible", "cash")
            }
            assert [s["person_id"] for s in o.state] == [w["person_id"]]
        assert outcomes[2].state[0]["inpatient_deductible_used"] == want[0]["deductible"] + want[2]["deductible"]
        assert [r["fund"] for r in stored] == [w["fund"] for w in want]
    finally:
        ledger.close()


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_between_settle_and_commit_loses_and_doubles_nothing(backend, tmp_path, monkeypatch):
    ledger = str(tmp_path / "l.duckdb") if backend == "duckdb" else postgres_location()
    ready = tmp_path / "in-commit"
    monkeypatch.setenv(PAUSE_ENV, str(ready))
    monkeypatch.setenv(PAUSE_SECONDS_ENV, "600")
    server = Server(tmp_path, ledger)  # its writer stops inside the commit, after every write
    monkeypatch.delenv(PAUSE_ENV)
    u = uid()
    calls = [settle_call(f"k{u}-{i}", f"K{u}-{i}", "5000.00") for i in range(3)]
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            sent = [pool.submit(_post, server, call) for call in calls]
            deadline = time.monotonic() + 60
            while not ready.exists():
                assert time.monotonic() < deadline, "the writer never reached its commit"
                time.sleep(0.05)
            os.kill(server.proc.pid, signal.SIGKILL)  # settled in memory, not committed
            for f in sent:
                with pytest.raises(httpx.HTTPError):
                    f.result(30)
        server.stop()
        (tmp_path / "again").mkdir()
        again = Server(tmp_path / "again", ledger)
        try:
            assert again.counts()["settled"] == 0  # nothing of the killed group was stored
            with again.client("H1") as http:
                first = [http.post("/v1/settle", json=c).json() for c in calls]  # the clients' retries
                retry = [http.post("/v1/settle", json=c).json() for c in calls]
            assert [a["replayed"] for a in first] == [False] * 3 and [a["replayed"] for a in retry] == [True] * 3
            assert [a["output"]["setlinfo"]["hifp_pay"] for a in first] == [
                a["output"]["setlinfo"]["hifp_pay"] for a in retry]  # fmt: skip
            assert again.counts()["settled"] == 3
            assert [len(again.claims_of(f"K{u}-{i}")) for i in range(3)] == [1, 1, 1]
        finally:
            again.stop()
    finally:
        if server.proc.poll() is None:
            server.stop()
        if backend == "postgres":
            wz.Ledger(ledger).store.drop()


def _post(server: Server, call: dict):
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.keys["H1"]}, timeout=60) as http:
        return http.post("/v1/settle", json=call)
