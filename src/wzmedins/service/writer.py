"""One writer per ledger: claims from every request are settled by one thread, in arrival
order, a group at a time (group commit), each group one ledger batch and one transaction.

A group holds at most one claim per person, so a person's claims are settled one after the
other in the order they arrived, exactly as if each were its own batch; claims of different
persons never influence each other (settlement.md §3), so grouping them changes nothing but
the number of commits.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import numba
import pyarrow as pa

from ..ledger import Ledger
from ..settle.lean import SettledRows
from .answer import GroupTexts

log = logging.getLogger("wzmedins.service")

CLAIM_SCHEMA = pa.schema([
    ("claim_id", pa.string()), ("person_id", pa.string()), ("settle_date", pa.date32()), ("seq", pa.int64()),
    ("scheme", pa.string()), ("category", pa.string()), ("visit_type", pa.string()),
    ("facility_level", pa.string()), ("area", pa.string()), ("assistance", pa.string()),
    ("total_cost", pa.int64()), ("self_pay", pa.int64()), ("class_b_self_pay", pa.int64()),
    ("reverses", pa.string()),
])  # fmt: skip


@dataclass
class Outcome:
    """What became of one claim: its ``settled`` row or its ``rejected`` row (dicts), and the
    person's ``state`` rows after its group (dicts, one per year)."""

    settled: dict | None
    rejected: dict | None
    state: list[dict]
    batch_id: str
    texts: GroupTexts | None = None  # the group's explanations, made once when first asked

    def state_of_year(self) -> dict | None:
        """The state row of the settled claim's year."""
        year = self.settled["year"] if self.settled is not None else None
        return next((s for s in self.state if s["year"] == year), None)


@dataclass
class Job:
    claim: dict
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    enqueued: float = field(default_factory=time.perf_counter)


class Inbox:
    """The writer's queue: one consumer, many producers. ``put`` appends to a deque (atomic, no
    lock) and wakes the consumer only when it sleeps, so the event loop never waits on a lock
    the writer holds (``queue.Queue`` took a lock on every put and get)."""

    def __init__(self) -> None:
        self._items: collections.deque = collections.deque()
        self._ready = threading.Event()

    def put(self, item) -> None:
        self._items.append(item)
        if not self._ready.is_set():  # appended first: a consumer that clears the flag still finds it
            self._ready.set()

    def get(self):
        while True:
            try:
                return self._items.popleft()
            except IndexError:
                pass
            self._ready.wait()
            self._ready.clear()

    def get_nowait(self):
        try:
            return self._items.popleft()
        except IndexError:
            raise queue.Empty from None

    def qsize(self) -> int:
        return len(self._items)


class Writer:
    """The ledger's single writer: :meth:`submit` a claim (a dict with the columns of
    ``CLAIM_SCHEMA``), get a future of its :class:`Outcome`."""

    def __init__(self, ledger: Ledger, *, max_group: int = 256, on_group=None):
        self.ledger = ledger
        self.max_group = max_group
        self.on_group = on_group  # metrics hook: called with (group size, seconds)
        self._queue = Inbox()
        self._held: collections.deque[Job] = collections.deque()
        self._thread = threading.Thread(target=self._run, name="wzmedins-writer", daemon=True)
        self._thread.start()

    def submit(self, claim: dict) -> concurrent.futures.Future:
        job = Job(claim)
        self._queue.put(job)
        return job.future

    def close(self, timeout: float = 30.0) -> None:
        """Settle what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _next_group(self) -> tuple[list[Job], bool]:
        """Claims in arrival order, at most one per person; later claims of a person already in
        the group wait for the next group, ahead of anything newer."""
        pending = list(self._held)
        self._held.clear()
        stop = False
        if not pending:
            job = self._queue.get()
            if job is None:
                return [], True
            pending.append(job)
        while len(pending) < 4 * self.max_group:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            pending.append(job)
        group, persons = [], set()
        for job in pending:
            person = job.claim["person_id"]
            if person in persons or len(group) >= self.max_group:
                self._held.append(job)
            else:
                persons.add(person)
                group.append(job)
        return group, stop

    def _run(self) -> None:
        # a group is far below a parallel partition (settle/store.py PARTITION_ROWS): settle it
        # on this thread alone; waking numba's pool cost 10-20 ms a parallel loop on a busy machine
        numba.set_num_threads(1)
        stop = False
        while not (stop and not self._held):
            group, stop = self._next_group()
            if not group:
                continue
            started = time.perf_counter()
            try:
                self._settle(group)
            except BaseException as exc:  # the group failed as a whole: nothing of it was stored
                log.error("settlement group of %d failed: %s", len(group), type(exc).__name__)
                for job in group:
                    if not job.future.done():
                        try:
                            job.future.set_exception(exc)
                        except concurrent.futures.InvalidStateError:
                            pass
            if self.on_group is not None:
                self.on_group(len(group), time.perf_counter() - started)
        while True:  # refuse what came after the stop
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None and not job.future.done():
                job.future.set_exception(RuntimeError("the service is stopping"))

    def _settle(self, group: list[Job]) -> None:
        claims = [{k: j.claim.get(k) for k in CLAIM_SCHEMA.names} for j in group]
        batch_id = f"svc-{uuid.uuid4().hex}"
        # plain rows, once per group: ordinary claims take the ledger's short commit
        # (Ledger.settle_rows), anything else its full batch path; the answers are built from
        # these rows outside this thread
        out: SettledRows = self.ledger.settle_rows(claims, batch_id=batch_id, schema=CLAIM_SCHEMA)
        rejected = {r["row"]: r for r in out.rejected}
        settled = iter(out.settled)
        states: dict[str, list[dict]] = {}
        for st in out.state:
            states.setdefault(str(st["person_id"]), []).append(st)
        texts = GroupTexts()
        outcomes = []
        for i, job in enumerate(group):
            state = states.get(str(job.claim["person_id"]), [])
            if i in rejected:
                outcomes.append(Outcome(None, rejected[i], state, batch_id))
            else:
                outcomes.append(Outcome(next(settled), None, state, batch_id, texts))
                texts.items.append((outcomes[-1].settled, job.claim, outcomes[-1].state_of_year()))
        for job, outcome in zip(group, outcomes, strict=True):
            _resolve(job, outcome)


def _resolve(job: Job, outcome: Outcome) -> None:
    # a caller that gave up waiting has cancelled its future; the claim is settled all the same,
    # and the caller learns it by sending the call again with the same message id
    if not job.future.cancelled():
        try:
            job.future.set_result(outcome)
        except concurrent.futures.InvalidStateError:
            pass


__all__ = ["Writer", "Outcome", "CLAIM_SCHEMA"]
