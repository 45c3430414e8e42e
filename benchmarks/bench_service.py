"""The settlement service under load on loopback: single-claim latency (p50, p99) and claims/s
at 1, 10 and 50 concurrent clients, over a DuckDB file and, when WZMEDINS_PG_URL is set, over
PostgreSQL. Checks afterwards that every claim was stored exactly once. Measures, asserts nothing.

    PYTHONPATH=src:. python benchmarks/bench_service.py [--claims 600] [--clients 1 10 50] [--persons 200]
        [--backends duckdb postgres] [--py-spy PATH --profile-dir DIR] [--out rows.json]

The server runs as its own process (``wzmedins serve``); the clients are asyncio tasks in this
process, each with one keep-alive connection (a minimal HTTP/1.1 client over loopback, so that
the clients take little of the cores they share with the server). On a 2-core machine both
share the cores: the figures include the client's own cost, which is reported as the CPU time
of this process per claim (``client_cpu_ms``), beside the server process's (``server_cpu_ms``,
from ``/proc``). ``--py-spy`` samples the server's threads during each level's load (raw
stacks, one file per level).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.service.conftest import Server, settle_call  # noqa: E402

import wzmedins as wz  # noqa: E402


class Connection:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams: the benchmark's clients share
    the server's two cores, and httpx costs several times the server's own work per call."""

    def __init__(self, host: str, port: int, key: str):
        self.host, self.port, self.key = host, port, key
        self.reader = self.writer = None

    async def post(self, path: str, body: dict) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nX-API-Key: {self.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), None)
        if length is None:
            raise RuntimeError("the benchmark's client reads only answers with a Content-Length")
        await self.reader.readexactly(length)
        return int(lines[0].split(" ", 2)[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def load(url: str, key: str, calls: list[dict], clients: int) -> tuple[list[float], list[int], float]:
    queue: asyncio.Queue = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    latencies: list[float] = []
    statuses: list[int] = []
    host, port = url.split("://", 1)[1].rsplit(":", 1)

    async def client():
        http = Connection(host, int(port), key)
        try:
            while True:
                try:
                    call = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                status = await http.post("/v1/settle", call)
                latencies.append(time.perf_counter() - started)
                statuses.append(status)
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def commits(server) -> tuple[float, float, float]:
    """The writer's commits so far: groups, claims, seconds (from /metrics)."""
    with server.client(None) as http:
        metrics = dict(line.rsplit(" ", 1) for line in http.get("/metrics").text.splitlines()
                       if line.startswith("wzmedins_settle_group"))  # fmt: skip
    return tuple(float(metrics[f"wzmedins_settle_group{k}_total"]) for k in ("s", "_claims", "_seconds"))


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its waited-for children (Linux /proc)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu(server) -> float:
    """CPU seconds of the server's process and of its children (front processes, if any)."""
    pids = [server.proc.pid]
    children = pathlib.Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    if children.exists():
        pids += [int(x) for x in children.read_text().split()]
    return sum(cpu_seconds(p) for p in pids)


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
            spy = None
            if args.py_spy:  # sample the server's threads during the load only
                out = f"{args.profile_dir}/{backend}-{clients}.txt"
                spy = subprocess.Popen([args.py_spy, "record", "-p", str(server.proc.pid), "-r", "250", "-f", "raw",
                                        "--threads", "--subprocesses", "--nonblocking", "-o", out],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                time.sleep(1.0)
            cpu_before, own_before = server_cpu(server), time.process_time()
            lat, statuses, seconds = asyncio.run(load(server.url, server.keys["H1"], calls, clients))
            cpu_after, own_after = server_cpu(server), time.process_time()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            after = commits(server)
            counts = server.counts()
            stored = [r["claim_id"] for p in range(min(args.persons, len(calls)))
                      for r in server.claims_of(f"P{tag}-{p}")]  # fmt: skip
            rows.append({
                "backend": backend, "clients": clients, "claims": len(calls),
                "p50_ms": round(quantile(lat, 50) * 1000, 1), "p99_ms": round(quantile(lat, 99) * 1000, 1),
                "claims_per_s": round(len(calls) / seconds, 1), "ok": statuses.count(200),
                "stored": len(stored), "doubled": len(stored) - len(set(stored)), "settled_total": counts["settled"],
                "server_cpu_ms": round((cpu_after - cpu_before) / len(calls) * 1000, 2),
                "client_cpu_ms": round((own_after - own_before) / len(calls) * 1000, 2),
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
    ap.add_argument("--backends", nargs="+", default=["duckdb", "postgres"], choices=["duckdb", "postgres"])
    ap.add_argument("--py-spy", metavar="PATH", help="py-spy executable: sample the server during each level's load")
    ap.add_argument("--profile-dir", default=".", help="where --py-spy writes BACKEND-CLIENTS.txt (raw stacks)")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    rows = []
    if "duckdb" in args.backends:
        rows += run("duckdb", str(pathlib.Path(tempfile.mkdtemp()) / "bench.duckdb"), args)
    if "postgres" in args.backends and os.environ.get("WZMEDINS_PG_URL"):
        rows += run("postgres", f"{os.environ['WZMEDINS_PG_URL']}#bench_{uuid.uuid4().hex[:8]}", args)
    print("\n| backend | clients | claims | p50 (ms) | p99 (ms) | claims/s | claims per commit | ms per commit "
          "| server CPU ms/claim | client CPU ms/claim | answered 200 | stored | doubled |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = ("backend", "clients", "claims", "p50_ms", "p99_ms", "claims_per_s", "claims_per_commit",
                 "ms_per_commit", "server_cpu_ms", "client_cpu_ms", "ok", "stored", "doubled")  # fmt: skip
        print("| " + " | ".join(str(r[c]) for c in cells) + " |")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
