"""Work of many concurrent calls done in one go by whichever call gets there first.

Mapping a platform record to a claim (``from_platform``) costs about the same for one record
as for twenty: its cost is Arrow's per-call overhead. Calls that arrive together hand their
records to a :class:`Combiner`; the first to take its lock maps every record waiting, the others
find theirs done. No thread of its own, no waiting for company: a call alone is mapped alone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

_PENDING = object()


class Combiner:
    """``combiner(item)`` returns ``fn([... item ...])``'s result for ``item``, where ``fn`` maps a
    list of items to a list of results (one per item, in order; a result may be an exception,
    which is raised to that item's caller only). Should ``fn`` raise for a whole batch, each of
    its items is tried alone.

    Examples
    --------
    >>> double = Combiner(lambda items: [2 * x for x in items])
    >>> double(21)
    42
    """

    def __init__(self, fn: Callable[[list], list]):
        self.fn = fn
        self._lock = threading.Lock()  # held while a batch is worked
        self._list_lock = threading.Lock()  # held while the waiting list is appended to or taken
        self._waiting: list[list] = []

    def __call__(self, item: Any) -> Any:
        slot = [item, _PENDING]
        with self._list_lock:
            self._waiting.append(slot)
        with self._lock:
            if slot[1] is _PENDING:  # nobody took it yet: take everything waiting, this one included
                with self._list_lock:
                    batch, self._waiting = self._waiting, []
                self._work(batch)
        if isinstance(slot[1], BaseException):
            raise slot[1]
        return slot[1]

    def _work(self, batch: list[list]) -> None:
        try:
            results = self.fn([s[0] for s in batch])
        except Exception:
            if len(batch) == 1:
                raise
            results = []
            for s in batch:
                try:
                    results.append(self.fn([s[0]])[0])
                except Exception as exc:
                    results.append(exc)
        for s, result in zip(batch, results, strict=True):
            s[1] = result


class LoopCombiner:
    """The event loop's :class:`Combiner`: ``await combiner(item)`` gives ``fn([... item ...])``'s
    result for ``item``, where the list holds every item asked for during one turn of the loop;
    ``fn`` runs on the loop at the start of the next turn (no thread, no lock: a handful of
    records is mapped in well under a millisecond, less than handing them to a thread costs).

    Examples
    --------
    >>> async def main():
    ...     double = LoopCombiner(lambda items: [2 * x for x in items])
    ...     return await asyncio.gather(double(1), double(20))
    >>> asyncio.run(main())
    [2, 40]
    """

    def __init__(self, fn: Callable[[list], list]):
        self.fn = fn
        self._pending: list[tuple[Any, asyncio.Future]] | None = None

    def __call__(self, item: Any) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if self._pending is None:
            self._pending = []
            loop.call_soon(self._work)
        future = loop.create_future()
        self._pending.append((item, future))
        return future

    def _work(self) -> None:
        batch, self._pending = self._pending or [], None
        try:
            results = self.fn([item for item, _ in batch])
        except Exception:
            results = []
            for item, _ in batch:
                try:
                    results.append(self.fn([item])[0])
                except Exception as exc:
                    results.append(exc)
        for (_, future), result in zip(batch, results, strict=True):
            if future.cancelled():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


__all__ = ["Combiner", "LoopCombiner"]
