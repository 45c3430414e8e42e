"""``wzmedins demo drg``: a synthetic year of DRG payment, end to end, in a few seconds.

Synthetic cases of three years (docs/synth.md) → calibrate on the two reference years → score
the payment year → provisional point value by month → year-end clearing → the largest
balances and the DRGs with the largest losses. Prints the numbers; writes nothing unless asked.
"""

from __future__ import annotations

import argparse
import time
import warnings

from ..tables import fen_to_yuan


def run(args: argparse.Namespace) -> int:
    """Run the demo with ``args.cases`` (default 100 000), ``args.seed``, ``args.hospitals``."""
    from ..synth.drg import generate, suggested_budgets
    from . import calibrate, clear, cmi_table, drg_table, export, load_profile, provisional, score

    n = getattr(args, "cases", None) or 100_000
    seed = getattr(args, "seed", 0)
    year = 2022
    started = time.perf_counter()
    data = generate(n, seed=seed, n_hospitals=getattr(args, "hospitals", 30), year=year)
    print(f"DRG demo: {n:,} synthetic inpatient cases of {year}, {data['hospitals'].num_rows} hospitals (seed {seed})")
    profile = load_profile("wenzhou-2022")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the synthetic data are what they are; the demo shows numbers
        cal = calibrate(data["history"], data["hospitals"], profile, year=year)
        print(
            f"calibrated on {data['history'].num_rows:,} cases of {year - 2}–{year - 1}: reference cost "
            f"{fen_to_yuan(cal.reference_cost)} yuan, {cal.catalog.num_rows} groups, "
            f"{cal.coefficients.num_rows:,} hospital coefficients"
        )
        out = score(data["cases"], cal)
        budgets = suggested_budgets(data["cases"], 9_800)
        types = out.scored.column("case_type").cast("string").value_counts().to_pylist()
        mix = ", ".join(f"{t['values']} {t['counts']:,}" for t in sorted(types, key=lambda t: -t["counts"]))
        print(f"scored {out.scored.num_rows:,} ({out.rejected.num_rows} rejected): {mix}")
        pv = provisional(out, budgets, profile, year=year)
        cl = clear(out, budgets, profile, year=year)
    print("point value (yuan per point), provisional by month → year end:")
    for fund in ("employee", "resident"):
        monthly = [r["point_value"] for r in pv.to_pylist() if r["fund"] == fund]
        final = next(r["point_value"] for r in cl.funds.to_pylist() if r["fund"] == fund)
        shown = " ".join(f"{float(v):.2f}" if v is not None else "—" for v in monthly[::3])
        print(f"  {fund:<9} months 1,4,7,10: {shown}  → {final}")
    hosp = sorted(cl.hospitals.to_pylist(), key=lambda r: r["balance"] or 0)
    print("hospital balances (yuan; > 0 paid, < 0 recovered), the two ends:")
    for r in hosp[:3] + hosp[-3:]:
        print(f"  {r['hospital_id']} {r['fund']:<9} {fen_to_yuan(r['balance']):>16}  CMI {r['cmi']}")
    cmi = {r["hospital_id"]: r["cmi"] for r in cmi_table(out).to_pylist()}
    levels = dict(zip(*(data["hospitals"].column(c).to_pylist() for c in ("hospital_id", "level")), strict=True))
    for level in ("tertiary", "secondary", "primary"):
        vals = [float(cmi[h]) for h, lv in levels.items() if lv == level and cmi.get(h) is not None]
        if vals:
            print(f"  mean CMI of {level} hospitals: {sum(vals) / len(vals):.2f}")
    worst = drg_table(cl, cal).slice(0, 3).to_pylist()
    print("DRGs with the largest loss: " + ", ".join(f"{r['drg_code']} {fen_to_yuan(r['gain'])} yuan" for r in worst))
    if getattr(args, "excel", None):
        export(cl, args.excel)
        print(f"wrote {args.excel}")
    print(f"time {time.perf_counter() - started:.1f} s")
    return 0
