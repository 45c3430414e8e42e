"""``wzmedins year``: one city-year end to end, written to a folder with its report."""

from __future__ import annotations

import argparse
import sys

from ..tables import fen_to_yuan


def _scale(text: str) -> int:
    """A number of claims: ``1e6``, ``1000000`` or ``1_000_000``."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of claims (e.g. 1e6)") from None
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of claims >= 1")
    return int(value)


def _input(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=PATH, e.g. claims=claims.parquet")
    return name, path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``year`` command."""
    from .inputs import INPUTS

    y = subparsers.add_parser(
        "year",
        help="one city-year end to end: contributions, claims, DRG, capitation, the fund; a report",
        description="Run one city-year (synthetic, or your own tables with --input) and write the tables, "
        "figures and report.html to --out.",
    )
    y.add_argument(
        "--scale", type=_scale, default=10_000, help="claims in a synthetic year (ten a person); default 1e4"
    )
    y.add_argument("--seed", type=int, default=0, help="seed of the synthetic year")
    y.add_argument("--year", type=int, default=2022, help="the insurance year")
    y.add_argument("--bundle", default="wenzhou-2022", help="policy bundle: a built-in name or a bundle TOML")
    y.add_argument("--whatif", help="a second bundle: the report puts both side by side")
    y.add_argument(
        "--input",
        type=_input,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help=f"a Parquet input in place of the synthetic one; NAME one of {', '.join(INPUTS)}",
    )
    y.add_argument(
        "--remember-claims",
        action="store_true",
        help="keep every claim id across batches (duplicates and reversals of earlier batches found; "
        "about 150 bytes a claim)",
    )
    y.add_argument(
        "--settled",
        action="store_true",
        help="also write every settled claim to OUT/settled/ (Parquet; about 40 bytes a claim, 4 GB for 1e8)",
    )
    y.add_argument("--out", required=True, help="folder for the tables, figures and report.html")
    y.set_defaults(func=_run)
    return y


def _run(args: argparse.Namespace) -> int:
    from . import from_paths, render, run, synthetic

    inputs = synthetic(args.scale, seed=args.seed, year=args.year)
    if args.input:
        inputs = from_paths(dict(args.input), year=args.year, fill=inputs)

    def say(line: str) -> None:
        print(f"  {line}", file=sys.stderr)

    res = run(inputs, bundle=args.bundle, out=args.out, progress=say, remember_claims=args.remember_claims,
              settled=args.settled)  # fmt: skip
    other = None
    if args.whatif:
        other = run(inputs, bundle=args.whatif, out=None, progress=say, remember_claims=args.remember_claims)
    path = render(res, args.out, whatif=other)
    for r in (res, other):
        if r is None:
            continue
        print(f"{r.bundle.name}: {r.counts['claims']:,} claims, {r.counts['rejected']:,} rejected")
        for f in r.tables["fund_city"].to_pylist():
            print(
                f"  {f['scheme']:9s} 收支差 delta {fen_to_yuan(f['delta']):>18s} yuan   "
                f"结余 balance {fen_to_yuan(f['balance']):>18s}   储备 reserve {fen_to_yuan(f['reserve']):>16s}"
            )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r.timings.items())
        print(f"  stages (s): {stages}; peak RSS {max(r.peak_rss_mb.values(), default=0):,} MB")
        print("  CPU (s, all threads): " + ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_seconds.items()))
        print("  claims stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in r.claims_timings.items()))
        failed = [c["name"] for c in r.checks if not c["ok"]]
        print("  checks: " + ("all held" if not failed else "FAILED: " + "; ".join(failed)))
    print(f"report: {path}")
    return 0 if res.ok and (other is None or other.ok) else 1
