"""The fund in plain Python, one row at a time: the twin of ``wzmedins.fund`` (docs/rules/fund.md).

Written to be read against the rules. Python integers throughout, so nothing here can
overflow. It shares only the input contract with ``wzmedins.fund`` (column names, units in
fen and 1e-4, reason codes) and reads a loaded fund profile's values; every check and every
formula is written again here. Tables in are Arrow (or anything with ``to_arrow``, or a
Parquet path); tables out are Arrow, with the same columns as the library's.

Examples
--------
>>> import pyarrow as pa
>>> from wzmedins.fund import load_profile
>>> fp = load_profile("wenzhou-2022")
>>> w = pa.table({"person_id": ["a"], "year": [2022], "county": ["ruian"], "category": ["in_service"],
...     "wage_prev": [1_200_000], "months": [12]})
>>> employee_contributions(w, fp, social_avg_wage={2021: 700_000}).column("individual").to_pylist()
[288000]
"""

from __future__ import annotations

import decimal
import os
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

from ..errors import PolicyError, SchemaError
from ..reasons import CODE, MAX_AMOUNT_FEN
from ..rounding import half_up as rnd

BP = 10_000
CATEGORIES = ("in_service", "flexible", "retired")
LEVELS = ("red", "orange", "green", "blue")


# --------------------------------------------------------------------------- rows in, rows out


def _table(data) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, (str, os.PathLike)):
        import pyarrow.parquet as pq

        return pq.read_table(os.fspath(data))
    if hasattr(data, "collect"):
        data = data.collect()
    if hasattr(data, "to_arrow"):
        return data.to_arrow()
    return pa.table(data)


def _rows(data) -> tuple[pa.Table, list[dict]]:
    t = _table(data)
    return t, t.to_pylist()


def _first(reasons: list[str]) -> str | None:
    """The first reason in the order of ``reasons.REASONS``."""
    return min(reasons, key=CODE.__getitem__) if reasons else None


def _fen(v, reasons: list[str], *, required: bool = True, negative_ok: bool = False) -> int:
    """A money value as fen: int fen, Decimal or float yuan (docs/rules/fund.md §7)."""
    if v is None:
        if required:
            reasons.append("MISSING_VALUE")
        return 0
    if isinstance(v, int):
        fen = v
    else:
        if isinstance(v, float) and v != v:
            reasons.append("MISSING_VALUE" if required else "AMOUNT_NOT_IN_FEN")
            return 0
        d = decimal.Decimal(v) if isinstance(v, float) else v
        cents = (d * 100).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
        if abs(cents) > MAX_AMOUNT_FEN:
            reasons.append("AMOUNT_TOO_LARGE")
            return 0
        exact = float(cents) / 100 == v if isinstance(v, float) else cents == d * 100
        if not exact:
            reasons.append("AMOUNT_NOT_IN_FEN")
            return 0
        fen = int(cents)
    if abs(fen) > MAX_AMOUNT_FEN:
        reasons.append("AMOUNT_TOO_LARGE")
        return 0
    if fen < 0 and not negative_ok:
        reasons.append("NEGATIVE_AMOUNT")
    return fen


def _county(v, fp, reasons: list[str]) -> None:
    if v is None:
        reasons.append("MISSING_VALUE")
    elif v not in fp.counties:
        reasons.append("UNKNOWN_COUNTY")


def _required(row: dict, name: str, reasons: list[str]):
    if name not in row:
        raise SchemaError(name, "a column", "no such column")
    if row[name] is None:
        reasons.append("MISSING_VALUE")
    return row[name]


def _out(t: pa.Table, columns: dict[str, list], money: tuple[str, ...]) -> pa.Table:
    for name, values in columns.items():
        typ = pa.int64() if name in money else pa.int32() if name == "share_bp" else pa.string()
        arr = pa.array(values, typ)
        if name in t.column_names:
            t = t.set_column(t.column_names.index(name), name, arr)
        else:
            t = t.append_column(name, arr)
    return t


# --------------------------------------------------------------------------- §1 contributions


