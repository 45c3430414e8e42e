"""``drg_clear``: DRG scoring by person bucket on a Dask cluster, then clearing (drg.md §3–5).

Readmission compares a person's consecutive stays, so cases are split by the person hash of
:mod:`.partition` and each bucket is scored on a worker with :func:`wzmedins.drg.score`. The
one rule that crosses persons — a ``case_id`` repeating an earlier row is
``DUPLICATE_CLAIM_ID`` — is settled first on the client: a row whose id first occurs in
another bucket is scored alone (for its own row-level reason) and rejected. The scored rows
are then brought back, in input order, and cleared with :func:`wzmedins.drg.clear`: one point
value per fund from the sums of points and patient payments, then each hospital. Clearing is
a single pass over the scored rows (tens of millions per province-year at most), so it runs
on the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..drg import Clearing, Scored, clear, load_profile, score
from ..drg.columns import typed_nulls
from ..drg.score import MESSAGES
from ..reasons import CODE
from . import cluster
from .partition import bucket_of


@dataclass
class DrgRun:
    """The result of :func:`drg_clear`: ``scored`` (a :class:`wzmedins.drg.Scored`, rows in
    input order) and ``clearing`` (a :class:`wzmedins.drg.Clearing`)."""

    scored: Scored
    clearing: Clearing


def drg_clear(
    cases: Any,
    catalog: Any,
    coefficients: Any,
    budgets: Mapping[str, int] | Any,
    params: Any = "wenzhou-2022",
    *,
    client: Any = None,
    partitions: int | None = None,
    through_month: int | None = None,
    year: int | None = None,
) -> DrgRun:
    """Score DRG cases per person bucket on the cluster, then clear; equals
    ``wz.drg.score`` followed by ``wz.drg.clear`` on one machine.

    Parameters
    ----------
    cases, catalog, coefficients, budgets, params
        As :func:`wzmedins.drg.score` and :func:`wzmedins.drg.clear`.
    client
        A ``distributed.Client``; ``None`` starts a local cluster for the call.
    partitions
        Number of person buckets (default: 4 per worker).
    through_month, year
        Monthly provisional clearing, as :func:`wzmedins.drg.clear`.

    Examples
    --------
    >>> import wzmedins as wz
    >>> from wzmedins.synth import drg as synth_drg
    >>> from wzmedins.distributed import connect, drg_clear
    >>> data = synth_drg.generate(1_000, seed=2)
    >>> cal = wz.drg.calibrate(data["history"], data["hospitals"], "wenzhou-2022", year=2022)
    >>> params = wz.drg.load_profile("wenzhou-2022").with_changes(reference_cost=cal.reference_cost)
    >>> budgets = {"employee": 300_000_000, "resident": 300_000_000}
    >>> with connect("local", n_workers=1) as client:
    ...     run = drg_clear(data["cases"], cal.catalog, cal.coefficients, budgets, params, client=client)
    >>> one = wz.drg.clear(wz.drg.score(data["cases"], cal.catalog, cal.coefficients, params).scored, budgets, params)
    >>> run.clearing.hospitals.to_pylist() == one.hospitals.to_pylist()
    True
    """
    p = load_profile(params)
    table = typed_nulls(t.to_table(cases))
    score(table.slice(0, 0), catalog, coefficients, p)  # a structural problem raises here
    with cluster.connect(client) as c:
        n_workers = max(1, len(c.scheduler_info().get("workers", {})))
        n_buckets = partitions or 4 * n_workers
        bucket = bucket_of(t.ids(table, "person_id"), n_buckets)
        foreign = _foreign_duplicates(t.ids(table, "case_id"), bucket)
        order = np.argsort(bucket, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=n_buckets))])
        items = []
        for b in range(n_buckets):
            rows = order[bounds[b] : bounds[b + 1]]
            items.append((table.take(pa.array(rows, pa.int64())), rows, foreign[rows]))
        parts = cluster.run(c, _score_bucket, items, catalog, coefficients, p, label="drg-score")
    scored = _concat([s for s, _ in parts])
    rejected = _concat([r for _, r in parts])
    out = Scored(scored, rejected)
    return DrgRun(out, clear(scored, budgets, p, through_month=through_month, year=year))


def _foreign_duplicates(case_id: pa.Array, bucket: np.ndarray) -> np.ndarray:
    """Rows whose (non-null) case_id first occurs on an earlier row of another bucket."""
    import polars as pl

    df = pl.DataFrame({"id": pl.from_arrow(case_id), "bucket": bucket, "row": np.arange(len(bucket))})
    df = df.filter(pl.col("id").is_not_null())
    first = df.group_by("id").agg(pl.col("bucket").sort_by("row").first().alias("first"))
    rows = df.join(first, on="id").filter(pl.col("bucket") != pl.col("first"))["row"].to_numpy()
    mask = np.zeros(len(bucket), dtype=bool)
    mask[rows] = True
    return mask


def _score_bucket(item, catalog, coefficients, params) -> tuple[pa.Table, pa.Table]:
    """Score one bucket; its foreign duplicates are rejected with their first reason."""
    table, rows, foreign = item
    keep = np.flatnonzero(~foreign)
    out = score(table.take(pa.array(keep, pa.int64())), catalog, coefficients, params)
    scored = out.scored.set_column(0, "row", pa.array(rows[keep[out.scored["row"].to_numpy()]], pa.int64()))
    rejected = out.rejected.set_column(0, "row", pa.array(rows[keep[out.rejected["row"].to_numpy()]], pa.int64()))
    dup = np.flatnonzero(foreign)
    if len(dup):
        alone = score(table.take(pa.array(dup, pa.int64())), catalog, coefficients, params).rejected
        reason = np.full(len(dup), CODE["DUPLICATE_CLAIM_ID"], dtype=np.int16)
        own = np.array([CODE[r] for r in alone["reason"].to_pylist()], dtype=np.int16)
        at = alone["row"].to_numpy()
        reason[at] = np.minimum(reason[at], own)
        extra = t.rejected_table(
            np.arange(len(dup)), t.ids(table.take(pa.array(dup, pa.int64())), "case_id"), reason, MESSAGES
        )
        extra = extra.rename_columns(rejected.column_names).set_column(0, "row", pa.array(rows[dup], pa.int64()))
        rejected = pa.concat_tables([rejected, extra.cast(rejected.schema)]).sort_by("row")
    return scored, rejected


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Bucket tables in input order, as single chunks with one dictionary per column."""
    whole = pa.concat_tables(tables).unify_dictionaries().combine_chunks()
    return whole.sort_by("row").combine_chunks()
