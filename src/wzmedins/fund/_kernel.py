"""The numba kernels of wzmedins.fund: arrays in, arrays out, integers only.

Their pure-Python twin is ``wzmedins.reference.fund``. ``NUMBA_DISABLE_JIT=1`` runs them as
plain Python (coverage). Every ``rnd(a·b, d)`` goes through :func:`mulrnd` (no int64 overflow).
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..rounding import rnd

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
    year_code,
    base_floor,
    base_ceiling,
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
    wage_prev, months : int64[n]
        Last year's monthly wage (fen) and the months in the row (1-12).
    year_code : int64[n]
        Index of the row's year into ``base_floor`` and ``base_ceiling``.
    base_floor, base_ceiling : int64[n_years]
        ``rnd(A·floor_bp, 10⁴)`` and ``rnd(A·ceiling_bp, 10⁴)`` of each year (``A`` of the
        year before), computed once per year by the wrapper.
    individual_rate_bp, flexible_rate_bp, retired_rate_bp : int
        Profile rates (1e-4).
    retired_account_annual : int
        Fen a year credited to a retiree's account.
    base, individual, account_credit : int64[n]
        Outputs, written in place.

    Notes
    -----
    ``base ≤ 10¹³`` (A ≤ 10¹² fen, ceiling ≤ 10 × A) and rates ≤ 10⁴, so ``2·base·rate + 10⁴``
    stays below 2.1·10¹⁷: the half-up rounding is written out with one division by a constant.
    """
    for i in range(len(ok)):
        if not ok[i]:
            base[i] = 0
            individual[i] = 0
            account_credit[i] = 0
            continue
        y = year_code[i]
        b = min(max(wage_prev[i], base_floor[y]), base_ceiling[y])
        m = months[i]
        base[i] = b
        c = category[i]
        if c == IN_SERVICE:
            individual[i] = (2 * b * individual_rate_bp + BP) // (2 * BP) * m
            account_credit[i] = individual[i]
        elif c == FLEXIBLE:
            individual[i] = (2 * b * flexible_rate_bp + BP) // (2 * BP) * m
            account_credit[i] = (2 * b * individual_rate_bp + BP) // (2 * BP) * m
        else:
            individual[i] = (2 * b * retired_rate_bp + BP) // (2 * BP) * m
            account_credit[i] = rnd(retired_account_annual * m, MONTHS_IN_YEAR)


@kernel
def months_over(key, n_keys, months, ok):
    """Rows whose months take their person-year past 12 (DUPLICATE_ENROLMENT).

    ``key`` is the person-year of each row, a code below ``n_keys``. Rows are taken in input
    order; a row that would pass 12 months is flagged and not counted. One pass, no sort.
    """
    flags = np.zeros(len(ok), dtype=np.bool_)
    total = np.zeros(n_keys, dtype=np.int64)
    for i in range(len(ok)):
        if ok[i]:
            k = key[i]
            if total[k] + months[i] > MONTHS_IN_YEAR:
                flags[i] = True
            else:
                total[k] += months[i]
    return flags
