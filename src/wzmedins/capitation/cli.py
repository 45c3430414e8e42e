"""``wzmedins capitation split|settle|scenarios``: the budget split and capitation on Parquet files.

The top-level ``wzmedins`` command calls :func:`register`. Amounts on the command line and in
the summaries are in yuan; the Parquet outputs are in fen, like the library.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from decimal import Decimal, InvalidOperation

import pyarrow.parquet as pq

from ..errors import SchemaError
from ..tables import fen_to_yuan

POOL_LABELS = {
    "drg": "DRG点数法 (drg)",
    "capitation": "按人头付费 (capitation)",
    "other": "其他 按项目/按床日 (other)",
    "out_of_area": "异地就医 (out of area)",
}
COLUMN_LABELS = {
    "budget": "预算",
    "own": "本医共体",
    "outside": "外转",
    "charges": "费用",
    "retained": "结余留用",
    "fund_shares": "基金分担",
    "community_bears": "医共体承担",
    "settlement": "清算",
}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``capitation`` command and its sub-commands to ``subparsers``."""
    cap = subparsers.add_parser(
        "capitation",
        help="total budget pools and family-doctor capitation: split, settle, scenarios",
        description="Total budget split (总额预算) and family-doctor capitation (门诊按人头付费).",
    )
    sub = cap.add_subparsers(dest="capitation_command", metavar="{split,settle,scenarios}", required=True)

    s = sub.add_parser(
        "split",
        help="split a fund's budget into payment pools",
        description="Split the expenditure budget into pools (docs/capitation.md).",
    )
    s.add_argument("--total", required=True, help="the fund's expenditure budget, yuan")
    s.add_argument("--out-of-area", required=True, help="forecast of out-of-area care, yuan")
    s.add_argument("--profile", default="wenzhou-2022", help="built-in capitation profile or TOML file")
    s.set_defaults(func=_split)

    for name, helptext in (
        ("settle", "year end (or provisional position) of each medical community"),
        ("scenarios", "the year end under several scenarios: one table community x scenario"),
    ):
        c = sub.add_parser(name, help=helptext, description=helptext + " (docs/capitation.md).")
        c.add_argument("signings", help="Parquet: person_id, community_id, age_band, chronic, months[, year]")
        c.add_argument("claims", help="Parquet: settled claims (the settled output of wzmedins settle)")
        c.add_argument(
            "--claims-input",
            help="Parquet: the claims as input to settle, to take community_id and settle_date from "
            "(joined on claim_id) when the settled file lacks them",
        )
        c.add_argument("--profile", default="wenzhou-2022", help="built-in capitation profile or TOML file")
        amount = c.add_mutually_exclusive_group(required=name == "settle")
        amount.add_argument("--per-capita", help="per-capita amount, yuan a year at weight 1")
        amount.add_argument("--pool", help="capitation pool, yuan (the per-capita amount is derived)")
        c.add_argument(
            "--quality", action="append", default=[], metavar="COMMUNITY=BP", help="quality score in bp (repeat)"
        )
        c.add_argument("--year", type=int, help="the year (default: the claims' latest)")
        c.add_argument("--through-month", type=int, help="provisional position through this month (1-12)")
        c.add_argument("--out", required=True, help="Parquet file for the communities table")
        if name == "settle":
            c.add_argument("--persons-out", help="Parquet file: one row per signed person")
            c.add_argument("--rejected-out", help="Parquet file: rejected signings and claims")
            c.set_defaults(func=_settle)
        else:
            c.add_argument("--per-capita-sweep", nargs="+", metavar="YUAN", help="one scenario per amount")
            c.add_argument("--variants", help="TOML or JSON file: [[variant]] name = ..., any profile key")
            c.add_argument("--plot", help="PNG file: settlement by community and scenario")
            c.set_defaults(func=_scenarios)
    return cap


def _fen(text: str, what: str) -> int:
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise SchemaError(what, "an amount in yuan", repr(text)) from None
    if value != value.to_integral_value() or value < 0:
        raise SchemaError(what, "a non-negative whole number of fen, in yuan", repr(text))
    return int(value)


