"""A worker killed mid-run, and workers with less memory than the data: the run completes and
every output equals the undisturbed run's (each test starts and closes its own cluster)."""

from __future__ import annotations

import os
import signal
import sys

import pytest

import wzmedins as wz
from wzmedins.distributed import connect, settle_dataset

from .data import claims_and_accounts
from .test_settle import assert_same_as_one_machine

POLICY = wz.load_policy("wenzhou-2022")
pytestmark = pytest.mark.slow


class KillOnce:
    """A worker plugin: the first task whose key starts with ``prefix`` to finish (its files
    written, its result not yet reported) kills its worker process, once per marker file."""

    def __init__(self, prefix: str, marker: str):
        self.prefix, self.marker = prefix, marker

    def setup(self, worker):
        pass

    def teardown(self, worker):
        pass

    def transition(self, key, start, finish, **kwargs):
        if finish == "memory" and str(key).startswith(self.prefix) and not os.path.exists(self.marker):
            with open(self.marker, "w"):
                pass
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def data():
    claims, accounts = claims_and_accounts(2_000, seed=8)
    return claims, accounts, wz.settle(claims, POLICY, accounts=accounts)


def test_a_worker_killed_mid_run(data, tmp_path):
    import cloudpickle
    from distributed.diagnostics.plugin import WorkerPlugin

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    claims, accounts, one = data
    markers = [tmp_path / "killed-in-shuffle", tmp_path / "killed-in-settle"]
    with connect("local", n_workers=2) as client:
        undisturbed = settle_dataset(claims, POLICY, tmp_path / "a", accounts=accounts, client=client, partitions=4,
                                     chunk_rows=500)  # fmt: skip
        for prefix, marker in zip(("wz-shuffle-", "wz-settle-"), markers, strict=True):
            plugin = type("Kill", (KillOnce, WorkerPlugin), {})(prefix, str(marker))
            client.register_plugin(plugin, name=prefix)
        run = settle_dataset(claims, POLICY, tmp_path / "b", accounts=accounts, client=client, partitions=4,
                             chunk_rows=500)  # fmt: skip
    assert all(m.exists() for m in markers)  # both kills happened
    for name in ("settled", "rejected", "state"):
        assert run.read(name).equals(undisturbed.read(name)), name
        for b in range(4):  # the retried task left exactly one copy, and no temporary file
            assert os.listdir(tmp_path / "b" / name / f"bucket={b}") == ["part-0.parquet"]
    assert run.totals == undisturbed.totals
    assert_same_as_one_machine(run, one)


def test_memory_limit_smaller_than_the_data(data, tmp_path):
    """Workers limited to half the data's size in memory. Rows reach a worker one chunk or one
    bucket at a time (the shuffle goes through disk) and results beyond the limit spill. The
    nanny's terminate/pause thresholds are off: a worker's imports alone exceed so small a limit."""
    import dask

    claims, accounts, one = data
    limit = claims.nbytes // 2
    settings = {"distributed.worker.memory.terminate": False, "distributed.worker.memory.pause": False}
    with dask.config.set(settings), connect("local", n_workers=2, memory_limit=limit) as client:
        info = client.scheduler_info()["workers"]
        assert all(w["memory_limit"] == limit for w in info.values()) and limit < claims.nbytes
        run = settle_dataset(claims, POLICY, tmp_path, accounts=accounts, client=client, partitions=8, chunk_rows=300)
    assert_same_as_one_machine(run, one)
