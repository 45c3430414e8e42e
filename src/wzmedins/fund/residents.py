"""Resident funding: the city standard, the counties' transition and each resident's share
(docs/rules/fund.md §2). Counties are few: plain vectorised numpy; residents are many: the
same, one array operation per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import PolicyError, SchemaError
from ..vocab import ASSISTANCE
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
    optional_money,
    reason_column,
    table,
    with_columns,
)
from .profile import BP, FundProfile, load_profile


def _rnd(n: np.ndarray, d: int) -> np.ndarray:
    return (2 * n + d) // (2 * d)


def _srnd(n: np.ndarray, d: int) -> np.ndarray:
    """``srnd`` of docs/rules/fund.md §2: half away from zero on both sides."""
    return np.where(n >= 0, _rnd(n, d), -_rnd(-n, d))


def city_standard(fp: FundProfile | str, *, income_prev: int, policy_total: int, policy_individual: int):
    """``(F_city, I_city)`` in fen for one year (docs/rules/fund.md §2).

    Examples
    --------
    Worked example 2: ``F_policy`` 1 350, ``I_policy`` 450, last year's income 60 700 yuan.

    >>> city_standard("wenzhou-2022", income_prev=6_070_000, policy_total=135_000, policy_individual=45_000)
    (151750, 50584)
    """
    p = load_profile(fp)
    for name, v in (
        ("income_prev", income_prev),
        ("policy_total", policy_total),
        ("policy_individual", policy_individual),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise PolicyError(f"{name}: {v!r} is not allowed; expected fen, an integer >= 0")
    total = max(int(policy_total), (2 * int(income_prev) * p.min_income_share_bp + BP) // (2 * BP))
    individual = int(policy_individual)
    if p.individual_min_third:
        individual = max(individual, (total + 2) // 3)
    return total, individual


def resident_standards(
    counties: Any,
    fp: FundProfile | str,
    *,
    income_prev: Mapping[int, int],
    policy_amounts: Mapping[int, tuple[int, int]],
) -> pa.Table:
    """Resident funding standard (筹资标准) of each county and year, with the transition (过渡期).

    Parameters
    ----------
    counties
        ``county``, ``urban`` (bool: an urban district holds the city standard),
        ``base_total``, ``base_individual`` (fen a year: the county's own standard in the
        profile's base year; may be null for an urban district).
    fp
        A fund profile (or its name or path).
    income_prev
        Per-capita disposable income in fen, by year: year ``y`` uses ``y - 1``.
    policy_amounts
        ``{year: (F_policy, I_policy)}`` in fen: the years to compute.

    Returns
    -------
    pyarrow.Table
        One row per input county and year (input order, then year): ``county``, ``year``,
        ``urban``, ``base_total``, ``base_individual``, ``city_total``, ``city_individual``,
        ``share_bp``, ``total``, ``individual`` and ``reason`` (UNKNOWN_COUNTY,
        NO_BASE_STANDARD for a county with no base-year standard, NEGATIVE_AMOUNT,
        VALUE_OUT_OF_RANGE when the individual base exceeds the total, DUPLICATE_ENROLMENT for
        a county given twice, MISSING_VALUE).

    Examples
    --------
    Worked example 2 of docs/rules/fund.md §8:

    >>> import pyarrow as pa
    >>> c = pa.table({"county": ["lucheng", "taishun"], "urban": [True, False],
    ...     "base_total": [None, 112_000], "base_individual": [None, 38_000]})
    >>> std = resident_standards(c, "wenzhou-2022", income_prev={2021: 6_070_000, 2022: 6_070_000},
    ...     policy_amounts={2022: (135_000, 45_000), 2023: (135_000, 45_000)})
    >>> for row in std.select(["county", "year", "total", "individual"]).to_pylist():
    ...     print(row)
    {'county': 'lucheng', 'year': 2022, 'total': 151750, 'individual': 50584}
    {'county': 'lucheng', 'year': 2023, 'total': 151750, 'individual': 50584}
    {'county': 'taishun', 'year': 2022, 'total': 125253, 'individual': 42196}
    {'county': 'taishun', 'year': 2023, 'total': 138501, 'individual': 46390}
    """
    p = load_profile(fp)
    t = table(counties)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    county = county_codes(t, p.counties, reason)
    urban_arr = t.column("urban") if "urban" in t.column_names else None
    if urban_arr is None:
        raise SchemaError("urban", "bool (an urban district holds the city standard)", "no such column")
    if not (pa.types.is_boolean(urban_arr.type) or pa.types.is_null(urban_arr.type)):
        raise SchemaError("urban", "bool", str(urban_arr.type))
    urban_null = pc.is_null(urban_arr).to_numpy(zero_copy_only=False)
    urban = pc.fill_null(urban_arr.cast(pa.bool_()), False).to_numpy(zero_copy_only=False)
    flag(reason, urban_null, "MISSING_VALUE")
    f0, f0_given = optional_money(t, "base_total", reason)
    i0, i0_given = optional_money(t, "base_individual", reason)
    flag(reason, ~urban & ~(f0_given & i0_given), "NO_BASE_STANDARD")
    flag(reason, ~urban & (i0 > f0), "VALUE_OUT_OF_RANGE")
    flag(reason, later_duplicates(county, reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON

    years = sorted(int(y) for y in policy_amounts)
    rows, cols = [], {k: [] for k in ("year", "city_total", "city_individual", "share_bp", "total", "individual")}
    for y in years:
        if y - 1 not in income_prev:
            raise PolicyError(f"income_prev: no value for {y - 1} (needed for the standard of {y})")
        try:
            f_pol, i_pol = policy_amounts[y]
        except (TypeError, ValueError):
            raise PolicyError(f"policy_amounts[{y}]: expected (F_policy, I_policy) in fen") from None
        f_city, i_city = city_standard(p, income_prev=income_prev[y - 1], policy_total=f_pol, policy_individual=i_pol)
        s = p.transition_share(y)
        total = np.where(urban, f_city, f0 + _srnd((f_city - f0) * s, BP))
        individual = np.where(urban, i_city, i0 + _srnd((i_city - i0) * s, BP))
        rows.append(np.arange(n))
        cols["year"].append(np.full(n, y))
        cols["city_total"].append(np.full(n, f_city))
        cols["city_individual"].append(np.full(n, i_city))
        cols["share_bp"].append(np.where(urban, BP, s))
        cols["total"].append(total)
        cols["individual"].append(individual)
    # input order, then year
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.concatenate(cols["year"]) if rows else row, row))
    row = row[order]
    good = ok[row]
    take = pa.array(row, pa.int64())
    out = {
        "county": t.column("county").take(take),
        "year": pa.array(np.concatenate(cols["year"])[order] if rows else row, pa.int32()),
        "urban": urban_arr.take(take),
        "base_total": fen_column(f0[row], f0_given[row]),
        "base_individual": fen_column(i0[row], i0_given[row]),
    }
    for k in ("city_total", "city_individual", "share_bp", "total", "individual"):
        v = np.concatenate(cols[k])[order] if rows else row
        out[k] = pa.array(v.astype(np.int32), pa.int32()) if k == "share_bp" else fen_column(v, good)
    out["reason"] = reason_column(reason[row])
    return pa.table(out)


def resident_contributions(residents: Any, std: Any, fp: FundProfile | str) -> pa.Table:
    """Each resident's funding: fiscal subsidy, individual share and who pays it (资助参保).

    Parameters
    ----------
    residents
        ``person_id``, ``year``, ``county``, ``assistance`` (optional: ``none``, ``tekun``,
        ``dibao``, ``dibian``, ``zhichu``; null is ``none``).
    std
        The output of :func:`resident_standards` (rows with a reason are not used).
    fp
        A fund profile (or its name or path).

    Returns
    -------
    pyarrow.Table
        The input rows with ``total``, ``individual``, ``subsidy`` and ``subsidy_<level>`` per
        level of ``subsidy_levels`` (the last takes the remainder), ``by_assistance``,
        ``by_person`` (fen) and ``reason`` (UNKNOWN_COUNTY, NO_BASE_STANDARD when the county
        has no standard for the year, UNKNOWN_ASSISTANCE, DUPLICATE_ENROLMENT for a person
        enrolled twice in a year, MISSING_VALUE).

    Examples
    --------
    Worked example 2: a 2022 resident of a county with ``(1 252.53, 421.96)``.

    >>> import pyarrow as pa
    >>> std = pa.table({"county": ["taishun"], "year": [2022], "total": [125_253], "individual": [42_196],
    ...     "reason": pa.nulls(1, pa.string())})
    >>> r = pa.table({"person_id": [1, 2], "year": [2022, 2022], "county": ["taishun"] * 2,
    ...     "assistance": ["tekun", "dibian"]})
    >>> out = resident_contributions(r, std, "wenzhou-2022")
    >>> for row in out.select(["subsidy", "by_assistance", "by_person"]).to_pylist():
    ...     print(row)
    {'subsidy': 83057, 'by_assistance': 42196, 'by_person': 0}
    {'subsidy': 83057, 'by_assistance': 21098, 'by_person': 21098}
    """
    p = load_profile(fp)
    t = table(residents)
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)
    _, person = ids(t, "person_id", reason)
    year = integers(t, "year", reason)
    county = county_codes(t, p.counties, reason)
    assistance = codes(t, "assistance", ASSISTANCE, reason, "UNKNOWN_ASSISTANCE", default="none")

    s = table(std)
    if "reason" in s.column_names:
        s = s.filter(pc.is_null(s.column("reason")))
    s_reason = np.full(s.num_rows, NO_REASON, dtype=np.int16)
    s_county = county_codes(s, p.counties, s_reason)
    s_year = integers(s, "year", s_reason)
    s_total = money(s, "total", s_reason)
    s_ind = money(s, "individual", s_reason)
    if (s_reason != NO_REASON).any():
        k = int(np.argmax(s_reason != NO_REASON))
        raise SchemaError("std", "standards with a known county, a year, total and individual in fen", f"row {k}")
    std_years = np.unique(s_year)
    span = len(std_years)
    at = np.clip(np.searchsorted(std_years, year), 0, max(span - 1, 0))
    has_year = (std_years[at] == year) if span else np.zeros(n, dtype=bool)
    slot = np.full(len(p.counties) * max(span, 1), -1, dtype=np.int64)
    slot[s_county * span + np.searchsorted(std_years, s_year)] = np.arange(s.num_rows)  # twice: the last counts
    found = np.where((reason == NO_REASON) & has_year, slot[county * max(span, 1) + at], -1)
    flag(reason, found < 0, "NO_BASE_STANDARD")
    flag(reason, later_duplicates(dense_key(person, year), reason == NO_REASON), "DUPLICATE_ENROLMENT")
    ok = reason == NO_REASON
    f = np.where(ok, s_total[np.maximum(found, 0)] if s.num_rows else 0, 0)
    i = np.where(ok, s_ind[np.maximum(found, 0)] if s.num_rows else 0, 0)
    subsidy = f - i
    pays = np.array([p.assistance_pays_bp[a] for a in ASSISTANCE], dtype=np.int64)[assistance]
    by_assistance = _rnd(i * pays, BP)
    out = {"total": fen_column(f, ok), "individual": fen_column(i, ok), "subsidy": fen_column(subsidy, ok)}
    split = np.array([p.subsidy_split(c) for c in p.counties], dtype=np.int64)[county]
    given = np.zeros(n, dtype=np.int64)
    levels = p.subsidy_levels
    for j, level in enumerate(levels):
        part = subsidy - given if j == len(levels) - 1 else _rnd(subsidy * split[:, j], BP)
        given += part
        out[f"subsidy_{level}"] = fen_column(part, ok)
    out["by_assistance"] = fen_column(by_assistance, ok)
    out["by_person"] = fen_column(i - by_assistance, ok)
    out["reason"] = reason_column(reason)
    return with_columns(t, out)
