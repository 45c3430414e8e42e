"""drg_clear on a LocalCluster equals wz.drg.score + wz.drg.clear on one machine."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.distributed import bucket_of, drg_clear
from wzmedins.synth import drg as synth_drg

BUDGETS = {"employee": 2_000_000_000, "resident": 2_500_000_000}


@pytest.fixture(scope="module")
def drg_data():
    data = synth_drg.generate(3_000, seed=4, n_hospitals=12, n_groups=60)
    cal = wz.drg.calibrate(data["history"], data["hospitals"], "wenzhou-2022", year=2022)
    params = wz.drg.load_profile("wenzhou-2022").with_changes(reference_cost=cal.reference_cost)
    rows = data["cases"].to_pylist()
    # cross-person duplicate ids (the first a bad row in one case), a readmission, bad rows
    rows[10]["case_id"] = rows[500]["case_id"]
    rows[20]["case_id"], rows[20]["fund"] = rows[900]["case_id"], "navy"
    rows[30]["total_cost"] = -1
    rows.append({**rows[40], "case_id": 99_999_999, "admit_date": rows[40]["discharge_date"] + dt.timedelta(days=3),
                 "discharge_date": rows[40]["discharge_date"] + dt.timedelta(days=9)})  # fmt: skip
    cases = pa.Table.from_pylist(rows, schema=data["cases"].schema)
    return cases, cal, params


def test_drg_on_the_cluster_equals_one_machine(client, drg_data):
    cases, cal, params = drg_data
    one = wz.drg.score(cases, cal.catalog, cal.coefficients, params)
    assert {"DUPLICATE_CLAIM_ID", "UNKNOWN_SCHEME", "NEGATIVE_AMOUNT"} <= set(one.rejected["reason"].to_pylist())
    assert pa.compute.sum(one.scored["readmission"]).as_py() >= 1
    cleared = wz.drg.clear(one.scored, BUDGETS, params)
    run = drg_clear(cases, cal.catalog, cal.coefficients, BUDGETS, params, client=client, partitions=5)
    assert run.scored.scored.to_pylist() == one.scored.to_pylist()
    assert run.scored.rejected.to_pylist() == one.rejected.to_pylist()
    for name in ("funds", "hospitals", "cases", "drgs"):
        assert getattr(run.clearing, name).to_pylist() == getattr(cleared, name).to_pylist(), name
    provisional = drg_clear(cases, cal.catalog, cal.coefficients, BUDGETS, params, client=client, through_month=6)
    expected = wz.drg.clear(one.scored, BUDGETS, params, through_month=6)
    assert provisional.clearing.hospitals.to_pylist() == expected.hospitals.to_pylist()


def _same(run, one, cleared):
    assert run.scored.scored.to_pylist() == one.scored.to_pylist()
    assert run.scored.rejected.to_pylist() == one.rejected.to_pylist()
    for name in ("funds", "hospitals", "cases", "drgs"):
        assert getattr(run.clearing, name).to_pylist() == getattr(cleared, name).to_pylist(), name


def test_provisional_clearing_on_the_cluster(client, drg_data):
    """Monthly provisional clearing through June of 2022: all four tables as on one machine."""
    cases, cal, params = drg_data
    one = wz.drg.score(cases, cal.catalog, cal.coefficients, params)
    cleared = wz.drg.clear(one.scored, BUDGETS, params, year=2022, through_month=6)
    assert 0 < cleared.cases.num_rows < one.scored.num_rows  # the month filter bites
    assert cleared.funds["months"].to_pylist() == [6, 6]
    run = drg_clear(cases, cal.catalog, cal.coefficients, BUDGETS, params, client=client, partitions=3,
                    year=2022, through_month=6)  # fmt: skip
    _same(run, one, cleared)


def test_point_value_from_the_sums_of_several_buckets(client, drg_data):
    """Every hospital's cases lie in several buckets, so each hospital × fund and each DRG
    code is the sum of several buckets' sums; the result is still one machine's."""
    cases, cal, params = drg_data
    n = 7
    bucket = bucket_of(cases["person_id"], n)
    by_hospital = pa.table({"h": cases["hospital_id"], "b": pa.array(bucket)}).group_by("h").aggregate(
        [("b", "count_distinct")])  # fmt: skip
    assert min(by_hospital["b_count_distinct"].to_pylist()) >= 2
    one = wz.drg.score(cases, cal.catalog, cal.coefficients, params)
    cleared = wz.drg.clear(one.scored, BUDGETS, params)
    _same(drg_clear(cases, cal.catalog, cal.coefficients, BUDGETS, params, client=client, partitions=n), one, cleared)
    # the sums of the buckets, added by hand, are the sums of the whole
    scored = one.scored
    parts = [scored.filter(pa.array(bucket_of(scored["person_id"], n) == b)) for b in range(n)]
    added = sum(wz.drg.clearing_sums(p, params, positions=p["row"]) for p in parts)
    assert added.funds.to_pylist() == wz.drg.clearing_sums(scored, params).funds.to_pylist()
    assert wz.drg.clear_from_sums(added, BUDGETS, params).funds.to_pylist() == cleared.funds.to_pylist()
