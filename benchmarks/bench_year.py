"""One city-year at ``--scale`` claims (issue 14, item 5), one run in a fresh process, written as JSON.

Measures the synthetic claims generator alone (claims, stays and communities, no settling) and
then ``wz.year.run`` end to end with ``out`` on disk: the stage timings, the claims stage by
step, the peak RSS after each stage, the wall time of the whole process (inputs, stages,
report) and the disk taken by the settled parts. Free disk is checked first: the settled parts
take about 40 bytes a claim.

    PYTHONPATH=src python benchmarks/bench_year.py --scale 1e7 --out /tmp/year-1e7 --json /tmp/year.json

Timings are wall seconds on whatever machine runs it, and the machine may be shared: say so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

BYTES_PER_CLAIM_ON_DISK = 40  # settled parts with the carried columns, snappy (measured at 1e7: 37)


def generator_rate(scale: int, seed: int) -> dict:
    """Claims per second of the synthetic year's claims stream (generation, stays, communities)."""
    from wzmedins import year

    inputs = year.synthetic(min(scale, 2_000_000), seed=seed)
    next(iter(inputs.claims()))  # compile or load the generator before the clock
    start, cpu = time.perf_counter(), time.process_time()
    rows = sum(b.num_rows for b in inputs.claims())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"claims": rows, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "claims_per_second": round(rows / seconds)}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--json")
    parser.add_argument("--settled", action="store_true", help="also write the settled claims")
    args = parser.parse_args(argv)
    scale = int(args.scale)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out).free
    if free < 2 * BYTES_PER_CLAIM_ON_DISK * scale:
        raise SystemExit(f"{out}: {free / 2**30:.1f} GB free, the settled parts need about "
                         f"{BYTES_PER_CLAIM_ON_DISK * scale / 2**30:.1f} GB: choose another --out")  # fmt: skip
    start = time.perf_counter()
    from wzmedins import year

    report = {"scale": scale, "generator": generator_rate(scale, args.seed)}
    t0 = time.perf_counter()
    res = year.run(scale, seed=args.seed, out=out, settled=args.settled)
    t1 = time.perf_counter()
    year.render(res, out)
    report.update(
        run_seconds=round(t1 - t0, 1),
        render_seconds=round(time.perf_counter() - t1, 1),
        wall_seconds_with_generator_probe=round(time.perf_counter() - start, 1),
        stages=res.timings,
        claims_stage=res.claims_timings,
        cpu_seconds=res.cpu_seconds,
        peak_rss_mb=res.peak_rss_mb,
        settled_parts_bytes=sum(p.stat().st_size for p in (out / "settled").glob("*.parquet")),
        out_bytes=sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
        checks_held=res.ok,
        counts=res.counts,
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
