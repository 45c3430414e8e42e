"""Capacity of the ledger: daily batches of 100 000 claims settled into a DuckDB file and,
when WZMEDINS_PG_URL is set, into PostgreSQL. Prints seconds per batch and claims/s.

    PYTHONPATH=src:. python benchmarks/ledger_daily.py [--claims 100000] [--days 5] [--persons 200000]
        [--backend duckdb|postgres|both] [--profile PREFIX]

The issue's case is ``--claims 300000 --persons 2000000 --days 3``. ``--profile PREFIX`` writes
one cProfile file per backend (``PREFIX-duckdb.prof``) covering the batches, not the set-up.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import resource
import tempfile
import time
import uuid

from tests.ledger.claims import random_accounts, random_claims

import wzmedins as wz


def cpu_seconds() -> float:
    """User + system CPU of this process, all its threads (DuckDB's included; not a server's)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(location: str, days: list, accounts, policy, profile: str | None = None) -> tuple[list[float], list[float]]:
    ledger = wz.Ledger(location, policy=policy)
    ledger.load_accounts(accounts)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    times, cpu = [], []
    for k, batch in enumerate(days):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        ledger.settle(batch, batch_id=f"day-{k}")
        times.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
    start = time.perf_counter()
    ledger.settle(days[-1], batch_id=f"day-{len(days) - 1}")
    times.append(time.perf_counter() - start)  # the replay of the last batch
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return times, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument(
        "--backend",
        choices=("duckdb", "postgres", "both"),
        default="both",
        help="postgres needs WZMEDINS_PG_URL (source .ci/postgres.sh)",
    )
    ap.add_argument("--profile", metavar="PREFIX", help="write PREFIX-<backend>.prof (cProfile of the batches)")
    a = ap.parse_args()
    policy = wz.load_policy("wenzhou-2022")
    days = [random_claims(a.claims, a.persons, seed=k, start=dt.date(2022, 3, 1) + dt.timedelta(days=k), days=1,
                          first_id=k * a.claims, bad_share=0.001) for k in range(a.days)]  # fmt: skip
    accounts = random_accounts(a.persons, seed=99)
    wz.settle(days[0].slice(0, 100), policy)  # compile / load the kernel cache
    start = time.perf_counter()
    wz.settle(days[0], policy)
    print(f"wz.settle alone, one batch: {time.perf_counter() - start:.2f} s")
    targets = {}
    if a.backend in ("duckdb", "both"):
        targets["duckdb"] = os.path.join(tempfile.mkdtemp(), "bench.duckdb")
    if a.backend in ("postgres", "both") and os.environ.get("WZMEDINS_PG_URL"):
        targets["postgres"] = f"{os.environ['WZMEDINS_PG_URL']}#bench_{uuid.uuid4().hex[:8]}"
    for name, location in targets.items():
        times, cpu = run(location, days, accounts, policy, f"{a.profile}-{name}.prof" if a.profile else None)
        settle = times[:-1]
        print(f"{name}: {a.days} batches of {a.claims} claims ({a.persons} persons): "
              + ", ".join(f"{x:.2f}" for x in settle) + " s per batch; "
              f"mean {sum(settle) / len(settle):.2f} s = {a.claims * len(settle) / sum(settle):,.0f} claims/s; "
              f"replay {times[-1]:.2f} s; CPU of this process per batch "
              + ", ".join(f"{x:.2f}" for x in cpu) + f" s (mean {sum(cpu) / len(cpu):.2f})")  # fmt: skip
        if name == "postgres":
            wz.Ledger(location).store.drop()


if __name__ == "__main__":
    main()
