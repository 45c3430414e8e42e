"""pytest-benchmark: settle 1M and 10M synthetic claims, kernel alone and end to end.

Claims are generated inside the benchmark (seeded, 10 claims a person on average, string
person ids, in no order of person or date). The pure-Python reference runs on a 100k sample
in the same session, so its ratio to the kernel is within one run.

    python -m pytest benchmarks/bench_settle.py --benchmark-only -p no:cacheprovider
    python -m pytest benchmarks/bench_settle.py -k 1m      # 1M only (10M needs ~4 GB)

Claims per second are in each benchmark's ``extra_info``.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins import synth

SIZES = {"1m": 1_000_000, "10m": 10_000_000}
SEED = 2022


@pytest.fixture(scope="module")
def policy():
    return wz.load_policy("wenzhou-2022")


@pytest.fixture(scope="module", params=list(SIZES))
def claims(request, policy) -> pa.Table:
    table = synth.claims(SIZES[request.param], seed=SEED, daily=False)
    wz.settle(table.slice(0, 1000), policy)  # numba: load or compile once, outside the timing
    return table


def _rate(benchmark, n: int) -> None:
    benchmark.extra_info["claims"] = n
    benchmark.extra_info["claims_per_second"] = round(n / benchmark.stats.stats.mean)


def test_kernel(benchmark, claims, policy):
    """The compiled loop alone, one thread: each round settles into a fresh store and reports
    only the seconds spent in the kernel (``Settler.kernel_seconds``)."""

    def kernel_seconds() -> float:
        store = wz.Settler(policy, threads=1)
        store.settle(claims)
        return store.kernel_seconds

    seconds = [kernel_seconds() for _ in range(3)]
    benchmark.extra_info["claims"] = claims.num_rows
    benchmark.extra_info["kernel_claims_per_second"] = round(claims.num_rows / min(seconds))
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


def test_end_to_end(benchmark, claims, policy):
    result = benchmark.pedantic(wz.settle, args=(claims, policy), rounds=2, iterations=1)
    assert result.settled.num_rows + result.rejected.num_rows == claims.num_rows
    _rate(benchmark, claims.num_rows)


def test_reference_100k(benchmark, policy):
    sample = synth.claims(100_000, seed=SEED, daily=False)
    result = benchmark.pedantic(wz.reference.settle, args=(sample, policy), rounds=1, iterations=1)
    assert result.settled.num_rows == sample.num_rows
    _rate(benchmark, sample.num_rows)
