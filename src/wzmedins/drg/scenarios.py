"""What-if analysis: many budgets or parameter changes in one call, one tidy table back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from .. import tables
from .clear import _budgets, clear
from .profile import load_profile
from .score import score

# parameters that only change clearing: the cases need not be scored again
CLEARING_KEYS = frozenset({"reserve_bp", "prepay_bp", "share_band_bp", "share_bp", "pool_funds"})


def budget_sweep(shares_bp: Iterable[int]) -> list[dict]:
    """Variants that scale every budget: ``[{"name": "budget 97.00%", "budget_bp": 9700}, ...]``.

    Examples
    --------
    >>> budget_sweep([9700, 10000])
    [{'name': 'budget 97.00%', 'budget_bp': 9700}, {'name': 'budget 100.00%', 'budget_bp': 10000}]
    """
    return [{"name": f"budget {bp // 100}.{bp % 100:02d}%", "budget_bp": bp} for bp in shares_bp]


def scenarios(
    cases: Any,
    budgets: Mapping[str, int] | Any,
    params: Any = "wenzhou-2022",
    variants: Sequence[Mapping[str, Any]] = ({"name": "base"},),
    *,
    catalog: Any = None,
    coefficients: Any = None,
) -> pa.Table:
    """Clear the same cases under several scenarios; one row per scenario × hospital × fund.

    Parameters
    ----------
    cases
        Raw cases (with ``catalog``, and ``coefficients``), or a scored table when no variant
        changes a scoring parameter.
    budgets
        The base budgets per fund, in fen.
    params
        The base profile.
    variants
        Each a mapping: ``name`` (default ``"scenario k"``), ``budgets`` (replaces the base
        budgets), ``budget_bp`` (scales every budget, 10 000 = unchanged, rounded half up),
        and any profile parameter (e.g. ``{"high_multiple_bp": [25000, 20000, 15000]}``).

    Returns
    -------
    pyarrow.Table
        ``scenario``, ``hospital_id``, ``fund``, ``budget`` (the fund's), ``point_value`` and
        the columns of :attr:`Clearing.hospitals`. ``pl.from_arrow`` gives polars.

    Examples
    --------
    >>> s = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2, "drg_code": ["A", "A"],
    ...     "points": [100.0, 100.0], "total_cost": [9000.0, 10000.0]})
    >>> out = scenarios(s, {"resident": 2_000_000}, variants=budget_sweep([9000, 10000]))
    >>> out.column("scenario").to_pylist()
    ['budget 90.00%', 'budget 90.00%', 'budget 100.00%', 'budget 100.00%']
    >>> out.column("point_value").to_pylist()[::2], out.column("money").to_pylist()[::2]
    ([Decimal('85.5000'), Decimal('95.0000')], [855000, 950000])
    """
    base = load_profile(params)
    t = tables.to_table(cases)
    base_budgets = _budgets(budgets)
    is_scored = "points" in t.column_names
    scored_base = t if is_scored else None
    parts = []
    for k, variant in enumerate(variants):
        variant = dict(variant)
        name = str(variant.pop("name", f"scenario {k + 1}"))
        fund_budgets = _budgets(variant.pop("budgets", base_budgets))
        bp = variant.pop("budget_bp", 10_000)
        if isinstance(bp, bool) or not isinstance(bp, int) or bp < 0:
            raise ValueError(f"variant {name!r}: budget_bp {bp!r} is not a non-negative integer")
        fund_budgets = {f: (2 * b * bp + 10_000) // 20_000 for f, b in fund_budgets.items()}
        p = base.with_changes(variant) if variant else base
        if set(variant) - CLEARING_KEYS:
            if is_scored:
                raise ValueError(
                    f"variant {name!r} changes scoring parameters "
                    f"({', '.join(sorted(set(variant) - CLEARING_KEYS))}): "
                    "pass raw cases and a catalog"
                )
            scored = score(t, catalog, coefficients, p).scored
        else:
            if scored_base is None:
                scored_base = score(t, catalog, coefficients, base).scored
            scored = scored_base
        out = clear(scored, fund_budgets, p)
        funds = {r["fund"]: r for r in out.funds.select(["fund", "budget", "point_value"]).to_pylist()}
        h = out.hospitals
        fund_col = h.column("fund").to_pylist()
        h = h.add_column(
            2,
            "point_value",
            pa.array([funds[f]["point_value"] for f in fund_col], pa.decimal128(18, 4)),
        )
        h = h.add_column(2, "budget", pa.array([funds[f]["budget"] for f in fund_col], pa.int64()))
        h = h.add_column(0, "scenario", pa.array([name] * h.num_rows, pa.string()))
        parts.append(h.replace_schema_metadata(None))
    return pa.concat_tables(parts)
