"""``wzmedins fund contributions|standards|year-end|warning``: the fund on Parquet files.

Amounts on the command line are in yuan; files hold int64 fen. Summaries print yuan with
Chinese labels. The top-level ``wzmedins`` command calls :func:`register`.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import WzmedinsError
from ..tables import fen_to_yuan


class FundCommandError(WzmedinsError):
    """A fund command that cannot run (a bad amount on the command line)."""


def _fen(text: str, what: str, *, negative_ok: bool = False) -> int:
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise FundCommandError(f"{what}: {text!r} is not an amount in yuan") from None
    if value != value.to_integral_value() or (value < 0 and not negative_ok):
        raise FundCommandError(f"{what}: {text!r} is not a{'' if negative_ok else ' non-negative'} whole number of fen")
    return int(value)


def _by_year(items: list[str], what: str) -> dict[int, str]:
    out = {}
    for item in items:
        year, sep, value = item.partition("=")
        if not sep or not year.strip().isdigit():
            raise FundCommandError(f"{what}: {item!r} is not YEAR=VALUE")
        out[int(year)] = value.strip()
    return out


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fund`` command and its sub-commands to ``subparsers``."""
    fund = subparsers.add_parser(
        "fund",
        help="contributions, resident standards, the city fund's year end, the risk warning",
        description="The fund (筹资与基金统收统支) on Parquet files; amounts on the command line in yuan.",
    )
    sub = fund.add_subparsers(dest="fund_command", metavar="{contributions,standards,year-end,warning}", required=True)

    c = sub.add_parser("contributions", help="employee and employer contributions, account credits")
    c.add_argument("workers", help="Parquet: person_id, year, county, category, wage_prev (fen), months")
    c.add_argument(
        "--avg-wage",
        action="append",
        required=True,
        metavar="YEAR=YUAN",
        help="social average monthly wage of a year, e.g. 2021=7000 (rows of 2022 use 2021)",
    )
    c.add_argument("--employers", help="Parquet: employer_id, county, year, month, payroll (fen)")
    c.add_argument("--profile", default="wenzhou-2022", help="built-in fund profile or TOML file")
    c.add_argument("--out", help="Parquet file for the workers with their contributions")
    c.add_argument("--employers-out", help="Parquet file for the employers with their contributions")
    c.add_argument("--accounts-out", help="Parquet file: the accounts table for settlement")
    c.set_defaults(func=_contributions)

    s = sub.add_parser("standards", help="resident standards per county and year (transition to the city level)")
    s.add_argument("counties", help="Parquet: county, urban, base_total, base_individual (fen)")
    s.add_argument(
        "--income",
        action="append",
        required=True,
        metavar="YEAR=YUAN",
        help="per-capita disposable income of a year, e.g. 2021=60700",
    )
    s.add_argument(
        "--policy",
        action="append",
        required=True,
        metavar="YEAR=TOTAL/INDIVIDUAL",
        help="policy amounts of a year in yuan, e.g. 2022=1350/450",
    )
    s.add_argument("--profile", default="wenzhou-2022", help="built-in fund profile or TOML file")
    s.add_argument("--out", help="Parquet file for the standards")
    s.add_argument("--residents", help="Parquet: person_id, year, county, assistance")
    s.add_argument("--residents-out", help="Parquet file for the residents with their funding")
    s.set_defaults(func=_standards)

    y = sub.add_parser("year-end", help="the city fund's year end: gap sharing, rewards, reserve")
    y.add_argument("county_year", help="Parquet: county, revenue, target, expenditure, budget (fen) of one scheme")
    y.add_argument("--balance", required=True, help="the city fund's balance at the start, yuan")
    y.add_argument("--reserve", required=True, help="the risk reserve at the start, yuan")
    y.add_argument("--profile", default="wenzhou-2022", help="built-in fund profile or TOML file")
    y.add_argument("--out", help="Parquet file: one row per county")
    y.add_argument("--city-out", help="Parquet file: the city row")
    y.set_defaults(func=_year_end)

    w = sub.add_parser("warning", help="months payable and the warning level, month by month")
    w.add_argument("monthly", help="Parquet: county (null: the city), year, month, revenue, expenditure[, balance]")
    w.add_argument(
        "--opening",
        action="append",
        default=[],
        metavar="COUNTY=YUAN",
        help="opening balance of a county (city=... for the city) when balance is not given",
    )
    w.add_argument("--profile", default="wenzhou-2022", help="built-in fund profile or TOML file")
    w.add_argument("--out", help="Parquet file for the monthly rows with months_e1 and level")
    w.add_argument("--plot", help="PNG file: months payable by month with the warning bands")
    w.set_defaults(func=_warning)
    return fund


def _reasons(table: pa.Table) -> list[str]:
    bad = table.filter(pc.is_valid(table.column("reason")))
    if not bad.num_rows:
        return []
    counts = bad.group_by("reason").aggregate([("reason", "count")]).to_pylist()
    return [f"  rejected {r['reason']}: {r['reason_count']:,}" for r in sorted(counts, key=lambda r: r["reason"])]


def _total(table: pa.Table, name: str) -> str:
    return fen_to_yuan(int(pc.sum(table.column(name)).as_py() or 0))


