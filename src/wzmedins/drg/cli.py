"""``wzmedins drg …``: the DRG functions on Parquet files (docs/drg.md, "Command line").

The top-level ``wzmedins`` command calls :func:`register`; ``python -m wzmedins.drg.cli``
runs the ``drg`` command alone. Exit status: 0 done, 1 a problem that stopped the command (one
line on stderr), 2 bad usage (argparse). Warnings are one line each on stderr.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import WzmedinsError
from ..tables import fen_to_yuan

PROFILE_HELP = "built-in DRG profile or TOML file (default wenzhou-2022)"
BUDGET_HELP = "budget of a fund, in yuan unless it ends in 'fen': resident=30000000 (repeat per fund; 职工/居民 too)"
LABELS_HELP = "labels of printed case types and exported tables: en (default) or zh (中文)"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``drg`` command and its sub-commands to ``subparsers``."""
    drg = subparsers.add_parser(
        "drg",
        help="DRG point payment: calibrate, score, clear, provisional, scenarios, explain, profile",
        description="DRG point payment (DRGs点数法) on Parquet files. Money in yuan on the command line.",
    )
    names = "{calibrate,score,clear,provisional,scenarios,explain,profile}"
    sub = drg.add_subparsers(dest="drg_command", metavar=names, required=True)

    c = sub.add_parser("calibrate", help="base points, stable flags and coefficients from history")
    c.description = "Calibrate a DRG catalog and hospital coefficients (docs/rules/drg.md §2)."
    c.add_argument("history", help="Parquet file or dataset of history cases")
    c.add_argument("--hospitals", required=True, help="Parquet file: hospital_id, level")
    c.add_argument("--profile", default="wenzhou-2022", help=PROFILE_HELP)
    c.add_argument("--year", type=int, help="payment year: keep the reference years before it")
    c.add_argument(
        "--basic",
        action="append",
        default=[],
        metavar="CODES",
        help="DRG codes of the basic groups (coefficient 1), comma-separated; may repeat",
    )
    c.add_argument("--catalog-out", required=True, help="Parquet file for the catalog")
    c.add_argument("--coefficients-out", required=True, help="Parquet file for the coefficients")
    c.set_defaults(func=_calibrate)

    s = sub.add_parser("score", help="case type, standard cost and points of each case")
    s.description = "Score DRG cases (docs/rules/drg.md §3)."
    _case_inputs(s, "cases", "Parquet file or dataset of DRG cases", catalog_required=True)
    s.add_argument("--reference-cost", help="reference cost M in yuan (default: the catalog's, else the profile's)")
    s.add_argument("--out", required=True, help="Parquet file for the scored cases")
    s.add_argument("--rejected", help="Parquet file for the rejected rows")
    s.add_argument("--labels", choices=("en", "zh"), default="en", help=LABELS_HELP)
    s.set_defaults(func=_score)

    k = sub.add_parser("clear", help="point value and hospital settlement")
    k.description = "Point value per fund and year-end or provisional clearing (docs/rules/drg.md §4-5)."
    _case_inputs(k, "scored", "Parquet file of scored cases (or raw cases with --catalog)")
    _budget_args(k)
    k.add_argument("--through-month", type=int, help="provisional clearing through this month (1-12)")
    k.add_argument("--out", help="Parquet file: one row per hospital and fund")
    k.add_argument("--funds-out", help="Parquet file: one row per fund")
    k.add_argument("--cases-out", help="Parquet file: value and gain or loss per case")
    k.add_argument("--drgs-out", help="Parquet file: points and money per DRG")
    k.add_argument("--excel", help="write every table, and the per-DRG, hospital x DRG and CMI tables, to this .xlsx")
    k.add_argument("--csv", help="the same tables as CSV files in this directory")
    k.add_argument("--labels", choices=("en", "zh"), default="en", help=LABELS_HELP)
    k.set_defaults(func=_clear)

    v = sub.add_parser("provisional", help="monthly provisional point value, every month in one call")
    v.description = "Point value through each month 1..12 of the year (docs/rules/drg.md §4)."
    _case_inputs(v, "scored", "Parquet file of scored cases (or raw cases with --catalog)")
    _budget_args(v)
    v.add_argument("--out", help="Parquet file: one row per month and fund")
    v.set_defaults(func=_provisional)

    w = sub.add_parser("scenarios", help="what-ifs: budgets, parameters, whole profiles")
    w.description = (
        "Clear the same cases under several scenarios; one row per scenario x hospital x fund. "
        "A scenario is NAME=SPEC where SPEC is a profile (jinhua-2024 or a TOML file), "
        "budget=BP (1e-4 of the budgets: 9700 = 97%%) or KEY=VALUE of a profile parameter."
    )
    _case_inputs(w, "cases", "Parquet file of DRG cases", catalog_required=True)
    _budget_args(w, year=False)
    w.add_argument(
        "--scenario",
        action="append",
        required=True,
        metavar="NAME=SPEC",
        help="e.g. jinhua=jinhua-2024, tight=budget=9500, h25=high_multiple_bp=25000,20000,15000 (repeat)",
    )
    w.add_argument("--out", help="Parquet file for the table")
    w.add_argument("--excel", help="the table as an .xlsx")
    w.set_defaults(func=_scenarios)

    e = sub.add_parser("explain", help="one case, step by step")
    e.description = "Why a case has its points: coefficient, standard cost, thresholds, readmission, bonus."
    _case_inputs(e, "cases", "Parquet file of DRG cases", catalog_required=True)
    e.add_argument("--case", required=True, metavar="CASE_ID", help="the case_id to explain")
    e.add_argument("--labels", choices=("en", "zh"), default="en", help=LABELS_HELP)
    e.set_defaults(func=_explain)

    p = sub.add_parser("profile", help="show or check a DRG profile")
    psub = p.add_subparsers(dest="profile_command", metavar="{show,check}", required=True)
    ps = psub.add_parser("show", help="every parameter with its value and source label")
    ps.add_argument("profile", metavar="NAME|FILE")
    ps.set_defaults(func=_profile_show)
    pc_ = psub.add_parser("check", help="load a profile file: OK or the error")
    pc_.add_argument("profile", metavar="FILE")
    pc_.set_defaults(func=_profile_check)
    return drg


