"""Capacity of the ledger: daily batches of 100 000 claims settled into a DuckDB file and,
when WZMEDINS_PG_URL is set, into PostgreSQL. Prints seconds per batch and claims/s.

    PYTHONPATH=src:. python benchmarks/ledger_daily.py [--claims 100000] [--days 5] [--persons 200000]
        [--backend duckdb|postgres|both] [--profile PREFIX] [--no-hold]

The issue's case is ``--claims 300000 --persons 2000000 --days 3``. ``--profile PREFIX`` writes
one cProfile file per backend (``PREFIX-duckdb.prof``) covering the batches, not the set-up.

The ledger is one long-lived ``wz.Ledger`` per backend, as a daily job or the service holds
it: a DuckDB file is held open (``hold=True``) where the ledger has that option (``--no-hold``:
opened and closed for each batch). The compiled kernels are loaded by settling a small ledger
first, so no batch pays for compiling. The same script runs against an older checkout (put its
``src`` first on PYTHONPATH) for a ratio within one run.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import inspect
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


def open_ledger(location: str, policy, hold: bool):
    """A long-lived ledger; ``hold`` where this wzmedins has it."""
    if hold and "hold" in inspect.signature(wz.Ledger).parameters:
        return wz.Ledger(location, policy=policy, hold=True)
    return wz.Ledger(location, policy=policy)


def warm_up(policy, hold: bool) -> None:
    """Settle two small batches into a throw-away ledger: every kernel the batches use is compiled
    (or loaded from numba's cache) before the clock starts."""
    ledger = open_ledger(os.path.join(tempfile.mkdtemp(), "warm.duckdb"), policy, hold)
    ledger.load_accounts(random_accounts(1_000, seed=1))
    for k in range(2):
        ledger.settle(random_claims(2_000, 1_000, seed=k, start=dt.date(2022, 3, 1) + dt.timedelta(days=k), days=1,
                                    first_id=k * 2_000, bad_share=0.01), batch_id=f"w{k}")  # fmt: skip
    ledger.close()


def run(location: str, days: list, accounts, policy, profile: str | None = None,
        hold: bool = True) -> tuple[list[float], list[float], float]:  # fmt: skip
    ledger = open_ledger(location, policy, hold)
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
    start = time.perf_counter()
    ledger.close()  # a held DuckDB file writes its checkpoint here, once for all the batches
    return times, cpu, time.perf_counter() - start


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
    ap.add_argument("--no-hold", action="store_true", help="open and close a DuckDB ledger for each batch")
    a = ap.parse_args()
    policy = wz.load_policy("wenzhou-2022")
    days = [random_claims(a.claims, a.persons, seed=k, start=dt.date(2022, 3, 1) + dt.timedelta(days=k), days=1,
                          first_id=k * a.claims, bad_share=0.001) for k in range(a.days)]  # fmt: skip
    accounts = random_accounts(a.persons, seed=99)
    warm_up(policy, not a.no_hold)
    start = time.perf_counter()
    wz.settle(days[0], policy)
    print(f"wz.settle alone, one batch: {time.perf_counter() - start:.2f} s")
    targets = {}
    if a.backend in ("duckdb", "both"):
        targets["duckdb"] = os.path.join(tempfile.mkdtemp(), "bench.duckdb")
    if a.backend in ("postgres", "both") and os.environ.get("WZMEDINS_PG_URL"):
        targets["postgres"] = f"{os.environ['WZMEDINS_PG_URL']}#bench_{uuid.uuid4().hex[:8]}"
    for name, location in targets.items():
        times, cpu, closing = run(location, days, accounts, policy, f"{a.profile}-{name}.prof" if a.profile else None,
                         hold=not a.no_hold)  # fmt: skip
        settle = times[:-1]
        print(f"{name}: {a.days} batches of {a.claims} claims ({a.persons} persons): "
              + ", ".join(f"{x:.2f}" for x in settle) + " s per batch; "
              f"mean {sum(settle) / len(settle):.2f} s = {a.claims * len(settle) / sum(settle):,.0f} claims/s; "
              f"replay {times[-1]:.2f} s; close {closing:.2f} s; CPU of this process per batch "
              + ", ".join(f"{x:.2f}" for x in cpu) + f" s (mean {sum(cpu) / len(cpu):.2f}); "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        if name == "postgres":
            wz.Ledger(location).store.drop()


if __name__ == "__main__":
    main()