def _contributions(args: argparse.Namespace) -> int:
    from . import accounts, employee_contributions, employer_contributions, load_profile

    fp = load_profile(args.profile)
    wages = {y: _fen(v, f"--avg-wage {y}") for y, v in _by_year(args.avg_wage, "--avg-wage").items()}
    emp = employee_contributions(args.workers, fp, social_avg_wage=wages)
    if args.out:
        pq.write_table(emp, args.out)
    ok = emp.num_rows - emp.column("reason").null_count
    print(f"fund profile {fp.name} (fingerprint {fp.fingerprint()})")
    print(f"职工 workers: {emp.num_rows:,} rows, {emp.num_rows - ok:,} used")
    print(f"  个人缴费 individual contributions   {_total(emp, 'individual'):>18} yuan")
    print(f"  个人账户划入 account credits        {_total(emp, 'account_credit'):>18} yuan")
    print("\n".join(_reasons(emp)) or "  no rejected rows")
    if args.accounts_out:
        pq.write_table(accounts(emp, fp), args.accounts_out)
    if args.employers:
        er = employer_contributions(args.employers, fp)
        if args.employers_out:
            pq.write_table(er, args.employers_out)
        print(f"用人单位 employers: {er.num_rows:,} rows")
        print(f"  单位缴费 employer contributions     {_total(er, 'employer'):>18} yuan")
        print("\n".join(_reasons(er)) or "  no rejected rows")
    return 0


def _standards(args: argparse.Namespace) -> int:
    from . import load_profile, resident_contributions, resident_standards

    fp = load_profile(args.profile)
    income = {y: _fen(v, f"--income {y}") for y, v in _by_year(args.income, "--income").items()}
    amounts = {}
    for y, v in _by_year(args.policy, "--policy").items():
        total, sep, individual = v.partition("/")
        if not sep:
            raise FundCommandError(f"--policy {y}: {v!r} is not TOTAL/INDIVIDUAL in yuan")
        amounts[y] = (_fen(total, f"--policy {y} total"), _fen(individual, f"--policy {y} individual"))
    std = resident_standards(args.counties, fp, income_prev=income, policy_amounts=amounts)
    if args.out:
        pq.write_table(std, args.out)
    print(f"{'county 区县':<16}{'year 年度':>10}{'筹资标准 total':>16}{'个人缴费 individual':>22}  reason")
    for r in std.to_pylist():
        total = "-" if r["total"] is None else fen_to_yuan(r["total"])
        ind = "-" if r["individual"] is None else fen_to_yuan(r["individual"])
        print(f"{r['county']!s:<16}{r['year']:>10}{total:>16}{ind:>22}  {r['reason'] or ''}")
    if args.residents:
        res = resident_contributions(args.residents, std, fp)
        if args.residents_out:
            pq.write_table(res, args.residents_out)
        print(f"居民 residents: {res.num_rows:,} rows")
        for name, label in (("subsidy", "财政补助 subsidy"), ("by_assistance", "医疗救助资助 by assistance"),
                            ("by_person", "个人缴费 by person")):  # fmt: skip
            print(f"  {label:<28}{_total(res, name):>18} yuan")
        print("\n".join(_reasons(res)) or "  no rejected rows")
    return 0


def _year_end(args: argparse.Namespace) -> int:
    from . import load_profile, year_end

    fp = load_profile(args.profile)
    res = year_end(
        args.county_year,
        fp,
        balance=_fen(args.balance, "--balance", negative_ok=True),
        reserve=_fen(args.reserve, "--reserve"),
    )
    if args.out:
        pq.write_table(res.counties, args.out)
    if args.city_out:
        pq.write_table(res.city, args.city_out)
    city = res.city.to_pylist()[0]
    labels = {
        "delta": "当年收支差 delta",
        "from_balance": "动用结余 from balance",
        "from_reserve": "动用风险储备金 from reserve",
        "city_part": "市级分担 city part",
        "to_reserve": "提取风险储备金 to reserve",
        "balance": "年末结余 balance",
        "reserve": "年末风险储备金 reserve",
    }
    for key, label in labels.items():
        print(f"{label:<30}{fen_to_yuan(city[key]):>20} yuan")
    print(f"{'county 区县':<12}{'责任 responsibility':>22}{'奖励 reward':>18}{'缺口分担 gap share':>22}  reason")
    for r in res.counties.to_pylist():
        cells = ["-" if r[k] is None else fen_to_yuan(r[k]) for k in ("responsibility", "reward", "gap_share")]
        print(f"{r['county']!s:<12}{cells[0]:>22}{cells[1]:>18}{cells[2]:>22}  {r['reason'] or ''}")
    return 0


def _warning(args: argparse.Namespace) -> int:
    from . import load_profile, warning

    fp = load_profile(args.profile)
    opening = {}
    for item in args.opening:
        county, sep, amount = item.partition("=")
        if not sep:
            raise FundCommandError(f"--opening: {item!r} is not COUNTY=YUAN")
        key = None if county.strip() in ("city", "") else county.strip()
        opening[key] = _fen(amount.strip(), f"--opening {county}", negative_ok=True)
    out = warning(args.monthly, fp, opening=opening)
    if args.out:
        pq.write_table(out, args.out)
    levels = {"red": "红 red", "orange": "橙 orange", "green": "绿 green", "blue": "蓝 blue"}
    last = {}
    for r in out.to_pylist():
        if r["reason"] is None:
            key = r["county"]
            if key not in last or (r["year"], r["month"]) > (last[key]["year"], last[key]["month"]):
                last[key] = r
    print(f"{'county 区县':<12}{'month 月份':>10}{'balance 结余':>20}{'months 可支付月数':>18}  level 预警")
    for key, r in sorted(last.items(), key=lambda kv: (kv[0] is not None, kv[0] or "")):
        months = "-" if r["months_e1"] is None else f"{r['months_e1'] / 10:.1f}"
        name = "全市 city" if key is None else key
        when = f"{r['year']}-{r['month']:02d}"
        print(f"{name:<12}{when:>10}{fen_to_yuan(r['balance']):>20}{months:>18}  {levels[r['level']]}")
    print("\n".join(_reasons(out)))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .plot import plot_warning

        ax = plot_warning(out, fp)
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0
