"""The few facts of a claims batch that cross persons, found without bringing rows together.

Settling buckets separately equals settling the whole input at once (settlement.md §3: a
person's claims never touch another's) except for two rules that compare rows of different
persons (docs/settlement.md, *Rejected rows*):

* **duplicate claim ids** — among rows that pass every row-level check, the first occurrence
  of an id (input order) is settled and later ones are ``DUPLICATE_CLAIM_ID``. A row whose
  id first occurs in *another* bucket (a *foreign duplicate*) is taken out of its bucket and
  rejected as ``DUPLICATE_CLAIM_ID``; every other repeat is within one bucket and found there.
* **reversals of another person's claim** — a reversal whose original is an accepted claim of
  another person, settled before it, is ``REVERSAL_PERSON_MISMATCH``; inside its own bucket
  it would find no original (``UNKNOWN_ORIGINAL``), so the bucket's answer is corrected.

Stage 1 (:func:`claim_records`) writes, per chunk, the ids of the rows that pass the
row-level checks and the originals named by reversals, partitioned by a hash of the id; one
task per id partition (:func:`find_crossings`) returns the input rows concerned, per bucket.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..policy import Policy
from ..reasons import CODE
from ..settle.columns import claim_columns
from .partition import bucket_of
from .shuffle import ROW, Chunk, read_chunk, write_buckets, write_by_id
from .storage import read_pieces

# reason codes given after the row-level checks; a row with one of them passed those checks
LATER_CHECKS = np.array(
    [CODE[c] for c in ("DUPLICATE_CLAIM_ID", "UNKNOWN_ORIGINAL", "ALREADY_REVERSED", "REVERSAL_PERSON_MISMATCH")]
)


def claim_records(table: pa.Table, rows: np.ndarray, bucket: np.ndarray, policy: Policy) -> tuple[pa.Table, pa.Table]:
    """``(ids, targets)`` of a chunk: the rows passing the row-level checks (claim_id, row,
    bucket, is_reversal, date, seq), and for their reversals the claim named (as claim_id)."""
    cols = claim_columns(table, policy)
    valid = (cols.reason == t.NO_REASON) | np.isin(cols.reason, LATER_CHECKS)
    is_rev = ~t.null_mask(cols.reverses)
    v = np.flatnonzero(valid)
    r = np.flatnonzero(valid & is_rev)

    def records(ids: pa.Array, at: np.ndarray) -> dict:
        return {
            "claim_id": ids,
            "row": pa.array(rows[at]),
            "bucket": pa.array(bucket[at]),
            "date": pa.array(cols.date[at]),
            "seq": pa.array(cols.seq[at]),
        }

    ids = pa.table({**records(cols.claim_id.take(pa.array(v, pa.int64())), v), "is_rev": pa.array(is_rev[v])})
    targets = pa.table(records(cols.reverses.take(pa.array(r, pa.int64())), r))
    return ids, targets


def split_claims(chunk: Chunk, schema: pa.Schema, partitions: int, work: str, policy: Policy) -> np.ndarray:
    """Stage 1 for claims: bucket pieces, and id records by id partition; rows per bucket."""
    table = read_chunk(chunk, schema)
    rows = np.arange(chunk.offset, chunk.offset + table.num_rows)
    bucket = bucket_of(t.ids(table, "person_id"), partitions)
    counts = write_buckets(table.append_column(ROW, pa.array(rows)), bucket, partitions, work, "claims", chunk.index)
    ids, targets = claim_records(table, rows, bucket, policy)
    write_by_id(ids, partitions, work, "ids", chunk.index)
    write_by_id(targets, partitions, work, "targets", chunk.index)
    return counts


def find_crossings(id_pieces: list[str], target_pieces: list[str]) -> dict[str, dict[int, np.ndarray]]:
    """For one id partition: ``{"foreign": {bucket: rows}, "mismatch": {bucket: rows}}``.

    ``foreign``: rows whose claim id first occurs (among rows passing the row-level checks)
    in another bucket. ``mismatch``: reversal rows whose original is an accepted ordinary
    claim in another bucket, settled before them (date, seq, input row).
    """
    import polars as pl

    out: dict[str, dict[int, np.ndarray]] = {"foreign": {}, "mismatch": {}}
    ids = read_pieces(id_pieces)
    if ids is None or ids.num_rows == 0:
        return out
    df = pl.from_arrow(ids).sort("row")
    first = df.group_by("claim_id").agg(
        pl.col("bucket").first().alias("first_bucket"),
        pl.col("row").first().alias("first_row"),
        pl.col("is_rev").first().alias("first_is_rev"),
        pl.col("date").first().alias("first_date"),
        pl.col("seq").first().alias("first_seq"),
        pl.col("bucket").n_unique().alias("n_buckets"),
    )
    spread = first.filter(pl.col("n_buckets") > 1).select("claim_id", "first_bucket")
    foreign = df.join(spread, on="claim_id").filter(pl.col("bucket") != pl.col("first_bucket"))
    out["foreign"] = _by_bucket(foreign)
    targets = read_pieces(target_pieces)
    if targets is not None and targets.num_rows:
        originals = first.filter(~pl.col("first_is_rev"))  # the accepted ordinary claim of each id
        before = (pl.col("first_date") < pl.col("date")) | (
            (pl.col("first_date") == pl.col("date"))
            & (
                (pl.col("first_seq") < pl.col("seq"))
                | ((pl.col("first_seq") == pl.col("seq")) & (pl.col("first_row") < pl.col("row")))
            )
        )
        crossed = (
            pl.from_arrow(targets)
            .join(originals, on="claim_id")
            .filter((pl.col("bucket") != pl.col("first_bucket")) & before)
        )
        out["mismatch"] = _by_bucket(crossed)
    return out


def _by_bucket(df) -> dict[int, np.ndarray]:
    if df.height == 0:
        return {}
    out = {}
    for (b,), part in df.select("bucket", "row").partition_by("bucket", as_dict=True).items():
        out[int(b)] = np.sort(part["row"].to_numpy())
    return out


def merge(results: list[dict[str, dict[int, np.ndarray]]]) -> dict[str, dict[int, np.ndarray]]:
    """The crossings of every id partition, per bucket."""
    out: dict[str, dict[int, list]] = {"foreign": {}, "mismatch": {}}
    for res in results:
        for kind, per_bucket in res.items():
            for b, rows in per_bucket.items():
                out[kind].setdefault(b, []).append(rows)
    return {kind: {b: np.sort(np.concatenate(v)) for b, v in d.items()} for kind, d in out.items()}
