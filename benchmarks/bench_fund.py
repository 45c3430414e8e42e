"""Fund capacity: employee contributions for 10^7 person-month rows (docs/performance.md, "The fund").

Reports rows per second for the contributions kernel alone (arrays in, arrays out), for
``wz.fund.employee_contributions`` end to end (Arrow in, checks, duplicate months, Arrow out),
for ``wz.fund.accounts`` on its output and for the pure-Python twin on a slice, all measured in
one run on one machine. Measures; asserts nothing about speed.

    PYTHONPATH=src python benchmarks/bench_fund.py [--persons 850000] [--twin 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import wzmedins as wz
from wzmedins.fund import _kernel
from wzmedins.reference import fund as twin
from wzmedins.synth import enrolment

A = {2021: 700_000}


def best_of(repeat, fn):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=850_000, help="persons (about 0.45 are employees, 12 rows each)")
    ap.add_argument("--twin", type=int, default=20_000, help="rows given to the pure-Python twin")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    fp = wz.fund.load_profile("wenzhou-2022")

    t0 = time.perf_counter()
    workers = enrolment.generate(args.persons, seed=0, monthly=True)["workers"]
    gen = time.perf_counter() - t0
    n = workers.num_rows
    print(f"{n:,} person-month rows of {args.persons:,} persons generated in {gen:.1f} s")

    # kernel alone: the arrays the wrapper hands it
    cat = np.asarray(workers["category"].combine_chunks().indices, dtype=np.int8)
    wage = workers["wage_prev"].to_numpy()
    months = workers["months"].to_numpy()
    year_code = np.zeros(n, dtype=np.int64)
    floor = np.array([(2 * A[2021] * fp.floor_bp + 10_000) // 20_000], dtype=np.int64)
    ceiling = np.array([(2 * A[2021] * fp.ceiling_bp + 10_000) // 20_000], dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    out = [np.empty(n, dtype=np.int64) for _ in range(3)]

    def kernel():
        _kernel.employee(ok, cat, wage, months, year_code, floor, ceiling, fp.individual_rate_bp,
                         fp.flexible_rate_bp, fp.retired_rate_bp, fp.retired_account_annual, *out)  # fmt: skip

    kernel()  # compile
    k_time, _ = best_of(args.repeat, kernel)
    e2e, emp = best_of(args.repeat, lambda: wz.fund.employee_contributions(workers, fp, social_avg_wage=A))
    acc_time, acc = best_of(1, lambda: wz.fund.accounts(emp, fp))
    sl = workers.slice(0, args.twin)
    tw_time, _ = best_of(1, lambda: twin.employee_contributions(sl, fp, social_avg_wage=A))
    assert emp.column("reason").null_count == n
    rows = [
        ("kernel only", n, k_time),
        ("employee_contributions end to end", n, e2e),
        ("accounts on its output", n, acc_time),
        ("reference twin", args.twin, tw_time),
    ]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared)")
    print("| step | rows | time (s) | rows/s |")
    print("|---|---:|---:|---:|")
    for name, r, s in rows:
        print(f"| {name} | {r:,} | {s:.3f} | {r / s:,.0f} |")
    print(f"accounts rows: {acc.num_rows:,}; kernel / end to end: {e2e / k_time:.0f}x; "
          f"kernel / twin per row: {(tw_time / args.twin) / (k_time / n):,.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
