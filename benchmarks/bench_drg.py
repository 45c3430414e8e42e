"""DRG capacity: score 2M cases and clear them, calibrate on 3M history cases.

Reports cases per second for the kernels alone, end to end (Arrow in, Arrow out) and for the
pure-Python reference, all measured in the same run on the same machine. Measures; asserts
nothing about speed.

    PYTHONPATH=src python benchmarks/bench_drg.py [--cases 2000000] [--history 3000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import pyarrow as pa

import wzmedins.drg as drg
from wzmedins.drg import _kernel
from wzmedins.reference import drg as ref
from wzmedins.synth.drg import generate, suggested_budgets


class KernelTimer:
    """Wraps kernels of ``_kernel`` to add up the time spent inside them."""

    def __init__(self, *names):
        self.names, self.seconds, self.saved = names, 0.0, {}

    def __enter__(self):
        for name in self.names:
            orig = self.saved[name] = getattr(_kernel, name)

            def timed(*a, _orig=orig, **k):
                t = time.perf_counter()
                out = _orig(*a, **k)
                self.seconds += time.perf_counter() - t
                return out

            setattr(_kernel, name, timed)
        return self

    def __exit__(self, *exc):
        for name, orig in self.saved.items():
            setattr(_kernel, name, orig)


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def reference_rows(cases: pa.Table, n: int):
    t = cases.slice(0, n)
    d = {c: t.column(c).to_pylist() for c in t.column_names}
    rows = []
    for i in range(t.num_rows):
        mp, bp = d["manual_points"][i], d["bonus_points"][i]
        rows.append(
            {
                "person_id": d["person_id"][i],
                "hospital_id": d["hospital_id"][i],
                "drg_code": d["drg_code"][i],
                "total_cost": d["total_cost"][i],
                "admit_date": d["admit_date"][i].toordinal(),
                "discharge_date": d["discharge_date"][i].toordinal(),
                "los": d["los"][i],
                "manual_points": None if mp is None else int(mp.scaleb(4)),
                "bonus_points": 0 if bp is None else int(bp.scaleb(4)),
            }
        )
    return rows


def reference_catalog(catalog: pa.Table, coefficients: pa.Table):
    cat = {
        r["drg_code"]: {
            "base": None if r["base_points"] is None else int(r["base_points"].scaleb(4)),
            "stable": r["stable"],
            "basic": r["basic"],
            "daily": None if r["daily_points"] is None else int(r["daily_points"].scaleb(4)),
        }
        for r in catalog.to_pylist()
    }
    coef = {(r["hospital_id"], r["drg_code"]): int(r["coefficient"].scaleb(4)) for r in coefficients.to_pylist()}
    return cat, coef


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2_000_000)
    ap.add_argument("--history", type=int, default=3_000_000)
    ap.add_argument("--reference", type=int, default=20_000, help="cases through the pure-Python twin")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    print(
        f"wzmedins DRG benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        "single-threaded kernels"
    )
    t = time.perf_counter()
    data = generate(args.cases, seed=42, n_hospitals=60)
    hist_n = min(args.history, data["history"].num_rows)
    if hist_n < args.history:
        extra = generate(args.history - hist_n, seed=43, n_hospitals=60)["history"]
        history = pa.concat_tables([data["history"], extra.cast(data["history"].schema)])
    else:
        history = data["history"].slice(0, args.history)
    print(f"generated {args.cases:,} cases and {history.num_rows:,} history cases in {time.perf_counter() - t:.1f} s")
    cases, catalog, coefficients = data["cases"], data["catalog"], data["coefficients"]
    budgets = suggested_budgets(cases, 9_800)

    # warm up: compile (or load from cache) every kernel outside the timings
    small = generate(500, seed=1)
    sc = drg.score(small["cases"], small["catalog"], small["coefficients"]).scored
    drg.clear(sc, suggested_budgets(small["cases"]))
    drg.calibrate(small["history"], small["hospitals"])

    rows = []

    with KernelTimer("_score", "_readmission", "_sort_stays") as kt:
        e2e, out = best_of(args.repeat, lambda: drg.score(cases, catalog, coefficients))
    kernel = kt.seconds / args.repeat  # the kernel time is the same on every repeat, average it
    n = cases.num_rows
    rows.append(("score", n, kernel, e2e))

    with KernelTimer("_clear_sums", "_case_money", "_sum_by") as kt:
        e2e_c, clearing = best_of(args.repeat, lambda: drg.clear(out.scored, budgets))
    rows.append(("clear", n, kt.seconds / args.repeat, e2e_c))

    with KernelTimer("_calib_raw", "_calib_trimmed") as kt:
        e2e_k, cal = best_of(args.repeat, lambda: drg.calibrate(history, data["hospitals"]))
    rows.append(("calibrate", history.num_rows, kt.seconds / args.repeat, e2e_k))

    # the pure-Python reference on a slice, same run
    p = drg.load_profile("wenzhou-2022")
    ref_rows = reference_rows(cases, args.reference)
    ref_cat, ref_coef = reference_catalog(catalog, coefficients)
    t = time.perf_counter()
    ref.score(ref_rows, ref_cat, ref_coef, p)
    ref_score = time.perf_counter() - t
    hist_slice = history.slice(0, args.reference)
    hist_rows = [
        {"hospital_id": h, "drg_code": c, "total_cost": x}
        for h, c, x in zip(
            hist_slice.column("hospital_id").to_pylist(),
            hist_slice.column("drg_code").to_pylist(),
            hist_slice.column("total_cost").to_pylist(),
            strict=True,
        )
    ]
    levels = dict(
        zip(
            data["hospitals"].column("hospital_id").to_pylist(),
            data["hospitals"].column("level").to_pylist(),
            strict=True,
        )
    )
    t = time.perf_counter()
    ref.calibrate(hist_rows, levels, p)
    ref_cal = time.perf_counter() - t
    sc = (
        out.scored.slice(0, args.reference)
        .select(["hospital_id", "fund", "points", "total_cost", "patient_paid", "fund_ffs", "base_points"])
        .to_pylist()
    )
    for r in sc:
        r["points"] = int(r["points"].scaleb(4))
        r["base_points"] = None if r["base_points"] is None else int(r["base_points"].scaleb(4))
    t = time.perf_counter()
    ref.clear(sc, budgets, p)
    ref_clear = time.perf_counter() - t
    ref_speed = {
        "score": args.reference / ref_score,
        "clear": args.reference / ref_clear,
        "calibrate": args.reference / ref_cal,
    }

    print()
    print(
        f"{'step':<10} {'cases':>11} {'kernel s':>9} {'kernel cases/s':>15} {'end-to-end s':>13} "
        f"{'e2e cases/s':>13} {'reference cases/s':>18} {'e2e / reference':>16}"
    )
    for name, count, k, e in rows:
        r = ref_speed.get(name)
        print(
            f"{name:<10} {count:>11,} {k:>9.3f} {count / k:>15,.0f} {e:>13.3f} {count / e:>13,.0f} "
            f"{(f'{r:,.0f}' if r else '-'):>18} {(f'{count / e / r:,.0f}x' if r else '-'):>16}"
        )
    total = rows[0][3] + rows[1][3]
    print(f"\nscore + clear {n:,} cases end to end: {total:.2f} s ({n / total:,.0f} cases/s)")
    print(
        f"accepted {out.scored.num_rows:,}, rejected {out.rejected.num_rows:,}; point values "
        + ", ".join(f"{f['fund']} {f['point_value']}" for f in clearing.funds.to_pylist())
        + f"; calibrated M = {cal.reference_cost / 100:.2f} yuan, {cal.catalog.num_rows} groups"
    )


if __name__ == "__main__":
    main()
