"""The total budget split into payment pools, and the per-capita amount (docs/rules/capitation.md §1–2)."""

from __future__ import annotations

from typing import Any

from ..errors import SchemaError
from ..rounding import half_up as rnd
from .profile import ONE, CapitationProfile, load_profile

YEAR_MONTHS_BP = 12 * ONE
MAX_BUDGET_FEN = 10**15  # ten trillion yuan: far above any city's fund, keeps products in range


def _fen(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BUDGET_FEN:
        raise SchemaError(name, f"an integer number of fen in [0, {MAX_BUDGET_FEN}]", repr(value))
    return value


def split_budget(total: int, out_of_area: int, params: Any = "wenzhou-2022") -> dict[str, int]:
    """Split a fund's expenditure budget into payment pools (总额预算, docs/rules/capitation.md §1).

    ``rest = total − out_of_area``; every pool but the first of ``pool_shares_bp`` gets
    ``rnd(rest·share, 10⁴)`` and the first gets what is left, so the pools add up to ``rest``
    exactly. The ``drg`` pool is the budget that :func:`wzmedins.drg.clear` takes.

    Parameters
    ----------
    total
        The fund's expenditure budget for the year, fen.
    out_of_area
        Forecast of out-of-area care (异地就医, paid item by item), fen; at most ``total``.
    params
        A capitation profile or its name or path.

    Returns
    -------
    dict
        Pool name to fen, in the profile's order, then ``out_of_area``.

    Examples
    --------
    Worked example 1: a budget of 10 000 million yuan, 600 million of it out of area.

    >>> pools = split_budget(10_000_000_000_00, 600_000_000_00, "wenzhou-2022")
    >>> {k: v // 100_000_000 for k, v in pools.items()}  # million yuan
    {'drg': 5170, 'capitation': 2820, 'other': 1410, 'out_of_area': 600}
    """
    p = load_profile(params)
    total = _fen(total, "total")
    out_of_area = _fen(out_of_area, "out_of_area")
    if out_of_area > total:
        raise SchemaError("out_of_area", f"at most the total budget {total} fen", str(out_of_area))
    rest = total - out_of_area
    shares = p.pool_shares_bp
    names = list(shares)
    pools = {name: rnd(rest * shares[name], ONE) for name in names[1:]}
    first = {names[0]: rest - sum(pools.values())}
    return {**first, **pools, "out_of_area": out_of_area}


def person_weight(age_band_weight: int, chronic: bool, p: CapitationProfile) -> int:
    """The weight of one person in bp: the band's, times ``chronic_weight_bp`` when chronic.

    Examples
    --------
    >>> p = load_profile("wenzhou-2022")
    >>> person_weight(15000, True, p), person_weight(8000, False, p)
    (22500, 8000)
    """
    if chronic:
        return rnd(age_band_weight * p.chronic_weight_bp, ONE)
    return age_band_weight


def per_capita_from_pool(pool: int, weight_months: int) -> int:
    """``a = rnd(C·10⁴·12, Σ w·months)``: fen a year at weight 1 (docs/rules/capitation.md §2).

    Examples
    --------
    >>> per_capita_from_pool(500_000, 786_000)  # worked example 2: 763.36 yuan
    76336
    """
    pool = _fen(pool, "pool")
    if weight_months <= 0:
        raise SchemaError("signings", "at least one usable signing to share the pool over", "none")
    return rnd(pool * YEAR_MONTHS_BP, weight_months)
