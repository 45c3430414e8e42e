"""The bucket shuffle: input chunks → one Arrow IPC piece per (bucket, chunk) on shared storage.

Stage 1 reads each chunk of the input (a few Parquet row groups) on a worker, tags every row
with its position in the whole input (``__row``) and writes the rows of each bucket to
``WORK/KIND/bucket=B/chunk-I.arrow`` (Arrow IPC, no encoding to pay twice; atomically, see
:mod:`.storage`). A bucket task then
reads its pieces in chunk order, which is input order. Pieces go through the output
filesystem, not worker memory, so a worker never holds more than one chunk or one bucket.

For claims, stage 1 also writes the few facts that cross buckets (see :mod:`.crossing`):
the ids of the rows that pass every row-level check, partitioned by a hash of the id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .. import tables as t
from .partition import bucket_of, table_buckets
from .storage import filesystem, join, write_atomic

ROW = "__row"  # input position, carried through the shuffle
CHUNK_ROWS = 1 << 20  # rows per input chunk; a tuning knob, not a rule


@dataclass(frozen=True)
class Chunk:
    """Row groups ``row_groups`` of one Parquet file, starting at input row ``offset``."""

    index: int
    url: str
    row_groups: tuple[int, ...]
    offset: int
    rows: int


def plan_chunks(source: str, chunk_rows: int = CHUNK_ROWS) -> tuple[pa.Schema, list[Chunk]]:
    """The dataset's schema and its chunks, in the order ``pyarrow.dataset`` reads the rows."""
    import pyarrow.dataset as ds

    fs, path = filesystem(source)
    dataset = ds.dataset(path, filesystem=fs, format="parquet")
    protocol = source.split("://", 1)[0] + "://" if "://" in str(source) else ""
    chunks: list[Chunk] = []
    offset = 0
    for fragment in dataset.get_fragments():
        meta = fragment.metadata
        group: list[int] = []
        rows = 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if group and rows + n > chunk_rows:
                chunks.append(Chunk(len(chunks), protocol + fragment.path, tuple(group), offset, rows))
                offset += rows
                group, rows = [], 0
            group.append(i)
            rows += n
        if group:
            chunks.append(Chunk(len(chunks), protocol + fragment.path, tuple(group), offset, rows))
            offset += rows
    return dataset.schema, chunks


def read_chunk(chunk: Chunk, schema: pa.Schema) -> pa.Table:
    """The chunk's rows in the dataset's schema."""
    import pyarrow.parquet as pq

    fs, path = filesystem(chunk.url)
    with fs.open(path, "rb") as f:
        table = pq.ParquetFile(f).read_row_groups(list(chunk.row_groups))
    if table.schema != schema:
        table = table.select(schema.names).cast(schema)
    return table


def piece_url(work: str, kind: str, bucket: int, chunk: int) -> str:
    return join(work, kind, f"bucket={bucket}", f"chunk-{chunk:06d}.arrow")


def write_buckets(table: pa.Table, bucket: np.ndarray, partitions: int, work: str, kind: str, chunk: int) -> np.ndarray:
    """Write the rows of each bucket (input order kept) as one piece; returns rows per bucket."""
    counts = np.bincount(bucket, minlength=partitions)
    order = np.argsort(bucket, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    for b in np.flatnonzero(counts):
        idx = order[starts[b] : starts[b + 1]]
        write_atomic(table.take(pa.array(idx)), piece_url(work, kind, int(b), chunk))
    return counts


def split_chunk(
    chunk: Chunk, schema: pa.Schema, partitions: int, work: str, kind: str, id_type: pa.DataType | None = None
) -> np.ndarray:
    """Stage 1 for a table keyed by person (claims, accounts, DRG cases): rows per bucket."""
    table = read_chunk(chunk, schema)
    table = table.append_column(ROW, pa.array(np.arange(chunk.offset, chunk.offset + table.num_rows)))
    return write_buckets(table, table_buckets(table, partitions, id_type), partitions, work, kind, chunk.index)


def write_by_id(records: pa.Table, partitions: int, work: str, kind: str, chunk: int) -> None:
    """Write id records partitioned by a hash of their ``claim_id`` (``KIND/bucket=Q``)."""
    if records.num_rows:
        ids = t.ids(records, "claim_id")
        write_buckets(records, bucket_of(ids, partitions), partitions, work, kind, chunk)


def pieces(work: str, kind: str, bucket: int, chunks: list[int]) -> list[str]:
    return [piece_url(work, kind, bucket, c) for c in chunks]
