"""The settlement service under load on loopback: single-claim latency (p50, p99) and claims/s
at 1, 10 and 50 concurrent clients, over a DuckDB file and, when WZMEDINS_PG_URL is set, over
PostgreSQL. Checks afterwards that every claim was stored exactly once. Measures, asserts nothing.

    PYTHONPATH=src:. python benchmarks/bench_service.py [--claims 600] [--clients 1 10 50] [--persons 200]

The server runs as its own process (``wzmedins serve``); the clients are asyncio tasks in this
process. On a 2-core machine both share the cores: the figures include the client's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

import httpx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.service.conftest import Server, settle_call  # noqa: E402

import wzmedins as wz  # noqa: E402


async def load(url: str, key: str, calls: list[dict], clients: int) -> tuple[list[float], list[int], float]:
    queue: asyncio.Queue = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []
    statuses: list[int] = []

    async def client():
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=60) as http:
            while True:
                try:
                    call = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                r = await http.post("/v1/settle", json=call)
                latencies.append(time.perf_counter() - started)
                statuses.append(r.status_code)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def commits(server) -> tuple[float, float, float]:
    """The writer's commits so far: groups, claims, seconds (from /metrics)."""
    with server.client(None) as http:
        metrics = dict(line.rsplit(" ", 1) for line in http.get("/metrics").text.splitlines()
                       if line.startswith("wzmedins_settle_group"))  # fmt: skip
    return tuple(float(metrics[f"wzmedins_settle_group{k}_total"]) for k in ("s", "_claims", "_seconds"))


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def run(backend: str, ledger: str, args) -> list[dict]:
    tmp = pathlib.Path(tempfile.mkdtemp())
    server = Server(tmp, ledger)
    rows = []
    try:
        warm = [settle_call(f"warm-{i}", f"W{i}", "100.00", med_type="11") for i in range(50)]
        asyncio.run(load(server.url, server.keys["H1"], warm, 5))
        del warm
        for clients in args.clients:
            tag = uuid.uuid4().hex[:6]
            calls = [settle_call(f"b{tag}-{i}", f"P{tag}-{i % args.persons}", f"{100 + i % 9000}.{i % 100:02d}",
                                 med_type=("11", "21", "14")[i % 3]) for i in range(args.claims)]  # fmt: skip
            before = commits(server)
            lat, statuses, seconds = asyncio.run(load(server.url, server.keys["H1"], calls, clients))
            after = commits(server)
            counts = server.counts()
            stored = [r["claim_id"] for p in range(min(args.persons, len(calls)))
                      for r in server.claims_of(f"P{tag}-{p}")]  # fmt: skip
            rows.append({
                "backend": backend, "clients": clients, "claims": len(calls),
                "p50_ms": round(quantile(lat, 50) * 1000, 1), "p99_ms": round(quantile(lat, 99) * 1000, 1),
                "claims_per_s": round(len(calls) / seconds, 1), "ok": statuses.count(200),
                "stored": len(stored), "doubled": len(stored) - len(set(stored)), "settled_total": counts["settled"],
            })  # fmt: skip
            groups, claims, commit_seconds = (a - b for a, b in zip(after, before, strict=True))
            rows[-1]["claims_per_commit"] = round(claims / groups, 1)
            rows[-1]["ms_per_commit"] = round(commit_seconds / groups * 1000, 1)
            print(json.dumps(rows[-1]), flush=True)
    finally:
        server.stop()
        if backend == "postgres":
            wz.Ledger(ledger).store.drop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=600, help="claims per concurrency level")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--persons", type=int, default=200, help="distinct persons per level")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    rows = run("duckdb", str(pathlib.Path(tempfile.mkdtemp()) / "bench.duckdb"), args)
    if os.environ.get("WZMEDINS_PG_URL"):
        rows += run("postgres", f"{os.environ['WZMEDINS_PG_URL']}#bench_{uuid.uuid4().hex[:8]}", args)
    print("\n| backend | clients | claims | p50 (ms) | p99 (ms) | claims/s | claims per commit | ms per commit "
          "| answered 200 | stored | doubled |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = ("backend", "clients", "claims", "p50_ms", "p99_ms", "claims_per_s", "claims_per_commit",
                 "ms_per_commit", "ok", "stored", "doubled")  # fmt: skip
        print("| " + " | ".join(str(r[c]) for c in cells) + " |")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
