"""Who is paid per head, and at what weight (docs/rules/capitation.md §2).

:func:`accept` applies the profile to coded signings: unknown age bands, a person signed twice
in the year (the first usable row is kept), the weight of each kept row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SchemaError
from ..rounding import half_up
from ..tables import NO_REASON, flag
from . import _kernel
from .budget import per_capita_from_pool
from .columns import Signings, distinct, signing_columns
from .profile import ONE, CapitationProfile, load_profile


@dataclasses.dataclass
class Year:
    """The signings of one year, coded independently of the profile."""

    sg: Signings
    year: int
    in_year: np.ndarray  # bool per signing row
    person_values: pa.Array  # distinct persons of the year's rows with no structural problem
    person_code: np.ndarray  # per signing row: index into person_values, -1 outside
    communities: pa.Array  # sorted distinct communities of those rows (strings)
    community_code: np.ndarray  # per signing row, -1 outside


def signing_year(signings: Any, year: int | None) -> Year:
    """Code ``signings`` and select the rows of ``year`` (all rows when there is no year column)."""
    sg = signings if isinstance(signings, Signings) else signing_columns(signings)
    n = len(sg.reason)
    if sg.year is None:
        in_year = np.ones(n, dtype=bool)
    else:
        if year is None:
            years = np.unique(sg.year[sg.reason == NO_REASON])
            if len(years) > 1:
                from ..errors import SchemaError

                raise SchemaError("year", "one year of signings, or year= to choose one", str(years.tolist()))
            year = int(years[0]) if len(years) else None
        in_year = sg.year == year if year is not None else np.ones(n, dtype=bool)
    ok = in_year & (sg.reason == NO_REASON)
    person_values, person_code = distinct(sg.person_id.filter(pa.array(ok)))
    person_code = _spread(person_code, ok)
    comm = sg.community_id.filter(pa.array(ok)) if n else sg.community_id
    if pa.types.is_dictionary(comm.type):
        comm = comm.cast(pa.string())
    found, code = distinct(comm)
    order = pc.sort_indices(found).to_numpy()
    communities = found.take(pa.array(order))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    community_code = _spread(np.where(code >= 0, rank[np.maximum(code, 0)], -1), ok)
    return Year(sg, year, in_year, person_values, person_code, communities, community_code)


def _spread(codes: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Codes of the ``ok`` rows back on every row; -1 on the others."""
    out = np.full(len(ok), -1, dtype=np.int64)
    out[ok] = codes
    return out


@dataclasses.dataclass
class Accepted:
    """The signings kept under a profile: one row per signed person of the year."""

    rows: np.ndarray  # signing rows kept, increasing
    weight: np.ndarray  # bp
    months: np.ndarray
    community: np.ndarray  # community code
    person_signing: np.ndarray  # per person code: index into rows
    reason: np.ndarray  # per signing row, all checks (NO_REASON: kept, or another year)


def accept(y: Year, p: CapitationProfile) -> Accepted:
    """Apply the profile: UNKNOWN_AGE_BAND, DUPLICATE_SIGNING, and the weight of each kept row."""
    sg = y.sg
    reason = sg.reason.copy()
    bands = sg.band_values.to_pylist()
    table = p.weight_bp
    band_weight = np.array([table.get(b, -1) for b in bands] or [0], dtype=np.int64)
    w = np.where(sg.band_idx >= 0, band_weight[np.maximum(sg.band_idx, 0)], -1)
    flag(reason, y.in_year & (sg.band_idx >= 0) & (w < 0), "UNKNOWN_AGE_BAND")
    usable = np.flatnonzero(y.in_year & (reason == NO_REASON))
    codes = y.person_code[usable]
    _, first = np.unique(codes, return_index=True)  # the first row of each person (rows increase)
    again = np.ones(len(usable), dtype=bool)
    again[first] = False
    dup = np.zeros(len(reason), dtype=bool)
    dup[usable[again]] = True
    flag(reason, dup, "DUPLICATE_SIGNING")
    rows = usable[np.sort(first)]
    weight = w[rows]
    chronic = sg.chronic[rows]
    weight = np.where(chronic, half_up(weight * p.chronic_weight_bp, ONE), weight).astype(np.int64)
    person_signing = np.full(len(y.person_values), -1, dtype=np.int64)
    person_signing[y.person_code[rows]] = np.arange(len(rows))
    return Accepted(rows, weight, sg.months[rows].astype(np.int64), y.community_code[rows], person_signing, reason)