def _case_inputs(p, name: str, text: str, *, catalog_required: bool = False) -> None:
    p.add_argument(name, help=text)
    p.add_argument("--catalog", required=catalog_required, help="Parquet file: the DRG catalog")
    p.add_argument("--coefficients", help="Parquet file: hospital coefficients (default: all 1)")
    p.add_argument("--profile", default="wenzhou-2022", help=PROFILE_HELP)


def _budget_args(p, *, year: bool = True) -> None:
    p.add_argument("--budget", action="append", required=True, metavar="FUND=YUAN", help=BUDGET_HELP)
    if year:
        p.add_argument("--year", type=int, help="discharge year of the cases to clear (needed when several)")


def _guard(func):
    def run(args: argparse.Namespace) -> int:
        name = f"wzmedins drg {args.drg_command}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                status = func(args)
            except (WzmedinsError, ValueError, KeyError, OSError, pa.ArrowException) as exc:
                status = _fail(name, exc)
        for w in caught:
            print(f"{name}: warning: {str(w.message).splitlines()[0]}", file=sys.stderr)
        return status

    run.__doc__ = func.__doc__
    return run


def _fail(name: str, exc: BaseException) -> int:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"file not found: {exc.filename}"
    print(f"{name}: error: {text}", file=sys.stderr)
    return 1


def _yuan_to_fen(text: str, what: str) -> int:
    """``"30000000"`` or ``"30000000yuan"`` yuan, or ``"3000000000fen"`` fen, as fen."""
    t = text.strip().lower()
    unit = "yuan"
    for suffix in ("yuan", "元", "fen", "分"):
        if t.endswith(suffix):
            t, unit = t[: -len(suffix)].strip(), suffix
            break
    try:
        value = Decimal(t) * (1 if unit in ("fen", "分") else 100)
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not an amount (yuan, or with 'fen')") from None
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"{what}: {text!r} is not a non-negative whole number of fen")
    return int(value)


def _budgets(items: list[str]) -> dict[str, int]:
    budgets = {}
    for item in items:
        fund, sep, amount = item.partition("=")
        if not sep:
            raise ValueError(f"--budget: {item!r} is not FUND=YUAN")
        budgets[fund.strip()] = _yuan_to_fen(amount, f"--budget {fund.strip()}")
    return budgets


def _profile(args):
    from . import load_profile

    p = load_profile(args.profile)
    if getattr(args, "reference_cost", None) is not None:
        p = p.with_changes(reference_cost=_yuan_to_fen(args.reference_cost, "--reference-cost"))
    return p


@_guard
def _calibrate(args: argparse.Namespace) -> int:
    from . import calibrate

    basic = [code.strip() for item in args.basic for code in item.split(",") if code.strip()]
    cal = calibrate(args.history, args.hospitals, args.profile, year=args.year, basic=basic)
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
    from . import score
    from .labels import CASE_TYPE_ZH

    out = score(args.cases, args.catalog, args.coefficients, _profile(args))
    pq.write_table(out.scored, args.out)
    if args.rejected:
        pq.write_table(out.rejected, args.rejected)
    n = out.scored.num_rows + out.rejected.num_rows
    print(f"{n} cases: {out.scored.num_rows} scored, {out.rejected.num_rows} rejected")
    counts = out.scored.column("case_type").cast(pa.string()).value_counts().to_pylist()
    for c in sorted(counts, key=lambda c: -c["counts"]):
        zh = f" {CASE_TYPE_ZH[c['values']]}" if args.labels == "zh" else ""
        print(f"  {c['values']}{zh}: {c['counts']}")
    return 0 if out.scored.num_rows or not n else 1


