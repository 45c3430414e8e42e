"""Capitation capacity: charge settled claims against signings (10 claims per signing).

The target is a city-year: 10^8 settled claims against 10^7 signings. The machine is shared, so
the benchmark runs at reduced sizes (default 10^6 and 10^7 claims with 10^5 and 10^6 signings)
and extrapolates linearly from the largest run: time(10^8) = 10^8 / (claims/s measured). Running
two sizes ten times apart shows how far from linear the cost is (the person join's hash table
and the per-signing sums grow with the signings and leave the caches).

Reports claims per second of the charging kernel alone (``_kernel._charge``), of the whole call
(``wz.capitation.settle``: Arrow tables in, communities and persons out, duplicate claim ids and
every input check included), of ``prepare`` and ``run`` separately, and of the pure-Python twin
at a small size, all in the same run. Measures; asserts nothing about speed.

    PYTHONPATH=src python benchmarks/bench_capitation.py [--claims 1000000 10000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import pyarrow as pa

import wzmedins as wz
from wzmedins.capitation import _kernel
from wzmedins.reference import capitation as ref
from wzmedins.synth.claims import _fixed_ids, person_ids, persons
from wzmedins.synth.signings import AGE_BANDS, WENZHOU, age_bands

SIGNED_SHARE = 0.4  # share of the claims' persons who are signed
PER_CAPITA = 60_000  # fen; any amount: it does not change the work


def make_inputs(n_claims: int, *, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """Signings of n/10 persons and n settled claims of n/4 persons (40 % of them signed).

    Columns as ``wz.settle(..., carry=["community_id"])`` gives them: string ids, dictionary
    visit types and communities, int64 fund.
    """
    rng = np.random.default_rng(seed)
    n_sign = max(1, n_claims // 10)
    n_persons = int(n_sign / SIGNED_SHARE)
    signed = np.sort(rng.choice(n_persons, n_sign, replace=False))
    attrs = persons(signed, seed=seed)
    _, home = WENZHOU.homes(signed, seed=seed)
    communities = pa.array(WENZHOU.community_ids())
    signings = pa.table(
        {
            "person_id": person_ids(signed),
            "community_id": pa.DictionaryArray.from_arrays(pa.array(home.astype(np.int16)), communities),
            "age_band": pa.DictionaryArray.from_arrays(pa.array(age_bands(signed, seed=seed)), pa.array(AGE_BANDS)),
            "chronic": pa.array(attrs["chronic"]),
            "months": pa.array(np.where(rng.random(n_sign) < 0.8, 12, rng.integers(1, 12, n_sign)).astype(np.int8)),
        }
    )
    person = rng.integers(0, n_persons, n_claims)
    level = rng.choice(3, n_claims, p=[0.5, 0.3, 0.2]).astype(np.int8)
    area = np.where(rng.random(n_claims) < 0.95, 0, 1).astype(np.int8)
    claim_no = np.arange(n_claims, dtype=np.int64)
    claims = pa.table(
        {
            "claim_id": _fixed_ids("C2022", claim_no, 10),
            "person_id": person_ids(person),
            "year": pa.array(np.full(n_claims, 2022, dtype=np.int32)),
            "fund": pa.array((rng.lognormal(9.0, 1.0, n_claims)).astype(np.int64)),
            "visit_type": pa.DictionaryArray.from_arrays(
                pa.array(rng.choice(4, n_claims, p=[0.8, 0.12, 0.02, 0.06]).astype(np.int8)),
                pa.array(["outpatient", "chronic", "special", "inpatient"]),
            ),
            "community_id": WENZHOU.facility_communities(claim_no, person, level, area, seed=seed),
        }
    )
    return signings, claims


class KernelTimer:
    """Adds up the time spent inside ``_kernel._charge``."""

    def __enter__(self):
        self.seconds = 0.0
        self.orig = _kernel._charge

        def timed(*a, **k):
            t = time.perf_counter()
            out = self.orig(*a, **k)
            self.seconds += time.perf_counter() - t
            return out

        _kernel._charge = timed
        return self

    def __exit__(self, *exc):
        _kernel._charge = self.orig


def measure(n_claims: int, repeat: int) -> dict:
    t = time.perf_counter()
    signings, claims = make_inputs(n_claims)
    gen = time.perf_counter() - t
    cp = wz.capitation.load_profile("wenzhou-2022")
    wz.capitation.settle(signings, claims.slice(0, 1000), cp, per_capita=PER_CAPITA)  # compile
    best = {"end_to_end": 1e9, "prepare": 1e9, "run": 1e9, "kernel": 1e9}
    for _ in range(repeat):
        with KernelTimer() as k:
            t0 = time.perf_counter()
            prep = wz.capitation.prepare(signings, claims)
            t1 = time.perf_counter()
            res = wz.capitation.run(prep, cp, per_capita=PER_CAPITA)
            t2 = time.perf_counter()
        best["prepare"] = min(best["prepare"], t1 - t0)
        best["run"] = min(best["run"], t2 - t1)
        best["end_to_end"] = min(best["end_to_end"], t2 - t0)
        best["kernel"] = min(best["kernel"], k.seconds)
    charged = res.summary["claims_own"] + res.summary["claims_outside"]
    return {
        "claims": n_claims,
        "signings": signings.num_rows,
        "charged": charged,
        "generate_s": gen,
        **{f"{k}_s": v for k, v in best.items()},
        **{f"{k}_claims_per_s": n_claims / v for k, v in best.items()},
    }


def measure_reference(n_claims: int) -> dict:
    signings, claims = make_inputs(n_claims, seed=1)
    s_rows = [
        {k: (v if not isinstance(v, np.integer) else int(v)) for k, v in row.items()} for row in signings.to_pylist()
    ]
    c_rows = claims.to_pylist()
    cp = wz.capitation.load_profile("wenzhou-2022")
    t = time.perf_counter()
    ref.settle(s_rows, c_rows, cp, per_capita=PER_CAPITA, year=2022)
    seconds = time.perf_counter() - t
    return {"claims": n_claims, "reference_s": seconds, "reference_claims_per_s": n_claims / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=float, nargs="+", default=[1e6, 1e7], help="claim counts (10 per signing)")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    ap.add_argument("--reference", type=int, default=20_000, help="claims for the pure-Python twin")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    rows = [measure(int(n), args.repeat) for n in args.claims]
    twin = measure_reference(args.reference)
    print(f"# capitation charging; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)")
    print("| claims | signings | end to end (s) | claims/s | prepare (s) | run (s) | kernel (s) | kernel claims/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['claims']:,} | {r['signings']:,} | {r['end_to_end_s']:.2f} | {r['end_to_end_claims_per_s']:,.0f} "
            f"| {r['prepare_s']:.2f} | {r['run_s']:.2f} | {r['kernel_s']:.3f} | {r['kernel_claims_per_s']:,.0f} |"
        )
    print(f"reference twin: {twin['claims']:,} claims in {twin['reference_s']:.2f} s "
          f"({twin['reference_claims_per_s']:,.0f} claims/s)")  # fmt: skip
    big = rows[-1]
    target = 1e8
    print(
        f"extrapolated to 10^8 claims / 10^7 signings (linear from {big['claims']:,}): "
        f"end to end {target / big['end_to_end_claims_per_s']:.0f} s, "
        f"kernel {target / big['kernel_claims_per_s']:.1f} s"
    )
    if len(rows) > 1:
        a, b = rows[-2], rows[-1]
        print(
            f"per-claim cost from {a['claims']:,} to {b['claims']:,} claims: end to end "
            f"x{a['end_to_end_claims_per_s'] / b['end_to_end_claims_per_s']:.2f}, "
            f"kernel x{a['kernel_claims_per_s'] / b['kernel_claims_per_s']:.2f}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"runs": rows, "reference": twin}, fh, indent=1)


if __name__ == "__main__":
    main()
