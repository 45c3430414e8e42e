"""Settlement written as polars expressions: joins for the benefit lookup, window functions
over (person, year) in settle order for the annual accumulators.

COVERS: see :data:`COVERS` (settlement.md §4 steps 0, 1, 3, 4).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from ._lookup import COVERS, OUTPUT_COLUMNS, lookup_tables

__all__ = ["COVERS", "settle"]

ENUMS = ("scheme", "category", "visit_type", "facility_level", "area")
BIG = 1 << 62  # "no inpatient claim yet" in the running minimum


def _rnd_ratio(amount: pl.Expr, ratio: pl.Expr) -> pl.Expr:
    """rnd(amount * ratio, 10 000) in integers (settlement.md §1)."""
    return (2 * amount * ratio + 10_000) // 20_000


def settle(claims: pa.Table, policy) -> pa.Table:
    """Settle clean claims under ``policy`` (the covered part only); input order kept.

    Examples
    --------
    >>> import wzmedins as wz
    >>> from wzmedins import synth
    >>> out = settle(synth.claims(100, seed=1), wz.load_policy("wenzhou-2022"))
    >>> out.column_names == list(OUTPUT_COLUMNS), out.num_rows
    (True, 100)
    """
    tables = lookup_tables(policy)
    benefit = pl.from_arrow(tables["benefit"])
    area = pl.from_arrow(tables["area"])
    df = pl.from_arrow(claims)
    keys = ["person_id", "year"]
    out = (
        df.lazy()
        .with_row_index("row")
        .with_columns(
            [pl.col(c).cast(pl.String) for c in ENUMS if c in df.columns]
            + [
                pl.col("settle_date").dt.year().cast(pl.Int32).alias("year"),
                (pl.col("total_cost") - pl.col("self_pay") - pl.col("class_b_self_pay")).alias("eligible"),
            ]
        )
        .join(benefit.lazy(), on=["scheme", "category", "visit_type", "facility_level"], how="left")
        .join(area.lazy(), on="area", how="left")
        .with_columns((pl.col("ratio") + pl.col("area_adjust")).clip(0, 10_000).alias("ratio_bp"))
        .sort([*keys, "settle_date", "seq", "row"])
        .with_columns(
            pl.when(pl.col("pool") == "out").then(pl.col("eligible")).otherwise(0).alias("e_out"),
            pl.when(pl.col("pool") == "in").then(pl.col("eligible")).otherwise(0).alias("e_in"),
            pl.when(pl.col("pool") == "in").then(pl.col("level")).otherwise(-1).alias("lvl_in"),
        )
        .with_columns(
            pl.col("e_out").cum_sum().over(keys).alias("cum_out"),
            pl.col("e_in").cum_sum().over(keys).alias("cum_in"),
            pl.col("lvl_in").cum_max().over(keys).alias("max_level"),
        )
        .with_columns(
            # deductible due at the year's highest level so far
            pl.when(pl.col("max_level") == 2)
            .then(pl.col("ded_in_2"))
            .when(pl.col("max_level") == 1)
            .then(pl.col("ded_in_1"))
            .otherwise(pl.col("ded_in_0"))
            .alias("ded_in_now"),
        )
        .with_columns(
            # used_k = min(used_{k-1} + E_k, D_k), D_k never falling, solves to
            # used_k = cumE_k + min(0, min over j <= k of (D_j - cumE_j))
            pl.when(pl.col("pool") == "in")
            .then(pl.col("ded_in_now") - pl.col("cum_in"))
            .otherwise(BIG)
            .cum_min()
            .over(keys)
            .alias("slack_min"),
            pl.min_horizontal(pl.col("cum_out"), pl.col("ded_out")).alias("used_out"),
        )
        .with_columns(
            (pl.col("cum_in") + pl.min_horizontal(pl.col("slack_min"), pl.lit(0))).alias("used_in"),
        )
        .with_columns(
            (
                pl.col("used_out")
                - pl.col("used_out").shift(1, fill_value=0).over(keys)
                + pl.col("used_in")
                - pl.col("used_in").shift(1, fill_value=0).over(keys)
            ).alias("deductible")
        )
        .with_columns(_rnd_ratio(pl.col("eligible") - pl.col("deductible"), pl.col("ratio_bp")).alias("raw"))
        .with_columns(pl.min_horizontal(pl.col("raw").cum_sum().over(keys), pl.col("fund_cap")).alias("fund_paid"))
        .with_columns((pl.col("fund_paid") - pl.col("fund_paid").shift(1, fill_value=0).over(keys)).alias("fund"))
        .with_columns(
            (pl.col("eligible") - pl.col("deductible") - pl.col("raw")).alias("coinsurance"),
            (pl.col("raw") - pl.col("fund")).alias("over_cap"),
            (pl.col("total_cost") - pl.col("fund")).alias("cash"),
            pl.col("ratio_bp").cast(pl.Int32),
        )
        .sort("row")
        .select(OUTPUT_COLUMNS)
        .collect()
    )
    return out.to_arrow()