def _quality(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not v.strip().lstrip("-").isdigit():
            raise SchemaError("--quality", "COMMUNITY=BP, e.g. K1=9000", repr(item))
        out[k.strip()] = int(v)
    return out


def _amount(args) -> dict:
    if args.per_capita is not None:
        return {"per_capita": _fen(args.per_capita, "--per-capita")}
    if args.pool is not None:
        return {"pool": _fen(args.pool, "--pool")}
    return {}


def _claims(args):
    if not args.claims_input:
        return args.claims
    from .carry import carry_claim_columns

    return carry_claim_columns(args.claims, args.claims_input)


def _split(args: argparse.Namespace) -> int:
    from . import split_budget

    pools = split_budget(_fen(args.total, "--total"), _fen(args.out_of_area, "--out-of-area"), args.profile)
    for name, fen in pools.items():
        print(f"{POOL_LABELS.get(name, name)}: {fen_to_yuan(fen)} 元")
    print(f"合计 total: {fen_to_yuan(sum(pools.values()))} 元")
    return 0


def _settle(args: argparse.Namespace) -> int:
    from . import provisional, settle

    kwargs = {**_amount(args), "quality": _quality(args.quality), "year": args.year}
    if args.through_month is not None:
        res = provisional(args.signings, _claims(args), args.profile, through_month=args.through_month, **kwargs)
    else:
        res = settle(args.signings, _claims(args), args.profile, **kwargs)
    pq.write_table(res.communities, args.out)
    if args.persons_out:
        pq.write_table(res.persons, args.persons_out)
    if args.rejected_out:
        pq.write_table(res.rejected, args.rejected_out)
    when = f"1-{res.through_month}月 provisional" if res.through_month else "年终 year end"
    print(f"{res.year} {when}; 人头费 per capita {fen_to_yuan(res.per_capita)} 元/年 at weight 1")
    header = ["community_id", *COLUMN_LABELS]
    print("\t".join(["医共体"] + [COLUMN_LABELS[h] for h in header[1:]]))
    for row in res.communities.to_pylist():
        print("\t".join([row["community_id"]] + [fen_to_yuan(row[h]) for h in header[1:]]))
    totals = {h: sum(r[h] for r in res.communities.to_pylist()) for h in COLUMN_LABELS}
    print("\t".join(["合计"] + [fen_to_yuan(totals[h]) for h in COLUMN_LABELS]))
    s = res.summary
    print(
        f"签约 signings: {s['signings_used']} used, {s['signings_rejected']} rejected; "
        f"claims: {s['claims_own']} own, {s['claims_outside']} outside "
        f"({s['claims_outside_no_community']} without community_id), {s['claims_not_signed']} of persons not signed, "
        f"{s['claims_rejected']} rejected"
    )
    return 0


def _variants(path: str) -> list[dict]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh) if path.endswith(".toml") else json.load(fh)
    variants = data.get("variant", data) if isinstance(data, dict) else data
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise SchemaError("--variants", "a list of tables ([[variant]] in TOML, a list in JSON)", path)
    return variants


def _scenarios(args: argparse.Namespace) -> int:
    from . import scenarios
    from .scenarios import per_capita_sweep, plot_scenarios

    variants: list[dict] = []
    if args.per_capita_sweep:
        variants += per_capita_sweep([_fen(a, "--per-capita-sweep") for a in args.per_capita_sweep])
    if args.variants:
        variants += _variants(args.variants)
    if not variants:
        variants = [{"name": "base"}]
    out = scenarios(
        args.signings,
        _claims(args),
        args.profile,
        variants,
        quality=_quality(args.quality),
        year=args.year,
        through_month=args.through_month,
        **_amount(args),
    )
    pq.write_table(out, args.out)
    names = list(dict.fromkeys(out.column("scenario").to_pylist()))
    for name in names:
        rows = [r for r in out.to_pylist() if r["scenario"] == name]
        budget = sum(r["budget"] for r in rows)
        settlement = sum(r["settlement"] for r in rows)
        cost = sum(r["fund_cost"] for r in rows)
        print(
            f"{name}: 人头费 {fen_to_yuan(rows[0]['per_capita'] if rows else 0)} 元; "
            f"预算 budget {fen_to_yuan(budget)} 元, "
            f"清算 settlement {fen_to_yuan(settlement)} 元, 基金支出 fund cost {fen_to_yuan(cost)} 元"
        )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = plot_scenarios(out)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    return 0
