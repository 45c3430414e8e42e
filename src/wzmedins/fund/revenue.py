"""Pooled-fund revenue per county, scheme and year from the contribution tables (docs/rules/fund.md §4).

Employee scheme: employers' contributions, plus what employees pay beyond their account
credits, minus the retirees' credits (paid from the pooled fund):
``Σ employer + Σ individual − Σ account_credit``. Resident scheme: ``Σ total`` (fiscal subsidy
and individual share, whoever pays it).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa

from .columns import table

KEYS = ["county", "scheme", "year"]


def _used(data: Any) -> pl.DataFrame:
    df = pl.from_arrow(table(data))
    return df.filter(pl.col("reason").is_null()) if "reason" in df.columns else df


def revenue(*, employees: Any = None, employers: Any = None, residents: Any = None) -> pa.Table:
    """Revenue ``R`` of the pooled funds per county, scheme and year, in fen.

    Parameters
    ----------
    employees, employers, residents
        Outputs of :func:`employee_contributions`, :func:`employer_contributions` and
        :func:`resident_contributions` (rows with a reason are left out).

    Returns
    -------
    pyarrow.Table
        ``county``, ``scheme``, ``year``, ``revenue``, sorted by the first three.

    Examples
    --------
    >>> import pyarrow as pa
    >>> emp = pa.table({"county": ["ruian"] * 2, "year": [2022] * 2, "individual": [579_600, 0],
    ...     "account_credit": [100_800, 105_000], "reason": [None, None]})
    >>> er = pa.table({"county": ["ruian"], "year": [2022], "month": [1], "employer": [95_000], "reason": [None]})
    >>> revenue(employees=emp, employers=er).to_pylist()
    [{'county': 'ruian', 'scheme': 'employee', 'year': 2022, 'revenue': 468800}]
    """
    parts = []
    if employees is not None:
        df = _used(employees)
        parts.append(df.select("county", "year", (pl.col("individual") - pl.col("account_credit")).alias("r")))
    if employers is not None:
        parts.append(_used(employers).select("county", "year", pl.col("employer").alias("r")))
    out = []
    if parts:
        emp = pl.concat([p.with_columns(pl.col("county").cast(pl.Utf8), pl.col("year").cast(pl.Int32),
                                        pl.col("r").cast(pl.Int64)) for p in parts])  # fmt: skip
        out.append(
            emp.group_by("county", "year").agg(revenue=pl.col("r").sum()).with_columns(scheme=pl.lit("employee"))
        )
    if residents is not None:
        df = _used(residents).with_columns(pl.col("county").cast(pl.Utf8), pl.col("year").cast(pl.Int32))
        res = df.group_by("county", "year").agg(revenue=pl.col("total").cast(pl.Int64).sum())
        out.append(res.with_columns(scheme=pl.lit("resident")))
    if not out:
        return pa.table({"county": pa.array([], pa.string()), "scheme": pa.array([], pa.string()),
                         "year": pa.array([], pa.int32()), "revenue": pa.array([], pa.int64())})  # fmt: skip
    return pl.concat([o.select("county", "scheme", "year", "revenue") for o in out]).sort(KEYS).to_arrow()
