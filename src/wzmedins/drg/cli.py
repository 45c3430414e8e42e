"""``wzmedins drg calibrate|score|clear``: the DRG functions on Parquet files.

The top-level ``wzmedins`` command calls :func:`register`; ``python -m wzmedins.drg.cli``
runs the ``drg`` command alone.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import WzmedinsError
from ..tables import fen_to_yuan


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``drg`` command and its sub-commands to ``subparsers``."""
    drg = subparsers.add_parser(
        "drg",
        help="DRG point payment: calibrate, score, clear",
        description="DRG point payment (DRGs点数法) on Parquet files.",
    )
    sub = drg.add_subparsers(dest="drg_command", metavar="{calibrate,score,clear}", required=True)

    c = sub.add_parser(
        "calibrate",
        help="base points, stable flags and coefficients from history",
        description="Calibrate a DRG catalog and hospital coefficients (docs/rules/drg.md §2).",
    )
    c.add_argument("history", help="Parquet file or dataset of history cases")
    c.add_argument("--hospitals", required=True, help="Parquet file: hospital_id, level")
    c.add_argument("--profile", default="wenzhou-2022", help="built-in DRG profile or TOML file")
    c.add_argument("--year", type=int, help="payment year: keep the reference years before it")
    c.add_argument("--basic", nargs="*", default=[], help="DRG codes of the basic groups (coefficient 1)")
    c.add_argument("--catalog-out", required=True, help="Parquet file for the catalog")
    c.add_argument("--coefficients-out", required=True, help="Parquet file for the coefficients")
    c.set_defaults(func=_calibrate)

    s = sub.add_parser(
        "score",
        help="case type, standard cost and points of each case",
        description="Score DRG cases (docs/rules/drg.md §3).",
    )
    s.add_argument("cases", help="Parquet file or dataset of DRG cases")
    s.add_argument("--catalog", required=True, help="Parquet file: the DRG catalog")
    s.add_argument("--coefficients", help="Parquet file: hospital coefficients (default: all 1)")
    s.add_argument("--profile", default="wenzhou-2022", help="built-in DRG profile or TOML file")
    s.add_argument("--reference-cost", help="reference cost M in yuan (default: the profile's)")
    s.add_argument("--out", required=True, help="Parquet file for the scored cases")
    s.add_argument("--rejected", help="Parquet file for the rejected rows")
    s.set_defaults(func=_score)

    k = sub.add_parser(
        "clear",
        help="point value and hospital settlement",
        description="Point value per fund and year-end or provisional clearing (docs/rules/drg.md §4-5).",
    )
    k.add_argument("scored", help="Parquet file of scored cases (or raw cases with --catalog)")
    k.add_argument(
        "--budget",
        action="append",
        required=True,
        metavar="FUND=YUAN",
        help="budget of a fund in yuan, e.g. resident=30000000 (repeat per fund)",
    )
    k.add_argument("--profile", default="wenzhou-2022", help="built-in DRG profile or TOML file")
    k.add_argument("--catalog", help="catalog, when the input is raw cases")
    k.add_argument("--coefficients", help="coefficients, when the input is raw cases")
    k.add_argument("--through-month", type=int, help="provisional clearing through this month (1-12)")
    k.add_argument("--year", type=int, help="year of the provisional clearing (default: latest)")
    k.add_argument("--out", required=True, help="Parquet file: one row per hospital and fund")
    k.add_argument("--funds-out", help="Parquet file: one row per fund")
    k.add_argument("--cases-out", help="Parquet file: value and gain or loss per case")
    k.add_argument("--drgs-out", help="Parquet file: points and money per DRG")
    k.set_defaults(func=_clear)
    return drg


def _guard(func):
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (WzmedinsError, ValueError, OSError, pa.ArrowException) as exc:
            print(f"wzmedins drg {args.drg_command}: error: {exc}", file=sys.stderr)
            return 2

    run.__doc__ = func.__doc__
    return run


def _yuan_to_fen(text: str, what: str) -> int:
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not an amount in yuan") from None
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"{what}: {text!r} is not a non-negative whole number of fen")
    return int(value)


@_guard
def _calibrate(args: argparse.Namespace) -> int:
    from . import calibrate

    cal = calibrate(args.history, args.hospitals, args.profile, year=args.year, basic=args.basic)
    pq.write_table(cal.catalog, args.catalog_out)
    pq.write_table(cal.coefficients, args.coefficients_out)
    print(
        f"reference cost {fen_to_yuan(cal.reference_cost)} yuan; {cal.catalog.num_rows} groups "
        f"({sum(cal.catalog.column('stable').to_pylist())} stable); "
        f"{cal.coefficients.num_rows} coefficients"
    )
    return 0


@_guard
def _score(args: argparse.Namespace) -> int:
    from . import load_profile, score

    p = load_profile(args.profile)
    if args.reference_cost is not None:
        p = p.with_changes(reference_cost=_yuan_to_fen(args.reference_cost, "--reference-cost"))
    out = score(args.cases, args.catalog, args.coefficients, p)
    pq.write_table(out.scored, args.out)
    if args.rejected:
        pq.write_table(out.rejected, args.rejected)
    n = out.scored.num_rows + out.rejected.num_rows
    print(f"{n} cases: {out.scored.num_rows} scored, {out.rejected.num_rows} rejected")
    return 0 if out.scored.num_rows or not n else 1


@_guard
def _clear(args: argparse.Namespace) -> int:
    from . import clear

    budgets = {}
    for item in args.budget:
        fund, sep, amount = item.partition("=")
        if not sep:
            raise ValueError(f"--budget: {item!r} is not FUND=YUAN")
        budgets[fund.strip()] = _yuan_to_fen(amount.strip(), f"--budget {fund}")
    out = clear(
        args.scored,
        budgets,
        args.profile,
        catalog=args.catalog,
        coefficients=args.coefficients,
        through_month=args.through_month,
        year=args.year,
    )
    pq.write_table(out.hospitals, args.out)
    for path, table in (
        (args.funds_out, out.funds),
        (args.cases_out, out.cases),
        (args.drgs_out, out.drgs),
    ):
        if path:
            pq.write_table(table, path)
    for f in out.funds.to_pylist():
        pv = f["point_value"] if f["point_value"] is not None else f["note"]
        print(
            f"{f['fund']}: {f['cases']} cases, {f['points']} points, point value {pv}, "
            f"reserve shared {fen_to_yuan(f['reserve_shared'])} yuan"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``drg`` command alone: ``python -m wzmedins.drg.cli drg score ...``."""
    parser = argparse.ArgumentParser(prog="wzmedins")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
