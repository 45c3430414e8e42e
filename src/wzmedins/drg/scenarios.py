"""What-if analysis: many budgets or parameter changes in one call, one tidy table back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from .. import tables
from ..errors import PolicyError, SchemaError
from .checks import SOURCE_CATALOG, SOURCE_USER, budgets_fen
from .clear import clear
from .profile import DrgProfile, load_profile
from .score import score

BUDGET_BP_RANGE = (1_000, 100_000)  # a scenario budget share between 10 % and 1 000 %

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
        Each a mapping: ``name`` (default ``"scenario k"``, unique), ``variant`` (a whole
        profile, by name or path, instead of ``params``: e.g. ``"jinhua-2024"``; a reference
        cost set on ``params`` or carried by the catalog is kept), ``budgets`` (replaces the
        base budgets), ``budget_bp`` (scales every budget, 10 000 = unchanged, in 1 000 …
        100 000, rounded half up), and any profile parameter (e.g.
        ``{"high_multiple_bp": [25000, 20000, 15000]}``).
    catalog, coefficients
        Needed for raw cases; without a catalog, raw cases are a SchemaError that says so.

    Returns
    -------
    pyarrow.Table
        ``scenario``, ``hospital_id``, ``fund``, ``budget`` (the fund's), ``point_value`` and
        the columns of :attr:`Clearing.hospitals`. ``pl.from_arrow`` gives polars.

    Examples
    --------
    >>> s = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2, "drg_code": ["A", "A"],
    ...     "points": [100.0, 100.0], "total_cost": [9000.0, 10000.0], "patient_paid": [0.0, 0.0]})
    >>> out = scenarios(s, {"resident": 2_000_000}, variants=budget_sweep([9000, 10000]))
    >>> out.column("scenario").to_pylist()
    ['budget 90.00%', 'budget 90.00%', 'budget 100.00%', 'budget 100.00%']
    >>> out.column("point_value").to_pylist()[::2], out.column("money").to_pylist()[::2]
    ([Decimal('85.5000'), Decimal('95.0000')], [855000, 950000])
    """
    base = load_profile(params)
    if hasattr(cases, "scored") and hasattr(cases, "rejected"):  # a Scored
        cases = cases.scored
    t = tables.to_table(cases)
    base_budgets = budgets_fen(budgets)
    is_scored = "points" in t.column_names
    if not is_scored and catalog is None:
        raise SchemaError("points", "scored cases, or raw cases with catalog= (scenarios score them)", "no such column")
    scored_base = t if is_scored else None
    variants = [dict(v) for v in variants]
    names = [str(v.get("name", f"scenario {k + 1}")) for k, v in enumerate(variants)]
    for k, name in enumerate(names):
        if name in names[:k]:
            raise PolicyError(f"name: {name!r} is used twice; each scenario needs its own name")
    parts = []
    for name, variant in zip(names, variants, strict=True):
        variant.pop("name", None)
        fund_budgets = budgets_fen(variant.pop("budgets", base_budgets))
        bp = variant.pop("budget_bp", 10_000)
        lo, hi = BUDGET_BP_RANGE
        if isinstance(bp, bool) or not isinstance(bp, int) or not lo <= bp <= hi:
            raise PolicyError(
                f"budget_bp: {bp!r} is out of range; expected an integer in [{lo}, {hi}] "
                f"(1e-4 of the base budget: 10000 = unchanged) in scenario {name!r}"
            )
        fund_budgets = {f: (2 * b * bp + 10_000) // 20_000 for f, b in fund_budgets.items()}
        whole = variant.pop("variant", None)
        p = _variant_profile(base, whole) if whole is not None else base
        p = p.with_changes(variant) if variant else p
        if whole is not None or set(variant) - CLEARING_KEYS:
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


def _variant_profile(base: DrgProfile, name_or_path) -> DrgProfile:
    """A whole profile as a scenario, keeping a reference cost the user or a catalog gave the base."""
    p = load_profile(name_or_path)
    if base.sources.get("reference_cost") in (SOURCE_USER, SOURCE_CATALOG):
        p = p.with_changes(reference_cost=base.reference_cost)
    return p
