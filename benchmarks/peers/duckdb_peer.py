"""Settlement written as DuckDB SQL: joins for the benefit lookup, window functions over
(person, year) in settle order for the annual accumulators.

COVERS: see :data:`COVERS` (settlement.md §4 steps 0, 1, 3, 4).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ._lookup import COVERS, OUTPUT_COLUMNS, lookup_tables

__all__ = ["COVERS", "SQL", "settle"]

# window over a person's year, in settle order (settlement.md §3)
_W = "PARTITION BY person_id, year ORDER BY settle_date, seq, row_no ROWS UNBOUNDED PRECEDING"

SQL = f"""
WITH c AS (
    SELECT row_number() OVER () - 1 AS row_no, claim_id, person_id, settle_date,
           coalesce(seq, 0) AS seq, CAST(year(settle_date) AS INTEGER) AS year,
           CAST(scheme AS VARCHAR) AS scheme, CAST(category AS VARCHAR) AS category,
           CAST(visit_type AS VARCHAR) AS visit_type,
           CAST(facility_level AS VARCHAR) AS facility_level,
           coalesce(CAST(area AS VARCHAR), 'local') AS area,
           total_cost, total_cost - self_pay - class_b_self_pay AS eligible
    FROM claims
), looked_up AS (
    SELECT c.*, b.level, b.pool, b.ded_out, b.ded_in_0, b.ded_in_1, b.ded_in_2, b.fund_cap,
           CAST(least(greatest(b.ratio + a.area_adjust, 0), 10000) AS BIGINT) AS ratio_bp
    FROM c
    JOIN benefit b USING (scheme, category, visit_type, facility_level)
    JOIN area a USING (area)
), running AS (
    SELECT *,
        CAST(sum(CASE WHEN pool = 'out' THEN eligible ELSE 0 END) OVER ({_W}) AS BIGINT) AS cum_out,
        CAST(sum(CASE WHEN pool = 'in' THEN eligible ELSE 0 END) OVER ({_W}) AS BIGINT) AS cum_in,
        max(CASE WHEN pool = 'in' THEN level ELSE -1 END) OVER ({_W}) AS max_level
    FROM looked_up
), deductible_due AS (
    SELECT *,
        -- used_k = min(used_(k-1) + E_k, D_k), D_k never falling, solves to
        -- used_k = cumE_k + min(0, min over j <= k of (D_j - cumE_j))
        min(CASE WHEN pool = 'in'
                 THEN (CASE max_level WHEN 2 THEN ded_in_2 WHEN 1 THEN ded_in_1 ELSE ded_in_0 END)
                      - cum_in
                 ELSE 4611686018427387904 END) OVER ({_W}) AS slack_min
    FROM running
), used AS (
    SELECT *, least(cum_out, ded_out) + cum_in + least(slack_min, 0) AS used_total
    FROM deductible_due
), deductible AS (
    SELECT *,
        used_total - coalesce(lag(used_total) OVER (PARTITION BY person_id, year
                                  ORDER BY settle_date, seq, row_no), 0) AS deductible
    FROM used
), raw AS (
    SELECT *, (2 * (eligible - deductible) * ratio_bp + 10000) // 20000 AS raw
    FROM deductible
), capped AS (
    SELECT *, least(CAST(sum(raw) OVER ({_W}) AS BIGINT), fund_cap) AS fund_paid
    FROM raw
), fund AS (
    SELECT *,
        fund_paid - coalesce(lag(fund_paid) OVER (PARTITION BY person_id, year
                                 ORDER BY settle_date, seq, row_no), 0) AS fund
    FROM capped
)
SELECT claim_id, person_id, year, eligible, deductible, fund,
       eligible - deductible - raw AS coinsurance, raw - fund AS over_cap,
       total_cost - fund AS cash, CAST(ratio_bp AS INTEGER) AS ratio_bp
FROM fund
ORDER BY row_no
"""


def settle(claims: pa.Table, policy, *, connection: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
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
    con = connection or duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("claims", claims)
        con.register("benefit", tables["benefit"])
        con.register("area", tables["area"])
        out = con.sql(SQL).to_arrow_table()
    finally:
        for name in ("claims", "benefit", "area"):
            con.unregister(name)
        if connection is None:
            con.close()
    return out.select(list(OUTPUT_COLUMNS))
