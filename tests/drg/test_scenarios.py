"""The scenario helper: each scenario equals a direct clear with the same inputs."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute  # noqa: F401
import pytest

import wzmedins.drg as drg
from wzmedins.errors import SchemaError
from wzmedins.synth.drg import generate, suggested_budgets


@pytest.fixture(scope="module")
def data():
    return generate(3_000, seed=7, n_hospitals=6, n_groups=40)


def test_each_scenario_equals_a_direct_clear(data):
    budgets = suggested_budgets(data["cases"])
    kw = dict(catalog=data["catalog"], coefficients=data["coefficients"])
    variants = [
        *drg.budget_sweep([9700, 10000]),
        {"name": "H 2.5", "high_multiple_bp": [25000, 20000, 15000]},
        {"name": "reserve 3%", "reserve_bp": 300},
    ]
    table = drg.scenarios(data["cases"], budgets, "wenzhou-2022", variants, **kw)
    assert table.column("scenario").unique().to_pylist() == [
        "budget 97.00%",
        "budget 100.00%",
        "H 2.5",
        "reserve 3%",
    ]
    p = drg.load_profile("wenzhou-2022")
    checks = {
        "budget 97.00%": (p, {f: (2 * b * 9700 + 10_000) // 20_000 for f, b in budgets.items()}),
        "H 2.5": (p.with_changes(high_multiple_bp=[25000, 20000, 15000]), budgets),
        "reserve 3%": (p.with_changes(reserve_bp=300), budgets),
    }
    for name, (prof, b) in checks.items():
        direct = drg.clear(data["cases"], b, prof, **kw).hospitals
        rows = table.filter(pa.compute.equal(table.column("scenario"), name))
        assert rows.column("balance").to_pylist() == direct.column("balance").to_pylist()
        assert rows.column("money").to_pylist() == direct.column("money").to_pylist()
    # a lower budget lowers every point value
    pv = {r["scenario"]: r["point_value"] for r in table.select(["scenario", "point_value"]).to_pylist()}
    assert pv["budget 97.00%"] < pv["budget 100.00%"]


def test_scored_input_cannot_change_scoring_parameters(data):
    scored = drg.score(data["cases"], data["catalog"], data["coefficients"]).scored
    budgets = suggested_budgets(data["cases"])
    assert drg.scenarios(scored, budgets, variants=drg.budget_sweep([10000])).num_rows > 0
    with pytest.raises(ValueError, match="low_bp"):
        drg.scenarios(scored, budgets, variants=[{"low_bp": 3000}])


def test_whole_profile_as_scenario_keeps_the_reference_cost(data):
    cal = drg.calibrate(data["history"], data["hospitals"], year=2022)
    budgets = suggested_budgets(data["cases"])
    table = drg.scenarios(
        data["cases"], budgets, variants=[{"name": "jinhua", "variant": "jinhua-2024"}], catalog=cal.catalog
    )
    jh = drg.load_profile("jinhua-2024").with_changes(reference_cost=cal.reference_cost)
    direct = drg.clear(data["cases"], budgets, jh, catalog=cal.catalog).hospitals
    assert table.column("balance").to_pylist() == direct.column("balance").to_pylist()
    # a reference cost the user set on the base profile is kept too
    mine = drg.load_profile("wenzhou-2022").with_changes(reference_cost=1_200_000)
    t2 = drg.scenarios(
        data["cases"], budgets, mine, [{"name": "jh", "variant": "jinhua-2024"}], catalog=data["catalog"]
    )
    want = drg.clear(
        data["cases"], budgets, drg.load_profile("jinhua-2024").with_changes(reference_cost=1_200_000),
        catalog=data["catalog"],
    ).hospitals  # fmt: skip
    assert t2.column("money").to_pylist() == want.column("money").to_pylist()


def test_scenarios_without_a_catalog_say_so(data):
    with pytest.raises(SchemaError, match="catalog"):
        drg.scenarios(data["cases"], suggested_budgets(data["cases"]))
