"""Monthly revenue and expenditure per county and for the city: the input of the warning,
built from the fund's own outputs (docs/rules/fund.md §6)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa

from .columns import table

MONTHS_IN_YEAR = 12  # the calendar


def monthly_flows(expenditure: Any, revenue: Any, *, scheme: str) -> pa.Table:
    """``county`` (null: the city), ``year``, ``month``, ``revenue``, ``expenditure`` for one scheme.

    Parameters
    ----------
    expenditure
        An :class:`~wzmedins.fund.Expenditure` or its ``monthly`` table.
    revenue
        The output of :func:`~wzmedins.fund.revenue` (county, scheme, year, revenue): a year's
        revenue is spread evenly over its twelve months, the first months taking the leftover fen.
    scheme
        ``"employee"`` or ``"resident"``.

    Returns
    -------
    pyarrow.Table
        One row per county and month of the years in either input, then the city's rows (the
        sums); sorted by county (city first), year and month. Feed it to
        :func:`~wzmedins.fund.warning`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> spent = pa.table({"county": ["ruian"], "scheme": ["resident"], "year": [2022], "month": [2],
    ...     "claims": [500], "drg": [0], "capitation": [0], "expenditure": [500]})
    >>> rev = pa.table({"county": ["ruian"], "scheme": ["resident"], "year": [2022], "revenue": [1_205]})
    >>> out = monthly_flows(spent, rev, scheme="resident")
    >>> out.num_rows, out.filter(pa.compute.field("month") == 2).to_pylist()[1]
    (24, {'county': 'ruian', 'year': 2022, 'month': 2, 'revenue': 101, 'expenditure': 500})
    """
    e = pl.from_arrow(table(getattr(expenditure, "monthly", expenditure)))
    r = pl.from_arrow(table(revenue))
    e = e.filter(pl.col("scheme") == scheme).select(
        pl.col("county").cast(pl.Utf8), pl.col("year").cast(pl.Int32), pl.col("month").cast(pl.Int32),
        pl.col("expenditure").cast(pl.Int64),
    )  # fmt: skip
    r = r.filter(pl.col("scheme") == scheme).select(
        pl.col("county").cast(pl.Utf8), pl.col("year").cast(pl.Int32), pl.col("revenue").cast(pl.Int64)
    )
    months = pl.DataFrame({"month": list(range(1, MONTHS_IN_YEAR + 1))}, schema={"month": pl.Int32})
    r = r.join(months, how="cross").with_columns(
        revenue=pl.col("revenue") // MONTHS_IN_YEAR
        + (pl.col("month") <= pl.col("revenue") % MONTHS_IN_YEAR).cast(pl.Int64)
    )
    keys = ["county", "year", "month"]
    grid = pl.concat([e.select("county", "year").unique(), r.select("county", "year").unique()]).unique()
    out = (
        grid.join(months, how="cross")
        .join(r, on=keys, how="left")
        .join(e.group_by(keys).agg(pl.col("expenditure").sum()), on=keys, how="left")
        .with_columns(pl.col("revenue").fill_null(0), pl.col("expenditure").fill_null(0))
    )
    city = out.group_by("year", "month").agg(pl.col("revenue").sum(), pl.col("expenditure").sum())
    city = city.with_columns(county=pl.lit(None, pl.Utf8)).select(out.columns)
    both = pl.concat([city, out]).sort([pl.col("county").is_not_null(), "county", "year", "month"])
    return both.select("county", "year", "month", "revenue", "expenditure").to_arrow()
