"""Employee and employer contributions and the accounts table (docs/rules/fund.md §1).

``employee_contributions`` runs the compiled kernel over person-month rows (millions a year);
``employer_contributions`` is one vectorised product per employer-month.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import PolicyError
from ..reasons import MAX_AMOUNT_FEN
from ..rounding import half_up
from . import _kernel
from .columns import (
    NO_REASON,
    codes,
    county_codes,
    dense_key,
    fen_column,
    flag,
    ids,
    integers,
    later_duplicates,
    money,
    reason_column,
    table,
    with_columns,
)
from .profile import BP, FundProfile, load_profile

FUND_CATEGORIES = _kernel.FUND_CATEGORIES


def _wages(social_avg_wage: Mapping[int, int]) -> dict[int, int]:
    """The social average wages by year, checked (PolicyError naming the year)."""
    known = {}
    for y, a in social_avg_wage.items():
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a <= MAX_AMOUNT_FEN:
            raise PolicyError(
                f"social_avg_wage[{y}]: {a!r} is not allowed; expected fen a month, an integer in [0, {MAX_AMOUNT_FEN}]"
            )
        known[int(y)] = int(a)
    return known


def _base_bounds(years: np.ndarray, known: dict[int, int], p: FundProfile):
    """Per row: the code of its year; per year: the base floor and ceiling from ``A`` of the year
    before (Python integers, once per year); and the rows whose year has no ``A``."""
    lo, hi = (int(years.min()), int(years.max())) if len(years) else (0, 0)
    if hi - lo < 1000:  # a few years: offsets, no sort
        uniq, inv = np.arange(lo, hi + 1), years - lo
    else:
        uniq, inv = np.unique(years, return_inverse=True)
    avg = [known.get(int(y) - 1) for y in uniq.tolist()]
    floor = np.array([0 if a is None else half_up(a * p.floor_bp, BP) for a in avg], dtype=np.int64)
    ceiling = np.array([0 if a is None else half_up(a * p.ceiling_bp, BP) for a in avg], dtype=np.int64)
    missing = np.array([a is None for a in avg], dtype=bool)
    code = inv.astype(np.int64).reshape(-1)
    return code, floor, ceiling, missing[code] if len(years) else np.zeros(0, dtype=bool)


def employee_contributions(workers: Any, fp: FundProfile | str, *, social_avg_wage: Mapping[int, int]) -> pa.Table:
    """Contributions of employees (职工医保缴费) and the credits to their personal accounts.

    Parameters
    ----------
    workers
        One row per person and stretch of months: ``person_id``, ``year``, ``county``,
        ``category`` (``in_service``, ``flexible`` 灵活就业, ``retired``), ``wage_prev`` (fen a
        month: last year's average wage, or a flexible worker's declared base), ``months``
        (1-12). Arrow, polars or a Parquet path.
    fp
        A fund profile (or its name or path).
    social_avg_wage
        The social average monthly wage ``A`` in fen, by year: rows of year ``y`` use ``y - 1``.

    Returns
    -------
    pyarrow.Table
        The input rows in input order with ``base``, ``individual``, ``account_credit`` (fen;
        null on a rejected row) and ``reason`` (null, or MISSING_VALUE, NEGATIVE_AMOUNT,
        UNKNOWN_CATEGORY, MONTH_OUT_OF_RANGE, UNKNOWN_COUNTY, DUPLICATE_ENROLMENT when the
        months of a person-year pass 12, VALUE_OUT_OF_RANGE when ``A`` of the year before
        is not given).

    Examples
    --------
    Worked example 1 of docs/rules/fund.md §8 (``A`` = 7 000 yuan):

    >>> import pyarrow as pa
    >>> w = pa.table({"person_id": ["a", "b", "c", "d"], "year": [2022] * 4, "county": ["lucheng"] * 4,
    ...     "category": ["in_service", "in_service", "flexible", "retired"],
    ...     "wage_prev": [1_200_000, 300_000, 420_000, 0], "months": [12, 12, 12, 7]})
    >>> out = employee_contributions(w, "wenzhou-2022", social_avg_wage={2021: 700_000})
    >>> for row in out.select(["base", "individual", "account_credit"]).to_pylist():
    ...     print(row)
    {'base': 1200000, 'individual': 288000, 'account_credit': 288000}
    {'base': 420000, 'individual': 100800, 'account_credit': 100800}
    {'base': 420000, 'individual': 579600, 'account_credit': 100800}
    {'base': 420000, 'individual': 0, 'account_credit': 105000}
    """
    p = load_profile(fp)
    wages = _wages(social_avg_wage)
    t = table(workers)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    _, person = ids(t, "person_id", reason)
    year = integers(t, "year", reason)
    county_codes(t, p.counties, reason)
    category = codes(t, "category", FUND_CATEGORIES, reason, "UNKNOWN_CATEGORY").astype(np.int8)
    wage = money(t, "wage_prev", reason)
    months = integers(t, "months", reason)
    flag(reason, (months < 1) | (months > 12), "MONTH_OUT_OF_RANGE")
    year_code, base_floor, base_ceiling, no_avg = _base_bounds(year, wages, p)
    flag(reason, no_avg, "VALUE_OUT_OF_RANGE")
    ok = reason == NO_REASON
    key, n_keys = dense_key(person, year) if n else (np.zeros(0, dtype=np.int64), 0)
    flag(reason, _kernel.months_over(key, n_keys, months, ok), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    _warn_if_yuan(wage[ok & (category != FUND_CATEGORIES.index("retired")) & (wage > 0)], base_floor)
    base = np.empty(n, dtype=np.int64)
    individual = np.empty(n, dtype=np.int64)
    credit = np.empty(n, dtype=np.int64)
    _kernel.employee(
        ok,
        category,
        wage,
        months,
        year_code,
        base_floor,
        base_ceiling,
        p.individual_rate_bp,
        p.flexible_rate_bp,
        p.retired_rate_bp,
        p.retired_account_annual,
        base,
        individual,
        credit,
    )
    return with_columns(
        t,
        {
            "base": fen_column(base, ok),
            "individual": fen_column(individual, ok),
            "account_credit": fen_column(credit, ok),
            "reason": reason_column(reason),
        },
    )


def _warn_if_yuan(wage: np.ndarray, base_floor: np.ndarray) -> None:
    """Warn when most wages are below a tenth of the lowest base: yuan given for fen, likely."""
    floors = base_floor[base_floor > 0]
    if len(wage) and len(floors) and np.median(wage) * 10 < np.min(floors):
        import warnings

        from ..errors import UnitWarning

        warnings.warn(
            f"employee_contributions: the median wage_prev is {int(np.median(wage))} fen, below a tenth of the "
            f"lowest contribution base ({int(np.min(floors))} fen): were the wages given in yuan? "
            "wage_prev is fen a month",
            UnitWarning,
            stacklevel=3,
        )


def employer_contributions(employers: Any, fp: FundProfile | str) -> pa.Table:
    """Employer contributions (用人单位缴费) on the payroll, wholly to the pooled fund.

    Parameters
    ----------
    employers
        ``employer_id``, ``county``, ``year``, ``month`` (1-12), ``payroll`` (fen).
    fp
        A fund profile (or its name or path).

    Returns
    -------
    pyarrow.Table
        The input rows with ``employer = rnd(payroll · employer_rate_bp, 10⁴)`` (fen) and
        ``reason`` (an employer-month given twice is DUPLICATE_ENROLMENT).

    Examples
    --------
    >>> import pyarrow as pa
    >>> e = pa.table({"employer_id": ["E1", "E1"], "county": ["ruian"] * 2, "year": [2022] * 2,
    ...     "month": [1, 13], "payroll": [100_000_000, 5]})
    >>> employer_contributions(e, "wenzhou-2022").select(["employer", "reason"]).to_pylist()
    [{'employer': 9500000, 'reason': None}, {'employer': None, 'reason': 'MONTH_OUT_OF_RANGE'}]
    """
    p = load_profile(fp)
    t = table(employers)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    _, employer = ids(t, "employer_id", reason)
    year = integers(t, "year", reason)
    month = integers(t, "month", reason)
    county_codes(t, p.counties, reason)
    payroll = money(t, "payroll", reason)
    flag(reason, (month < 1) | (month > 12), "MONTH_OUT_OF_RANGE")
    ok = reason == NO_REASON
    key = dense_key(employer, year, month)[0] if n else np.zeros(0, dtype=np.int64)
    flag(reason, later_duplicates(key, ok), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    q, r = np.divmod(payroll, BP)  # rnd(payroll·rate, 10⁴) without an int64 overflow
    due = q * p.employer_rate_bp + (2 * r * p.employer_rate_bp + BP) // (2 * BP)
    return with_columns(t, {"employer": fen_column(due, ok), "reason": reason_column(reason)})


def accounts(emp: Any, fp: FundProfile | str, *, hist: Any = None) -> pa.Table:
    """The accounts table of settlement (docs/rules/settlement.md §5) from the year's credits.

    Parameters
    ----------
    emp
        The output of :func:`employee_contributions` (rows with a reason are left out).
    fp
        A fund profile (or its name or path); checked, not otherwise used.
    hist
        Optional ``person_id``, ``year``, ``hist_balance``: the historical account at the
        opening of the year (last year's closing). Without a row a person's is 0.

    Returns
    -------
    pyarrow.Table
        ``person_id``, ``year``, ``current_balance`` (Σ ``account_credit`` of the person-year),
        ``hist_balance``; one row per person and year, sorted by both.

    Examples
    --------
    >>> import pyarrow as pa
    >>> emp = pa.table({"person_id": ["p", "p", "q"], "year": [2022] * 3,
    ...     "account_credit": [24_000, 24_000, None], "reason": [None, None, "MISSING_VALUE"]})
    >>> accounts(emp, "wenzhou-2022").to_pylist()
    [{'person_id': 'p', 'year': 2022, 'current_balance': 48000, 'hist_balance': 0}]
    """
    load_profile(fp)
    t = table(emp)
    used = t.filter(pc.is_null(t.column("reason"))) if "reason" in t.column_names else t
    person_type = used.schema.field("person_id").type
    if pa.types.is_dictionary(person_type):
        person_type = person_type.value_type
    sums = (
        used.select(["person_id", "year", "account_credit"])
        .cast(pa.schema([("person_id", person_type), ("year", pa.int32()), ("account_credit", pa.int64())]))
        .group_by(["person_id", "year"], use_threads=False)
        .aggregate([("account_credit", "sum")])
        .rename_columns(["person_id", "year", "current_balance"])
    )
    if hist is not None:
        h = table(hist).select(["person_id", "year", "hist_balance"])
        h = h.cast(pa.schema([("person_id", person_type), ("year", pa.int32()), ("hist_balance", pa.int64())]))
        sums = sums.join(h, ["person_id", "year"], join_type="left outer")
        sums = sums.set_column(3, "hist_balance", pc.fill_null(sums.column("hist_balance"), 0))
    else:
        sums = sums.append_column("hist_balance", pa.array(np.zeros(sums.num_rows, dtype=np.int64)))
    return sums.sort_by([("person_id", "ascending"), ("year", "ascending")]).combine_chunks()


__all__ = ["FUND_CATEGORIES", "accounts", "employee_contributions", "employer_contributions"]
