"""The year end of the city fund and next year's budget (docs/rules/fund.md §4, §5).

Counties are few (twelve), so these run on Python integers, which cannot overflow: a product
such as ``resp_c · D`` of two amounts of 10¹² fen leaves int64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import PolicyError, SchemaError
from ..rounding import half_up as rnd
from .columns import NO_REASON, county_codes, fen_column, flag, later_duplicates, money, reason_column, table
from .profile import BP, FundProfile, load_profile

ALIASES = {"R": "revenue", "T": "target", "E": "expenditure", "B": "budget"}
MONTHS_IN_YEAR = 12  # the calendar, not a policy number


@dataclass(frozen=True)
class YearEnd:
    """The result of :func:`year_end`: ``counties`` (one row per input row) and ``city`` (one row)."""

    counties: pa.Table
    city: pa.Table

    def to_polars(self) -> dict:
        """Both tables as polars DataFrames, by name."""
        import polars as pl

        return {"counties": pl.from_arrow(self.counties), "city": pl.from_arrow(self.city)}


def _named(t: pa.Table) -> pa.Table:
    """Accept the short names R, T, E, B of docs/rules/fund.md §4 for the long ones."""
    names = [ALIASES.get(c, c) if ALIASES.get(c) not in t.column_names else c for c in t.column_names]
    return t.rename_columns(names)


def _one_scheme(t: pa.Table) -> None:
    if "scheme" in t.column_names and len(t.column("scheme").unique()) > 1:
        raise SchemaError("scheme", "one scheme per call (employee or resident)", str(t.column("scheme").unique()))


def _amount(name: str, v: Any, *, negative_ok: bool) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or (v < 0 and not negative_ok):
        raise PolicyError(f"{name}: {v!r} is not allowed; expected fen, an integer{'' if negative_ok else ' >= 0'}")
    return int(v)


def largest_remainder(x: int, weights: list[int], names: list[str]) -> list[int]:
    """``x`` shared in proportion to ``weights``: floors, then one fen each by largest remainder,
    ties by name (docs/rules/fund.md §4).

    Examples
    --------
    >>> largest_remainder(10, [1, 1, 1], ["c", "a", "b"])
    [3, 4, 3]
    """
    total = sum(weights)
    if total == 0 or x == 0:
        return [0] * len(weights)
    shares = [x * w // total for w in weights]
    rema = [x * w % total for w in weights]
    left = x - sum(shares)
    for k in sorted(range(len(weights)), key=lambda k: (-rema[k], names[k]))[:left]:
        shares[k] += 1
    return shares


def _pro_rata(claims: list[int], cap: int) -> list[int]:
    total = sum(claims)
    return claims if total <= cap else [c * cap // total for c in claims]


def year_end(county_year: Any, fp: FundProfile | str, *, balance: int, reserve: int) -> YearEnd:
    """Close a scheme's year of the city fund (统收统支): who covers a gap, rewards, reserve.

    Parameters
    ----------
    county_year
        One row per county for one scheme: ``county``, ``revenue`` (R), ``target`` (T,
        征缴任务), ``expenditure`` (E), ``budget`` (B) in fen; the short names R, T, E, B work too.
    fp
        A fund profile (or its name or path).
    balance, reserve
        The city fund's balance (may be negative) and risk reserve (风险储备金) at the start, fen.

    Returns
    -------
    YearEnd
        ``counties``: the input rows with ``shortfall``, ``overspend``, ``responsibility``,
        ``reward``, ``gap_share`` and ``reason`` (a rejected county takes no part);
        ``city``: ``revenue``, ``expenditure``, ``delta``, ``balance_before``,
        ``reserve_before``, ``from_balance``, ``from_reserve``, ``city_part``, ``to_reserve``,
        ``balance``, ``reserve``.

    Examples
    --------
    Worked example 4 of docs/rules/fund.md §8 (millions of yuan, here in fen):

    >>> import pyarrow as pa
    >>> M = 100_000_000  # a million yuan in fen
    >>> cy = pa.table({"county": ["lucheng", "ruian", "yueqing"], "R": [900 * M, 800 * M, 700 * M],
    ...     "T": [1000 * M, 800 * M, 690 * M], "E": [1100 * M, 850 * M, 600 * M], "B": [1000 * M, 800 * M, 650 * M]})
    >>> res = year_end(cy, "wenzhou-2022", balance=100 * M, reserve=50 * M)
    >>> [r / M for r in res.counties["responsibility"].to_pylist()]
    [71.0, 7.8, 0.0]
    >>> city = res.city.to_pylist()[0]
    >>> city["delta"] / M, city["from_balance"] / M, city["balance"] / M, city["reserve"] / M
    (-150.0, 71.2, 28.8, 50.0)
    """
    p = load_profile(fp)
    bal = _amount("balance", balance, negative_ok=True)
    res = _amount("reserve", reserve, negative_ok=False)
    t = _named(table(county_year))
    _one_scheme(t)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    county = county_codes(t, p.counties, reason)
    cols = {k: money(t, k, reason) for k in ("revenue", "target", "expenditure", "budget")}
    flag(reason, later_duplicates(county, reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    use = np.flatnonzero(ok).tolist()
    names = [p.counties[c] for c in county[use].tolist()]
    R, T, E, B = ([int(x) for x in cols[k][use]] for k in ("revenue", "target", "expenditure", "budget"))
    sum_r, sum_e = sum(R), sum(E)
    delta = sum_r - sum_e
    shortfall = [max(0, tt - r) for r, tt in zip(R, T, strict=True)]
    overspend = [max(0, e - rnd(b * (BP + p.tolerance_bp), BP)) for e, b in zip(E, B, strict=True)]
    zeros = [0] * len(use)
    resp, reward, gap = zeros, zeros, zeros
    from_balance = from_reserve = city_part = to_reserve = 0
    if delta < 0:
        gap_total = -delta
        resp = _pro_rata(
            [
                rnd(sf * p.shortfall_share_bp, BP) + rnd(ov * p.overspend_share_bp, BP)
                for sf, ov in zip(shortfall, overspend, strict=True)
            ],
            gap_total,
        )
        left = gap_total - sum(resp)
        from_balance = min(left, max(bal, 0))
        left -= from_balance
        from_reserve = min(left, res)
        left -= from_reserve
        city_part = rnd(left * p.city_share_bp, BP)
        gap = largest_remainder(left - city_part, E, names)
        new_bal, new_res = bal - from_balance, res - from_reserve
    else:
        reward = _pro_rata(
            [rnd(max(0, b - e) * p.reward_bp, BP) if r >= tt else 0 for r, tt, e, b in zip(R, T, E, B, strict=True)],
            delta,
        )
        left = delta - sum(reward)
        to_reserve = min(
            left, rnd(sum_r * p.reserve_rate_bp, BP), max(0, rnd(sum_e * p.reserve_cap_months, MONTHS_IN_YEAR) - res)
        )
        new_bal, new_res = bal + left - to_reserve, res + to_reserve

    def per_row(values: list[int]) -> pa.Array:
        full = np.zeros(n, dtype=np.int64)
        full[use] = values
        return fen_column(full, ok)

    counties = t
    for name, values in (
        ("shortfall", shortfall),
        ("overspend", overspend),
        ("responsibility", resp),
        ("reward", reward),
        ("gap_share", gap),
    ):
        counties = counties.append_column(name, per_row(values))
    counties = counties.append_column("reason", reason_column(reason))
    city = {
        "revenue": sum_r,
        "expenditure": sum_e,
        "delta": delta,
        "balance_before": bal,
        "reserve_before": res,
        "from_balance": from_balance,
        "from_reserve": from_reserve,
        "city_part": city_part,
        "to_reserve": to_reserve,
        "balance": new_bal,
        "reserve": new_res,
    }
    return YearEnd(counties, pa.table({k: pa.array([v], pa.int64()) for k, v in city.items()}))


def budget(county_year: Any, fp: FundProfile | str, *, revenue_forecast: Any) -> pa.Table:
    """Next year's expenditure budget per county (预算, 以收定支; docs/rules/fund.md §5).

    Parameters
    ----------
    county_year
        ``county``, ``expenditure`` (E, fen) of this year, one scheme.
    fp
        A fund profile (or its name or path).
    revenue_forecast
        Next year's revenue in fen: a total, a mapping county -> fen, or a table with
        ``county`` and ``revenue`` (from contributions on next year's enrolment).

    Returns
    -------
    pyarrow.Table
        The input rows with ``grown = rnd(E·(10⁴ + growth_bp), 10⁴)``, ``cap`` (the same on
        every row), ``budget_next`` (scaled ``grown·cap // Σgrown`` when Σ grown > cap) and
        ``reason``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> cy = pa.table({"county": ["lucheng", "ruian"], "E": [1_000_000, 3_000_000]})
    >>> budget(cy, "wenzhou-2022", revenue_forecast=4_000_000).select(["grown", "budget_next"]).to_pylist()
    [{'grown': 1050000, 'budget_next': 970000}, {'grown': 3150000, 'budget_next': 2910000}]
    """
    p = load_profile(fp)
    t = _named(table(county_year))
    _one_scheme(t)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    county = county_codes(t, p.counties, reason)
    spent = money(t, "expenditure", reason)
    flag(reason, later_duplicates(county, reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    forecast = _forecast_total(revenue_forecast)
    cap = rnd(forecast * (BP - p.reserve_rate_bp), BP)
    grown = [rnd(int(e) * (BP + p.growth_bp), BP) if k else 0 for e, k in zip(spent.tolist(), ok, strict=True)]
    total = sum(grown)
    final = [g * cap // total for g in grown] if total > cap else grown
    return (
        t.append_column("grown", fen_column(np.array(grown, dtype=np.int64), ok))
        .append_column("cap", pa.array(np.full(n, cap, dtype=np.int64)))
        .append_column("budget_next", fen_column(np.array(final, dtype=np.int64), ok))
        .append_column("reason", reason_column(reason))
    )


def _forecast_total(revenue_forecast: Any) -> int:
    if isinstance(revenue_forecast, (int, np.integer)) and not isinstance(revenue_forecast, bool):
        return _amount("revenue_forecast", revenue_forecast, negative_ok=False)
    if isinstance(revenue_forecast, Mapping):
        return sum(_amount(f"revenue_forecast[{k}]", v, negative_ok=False) for k, v in revenue_forecast.items())
    t = table(revenue_forecast)
    reason = np.full(t.num_rows, NO_REASON, dtype=np.int16)
    fen = money(t, "revenue", reason)
    if (reason != NO_REASON).any():
        raise SchemaError(
            "revenue", "non-negative fen in revenue_forecast", f"row {int(np.argmax(reason != NO_REASON))}"
        )
    return int(fen.sum())
