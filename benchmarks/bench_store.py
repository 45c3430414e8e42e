"""The state store against its targets (issue 8), one run, ratios printed and written as JSON.

- ``settle``: ``wz.settle`` end to end (string ids, dictionary enums as synth writes them)
  against the polars peer of the core rules (``benchmarks/peers/polars_peer.py``: steps 0, 1,
  3, 4 only), at each ``--sizes``; on all cores and on one;
- ``stream``: ``wz.settle_stream`` over ``--stream`` claims in batches of ``--batch`` with
  ``--persons-small`` and ``--persons-large`` persons carried (batches generated before the
  clock starts), and the polars peer on the same claims in one batch without state;
- ``kernel``: claims per second of the compiled loop alone on one thread
  (``Settler.kernel_seconds``), every rule on;
- ``files``: ``wzmedins settle``'s library function, Parquet on disk to Parquet on disk
  (``--files`` claims of ``--files-persons`` persons), with peak RSS of a fresh process.

    PYTHONPATH=src:. python benchmarks/bench_store.py --sizes 2e6 1e7 --stream 4e6 --json /tmp/store.json

Timings are wall seconds on whatever machine runs it; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def bench_settle(sizes, policy, report) -> None:
    from benchmarks.peers import polars_peer

    import wzmedins as wz
    from wzmedins import synth
    from wzmedins.settle import store

    wz.settle(synth.claims(1000, seed=1), policy)  # warm: numba loads its cache
    rows, store.PARTITION_ROWS = store.PARTITION_ROWS, 100  # ... and starts its thread pool
    wz.settle(synth.claims(10_000, seed=1), policy, threads=2)
    store.PARTITION_ROWS = rows
    polars_peer.settle(synth.claims(1000, seed=1), policy)
    for n in sizes:
        claims = synth.claims(n, seed=2022)
        peer, _ = timed(polars_peer.settle, claims, policy)
        ours, _ = timed(wz.settle, claims, policy)
        one, out = timed(wz.settle, claims, policy, threads=1)
        row = {"claims": n, "polars_s": peer, "wz_s": ours, "wz_1thread_s": one, "ratio": peer / ours,
               "ratio_1thread": peer / one, "rejected": out.rejected.num_rows}  # fmt: skip
        report["settle"].append(row)
        print(f"settle {n:>11,}: polars peer {peer:6.2f} s, wz.settle {ours:6.2f} s ({peer / ours:4.1f}x), "
              f"one thread {one:6.2f} s ({peer / one:4.1f}x)", flush=True)  # fmt: skip
        del claims, out


def bench_stream(n, batch, persons, policy, report) -> None:
    import pyarrow as pa
    from benchmarks.peers import polars_peer

    import wzmedins as wz
    from wzmedins import synth

    for p in persons:
        batches = list(synth.claim_batches(n, n_persons=p, seed=7, batch_size=batch))
        settler = wz.Settler(policy, threads=1)
        warm = wz.Settler(policy)
        warm.settle(batches[0].slice(0, 100))
        start = time.perf_counter()
        for b in batches:
            settler.settle(b)
        seconds = time.perf_counter() - start
        peer, _ = timed(polars_peer.settle, pa.Table.from_batches(batches), policy)
        row = {"claims": n, "batch": batch, "persons": p, "seconds": seconds, "rate": n / seconds,
               "kernel_rate_1thread": n / settler.kernel_seconds, "polars_one_batch_s": peer,
               "vs_polars": peer / seconds}  # fmt: skip
        report["stream"].append(row)
        print(f"stream {n:,} claims, batches of {batch:,}, {p:>10,} persons: {n / seconds / 1e6:5.2f} M claims/s "
              f"(one thread), kernel {n / settler.kernel_seconds / 1e6:5.1f} M claims/s, "
              f"polars peer one batch {peer:5.2f} s ({peer / seconds:4.2f}x)", flush=True)  # fmt: skip
        del batches, settler
    small, large = report["stream"][-2], report["stream"][-1]
    print(f"stream rate at {large['persons']:,} persons / at {small['persons']:,}: {large['rate'] / small['rate']:.2f}")


FILES_CHILD = """
import resource, sys, time
import wzmedins as wz
from wzmedins.process import tune
from wzmedins.settle.files import settle_to_files
tune()  # as the command line does
policy = wz.load_policy("wenzhou-2022")
start = time.perf_counter()
done = settle_to_files(sys.argv[1], policy, out=sys.argv[2], rejected_out=sys.argv[3], batch_size=1 << 20,
                       settler=wz.Settler(policy, remember_claims=sys.argv[4] == "1"))
seconds = time.perf_counter() - start
print(seconds, done.rows, done.settler.kernel_seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_files(n, persons, remember, report) -> None:
    import pyarrow.parquet as pq

    from wzmedins import synth

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "claims.parquet")
        writer = None
        for b in synth.claim_batches(n, n_persons=persons, seed=11, batch_size=1 << 20):
            writer = writer or pq.ParquetWriter(src, b.schema)
            writer.write_batch(b, row_group_size=1 << 20)
        writer.close()
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", FILES_CHILD, src, os.path.join(tmp, "settled.parquet"),
                               os.path.join(tmp, "rejected.parquet"), "1" if remember else "0"],
                              env=env, capture_output=True, text=True, check=True)  # fmt: skip
        wall = time.perf_counter() - start
        seconds, rows, kernel, rss_kb = proc.stdout.split()
        row = {"claims": n, "persons": persons, "remember_claims": remember, "settle_s": float(seconds),
               "wall_s": wall, "kernel_s": float(kernel), "peak_rss_gb": int(rss_kb) / 2**20}  # fmt: skip
        report["files"].append(row)
        print(f"files {n:,} claims of {persons:,} persons: settling {float(seconds):.1f} s, wall {wall:.1f} s "
              f"(process start included), peak RSS {int(rss_kb) / 2**20:.2f} GB", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=float, nargs="*", default=[2e6])
    ap.add_argument("--stream", type=float, default=4e6)
    ap.add_argument("--batch", type=float, default=2e5)
    ap.add_argument("--persons-small", type=float, default=2e5)
    ap.add_argument("--persons-large", type=float, default=4e6)
    ap.add_argument("--files", type=float, default=0)
    ap.add_argument("--files-persons", type=float, default=0)
    ap.add_argument("--remember-claims", action="store_true")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    import wzmedins as wz
    from wzmedins.process import tune

    tune()  # the allocator settings the command line uses (docs/performance.md, "Fresh memory")
    policy = wz.load_policy("wenzhou-2022")
    report = {"cpus": os.cpu_count(), "settle": [], "stream": [], "files": []}
    if a.sizes:
        bench_settle([int(s) for s in a.sizes], policy, report)
    if a.stream:
        bench_stream(int(a.stream), int(a.batch), [int(a.persons_small), int(a.persons_large)], policy, report)
    if a.files:
        bench_files(int(a.files), int(a.files_persons or a.files // 10), a.remember_claims, report)
    report["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
