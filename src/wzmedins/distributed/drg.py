"""``drg_clear``: DRG scoring and clearing by person bucket on a Dask cluster (drg.md §3–5).

1. **Score** (a task per bucket): readmission compares a person's consecutive stays, so cases
   are split by the person hash of :mod:`.partition` and each bucket is scored on a worker
   with :func:`wzmedins.drg.score`. The one rule that crosses persons — a ``case_id``
   repeating an earlier row is ``DUPLICATE_CLAIM_ID`` — is settled first on the client: a
   row whose id first occurs in another bucket is scored alone (for its own row-level
   reason) and rejected. The scored bucket stays on its worker.
2. **Sums** (a task per bucket): :func:`wzmedins.drg.clearing_sums` of the scored bucket —
   small tables per hospital × fund, per fund and per DRG code × fund.
3. **Point value** (client): the buckets' sums added, and
   :func:`wzmedins.drg.clear_from_sums`: one point value per fund, then each hospital and
   each DRG code.
4. **Case money** (a task per bucket): :func:`wzmedins.drg.clearing_cases` at the point
   values. The scored rows and the per-case tables are brought back in input order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..drg import Clearing, ClearingSums, Scored, clear_from_sums, clearing_sums, load_profile, score
from ..drg.clear import case_money
from ..drg.columns import typed_nulls
from ..drg.score import MESSAGES
from ..drg.sums import prepare, scored_table
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
        token = uuid.uuid4().hex[:8]
        scored_f = _submit(c, _score_bucket, items, catalog, coefficients, p, label="drg-score", token=token)
        when = dict(year=year, through_month=through_month)
        sums = c.gather(_submit(c, _bucket_sums, scored_f, p, **when, label="drg-sums", token=token))
        cleared = clear_from_sums(ClearingSums.add(sums), budgets, p)
        cases_f = _submit(c, _bucket_cases, scored_f, cleared.funds, p, **when, label="drg-cases", token=token)
        parts, cases = c.gather(scored_f), c.gather(cases_f)
    scored = _concat([s for s, _ in parts])
    rejected = _concat([r for _, r in parts])
    rows = np.concatenate([r for _, r in cases])
    whole = pa.concat_tables([k for k, _ in cases]).unify_dictionaries().combine_chunks()
    cases_t = whole.take(pa.array(np.argsort(rows, kind="stable"), pa.int64())).combine_chunks()
    return DrgRun(Scored(scored, rejected), cleared._replace(cases=cases_t))


def _submit(client, fn, items, *args, label: str, token: str, **kwargs) -> list:
    """``fn(item, *args, **kwargs)`` per item (or future), as futures that stay on the workers."""
    return [client.submit(fn, item, *args, key=f"wz-{label}-{i}-{token}", pure=False, **kwargs)
            for i, item in enumerate(items)]  # fmt: skip


def _bucket_sums(part, params, *, year, through_month) -> ClearingSums:
    """The clearing's sums of one scored bucket (positions: the input rows, for the DRG order)."""
    scored = part[0]
    return clearing_sums(scored, params, year=year, through_month=through_month, positions=scored["row"])


def _bucket_cases(part, funds, params, *, year, through_month) -> tuple[pa.Table, np.ndarray]:
    """One bucket's per-case money (:func:`wzmedins.drg.clearing_cases`), and the input row of
    each of its cases."""
    scored = part[0]
    row = scored["row"].to_numpy()
    d = prepare(scored_table(scored), year=year, through_month=through_month, positions=row)
    return case_money(d, funds, params), row[d.rows]


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