@_guard
def _clear(args: argparse.Namespace) -> int:
    from . import clear, cmi_table, drg_table, export, hospital_drg_table
    from .labels import FUND_ZH

    out = clear(
        args.scored,
        _budgets(args.budget),
        _profile(args),
        catalog=args.catalog,
        coefficients=args.coefficients,
        through_month=args.through_month,
        year=args.year,
    )
    for path, table in (
        (args.out, out.hospitals),
        (args.funds_out, out.funds),
        (args.cases_out, out.cases),
        (args.drgs_out, out.drgs),
    ):
        if path:
            pq.write_table(table, path)
    if args.excel or args.csv:
        extra = dict(out._asdict())
        extra.update(
            by_drg=drg_table(out, args.catalog), hospital_drg=hospital_drg_table(out), cmi=cmi_table(out.cases)
        )
        for path in filter(None, (args.excel, args.csv)):
            export(extra, path, labels=args.labels)
    for f in out.funds.to_pylist():
        pv = f["point_value"] if f["point_value"] is not None else f["note"]
        name = f["fund"] + (f" {FUND_ZH.get(f['fund'], '')}" if args.labels == "zh" else "")
        print(
            f"{name}: {f['cases']} cases, {f['points']} points, point value {pv}, "
            f"reserve shared {fen_to_yuan(f['reserve_shared'])} yuan"
        )
    return 0


@_guard
def _provisional(args: argparse.Namespace) -> int:
    from . import provisional

    scored = args.scored
    if args.catalog:
        from . import score

        scored = score(args.scored, args.catalog, args.coefficients, _profile(args))
    table = provisional(scored, _budgets(args.budget), _profile(args), year=args.year)
    if args.out:
        pq.write_table(table, args.out)
    print("month  fund       budget (yuan)        point value")
    for r in table.to_pylist():
        pv = "—" if r["point_value"] is None else r["point_value"]
        print(f"{r['month']:>5}  {r['fund']:<9}  {fen_to_yuan(r['budget']):>18}  {pv!s:>16}")
    return 0


def _scenario(text: str) -> dict:
    name, sep, spec = text.partition("=")
    if not sep or not name.strip() or not spec.strip():
        raise ValueError(f"--scenario: {text!r} is not NAME=SPEC")
    out: dict = {"name": name.strip()}
    key, sep, value = spec.partition("=")
    if not sep:
        out["variant"] = spec.strip()
    elif key.strip() == "budget":
        out["budget_bp"] = int(value)
    else:
        from .profile import SPEC

        key = key.strip()
        kind = SPEC[key][0] if key in SPEC else "int"
        parts = [x.strip() for x in value.split(",") if x.strip()]
        vals = [
            True if x == "true" else False if x == "false" else int(x) if x.lstrip("-").isdigit() else x for x in parts
        ]
        out[key] = vals if kind in ("ints", "strs") else (vals[0] if vals else "")
    return out


@_guard
def _scenarios(args: argparse.Namespace) -> int:
    from . import export, scenarios

    variants = [_scenario(s) for s in args.scenario]
    table = scenarios(
        args.cases,
        _budgets(args.budget),
        _profile(args),
        variants,
        catalog=args.catalog,
        coefficients=args.coefficients,
    )
    if args.out:
        pq.write_table(table, args.out)
    if args.excel:
        export({"scenarios": table}, args.excel)
    seen = set()
    for r in table.to_pylist():
        key = (r["scenario"], r["fund"])
        if key not in seen:
            seen.add(key)
            print(
                f"{r['scenario']}: {r['fund']} point value {r['point_value']}, budget {fen_to_yuan(r['budget'])} yuan"
            )
    return 0


@_guard
def _explain(args: argparse.Namespace) -> int:
    import pyarrow.dataset as ds

    from . import explain

    cases = ds.dataset(args.cases, format="parquet").to_table()
    case_id: object = args.case
    if pa.types.is_integer(cases.schema.field("case_id").type):
        case_id = int(args.case)
    e = explain(case_id, cases, args.catalog, args.coefficients, _profile(args))
    print("\n".join(e.lines(labels=args.labels)))
    return 0


@_guard
def _profile_show(args: argparse.Namespace) -> int:
    from . import load_profile
    from .profile import SPEC

    p = load_profile(args.profile)
    print(f"DRG profile {p.name} (fingerprint {p.fingerprint()}), valid from {p.valid_from}: {p.description}")
    width = max(len(k) for k in SPEC)
    for key in SPEC:
        value = p.values[key]
        shown = "[" + ", ".join(str(x) for x in value) + "]" if isinstance(value, tuple) else str(value).lower()
        print(f"  {key:<{width}}  {shown}  [{p.sources.get(key, '')}]")
    return 0


@_guard
def _profile_check(args: argparse.Namespace) -> int:
    import os

    from . import load_profile

    if not os.path.isfile(args.profile):
        raise OSError(f"profile file not found: {args.profile}")
    p = load_profile(args.profile)
    print(f"OK {p.name} (fingerprint {p.fingerprint()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``drg`` command alone: ``python -m wzmedins.drg.cli drg score ...``."""
    parser = argparse.ArgumentParser(prog="wzmedins")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
