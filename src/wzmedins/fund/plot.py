"""A plot of months payable by month with the warning bands (docs/rules/fund.md §6).

Needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

from typing import Any

from .profile import WARNING_LEVELS, FundProfile, load_profile

BAND_COLOURS = {"red": "#f4c7c3", "orange": "#fde3c0", "green": "#d5ecd4", "blue": "#cfe2f3"}
# plain ASCII labels: a CJK font is not installed everywhere (the command line's text has the Chinese)
LABELS = {"red": "red", "orange": "orange", "green": "green", "blue": "blue (surplus too large)"}
CITY = "city"


def plot_warning(warned: Any, fp: FundProfile | str = "wenzhou-2022", *, ax=None, title: str | None = None):
    """Months payable (months, from ``months_e1``) by month, one line per county and the city,
    over the coloured warning bands; returns the matplotlib Axes.

    Parameters
    ----------
    warned
        The output of :func:`wzmedins.fund.warning` (rows with a reason are left out).
    fp
        The profile whose ``warning_bands`` are drawn.
    ax
        An Axes to draw on (default: a new figure).
    title
        The title (default: "Risk warning: months payable by month", 风险预警).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pyarrow as pa
    >>> from wzmedins.fund import warning
    >>> m = pa.table({"county": [None] * 3, "year": [2022] * 3, "month": [1, 2, 3], "revenue": [0] * 3,
    ...     "expenditure": [100] * 3, "balance": [500, 400, 300]})
    >>> ax = plot_warning(warning(m, "wenzhou-2022"))
    >>> [line.get_label() for line in ax.get_lines()]
    ['city']
    """
    import matplotlib.pyplot as plt
    import polars as pl

    from .columns import table

    p = load_profile(fp)
    df = pl.from_arrow(table(warned)).filter(pl.col("reason").is_null() & pl.col("months_e1").is_not_null())
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    top = max([p.warning_bands[-1] * 1.3 / 10] + [v / 10 for v in df["months_e1"].to_list()])
    lower = 0.0
    for upper, level in zip([*p.warning_bands, None], WARNING_LEVELS, strict=True):
        hi = top if upper is None else upper / 10
        ax.axhspan(lower, hi, color=BAND_COLOURS[level], zorder=0, label=None)
        ax.text(1.005, (lower + hi) / 2, LABELS[level], transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        lower = hi
    df = df.with_columns(when=pl.col("year").cast(pl.Int64) + (pl.col("month").cast(pl.Int64) - 1) / 12)
    for key, part in df.sort("when").group_by("county", maintain_order=True):
        county = key[0]
        part = part.sort("when")
        label = CITY if county is None else str(county)
        ax.plot(part["when"].to_list(), [v / 10 for v in part["months_e1"].to_list()], marker=".", label=label)
    ax.set_ylim(0, top)
    ax.set_xlabel("month (year + (month - 1) / 12)")
    ax.set_ylabel("months payable")
    ax.set_title(title or "Risk warning: months payable by month")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    return ax
