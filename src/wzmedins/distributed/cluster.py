"""Clients, clusters and progress: the thin layer over ``dask.distributed``."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any


def _distributed():
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - the extra is part of dev
        from ..errors import WzmedinsError

        raise WzmedinsError("wzmedins.distributed needs dask: pip install 'wzmedins[distributed]'") from e
    return distributed


def local_cluster(n_workers: int | None = None, **options: Any):
    """A ``LocalCluster`` of worker processes on loopback, one thread each, no dashboard.

    ``n_workers`` defaults to the machine's cores; ``options`` go to ``LocalCluster``
    (``memory_limit=``, ``threads_per_worker=`` …).
    """
    distributed = _distributed()
    settings = dict(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    settings.update(options)
    return distributed.LocalCluster(**settings)


@contextlib.contextmanager
def connect(scheduler: Any = None, **options: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of a ``with`` block.

    ``scheduler``: an existing ``Client`` (used as it is, not closed), ``None`` or ``"local"``
    (a :func:`local_cluster` started and closed here), or a scheduler address such as
    ``"tcp://10.0.0.5:8786"``.
    """
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is None or scheduler == "local":
        with local_cluster(**options) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    with distributed.Client(scheduler) as client:
        yield client


def run(client, fn, items: Sequence[Any], *args: Any, label: str, progress: bool = False, **kwargs: Any) -> list:
    """``fn(item, *args, **kwargs)`` for every item on the cluster; results in item order.

    Each task has a readable key (``wz-LABEL-I-TOKEN``). A task lost with its worker is run
    again by the scheduler; an exception in a task is raised here.
    """
    token = uuid.uuid4().hex[:8]
    futures = [
        client.submit(fn, item, *args, key=f"wz-{label}-{i}-{token}", pure=False, **kwargs)
        for i, item in enumerate(items)
    ]
    if progress and futures:
        _show_progress(futures, label)
    return client.gather(futures)


def _show_progress(futures: list, label: str) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from distributed import as_completed

    columns = (TextColumn(f"{label:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=len(futures))
        for _ in as_completed(futures):
            bar.advance(task)