def employee_contributions(workers, fp, *, social_avg_wage) -> pa.Table:
    """Base, individual contribution and account credit of each row (docs/rules/fund.md §1)."""
    for y, a in social_avg_wage.items():
        if isinstance(a, bool) or not isinstance(a, int) or a < 0 or a > MAX_AMOUNT_FEN:
            raise PolicyError(f"social_avg_wage[{y}]: {a!r} is not allowed")
    t, rows = _rows(workers)
    out = {"base": [], "individual": [], "account_credit": [], "reason": []}
    months_so_far: dict = defaultdict(int)
    for row in rows:
        why: list[str] = []
        person = _required(row, "person_id", why)
        year = _required(row, "year", why)
        _county(_required(row, "county", []), fp, why)
        category = _required(row, "category", why)
        if category is not None and category not in CATEGORIES:
            why.append("UNKNOWN_CATEGORY")
        wage = _fen(row.get("wage_prev"), why)
        months = _required(row, "months", why)
        if months is not None and not 1 <= months <= 12:
            why.append("MONTH_OUT_OF_RANGE")
        if year is not None and (year - 1) not in social_avg_wage:
            why.append("VALUE_OUT_OF_RANGE")
        if not why:
            if months_so_far[(person, year)] + months > 12:
                why.append("DUPLICATE_ENROLMENT")  # the person-year passes 12 months
            else:
                months_so_far[(person, year)] += months
        if why:
            for k in ("base", "individual", "account_credit"):
                out[k].append(None)
            out["reason"].append(_first(why))
            continue
        a = social_avg_wage[year - 1]
        base = min(max(wage, rnd(a * fp.floor_bp, BP)), rnd(a * fp.ceiling_bp, BP))
        if category == "in_service":
            individual = rnd(base * fp.individual_rate_bp, BP) * months
            credit = individual
        elif category == "flexible":
            individual = rnd(base * fp.flexible_rate_bp, BP) * months
            credit = rnd(base * fp.individual_rate_bp, BP) * months
        else:
            individual = rnd(base * fp.retired_rate_bp, BP) * months
            credit = rnd(fp.retired_account_annual * months, 12)
        out["base"].append(base)
        out["individual"].append(individual)
        out["account_credit"].append(credit)
        out["reason"].append(None)
    return _out(t, out, ("base", "individual", "account_credit"))


def employer_contributions(employers, fp) -> pa.Table:
    """``rnd(payroll · employer_rate_bp, 10⁴)`` per employer and month (docs/rules/fund.md §1)."""
    t, rows = _rows(employers)
    out = {"employer": [], "reason": []}
    seen = set()
    for row in rows:
        why: list[str] = []
        employer = _required(row, "employer_id", why)
        year = _required(row, "year", why)
        month = _required(row, "month", why)
        _county(_required(row, "county", []), fp, why)
        payroll = _fen(row.get("payroll"), why)
        if month is not None and not 1 <= month <= 12:
            why.append("MONTH_OUT_OF_RANGE")
        if not why:
            if (employer, year, month) in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add((employer, year, month))
        out["employer"].append(None if why else rnd(payroll * fp.employer_rate_bp, BP))
        out["reason"].append(_first(why))
    return _out(t, out, ("employer",))


def accounts(emp, fp, *, hist=None) -> pa.Table:
    """One accounts row per person-year: Σ account credits, and the historical balance given."""
    _, rows = _rows(emp)
    credit: dict = defaultdict(int)
    for row in rows:
        if row.get("reason") is None:
            credit[(row["person_id"], row["year"])] += row["account_credit"]
    opening = {}
    if hist is not None:
        opening = {(r["person_id"], r["year"]): r["hist_balance"] for r in _rows(hist)[1]}
    keys = sorted(credit)
    person_type = _table(emp).schema.field("person_id").type
    if pa.types.is_dictionary(person_type):
        person_type = person_type.value_type
    return pa.table(
        {
            "person_id": pa.array([k[0] for k in keys], person_type),
            "year": pa.array([k[1] for k in keys], pa.int32()),
            "current_balance": pa.array([credit[k] for k in keys], pa.int64()),
            "hist_balance": pa.array([opening.get(k) or 0 for k in keys], pa.int64()),
        }
    )


# --------------------------------------------------------------------------- §2 resident funding


def _share(fp, year: int) -> int:
    """``s_y``: 0 up to the base year, the share listed for the latest year up to ``year``,
    10 000 after the last listed year."""
    if year <= fp.transition_base_year:
        return 0
    listed = fp.transition_share_bp
    if year > max(listed):
        return BP
    before = [y for y in listed if y <= year]
    return listed[max(before)] if before else 0


def _srnd(n: int, d: int) -> int:
    return rnd(n, d) if n >= 0 else -rnd(-n, d)


