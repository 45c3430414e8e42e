"""The monthly risk warning (风险预警) for the city and each county (docs/rules/fund.md §6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables
from ..errors import PolicyError
from ..rounding import half_up as rnd
from .columns import (
    NO_REASON,
    codes,
    dense_key,
    flag,
    integers,
    later_duplicates,
    money,
    optional_money,
    reason_column,
    table,
)
from .profile import WARNING_LEVELS, FundProfile, load_profile

TENTHS = 10  # months payable are counted in tenths of a month


def level_of(months_e1: int | None, bands: tuple[int, ...]) -> str:
    """The warning level: the first band whose upper bound exceeds ``months_e1``; null is blue.

    Examples
    --------
    >>> [level_of(m, (30, 60, 150)) for m in (0, 29, 30, 60, 149, 150, None)]
    ['red', 'red', 'orange', 'green', 'green', 'blue', 'blue']
    """
    if months_e1 is None:
        return WARNING_LEVELS[-1]
    for upper, level in zip(bands, WARNING_LEVELS, strict=False):
        if months_e1 < upper:
            return level
    return WARNING_LEVELS[-1]


def months_payable(balance: int, expenditures: list[int]) -> int | None:
    """Months of expenditure the balance pays, in tenths: ``rnd(bal·10·n, Σ exp)``.

    Examples
    --------
    Worked example 7 of docs/rules/fund.md §8 (yuan):

    >>> months_payable(600, [100] * 12), months_payable(250, [90] * 6 + [110] * 6), months_payable(700, [120] * 12)
    (60, 25, 58)
    >>> months_payable(-1, [100] * 12), months_payable(5, [0, 0])
    (0, None)
    """
    spent = sum(expenditures)
    if spent == 0:
        return None
    if balance <= 0:
        return 0
    return rnd(balance * TENTHS * len(expenditures), spent)


def warning(monthly: Any, fp: FundProfile | str, *, opening: Mapping[str | None, int] | None = None) -> pa.Table:
    """Months payable and the warning level of the city and of each county, month by month.

    Parameters
    ----------
    monthly
        One row per county (null: the city as a whole) and month: ``county``, ``year``,
        ``month`` (1-12), ``revenue``, ``expenditure`` (fen) and optionally ``balance`` (fen,
        at the end of the month). Where ``balance`` is absent or null it is the notional
        balance: the row before's (same county, in time order) plus revenue minus
        expenditure, starting from ``opening[county]`` (default 0).
    fp
        A fund profile (or its name or path).
    opening
        Opening balances by county id (``None`` for the city), fen.

    Returns
    -------
    pyarrow.Table
        The input rows with ``balance`` (given or notional), ``months_e1`` (tenths of a
        month over the last ``warning_window_months`` months available, null when there was
        no expenditure), ``level`` (red, orange, green, blue) and ``reason``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> m = pa.table({"county": [None] * 12, "year": [2022] * 12, "month": list(range(1, 13)),
    ...     "revenue": [0] * 12, "expenditure": [10_000] * 12, "balance": [None] * 11 + [60_000]})
    >>> out = warning(m, "wenzhou-2022", opening={None: 150_000})
    >>> out["months_e1"].to_pylist()[:2], out["level"].to_pylist()[-1], out["months_e1"].to_pylist()[-1]
    ([140, 130], 'green', 60)
    """
    p = load_profile(fp)
    opening = dict(opening or {})
    for k, v in opening.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise PolicyError(f"opening[{k!r}]: {v!r} is not allowed; expected fen, an integer")
    t = table(monthly)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    arr = tables.column(t, "county", "strings")
    city = tables.null_mask(arr) if arr is not None else np.ones(n, dtype=bool)
    if arr is not None:
        scratch = np.full(n, NO_REASON, dtype=np.int16)
        county = codes(t, "county", p.counties, scratch, "UNKNOWN_COUNTY")
        scratch[city] = NO_REASON  # a null county is the city, not a missing value
        np.minimum(reason, scratch, out=reason)
    else:
        county = np.zeros(n, dtype=np.int64)
    group = np.where(city, len(p.counties), county)
    year = integers(t, "year", reason)
    month = integers(t, "month", reason)
    flag(reason, (month < 1) | (month > 12), "MONTH_OUT_OF_RANGE")
    revenue = money(t, "revenue", reason)
    spent = money(t, "expenditure", reason)
    given_balance, given = optional_money(t, "balance", reason, negative_ok=True)
    key = dense_key(group, year, month) if n else np.zeros(0, dtype=np.int64)
    flag(reason, later_duplicates(key, reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    rows = np.flatnonzero(ok)
    rows = rows[np.lexsort((month[rows], year[rows], group[rows]))]
    balance = np.zeros(n, dtype=np.int64)
    months_e1 = np.zeros(n, dtype=np.int64)
    has_months = np.zeros(n, dtype=bool)
    levels = np.full(n, None, dtype=object)
    window: list[int] = []
    running = 0
    for j, i in enumerate(rows.tolist()):
        if j == 0 or group[i] != group[rows[j - 1]]:
            window = []
            running = int(opening.get(None if city[i] else p.counties[county[i]], 0))
        running = int(given_balance[i]) if given[i] else running + int(revenue[i]) - int(spent[i])
        window = (window + [int(spent[i])])[-p.warning_window_months :]
        m = months_payable(running, window)
        balance[i] = running
        has_months[i] = m is not None
        months_e1[i] = m or 0
        levels[i] = level_of(m, p.warning_bands)
    out = t
    out_cols = {
        "balance": pa.array(balance, pa.int64(), mask=~ok),
        "months_e1": pa.array(months_e1, pa.int64(), mask=~has_months),
        "level": pa.array(levels, pa.string()),
        "reason": reason_column(reason),
    }
    for name, col in out_cols.items():
        if name in out.column_names:
            out = out.set_column(out.column_names.index(name), name, col)
        else:
            out = out.append_column(name, col)
    return out