def weights(signings: Any, params: Any = "wenzhou-2022", *, year: int | None = None) -> pa.Table:
    """The weight of each signing in bp (docs/rules/capitation.md §2); null where not used.

    ``w = weight_bp[age_band]``, and ``rnd(w·chronic_weight_bp, 10⁴)`` for a chronic patient.
    Rows of another year, rows with a problem and a person's second signing get null (and
    their reason in ``reason``).

    Examples
    --------
    >>> s = pa.table({"person_id": ["a", "b", "b"], "community_id": ["K1"] * 3,
    ...     "age_band": ["60-79", "18-59", "18-59"], "chronic": [True, False, False]})
    >>> weights(s, "wenzhou-2022").select(["person_id", "weight_bp", "reason"]).to_pylist()[1:]
    [{'person_id': 'b', 'weight_bp': 8000, 'reason': None}, {'person_id': 'b', 'weight_bp': None, \
'reason': 'DUPLICATE_SIGNING'}]
    """
    from ..reasons import REASONS

    p = load_profile(params)
    y = signing_year(signings, year)
    acc = accept(y, p)
    n = len(acc.reason)
    out = np.zeros(n, dtype=np.int64)
    out[acc.rows] = acc.weight
    kept = np.zeros(n, dtype=bool)
    kept[acc.rows] = True
    reasons = [None if r == NO_REASON else REASONS[r] for r in acc.reason.tolist()]
    t = y.sg.table
    return t.append_column("weight_bp", pa.array(out, pa.int64(), mask=~kept)).append_column(
        "reason", pa.array(reasons, pa.string())
    )


def per_capita(pool: int, signings: Any, params: Any = "wenzhou-2022", *, year: int | None = None) -> int:
    """The per-capita amount that spends ``pool`` over the signings: fen a year at weight 1.

    ``a = rnd(C·10⁴·12, Σ w·months)`` over the signings kept (docs/rules/capitation.md §2).

    Examples
    --------
    Worked example 2: a pool of 5 000 yuan over the five signings of §6.

    >>> s = pa.table({"person_id": list("abcde"), "community_id": ["K1"] * 3 + ["K2"] * 2,
    ...     "age_band": ["60-79", "18-59", "0-6", "80+", "18-59"],
    ...     "chronic": [True, False, False, False, True], "months": [12, 12, 6, 12, 9]})
    >>> per_capita(500_000, s, "wenzhou-2022")
    76336
    """
    p = load_profile(params)
    acc = accept(signing_year(signings, year), p)
    return per_capita_from_pool(pool, int((acc.weight * acc.months).sum()))


def budgets(
    signings: Any,
    params: Any = "wenzhou-2022",
    *,
    per_capita: int | None = None,
    pool: int | None = None,
    year: int | None = None,
) -> pa.Table:
    """Budget of each community, ``Σ rnd(a·w·months, 10⁴·12)`` over its signed persons (§2).

    Returns ``community_id``, ``signed``, ``weight_months`` (Σ w·months, bp·months) and
    ``budget`` (fen).

    Examples
    --------
    >>> s = pa.table({"person_id": list("abcde"), "community_id": ["K1"] * 3 + ["K2"] * 2,
    ...     "age_band": ["60-79", "18-59", "0-6", "80+", "18-59"],
    ...     "chronic": [True, False, False, False, True], "months": [12, 12, 6, 12, 9]})
    >>> budgets(s, per_capita=60_000).to_pylist()
    [{'community_id': 'K1', 'signed': 3, 'weight_months': 438000, 'budget': 219000}, \
{'community_id': 'K2', 'signed': 2, 'weight_months': 348000, 'budget': 174000}]
    """
    p = load_profile(params)
    y = signing_year(signings, year)
    acc = accept(y, p)
    if (per_capita is None) == (pool is None):
        raise SchemaError("per_capita", "exactly one of per_capita= (fen) and pool= (fen)", "both or neither")
    wm = acc.weight * acc.months
    if per_capita is None:
        per_capita = per_capita_from_pool(pool, int(wm.sum()))
    n = len(y.communities)
    _, total = _kernel._person_budgets(acc.weight, acc.months, per_capita, acc.community, n)
    return pa.table(
        {
            "community_id": y.communities,
            "signed": pa.array(np.bincount(acc.community, minlength=n)[:n], pa.int64()),
            "weight_months": pa.array(_kernel._sum_by(acc.community, wm, n), pa.int64()),
            "budget": pa.array(total, pa.int64()),
        }
    )
