"""drg_clear on a LocalCluster equals wz.drg.score + wz.drg.clear on one machine."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.distributed import drg_clear
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
