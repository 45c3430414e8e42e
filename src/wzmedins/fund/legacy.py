"""Balances and debts from before pooling (docs/rules/fund.md §3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .columns import (
    NO_REASON,
    county_codes,
    fen_column,
    flag,
    later_duplicates,
    money,
    reason_column,
    table,
    with_columns,
)
from .profile import FundProfile, load_profile


def legacy(balances: Any, fp: FundProfile | str) -> pa.Table:
    """Split each county's balance at the start of pooling (历年结余与欠账).

    A debt stays with the county; a surplus moves to the city fund up to ``capacity_months``
    of the county's average monthly expenditure, and the rest stays with the county
    (暂存原统筹区).

    Parameters
    ----------
    balances
        ``county``, ``balance`` (fen, may be negative), ``monthly_expenditure`` (fen).
    fp
        A fund profile (or its name or path).

    Returns
    -------
    pyarrow.Table
        The input rows with ``transferred``, ``retained``, ``county_debt`` (fen) and ``reason``.

    Examples
    --------
    Worked example 3 of docs/rules/fund.md §8 (amounts in fen):

    >>> import pyarrow as pa
    >>> b = pa.table({"county": ["ruian", "yueqing", "yongjia"],
    ...     "balance": [-500_000_000, 25_000_000_000, 10_000_000_000], "monthly_expenditure": [3_000_000_000] * 3})
    >>> for row in legacy(b, "wenzhou-2022").select(["transferred", "retained", "county_debt"]).to_pylist():
    ...     print(row)
    {'transferred': 0, 'retained': 0, 'county_debt': 500000000}
    {'transferred': 18000000000, 'retained': 7000000000, 'county_debt': 0}
    {'transferred': 10000000000, 'retained': 0, 'county_debt': 0}
    """
    p = load_profile(fp)
    t = table(balances)
    reason = np.full(t.num_rows, NO_REASON, dtype=np.int16)
    county = county_codes(t, p.counties, reason)
    balance = money(t, "balance", reason, negative_ok=True)
    monthly = money(t, "monthly_expenditure", reason)
    flag(reason, later_duplicates(county, reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    surplus = np.maximum(balance, 0)
    transferred = np.minimum(surplus, monthly * p.capacity_months)
    return with_columns(
        t,
        {
            "transferred": fen_column(transferred, ok),
            "retained": fen_column(surplus - transferred, ok),
            "county_debt": fen_column(np.maximum(-balance, 0), ok),
            "reason": reason_column(reason),
        },
    )
