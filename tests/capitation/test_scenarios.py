"""Scenarios: one table community × scenario, each row the year end under that scenario."""

from __future__ import annotations

import matplotlib

import wzmedins as wz
from wzmedins.reference import capitation as ref

from .cap_fixtures import claim_rows, claims_table, load, signing_rows, signings_table

matplotlib.use("Agg")
FX = load()
P = wz.capitation.load_profile("wenzhou-2022")


def test_each_scenario_is_a_year_end_under_its_parameters():
    variants = [
        {"name": "a = 400", "per_capita": 40_000},
        {"name": "a = 600", "per_capita": 60_000},
        {"name": "cap 20%", "surplus_cap_bp": 2_000},
        {"name": "band 20%", "overspend_band_bp": 2_000, "per_capita": 40_000},
        {"name": "flat weights", "weight_bp": {b: 10_000 for b in P.weight_bp}, "chronic_weight_bp": 10_000},
        {"name": "from the pool", "pool": 500_000},
    ]
    out = wz.capitation.scenarios(
        signings_table(signing_rows(FX)), claims_table(claim_rows(FX)), P, variants,
        per_capita=60_000, quality=FX["quality_bp"], year=2022,
    )  # fmt: skip
    assert out.num_rows == 2 * len(variants)
    rows = out.to_pylist()
    for v in variants:
        v = dict(v)
        name = v.pop("name")
        amount = {"per_capita": v.pop("per_capita", None), "pool": v.pop("pool", None)}
        if amount["per_capita"] is None and amount["pool"] is None:
            amount["per_capita"] = 60_000
        twin = ref.settle(signing_rows(FX), claim_rows(FX), P.with_changes(v), quality=FX["quality_bp"], year=2022,
                          **amount)  # fmt: skip
        got = [r for r in rows if r["scenario"] == name]
        assert [r["per_capita"] for r in got] == [twin["per_capita"]] * 2
        assert [{k2: r[k2] for k2 in twin["communities"][0]} for r in got] == twin["communities"]
    # by hand: with the band at 20% K2 (budget 1 160, overspend 240) has the fund share 116 of 232
    band = [r for r in rows if r["scenario"] == "band 20%"]
    assert (band[1]["fund_shares"], band[1]["settlement"]) == (11_600, -12_400)


def test_plot_has_a_bar_per_community_and_scenario():
    out = wz.capitation.scenarios(
        signings_table(signing_rows(FX)), claims_table(claim_rows(FX)), P,
        wz.capitation.per_capita_sweep([40_000, 60_000]), quality=FX["quality_bp"],
    )  # fmt: skip
    ax = wz.capitation.plot_scenarios(out)
    assert [round(b.get_height(), 2) for b in ax.patches] == [21.6, -182.0, 157.68, 139.2]
