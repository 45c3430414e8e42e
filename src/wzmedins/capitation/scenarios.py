"""What-if analysis for analysts: per-capita amount, weights, surplus cap, overspend band.

The inputs are coded once (:func:`~wzmedins.capitation.prepare`); each scenario only applies
its profile, per-capita amount and quality scores. One tidy table back: community × scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ..errors import SchemaError
from .profile import load_profile
from .settlement import prepare, run

RUN_KEYS = ("per_capita", "pool", "quality")


def scenarios(
    signings: Any,
    settled_claims: Any,
    params: Any = "wenzhou-2022",
    variants: Sequence[Mapping[str, Any]] = ({"name": "base"},),
    *,
    per_capita: int | None = None,
    pool: int | None = None,
    quality: Any = None,
    year: int | None = None,
    through_month: int | None = None,
) -> pa.Table:
    """Settle the same signings and claims under several scenarios.

    Parameters
    ----------
    signings, settled_claims, params, year
        As :func:`~wzmedins.capitation.settle`.
    variants
        Each a mapping: ``name`` (default ``"scenario k"``), ``per_capita`` or ``pool`` (fen;
        replace the base amount), ``quality``, and any profile parameter (e.g.
        ``{"surplus_cap_bp": 2000}`` or ``{"weight_bp": {...}}``).
    per_capita, pool, quality
        The base amount (exactly one of the first two) and quality scores.
    through_month
        A provisional position instead of the year end.

    Returns
    -------
    pyarrow.Table
        ``scenario``, ``per_capita`` and the columns of ``communities``, one row per scenario
        and community. ``pl.from_arrow`` gives polars; :func:`plot_scenarios` draws it.

    Examples
    --------
    >>> s = pa.table({"person_id": ["a", "b"], "community_id": ["K1", "K2"], "age_band": ["18-59"] * 2})
    >>> c = pa.table({"person_id": ["a", "b"], "year": [2022] * 2, "visit_type": ["outpatient"] * 2,
    ...     "community_id": ["K1", "K2"], "fund": [50_000, 70_000]})
    >>> out = scenarios(s, c, variants=[{"name": "600", "per_capita": 60_000},
    ...                                 {"name": "800", "per_capita": 80_000}], per_capita=60_000)
    >>> out.select(["scenario", "community_id", "budget", "settlement"]).to_pylist()[:2]
    [{'scenario': '600', 'community_id': 'K1', 'budget': 48000, 'settlement': -1000}, \
{'scenario': '600', 'community_id': 'K2', 'budget': 48000, 'settlement': -19600}]
    >>> out.column("settlement").to_pylist()[2:]
    [5120, -3000]
    """
    base = load_profile(params)
    prep = prepare(signings, settled_claims, year=year, through_month=through_month)
    parts = []
    for k, variant in enumerate(variants):
        variant = dict(variant)
        name = str(variant.pop("name", f"scenario {k + 1}"))
        amount = {"per_capita": per_capita, "pool": pool}
        if "per_capita" in variant or "pool" in variant:
            amount = {"per_capita": variant.pop("per_capita", None), "pool": variant.pop("pool", None)}
        q = variant.pop("quality", quality)
        try:
            p = base.with_changes(variant) if variant else base
        except Exception as exc:
            raise type(exc)(f"variant {name!r}: {exc}") from None
        if amount["per_capita"] is None and amount["pool"] is None:
            raise SchemaError("per_capita", f"a per-capita amount or a pool for variant {name!r}", "none")
        res = run(prep, p, quality=q, **amount)
        t = res.communities.replace_schema_metadata(None)
        t = t.add_column(0, "per_capita", pa.array([res.per_capita] * t.num_rows, pa.int64()))
        t = t.add_column(0, "scenario", pa.array([name] * t.num_rows, pa.string()))
        parts.append(t)
    return pa.concat_tables(parts)


def per_capita_sweep(amounts_fen: Sequence[int]) -> list[dict]:
    """Variants that try several per-capita amounts: ``[{"name": "600.00 yuan", "per_capita": 60000}, ...]``.

    Examples
    --------
    >>> per_capita_sweep([40_000, 60_000])
    [{'name': '400.00 yuan', 'per_capita': 40000}, {'name': '600.00 yuan', 'per_capita': 60000}]
    """
    from ..tables import fen_to_yuan

    return [{"name": f"{fen_to_yuan(a)} yuan", "per_capita": a} for a in amounts_fen]


def plot_scenarios(table: Any, value: str = "settlement", *, ax: Any = None, title: str | None = None):
    """Grouped bars: one group per community, one bar per scenario, ``value`` in yuan.

    Returns the matplotlib ``Axes``. Needs matplotlib (``pip install matplotlib``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pa.table({"scenario": ["a", "a", "b", "b"], "community_id": ["K1", "K2"] * 2,
    ...     "settlement": [100, -200, 300, 0]})
    >>> ax = plot_scenarios(t)
    >>> [float(b.get_height()) for b in ax.patches]
    [1.0, -2.0, 3.0, 0.0]
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from ..tables import to_table

    t = to_table(table)
    rows = t.select(["scenario", "community_id", value]).to_pylist()
    names = list(dict.fromkeys(r["scenario"] for r in rows))
    comms = list(dict.fromkeys(r["community_id"] for r in rows))
    cell = {(r["scenario"], r["community_id"]): r[value] / 100 for r in rows}
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(comms) * max(1, len(names)) ** 0.5 + 2), 4))
    x = np.arange(len(comms))
    width = 0.8 / max(1, len(names))
    for j, s in enumerate(names):
        ax.bar(x + (j - (len(names) - 1) / 2) * width, [cell.get((s, c), 0.0) for c in comms], width, label=s)
    ax.set_xticks(x, comms, rotation=45 if len(comms) > 6 else 0, ha="right" if len(comms) > 6 else "center")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(f"{value} (yuan)")
    ax.set_title(title or f"{value} by community and scenario")
    ax.legend(fontsize="small")
    return ax
