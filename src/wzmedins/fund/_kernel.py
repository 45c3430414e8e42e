"""The numba kernels of wzmedins.fund: arrays in, arrays out, integers only.

Their pure-Python twin is ``wzmedins.reference.fund``. ``NUMBA_DISABLE_JIT=1`` runs them as
plain Python (coverage). Every ``rnd(a·b, d)`` goes through :func:`mulrnd` (no int64 overflow).
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..rounding import mulrnd, rnd

# Employee categories of docs/rules/fund.md §1; the integer is the index.
FUND_CATEGORIES: tuple[str, ...] = ("in_service", "flexible", "retired")
IN_SERVICE, FLEXIBLE, RETIRED = range(3)
BP = 10_000  # 1.0000 in 1e-4 units: the unit of the representation, not a policy number
MONTHS_IN_YEAR = 12  # the calendar, not a policy number


@kernel
def employee(
    ok,
    category,
    wage_prev,
    months,
    avg_wage,
    floor_bp,
    ceiling_bp,
    individual_rate_bp,
    flexible_rate_bp,
    retired_rate_bp,
    retired_account_annual,
    base,
    individual,
    account_credit,
):
    """Base, individual contribution and account credit of each person-month row (fund.md §1).

    Parameters
    ----------
    ok : bool[n]
        Rows to compute; the others get 0.
    category : int8[n]
        Index into ``FUND_CATEGORIES``.
    wage_prev, months, avg_wage : int64[n]
        Last year's monthly wage (fen), months in the row (1-12), the social average monthly
        wage ``A`` of the row's previous year (fen).
    floor_bp, ceiling_bp, individual_rate_bp, flexible_rate_bp, retired_rate_bp : int
        Profile values (1e-4).
    retired_account_annual : int
        Fen a year credited to a retiree's account.
    base, individual, account_credit : int64[n]
        Outputs, written in place.
    """
    for i in range(len(ok)):
        if not ok[i]:
            base[i] = 0
            individual[i] = 0
            account_credit[i] = 0
            continue
        a = avg_wage[i]
        b = min(max(wage_prev[i], mulrnd(a, floor_bp, BP)), mulrnd(a, ceiling_bp, BP))
        m = months[i]
        base[i] = b
        c = category[i]
        if c == IN_SERVICE:
            individual[i] = mulrnd(b, individual_rate_bp, BP) * m
            account_credit[i] = individual[i]
        elif c == FLEXIBLE:
            individual[i] = mulrnd(b, flexible_rate_bp, BP) * m
            account_credit[i] = mulrnd(b, individual_rate_bp, BP) * m
        else:
            individual[i] = mulrnd(b, retired_rate_bp, BP) * m
            account_credit[i] = rnd(retired_account_annual * m, MONTHS_IN_YEAR)


@kernel
def months_over(order, key, months, ok):
    """Rows whose months take their person-year past 12 (DUPLICATE_ENROLMENT).

    ``order`` lists the ``ok`` rows sorted stably by ``key`` (person-year), so rows of one
    person-year come in input order; a row that would pass 12 months is flagged and not counted.
    """
    flags = np.zeros(len(ok), dtype=np.bool_)
    total = 0
    for j in range(len(order)):
        i = order[j]
        if j == 0 or key[i] != key[order[j - 1]]:
            total = 0
        if total + months[i] > MONTHS_IN_YEAR:
            flags[i] = True
        else:
            total += months[i]
    return flags
