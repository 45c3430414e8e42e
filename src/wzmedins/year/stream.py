"""The ``claims`` stage of a year (docs/year.md): the year's claims streamed through one state
store, each settled batch folded once into what the later stages need
(:class:`~wzmedins.year.tally.YearTally`) and written to ``OUT/settled/``.

Three threads in a pipeline: the next batch is read or generated while this one is settled
and the last one folded and written, in order, one batch in flight each, so memory stays a
few batches whatever the year's claims.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .bundle import Bundle
from .inputs import YearInputs
from .tally import YearTally

# claim inputs the year carries into settled: months, scope, places and the DRG fields
CARRY = (
    *("scheme", "settle_date", "visit_type", "facility_level", "area", "total_cost"),
    *("community_id", "hospital_id", "drg_code", "los", "admit_date"),
)


def _empty_rejected() -> pa.Table:
    return pa.table({"row": pa.array([], pa.int64()), "claim_id": pa.array([], pa.string()),
                     "reason": pa.array([], pa.string()), "message": pa.array([], pa.string())})  # fmt: skip


def settle_claims(inputs: YearInputs, b: Bundle, result, *, remember_claims: bool,
                  write_settled: bool = False) -> YearTally:  # fmt: skip
    """Stream the year's claims through one state store; fold each settled batch once into what
    later stages need (:class:`~wzmedins.year.tally.YearTally`) and, with ``write_settled``,
    write it to ``OUT/settled/``, on a second thread while the next batch is settled."""
    import wzmedins as wz

    # the per-person tables are read back (from disk when parked) only for as long as the store
    # and the fold's index are built from them, then dropped
    signings = inputs["signings"]
    spill = None if result.out is None else result.out / "kept"

    def make_tally() -> YearTally:
        return YearTally(result.tables.columns("enrolment", ["person_id", "year", "county", "scheme"]),
                         counties=tuple(b.fund.counties), signed_persons=signings.column("person_id"),
                         capitation_visits=tuple(b.capitation.visit_types), spill=spill,
                         signed_communities=signings.column("community_id"),
                         outside_bp=b.capitation.outside_charge_bp)  # fmt: skip

    # the fold's index of the persons is built on a second thread while the store opens
    with ThreadPoolExecutor(1) as beside:
        coming_tally = beside.submit(make_tally)
        settler = wz.Settler(b.policy, accounts=result.tables["accounts"], remember_claims=remember_claims)
        tally = coming_tally.result()
    rejected: list[pa.Table] = []
    n_in = 0
    folder = None if result.out is None or not write_settled else result.out / "settled"
    if folder is not None:
        folder.mkdir(exist_ok=True)
    # three threads in a pipeline: the next batch is read or generated, this one settled, the
    # last one folded and written; one batch in flight each, so memory stays a few batches
    waits = dict.fromkeys(("wait for the claims", "settle", "wait for fold and write"), 0.0)
    busy = {"read or generate": 0.0, "fold": 0.0, "write": 0.0}
    # CPU of each step on its own thread (the generator's and the store's worker threads not
    # counted): beside the wall times, the steadier figure on a shared machine
    cpu = {"settle (CPU)": 0.0, "read or generate (CPU)": 0.0, "fold (CPU)": 0.0, "write (CPU)": 0.0}
    clock, cpu_clock = time.perf_counter, time.thread_time
    batches = iter(inputs.claims())

    def produce():
        t, c = clock(), cpu_clock()
        batch = next(batches, None)
        busy["read or generate"] += clock() - t
        cpu["read or generate (CPU)"] += cpu_clock() - c
        return batch

    def consume(settled: pa.Table, i: int) -> None:
        t, c = clock(), cpu_clock()
        tally.add(settled)
        busy["fold"] += clock() - t
        cpu["fold (CPU)"] += cpu_clock() - c
        if folder is not None:
            t, c = clock(), cpu_clock()
            write_part(settled, folder / f"part-{i:05d}.parquet")
            busy["write"] += clock() - t
            cpu["write (CPU)"] += cpu_clock() - c

    with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as folder_writer:
        coming = reader.submit(produce)
        behind = None
        i = 0
        while True:
            t0 = clock()
            batch = coming.result()
            t1 = clock()
            waits["wait for the claims"] += t1 - t0
            if batch is None:
                break
            coming = reader.submit(produce)
            n_in += batch.num_rows
            carry = [c for c in CARRY if c in batch.schema.names]
            c1 = cpu_clock()
            out = settler.settle(batch, carry=carry)
            cpu["settle (CPU)"] += cpu_clock() - c1
            t2 = clock()
            waits["settle"] += t2 - t1
            if out.rejected.num_rows:
                rejected.append(out.rejected)
            if behind is not None:
                behind.result()  # batches are folded in order, one at a time
            behind = folder_writer.submit(consume, out.settled, i)
            del out  # a result still held when the next batch settles has its state copied first
            waits["wait for fold and write"] += clock() - t2
            i += 1
        t0 = clock()
        if behind is not None:
            behind.result()
        waits["wait for fold and write"] += clock() - t0
    spent = {**waits, **{f"{k} (background)": v for k, v in busy.items()}, **cpu}
    result.claims_timings = {k: round(v, 3) for k, v in spent.items()}
    tally.enrolled = None  # the persons' index is done with: free it for the later stages
    result.capitation_check = tuple(int(v) for v in tally.capitation_check)
    result.tables["payers"] = tally.payers().to_arrow()
    result.tables["rejected_claims"] = pa.concat_tables(rejected) if rejected else _empty_rejected()
    result.counts.update(claims=n_in, rejected=result.tables["rejected_claims"].num_rows)
    result.counts["settled"] = n_in - result.counts["rejected"]
    return tally


def write_part(settled: pa.Table, path: Path) -> None:
    """One part of settled claims as Parquet: dictionary pages for the enum columns only (ids
    and money do not repeat; trying a dictionary on them costs time for nothing)."""
    enums = [f.name for f in settled.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(settled, path, use_dictionary=enums or False)