def resident_standards(counties, fp, *, income_prev, policy_amounts) -> pa.Table:
    """Per county and year: ``(F, I)`` on the way from the county's own standard to the city's."""
    t, rows = _rows(counties)
    checked = []
    seen = set()
    for row in rows:
        why: list[str] = []
        county = _required(row, "county", why)
        _county(county, fp, [] if county is None else why)
        urban = _required(row, "urban", why)
        f0 = _fen(row.get("base_total"), why, required=False) if row.get("base_total") is not None else None
        i0 = _fen(row.get("base_individual"), why, required=False) if row.get("base_individual") is not None else None
        if not urban and (f0 is None or i0 is None):
            why.append("NO_BASE_STANDARD")
        if not urban and f0 is not None and i0 is not None and i0 > f0:
            why.append("VALUE_OUT_OF_RANGE")
        if not why:
            if county in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add(county)
        checked.append((row, bool(urban), f0, i0, _first(why)))
    city = {}
    for y in sorted(policy_amounts):
        if y - 1 not in income_prev:
            raise PolicyError(f"income_prev: no value for {y - 1}")
        f_policy, i_policy = policy_amounts[y]
        f_city = max(f_policy, rnd(income_prev[y - 1] * fp.min_income_share_bp, BP))
        i_city = max(i_policy, (f_city + 2) // 3) if fp.individual_min_third else i_policy
        city[y] = (f_city, i_city)
    names = ("county", "year", "urban", "base_total", "base_individual", "city_total", "city_individual",
             "share_bp", "total", "individual", "reason")  # fmt: skip
    out = {k: [] for k in names}
    for row, urban, f0, i0, reason in checked:
        for y, (f_city, i_city) in city.items():
            s = BP if urban else _share(fp, y)
            if reason is not None:
                total = individual = None
            elif urban:
                total, individual = f_city, i_city
            else:
                total = f0 + _srnd((f_city - f0) * s, BP)
                individual = i0 + _srnd((i_city - i0) * s, BP)
            good = reason is None
            values = (row["county"], y, row["urban"], f0, i0, f_city if good else None, i_city if good else None,
                      s, total, individual, reason)  # fmt: skip
            for k, v in zip(names, values, strict=True):
                out[k].append(v)
    money = ("base_total", "base_individual", "city_total", "city_individual", "total", "individual")
    return pa.table(
        {
            "county": pa.array(out["county"], t.schema.field("county").type),
            "year": pa.array(out["year"], pa.int32()),
            "urban": pa.array(out["urban"], pa.bool_()),
            **{k: pa.array(out[k], pa.int64()) for k in money[:4]},
            "share_bp": pa.array(out["share_bp"], pa.int32()),
            **{k: pa.array(out[k], pa.int64()) for k in money[4:]},
            "reason": pa.array(out["reason"], pa.string()),
        }
    )


def resident_contributions(residents, std, fp) -> pa.Table:
    """Subsidy (split over fiscal levels), individual share, and who pays it (资助参保)."""
    standard = {}
    for r in _rows(std)[1]:
        if r.get("reason") is None:
            standard[(r["county"], r["year"])] = (r["total"], r["individual"])
    t, rows = _rows(residents)
    levels = fp.subsidy_levels
    names = ("total", "individual", "subsidy", *(f"subsidy_{lv}" for lv in levels), "by_assistance", "by_person")
    out = {k: [] for k in (*names, "reason")}
    seen = set()
    for row in rows:
        why: list[str] = []
        person = _required(row, "person_id", why)
        year = _required(row, "year", why)
        county = _required(row, "county", why)
        if county is not None and county not in fp.counties:
            why.append("UNKNOWN_COUNTY")
        assistance = row.get("assistance") or "none"
        if assistance not in fp.assistance_pays_bp:
            why.append("UNKNOWN_ASSISTANCE")
        if (county, year) not in standard:
            why.append("NO_BASE_STANDARD")
        if not why:
            if (person, year) in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add((person, year))
        out["reason"].append(_first(why))
        if why:
            for k in names:
                out[k].append(None)
            continue
        total, individual = standard[(county, year)]
        subsidy = total - individual
        split = fp.subsidy_split_bp.get(county, fp.subsidy_split_bp["default"])
        parts = [rnd(subsidy * s, BP) for s in split[:-1]]
        parts.append(subsidy - sum(parts))
        by_assistance = rnd(individual * fp.assistance_pays_bp[assistance], BP)
        values = (total, individual, subsidy, *parts, by_assistance, individual - by_assistance)
        for k, v in zip(names, values, strict=True):
            out[k].append(v)
    return _out(t, out, names)


# --------------------------------------------------------------------------- §3 legacy


def legacy(balances, fp) -> pa.Table:
    """Debt stays with the county; a surplus moves up to ``capacity_months`` of payout."""
    t, rows = _rows(balances)
    out = {"transferred": [], "retained": [], "county_debt": [], "reason": []}
    seen = set()
    for row in rows:
        why: list[str] = []
        _county(_required(row, "county", []), fp, why)
        balance = _fen(row.get("balance"), why, negative_ok=True)
        monthly = _fen(row.get("monthly_expenditure"), why)
        if not why:
            if row["county"] in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add(row["county"])
        out["reason"].append(_first(why))
        if why:
            for k in ("transferred", "retained", "county_debt"):
                out[k].append(None)
        elif balance < 0:
            out["transferred"].append(0)
            out["retained"].append(0)
            out["county_debt"].append(-balance)
        else:
            moved = min(balance, monthly * fp.capacity_months)
            out["transferred"].append(moved)
            out["retained"].append(balance - moved)
            out["county_debt"].append(0)
    return _out(t, out, ("transferred", "retained", "county_debt"))


# --------------------------------------------------------------------------- §4 year end, §5 budget


@dataclass(frozen=True)
class YearEnd:
    counties: pa.Table
    city: pa.Table


_SHORT = {"R": "revenue", "T": "target", "E": "expenditure", "B": "budget"}


def _county_rows(data, fp, amounts: tuple[str, ...]):
    t, rows = _rows(data)
    if "scheme" in t.column_names and len(set(t.column("scheme").to_pylist())) > 1:
        raise SchemaError("scheme", "one scheme per call", "several")
    checked, seen = [], set()
    for row in rows:
        row = {(_SHORT.get(k, k) if _SHORT.get(k) not in row else k): v for k, v in row.items()}
        why: list[str] = []
        _county(_required(row, "county", []), fp, why)
        values = {k: _fen(row.get(k), why) for k in amounts}
        if not why:
            if row["county"] in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add(row["county"])
        checked.append((row["county"], values, _first(why)))
    return t, checked


def year_end(county_year, fp, *, balance, reserve) -> YearEnd:
    """The city fund's year: county responsibility, balance, reserve, city and county shares of a
    gap; or rewards, reserve and balance of a surplus (docs/rules/fund.md §4)."""
    t, checked = _county_rows(county_year, fp, ("revenue", "target", "expenditure", "budget"))
    used = [(c, v) for c, v, why in checked if why is None]
    sum_r = sum(v["revenue"] for _, v in used)
    sum_e = sum(v["expenditure"] for _, v in used)
    delta = sum_r - sum_e
    result = {}
    for c, v in used:
        shortfall = max(0, v["target"] - v["revenue"])
        overspend = max(0, v["expenditure"] - rnd(v["budget"] * (BP + fp.tolerance_bp), BP))
        result[c] = {"shortfall": shortfall, "overspend": overspend, "responsibility": 0, "reward": 0, "gap_share": 0}
    city = dict.fromkeys(("from_balance", "from_reserve", "city_part", "to_reserve"), 0)
    new_balance, new_reserve = balance, reserve
    if delta < 0:
        gap = -delta
        for c in result:
            r = result[c]
            r["responsibility"] = rnd(r["shortfall"] * fp.shortfall_share_bp, BP) + rnd(
                r["overspend"] * fp.overspend_share_bp, BP
            )
        total_resp = sum(r["responsibility"] for r in result.values())
        if total_resp > gap:
            for r in result.values():
                r["responsibility"] = r["responsibility"] * gap // total_resp
        rest = gap - sum(r["responsibility"] for r in result.values())
        city["from_balance"] = min(rest, max(balance, 0))
        rest -= city["from_balance"]
        city["from_reserve"] = min(rest, reserve)
        rest -= city["from_reserve"]
        city["city_part"] = rnd(rest * fp.city_share_bp, BP)
        counties_part = rest - city["city_part"]
        spent = {c: v["expenditure"] for c, v in used}
        remainders = []
        for c in result:
            result[c]["gap_share"] = counties_part * spent[c] // sum_e
            remainders.append((-(counties_part * spent[c] % sum_e), c))
        leftover = counties_part - sum(r["gap_share"] for r in result.values())
        for _, c in sorted(remainders)[:leftover]:
            result[c]["gap_share"] += 1
        new_balance = balance - city["from_balance"]
        new_reserve = reserve - city["from_reserve"]
    else:
        for c, v in used:
            if v["revenue"] >= v["target"]:
                result[c]["reward"] = rnd(max(0, v["budget"] - v["expenditure"]) * fp.reward_bp, BP)
        total_reward = sum(r["reward"] for r in result.values())
        if total_reward > delta:
            for r in result.values():
                r["reward"] = r["reward"] * delta // total_reward
        left = delta - sum(r["reward"] for r in result.values())
        city["to_reserve"] = min(
            left, rnd(sum_r * fp.reserve_rate_bp, BP), max(0, rnd(sum_e * fp.reserve_cap_months, 12) - reserve)
        )
        new_balance = balance + left - city["to_reserve"]
        new_reserve = reserve + city["to_reserve"]
    names = ("shortfall", "overspend", "responsibility", "reward", "gap_share")
    out = {k: [] for k in (*names, "reason")}
    for c, _, why in checked:
        for k in names:
            out[k].append(result[c][k] if why is None else None)
        out["reason"].append(why)
    city_row = {"revenue": sum_r, "expenditure": sum_e, "delta": delta, "balance_before": balance,
                "reserve_before": reserve, **city, "balance": new_balance, "reserve": new_reserve}  # fmt: skip
    order = ("revenue", "expenditure", "delta", "balance_before", "reserve_before", "from_balance", "from_reserve",
             "city_part", "to_reserve", "balance", "reserve")  # fmt: skip
    counties = t
    for k in (*names, "reason"):
        counties = counties.append_column(k, pa.array(out[k], pa.string() if k == "reason" else pa.int64()))
    return YearEnd(counties, pa.table({k: pa.array([city_row[k]], pa.int64()) for k in order}))


def budget(county_year, fp, *, revenue_forecast) -> pa.Table:
    """Next year's budget: this year's expenditure grown, scaled down to the revenue cap."""
    t, checked = _county_rows(county_year, fp, ("expenditure",))
    if isinstance(revenue_forecast, int):
        forecast = revenue_forecast
    elif isinstance(revenue_forecast, dict):
        forecast = sum(revenue_forecast.values())
    else:
        forecast = sum(r["revenue"] for r in _rows(revenue_forecast)[1])
    cap = rnd(forecast * (BP - fp.reserve_rate_bp), BP)
    grown = [rnd(v["expenditure"] * (BP + fp.growth_bp), BP) if why is None else None for _, v, why in checked]
    total = sum(g for g in grown if g is not None)
    final = [None if g is None else (g * cap // total if total > cap else g) for g in grown]
    return (
        t.append_column("grown", pa.array(grown, pa.int64()))
        .append_column("cap", pa.array([cap] * len(grown), pa.int64()))
        .append_column("budget_next", pa.array(final, pa.int64()))
        .append_column("reason", pa.array([why for _, _, why in checked], pa.string()))
    )


# --------------------------------------------------------------------------- §6 warning


def warning(monthly, fp, *, opening=None) -> pa.Table:
    """Months payable in tenths, ``rnd(bal·10·n, Σ last n expenditures)``, and the level."""
    opening = opening or {}
    t, rows = _rows(monthly)
    checked, seen = [], set()
    for i, row in enumerate(rows):
        why: list[str] = []
        county = row.get("county")
        if county is not None and county not in fp.counties:
            why.append("UNKNOWN_COUNTY")
        year = _required(row, "year", why)
        month = _required(row, "month", why)
        if month is not None and not 1 <= month <= 12:
            why.append("MONTH_OUT_OF_RANGE")
        revenue = _fen(row.get("revenue"), why)
        spent = _fen(row.get("expenditure"), why)
        given = row.get("balance")
        bal = _fen(given, why, required=False, negative_ok=True) if given is not None else None
        if not why:
            if (county, year, month) in seen:
                why.append("DUPLICATE_ENROLMENT")
            seen.add((county, year, month))
        checked.append((i, county, year, month, revenue, spent, bal, _first(why)))
    n = len(rows)
    balance, months_e1, level = [None] * n, [None] * n, [None] * n
    by_county = defaultdict(list)
    for c in checked:
        if c[-1] is None:
            by_county[c[1]].append(c)
    for county, series in by_county.items():
        series.sort(key=lambda c: (c[2], c[3]))
        running = opening.get(county, 0)
        window: list[int] = []
        for i, _, _, _, revenue, spent, bal, _ in series:
            running = bal if bal is not None else running + revenue - spent
            window = (window + [spent])[-fp.warning_window_months :]
            total = sum(window)
            m = None if total == 0 else 0 if running <= 0 else rnd(running * 10 * len(window), total)
            balance[i], months_e1[i] = running, m
            level[i] = "blue"
            if m is not None:
                for upper, name in zip(fp.warning_bands, LEVELS, strict=False):
                    if m < upper:
                        level[i] = name
                        break
    out = {"balance": balance, "months_e1": months_e1, "level": level, "reason": [c[-1] for c in checked]}
    return _out(t, out, ("balance", "months_e1"))
