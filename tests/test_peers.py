"""The peers of the capacity report (polars, DuckDB) agree with the reference on their part."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wzmedins as wz
from wzmedins import synth

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.peers import COVERS, OUTPUT_COLUMNS, duckdb_peer, polars_peer, restricted  # noqa: E402

PEERS = {"polars": polars_peer.settle, "duckdb": duckdb_peer.settle}


@pytest.fixture(scope="module")
def policy():
    return wz.load_policy("wenzhou-2022")


@pytest.fixture(scope="module")
def sample():
    # 40 claims a person: deductibles and fund caps are reached; unsorted, several areas
    return synth.claims(4000, n_persons=100, seed=21, daily=False)


def admissions() -> pa.Table:
    """Worked example 2 (top-up to a higher level) and a low-then-high order with small bills."""
    rows = [
        ("a1", "p1", dt.date(2022, 1, 5), "inpatient", "primary", 200_000),
        ("a2", "p1", dt.date(2022, 3, 5), "inpatient", "tertiary", 2_000_000),
        ("a3", "p1", dt.date(2022, 6, 5), "inpatient", "secondary", 500_000),
        ("b1", "p2", dt.date(2022, 1, 5), "inpatient", "primary", 100_000),
        ("b2", "p2", dt.date(2022, 2, 5), "inpatient", "tertiary", 10_000),
        ("b3", "p2", dt.date(2022, 2, 6), "chronic", "primary", 40_000),
        ("b4", "p2", dt.date(2022, 2, 6), "outpatient", "tertiary", 10_000),
        ("b5", "p2", dt.date(2022, 3, 1), "special", "tertiary", 90_000),
    ]
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    return pa.table(
        {
            "claim_id": cols[0], "person_id": cols[1], "settle_date": cols[2], "seq": [0] * n,
            "scheme": ["resident"] * n, "category": ["adult"] * n, "assistance": ["none"] * n,
            "visit_type": cols[3], "facility_level": cols[4], "area": ["local"] * n,
            "total_cost": pa.array(cols[5], pa.int64()), "self_pay": pa.array([0] * n, pa.int64()),
            "class_b_self_pay": pa.array([0] * n, pa.int64()),
        }
    )  # fmt: skip


def reference(claims, policy) -> pa.Table:
    return wz.reference.settle(claims, restricted(policy)).settled.select(list(OUTPUT_COLUMNS))


@pytest.mark.parametrize("peer", PEERS)
def test_peer_equals_reference_on_synthetic_claims(peer, policy, sample):
    expected = reference(sample, policy)
    got = PEERS[peer](sample, policy)
    assert got.num_rows == sample.num_rows
    for name in OUTPUT_COLUMNS:
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name
    # the sample exercises what the peers claim to cover
    assert pc.sum(pc.greater(expected.column("over_cap"), 0)).as_py() > 0
    assert pc.sum(pc.greater(expected.column("deductible"), 0)).as_py() > 0
    assert len(set(expected.column("ratio_bp").to_pylist())) > 6


@pytest.mark.parametrize("peer", PEERS)
def test_peer_equals_reference_on_deductible_top_ups(peer, policy):
    claims = admissions()
    expected = reference(claims, policy)
    got = PEERS[peer](claims, policy)
    assert got.column("deductible").to_pylist() == expected.column("deductible").to_pylist()
    assert got.column("fund").to_pylist() == expected.column("fund").to_pylist()
    # worked example 2 of settlement.md §9: funds 1 360, 13 650 and 3 750 yuan
    assert got.column("fund").to_pylist()[:3] == [136_000, 1_365_000, 375_000]


@pytest.mark.parametrize("peer", PEERS)
def test_peer_follows_a_what_if_policy(peer, policy):
    richer = policy.with_changes({"ratio_inpatient.resident": [9000, 9000, 9000]})
    got = PEERS[peer](admissions(), richer)
    assert got.column("fund").to_pylist()[0] == (200_000 - 30_000) * 9 // 10
    assert got.column("fund").to_pylist() == reference(admissions(), richer).column("fund").to_pylist()


def test_peers_refuse_the_mode_they_do_not_implement(policy):
    per_admission = policy.with_changes({"inpatient_deductible.mode": "per_admission"})
    with pytest.raises(ValueError, match="annual_highest_level"):
        restricted(per_admission)
    with pytest.raises(ValueError, match="annual_highest_level"):
        polars_peer.settle(admissions(), per_admission)


def test_covers_names_what_is_left_out():
    assert polars_peer.COVERS == duckdb_peer.COVERS == COVERS
    for words in ("step", "annual_highest_level", "critical illness", "Not covered"):
        assert words in COVERS
