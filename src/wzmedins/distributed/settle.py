"""``settle_dataset``: settle a Parquet dataset of claims on a Dask cluster, bucket by bucket.

1. **Plan** (client): the input's chunks (row groups) and its schema; a structural problem
   (a missing column, a wrong type) raises here, before any work is sent.
2. **Shuffle** (one task per chunk): rows to buckets by a hash of ``person_id``
   (:mod:`.partition`), written as pieces (:mod:`.shuffle`); opening accounts likewise.
3. **Crossings** (one task per id partition): duplicate claim ids and reversals that cross
   buckets (:mod:`.crossing`).
4. **Settle** (one task per bucket): the bucket's claims in input order, settled through the
   state store (:class:`wzmedins.Settler`) in one call (settlement order across the whole
   year), written atomically as
   ``OUT/{settled,rejected,state}/bucket=B/part-0.parquet``; returns the bucket's totals.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..policy import Policy
from ..reasons import CODE
from ..settle import PAYERS, Settler, SettleResult
from ..settle.columns import MESSAGES, explain
from . import cluster
from .crossing import find_crossings, merge, split_claims
from .partition import person_type
from .shuffle import CHUNK_ROWS, ROW, pieces, plan_chunks, split_chunk
from .storage import filesystem, join, read_pieces, remove_temporaries, remove_tree, write_atomic

OUTPUTS = ("settled", "rejected", "state")
PART = "part-0.parquet"


@dataclass
class Totals:
    """What a run came to: fen per payer column (and ``eligible``, ``total_cost``), claims
    settled and rejected, rejected rows per reason. ``totals["fund"]`` reads the fen."""

    fen: dict[str, int]
    settled: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.fen[name]

    def to_dict(self) -> dict[str, Any]:
        return {**self.fen, "settled": self.settled, "rejected": self.rejected, "reasons": dict(self.reasons)}

    @classmethod
    def add(cls, parts: list[dict[str, Any]]) -> Totals:
        fen = dict.fromkeys(("eligible", *PAYERS, "total_cost"), 0)
        reasons: dict[str, int] = {}
        for p in parts:
            for k in fen:
                fen[k] += p["fen"][k]
            for k, v in p["reasons"].items():
                reasons[k] = reasons.get(k, 0) + v
        return cls(
            fen, sum(p["settled"] for p in parts), sum(p["rejected"] for p in parts), dict(sorted(reasons.items()))
        )


@dataclass
class DatasetResult:
    """The outcome of :func:`settle_dataset`: ``totals`` and the output datasets' locations
    (``settled``, ``rejected``, ``state``: Parquet datasets partitioned ``bucket=B``)."""

    totals: Totals
    settled: str
    rejected: str
    state: str
    partitions: int

    def read(self, what: str = "settled") -> pa.Table:
        """One output as a table (settled and rejected sorted by input ``row``; state by
        person and year); the ``bucket`` column is left out."""
        import pyarrow.dataset as ds

        fs, path = filesystem(getattr(self, what))
        table = ds.dataset(path, filesystem=fs, format="parquet").to_table()
        keys = [("row", "ascending")] if what != "state" else [("person_id", "ascending"), ("year", "ascending")]
        return table.sort_by(keys)


def settle_claims(claims: pa.Table, policy: Policy, accounts: pa.Table | None) -> SettleResult:
    """Settle one bucket's claims (input order) through the state store, in settlement order
    (person, date, seq, input row) across the whole year.

    One :class:`wzmedins.Settler` per bucket, seeded with the bucket's opening accounts, settles
    the bucket in one call; ``rejected.row`` is the position in ``claims`` and ``settled`` is in
    input order; ``state`` is every person-year of the store (the bucket's persons). The bucket
    holds whole persons, so it needs no memory of claims from elsewhere (``remember_claims``
    off): duplicates and reversals across buckets are the crossings' work.
    """
    settler = Settler(policy, accounts=accounts, remember_claims=False)
    out = settler.settle(claims)
    return SettleResult(out.settled, out.rejected, settler.state())


def settle_dataset(
    source: Any,
    policy: Policy,
    out: str | os.PathLike,
    *,
    accounts: Any = None,
    client: Any = None,
    partitions: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = False,
) -> DatasetResult:
    """Settle a Parquet file or dataset of claims on a Dask cluster, in buckets of persons.

    Every claim, reversal and opening account of a person goes to the same bucket (a stable
    hash of ``person_id``), and each bucket is settled in one call, so the result equals
    ``wz.settle`` of the whole input at once, to the fen: same settled rows, same state, same
    rejected rows with the same reasons, even for duplicate claim ids and reversals across
    persons (see :mod:`wzmedins.distributed.crossing`).

    Parameters
    ----------
    source
        A Parquet file or dataset folder, a local path or any fsspec URL the workers can
        read (``s3://…``); a table (Arrow or polars) is first written under ``out``.
    policy
        From :func:`wzmedins.load_policy`.
    out
        A folder (local or fsspec URL, shared by the workers). ``settled``, ``rejected`` and
        ``state`` are written there as Parquet datasets partitioned ``bucket=B`` (replacing
        any earlier run's), with ``totals.json``. ``settled`` has an extra column ``row``:
        the claim's position in the input, as in ``rejected``.
    accounts
        Opening balances ``(person_id, year, current_balance, hist_balance)``: a path, URL or
        table; shuffled by the same hash.
    client
        A ``distributed.Client``; ``None`` starts a local cluster of one worker process per
        core for the call.
    partitions
        Number of buckets (default: 4 per worker). Each bucket must fit one worker's memory:
        see docs/distributed.md.
    chunk_rows
        Rows read per shuffle task.
    progress
        Show a progress bar per stage (on stderr).

    Returns
    -------
    DatasetResult
        ``totals`` (fen per payer column, claims settled and rejected) and the output paths.

    Examples
    --------
    >>> import tempfile, wzmedins as wz
    >>> from wzmedins import synth
    >>> from wzmedins.distributed import connect, settle_dataset
    >>> policy = wz.load_policy("wenzhou-2022")
    >>> claims = synth.claims(2_000, seed=1)
    >>> with connect("local", n_workers=1) as client:
    ...     run = settle_dataset(claims, policy, tempfile.mkdtemp(), client=client, partitions=3)
    >>> run.totals["fund"] == wz.settle(claims, policy).totals()["fund"]
    True
    >>> run.totals.settled + run.totals.rejected, run.read("settled").num_rows == run.totals.settled
    (2000, True)
    """
    with cluster.connect(client) as c:
        n_workers = max(1, len(c.scheduler_info().get("workers", {})))
        return _settle(source, policy, str(out), accounts, c, partitions or 4 * n_workers, chunk_rows, progress)


def _settle(source, policy, out, accounts, client, partitions, chunk_rows, progress) -> DatasetResult:
    out = out.rstrip("/")
    work = join(out, "_work")
    for name in (*OUTPUTS, "_work"):
        remove_tree(join(out, name))
    source = _as_dataset(source, work, "claims", chunk_rows)
    schema, chunks = plan_chunks(source, chunk_rows)
    acc_schema, acc_chunks = (
        plan_chunks(_as_dataset(accounts, work, "accounts", chunk_rows), chunk_rows)
        if accounts is not None
        else (None, [])
    )
    _check_structure(schema, policy, acc_schema)
    counts = cluster.run(
        client, split_claims, chunks, schema, partitions, work, policy, label="shuffle", progress=progress
    )
    acc_counts = cluster.run(
        client, split_chunk, acc_chunks, acc_schema, partitions, work, "accounts", person_type(schema),
        label="shuffle-accounts", progress=progress,
    )  # fmt: skip
    ids = [
        (pieces(work, "ids", q, range(len(chunks))), pieces(work, "targets", q, range(len(chunks))))
        for q in range(partitions)
    ]
    crossings = merge(cluster.run(client, _crossings, ids, label="crossings", progress=progress))
    empty = np.zeros(0, dtype=np.int64)
    buckets = [
        dict(
            bucket=b,
            claims=[pieces(work, "claims", b, [i])[0] for i, c in enumerate(counts) if c[b]],
            accounts=[pieces(work, "accounts", b, [i])[0] for i, c in enumerate(acc_counts) if c[b]],
            foreign=crossings["foreign"].get(b, empty),
            mismatch=crossings["mismatch"].get(b, empty),
        )
        for b in range(partitions)
    ]
    parts = cluster.run(
        client, _settle_bucket, buckets, policy, schema, acc_schema, out, label="settle", progress=progress
    )
    for name in OUTPUTS:
        remove_temporaries(join(out, name))
    remove_tree(work)
    totals = Totals.add(parts)
    fs, path = filesystem(out)
    with fs.open(path + "/totals.json", "w") as f:
        json.dump({"partitions": partitions, **totals.to_dict()}, f, indent=1)
    return DatasetResult(totals, *(join(out, name) for name in OUTPUTS), partitions)


def _as_dataset(data: Any, work: str, name: str, chunk_rows: int) -> str:
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    url = join(work, "input", name, "part-0.parquet")
    write_atomic(t.to_table(data), url, row_group_size=chunk_rows)
    return url.rsplit("/", 1)[0]


def _check_structure(schema: pa.Schema, policy: Policy, acc_schema: pa.Schema | None) -> None:
    """Raise the SchemaError one machine would raise (a missing column, a wrong type, ids of
    another type in the accounts): the store settles an empty bucket of this schema."""
    accounts = None if acc_schema is None else acc_schema.empty_table()
    settle_claims(schema.empty_table(), policy, accounts)


def _crossings(item: tuple[list[str], list[str]]) -> dict:
    return find_crossings(*item)


def _settle_bucket(item: dict, policy: Policy, schema: pa.Schema, acc_schema, out: str) -> dict:
    """Settle one bucket and write its outputs; returns its totals."""
    b = item["bucket"]
    with_row = schema.append(pa.field(ROW, pa.int64()))
    claims = read_pieces(item["claims"], with_row)
    rows = claims[ROW].to_numpy()
    table = claims.drop_columns([ROW]).unify_dictionaries()
    foreign = np.isin(rows, item["foreign"])
    keep = np.flatnonzero(~foreign)
    accounts = None
    if acc_schema is not None:
        accounts = read_pieces(item["accounts"], acc_schema.append(pa.field(ROW, pa.int64()))).drop_columns([ROW])
    result = settle_claims(table.take(pa.array(keep)) if foreign.any() else table, policy, accounts)

    rejected_local = keep[result.rejected["row"].to_numpy()]  # positions in ``table``
    accepted = np.setdiff1d(keep, rejected_local, assume_unique=True)
    settled = result.settled.append_column("row", pa.array(rows[accepted]))
    rejected = _rejected(table, rows, rejected_local, result.rejected, np.flatnonzero(foreign), item["mismatch"])
    part = join(f"bucket={b}", PART)
    write_atomic(settled, join(out, "settled", part))
    write_atomic(rejected, join(out, "rejected", part))
    write_atomic(result.state, join(out, "state", part))
    reasons = {}
    if rejected.num_rows:
        for r in rejected.group_by("reason").aggregate([("row", "count")]).to_pylist():
            reasons[r["reason"]] = r["row_count"]
    return dict(fen=result.totals(), settled=settled.num_rows, rejected=rejected.num_rows, reasons=reasons)


def _rejected(table, rows, local, rejected, foreign, mismatch) -> pa.Table:
    """The bucket's rejected rows with input rows: the bucket's own, its foreign duplicates,
    and reversals of another bucket's claim (UNKNOWN_ORIGINAL → REVERSAL_PERSON_MISMATCH)."""
    own = rejected.set_column(0, "row", pa.array(rows[local], pa.int64()))
    fix = np.isin(rows[local], mismatch) & (rejected["reason"].to_numpy(zero_copy_only=False) == "UNKNOWN_ORIGINAL")
    fixed = local[fix]
    if len(fixed):
        own = own.filter(pa.array(~fix))
    extra_rows = np.concatenate([foreign, fixed]).astype(np.int64)
    if len(extra_rows) == 0:
        return own
    reason = np.full(table.num_rows, t.NO_REASON, dtype=np.int16)
    reason[foreign] = CODE["DUPLICATE_CLAIM_ID"]
    reason[fixed] = CODE["REVERSAL_PERSON_MISMATCH"]
    extra_rows.sort()
    extra = t.rejected_table(
        extra_rows, t.ids(table, "claim_id"), reason, MESSAGES, explain(table, extra_rows, reason[extra_rows])
    )
    extra = extra.set_column(0, "row", pa.array(rows[extra_rows], pa.int64()))
    return pa.concat_tables([own, extra.cast(own.schema)]).sort_by("row")
