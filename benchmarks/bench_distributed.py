"""Settling on a Dask cluster: scaling, overhead and a province-year at reduced scale.

One run measures, on synthetic claims written once to Parquet (not timed):

- ``stream``: the single-process stream (``wz.settle_stream`` over the Parquet batches, with
  the opening accounts), the way one machine settles a year;
- ``cluster, 1 worker`` and ``cluster, 2 workers``: ``settle_dataset`` on a ``LocalCluster``
  of that many worker processes (one thread each), ``--partitions`` buckets, from reading the
  Parquet input to the written outputs. Each cluster settles the input once untimed first
  (workers import wzmedins and load numba's cache), then ``--repeat`` timed runs;
- ``bucket memory``: peak RSS of a fresh process settling the whole input in one call (as a
  bucket task does with its bucket), less its RSS just before (input read, numba loaded):
  the working memory per claim a worker needs for its bucket.

Every time is the fastest of ``--repeat`` runs (the machine may be shared). The input has
the shape of a province-year scaled down by ``--scale`` (Zhejiang: about
7 × 10⁸ claims of 5.7 × 10⁷ insured a year, 12.3 claims per person). The extrapolation to the
full province is written in docs/distributed.md.

    python benchmarks/bench_distributed.py                 # scale 1/1000: 700 000 claims
    python benchmarks/bench_distributed.py --scale 1e-4    # seconds
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

PROVINCE_CLAIMS = 700_000_000
PROVINCE_PERSONS = 57_000_000

MEMORY_PROBE = """
import json, resource, sys
import pyarrow.parquet as pq, wzmedins as wz
policy = wz.load_policy("wenzhou-2022")
claims = pq.read_table(sys.argv[1]); accounts = pq.read_table(sys.argv[2])
wz.settle(claims.slice(0, 1000), policy, accounts=accounts)  # numba loads its cache
before = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() // 1024  # current RSS
wz.settle(claims, policy, accounts=accounts)
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would report the parent's peak
after = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print(json.dumps({"claims": claims.num_rows, "kib": after - before, "input_bytes": claims.nbytes}))
"""


def write_input(directory: Path, n_claims: int, n_persons: int, seed: int = 0) -> tuple[Path, Path]:
    from wzmedins.synth import accounts, claim_batches
    from wzmedins.synth.claims import CLAIMS_SCHEMA

    claims = directory / "claims.parquet"
    with pq.ParquetWriter(claims, CLAIMS_SCHEMA) as writer:
        for batch in claim_batches(n_claims, n_persons=n_persons, seed=seed, batch_size=250_000):
            writer.write_batch(batch, row_group_size=250_000)
    pq.write_table(accounts(n_persons, seed=seed), directory / "accounts.parquet")
    return claims, directory / "accounts.parquet"


def time_stream(claims: Path, accounts: Path, policy, repeat: int) -> float:
    import wzmedins as wz
    from wzmedins.tables import iter_batches

    acc = pq.read_table(accounts)
    wz.settle(next(iter_batches(str(claims), 1000)), policy, accounts=acc)  # warm up (numba loads its cache)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for result in wz.settle_stream(iter_batches(str(claims), 1_000_000), policy, accounts=acc):
            result.totals()
        times.append(time.perf_counter() - start)
    return min(times)


def time_cluster(claims: Path, accounts: Path, policy, workers: int, partitions: int, work: Path, repeat: int) -> dict:
    from wzmedins.distributed import connect, settle_dataset

    with connect("local", n_workers=workers) as client:
        settle_dataset(str(claims), policy, work / "warm", accounts=str(accounts), client=client, partitions=partitions)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run = settle_dataset(str(claims), policy, work / f"out{workers}", accounts=str(accounts), client=client,
                                 partitions=partitions)  # fmt: skip
            times.append(time.perf_counter() - start)
        seconds = min(times)
    return {"seconds": seconds, "fund": run.totals["fund"], "settled": run.totals.settled}


def bucket_memory(claims: Path, accounts: Path, rows: int, work: Path) -> dict:
    part = work / "bucket.parquet"
    pq.write_table(pq.read_table(claims).slice(0, rows), part)
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(part), str(accounts)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1e-3, help="fraction of a province-year (default 1/1000)")
    parser.add_argument("--partitions", type=int, default=8, help="buckets (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each; the fastest counts (default 3)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    import wzmedins as wz

    policy = wz.load_policy("wenzhou-2022")
    n_claims = int(PROVINCE_CLAIMS * args.scale)
    n_persons = int(PROVINCE_PERSONS * args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        claims, accounts = write_input(work, n_claims, n_persons)
        stream = time_stream(claims, accounts, policy, args.repeat)
        one = time_cluster(claims, accounts, policy, 1, args.partitions, work, args.repeat)
        two = time_cluster(claims, accounts, policy, 2, args.partitions, work, args.repeat)
        memory = bucket_memory(claims, accounts, n_claims, work)
    assert one["fund"] == two["fund"] and one["settled"] == two["settled"]
    load = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else []
    figures = {
        "claims": n_claims,
        "persons": n_persons,
        "partitions": args.partitions,
        "repeat": args.repeat,
        "stream_s": stream,
        "cluster_1_s": one["seconds"],
        "cluster_2_s": two["seconds"],
        "scaling_2_over_1": one["seconds"] / two["seconds"],
        "overhead_1_worker_over_stream": one["seconds"] / stream,
        "bucket_claims": memory["claims"],
        "bucket_peak_kib": memory["kib"],
        "bucket_bytes_per_claim": memory["kib"] * 1024 / memory["claims"],
        "load_average": load,
        "client_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(f"{n_claims:,} claims of {n_persons:,} persons, {args.partitions} buckets")
    print(f"stream, one process    {stream:8.1f} s  {n_claims / stream:12,.0f} claims/s")
    for label, r in (("cluster, 1 worker ", one), ("cluster, 2 workers", two)):
        print(f"{label}     {r['seconds']:8.1f} s  {n_claims / r['seconds']:12,.0f} claims/s")
    scaling, overhead = figures["scaling_2_over_1"], figures["overhead_1_worker_over_stream"]
    print(f"scaling 2/1 workers {scaling:.2f}x; 1 worker / stream {overhead:.2f}x")
    print(f"one call on {memory['claims']:,} claims: peak +{memory['kib'] / 1024:.0f} MiB "
          f"({figures['bucket_bytes_per_claim']:.0f} bytes/claim); load average {' '.join(load)}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
