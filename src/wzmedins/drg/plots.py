"""Plots with matplotlib (the ``plot`` extra): point value by month, balance by hospital and
scenario. Each returns the matplotlib ``Axes``; pass ``ax=`` to draw into your own figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(8, 4))[1]


def plot_point_value(provisional_table: Any, *, ax=None, final: Any = None):
    """Provisional point value (yuan per point) by month, one line per fund.

    Parameters
    ----------
    provisional_table
        The table of :func:`provisional` (``month``, ``fund``, ``point_value``).
    final
        Optionally ``clearing.funds`` of the year: its point value as a dashed line per fund.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pa.table({"month": [1, 2], "fund": ["resident"] * 2, "point_value": [90.5, 92.0]})
    >>> plot_point_value(t).get_ylabel()
    'point value (yuan per point)'
    """
    t = tables.to_table(provisional_table)
    ax = _axes(ax)
    funds = t.column("fund").cast(pa.string()).to_numpy(zero_copy_only=False)
    months = t.column("month").to_numpy()
    pv = np.array([np.nan if v is None else float(v) for v in t.column("point_value").to_pylist()])
    for f in dict.fromkeys(funds.tolist()):
        m = funds == f
        (line,) = ax.plot(months[m], pv[m], marker="o", label=f)
        if final is not None:
            for r in tables.to_table(final).to_pylist():
                if r["fund"] == f and r["point_value"] is not None:
                    ax.axhline(float(r["point_value"]), ls="--", color=line.get_color(), lw=1)
    ax.set_xlabel("month (cases discharged up to the end of it)")
    ax.set_ylabel("point value (yuan per point)")
    ax.set_xticks(range(1, 13))
    ax.legend(title="fund")
    return ax


def plot_balances(result: Any, *, ax=None, fund: str | None = None, top: int | None = 20):
    """Year-end balance (yuan; > 0 paid to the hospital, < 0 recovered) per hospital, one bar per
    scenario (the table of :func:`scenarios`) or a single bar (``clearing.hospitals``).

    ``fund`` keeps one fund; ``top`` keeps the hospitals with the largest absolute balance.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> h = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2, "balance": [-96251, 156875]})
    >>> len(plot_balances(h).patches)
    2
    """
    t = result.hospitals if hasattr(result, "hospitals") else tables.to_table(result)
    if fund is not None:
        keep = t.column("fund").cast(pa.string()).to_numpy(zero_copy_only=False) == fund
        t = t.filter(pa.array(keep))
    rows = t.to_pylist()
    scen = list(dict.fromkeys(r.get("scenario", "balance") for r in rows))
    by_h: dict = {}
    for r in rows:
        by_h.setdefault(str(r["hospital_id"]), {})[r.get("scenario", "balance")] = (r["balance"] or 0) / 100
    hosp = sorted(by_h, key=lambda h: -max(abs(v) for v in by_h[h].values()))[: top or None]
    hosp.sort()
    ax = _axes(ax)
    width = 0.8 / len(scen)
    x = np.arange(len(hosp))
    for k, s in enumerate(scen):
        ax.bar(x + k * width - 0.4 + width / 2, [by_h[h].get(s, 0) for h in hosp], width, label=s)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, hosp, rotation=90)
    ax.set_ylabel("balance (yuan): > 0 paid, < 0 recovered")
    if len(scen) > 1:
        ax.legend(title="scenario")
    return ax
