"""docs/rules/capitation.md §6: every worked example, through the kernel and the reference twin."""

from __future__ import annotations

import pytest

import wzmedins as wz
from wzmedins.reference import capitation as ref

from .cap_fixtures import claim_rows, claims_table, fen, load, signing_rows, signings_table

FX = load()
P = wz.capitation.load_profile("wenzhou-2022")
MONEY = ("budget", "own", "outside", "charges", "surplus", "retained", "fund_shares", "community_bears", "settlement")


def test_example1_split():
    s = FX["split"]
    got = wz.capitation.split_budget(fen(s["total"]), fen(s["out_of_area"]), P)
    want = {k: fen(v) for k, v in s["expect"].items()}
    assert got == want
    assert list(got) == ["drg", "capitation", "other", "out_of_area"]
    assert ref.split_budget(fen(s["total"]), fen(s["out_of_area"]), P) == want


def test_weights():
    got = wz.capitation.weights(signings_table(signing_rows(FX)), P).column("weight_bp").to_pylist()
    assert got == [s["expect_weight_bp"] for s in FX["signings"]]
    assert [ref.weight(s, P) for s in signing_rows(FX)] == got


def test_example2_per_capita_from_pool():
    ex = FX["pool_example"]
    want = fen(ex["expect_per_capita"])
    assert wz.capitation.per_capita(fen(ex["pool"]), signings_table(signing_rows(FX)), P) == want
    assert ref.per_capita(fen(ex["pool"]), signing_rows(FX), P) == want


@pytest.mark.parametrize("k", range(len(FX["year_end"])), ids=lambda k: f"example{k + 3}")
def test_year_end(k):
    ex = FX["year_end"][k]
    a = fen(ex["per_capita"])
    res = wz.capitation.settle(
        signings_table(signing_rows(FX)),
        claims_table(claim_rows(FX)),
        P,
        per_capita=a,
        quality=FX["quality_bp"],
        year=FX["year"],
        claims_detail=True,
    )
    got = res.communities.to_pylist()
    for g, w in zip(got, ex["expect"], strict=True):
        assert g["community_id"] == w["community_id"]
        for col in MONEY:
            assert g[col] == fen(w[col]), (w["community_id"], col)
        assert g["fund_cost"] == g["charges"] + g["settlement"]
    kinds = {0: None, 1: "own", 2: "outside"}
    assert [kinds[x] for x in res.claims.column("kind").to_pylist()] == [c["expect"] for c in FX["claims"]]
    if "expect_person_budgets" in ex:
        budgets = dict(zip(res.persons["person_id"].to_pylist(), res.persons["budget"].to_pylist(), strict=True))
        assert budgets == {p: fen(v) for p, v in ex["expect_person_budgets"].items()}
    assert res.rejected.num_rows == 0
    assert res.summary["claims_not_signed"] == 1  # z
    assert res.summary["claims_visit_not_charged"] == 1  # a's inpatient stay
    assert res.summary["claims_outside_no_community"] == 2

    twin = ref.settle(signing_rows(FX), claim_rows(FX), P, per_capita=a, quality=FX["quality_bp"], year=FX["year"])
    for g, w in zip(twin["communities"], ex["expect"], strict=True):
        for col in MONEY:
            assert g[col] == fen(w[col]), (w["community_id"], col)
    assert twin["kinds"] == [c["expect"] for c in FX["claims"]]


def test_example3_from_the_pool_spends_it():
    """With a derived per-capita amount the budgets spend the pool up to rounding."""
    signings = signings_table(signing_rows(FX))
    res = wz.capitation.settle(signings, claims_table(claim_rows(FX)), P, pool=500_000, year=2022)
    assert res.per_capita == 76336
    assert abs(sum(res.communities["budget"].to_pylist()) - 500_000) <= len(FX["signings"])
