"""polars Categorical and Enum columns (Arrow dictionaries with unsigned indices) are read as
their values: this crashed with OverflowError before (the year pipeline hit it)."""

from __future__ import annotations

import polars as pl
import pytest

import wzmedins as wz


@pytest.mark.parametrize("kind", [pl.Categorical, pl.Enum(["K1", "K2"])])
def test_categorical_and_enum_columns(kind):
    signings = pl.DataFrame(
        {"person_id": ["a", "b"], "community_id": ["K1", "K2"], "age_band": ["60-79", "18-59"],
         "chronic": [True, False], "months": [12, 12]}
    ).with_columns(pl.col("community_id").cast(kind))  # fmt: skip
    claims = pl.DataFrame({"person_id": ["a", "b"], "year": [2022, 2022], "visit_type": ["outpatient"] * 2,
                           "community_id": ["K1", None], "fund": [1_000, 2_000]}).with_columns(
        pl.col("community_id").cast(kind), pl.col("visit_type").cast(pl.Categorical))  # fmt: skip
    res = wz.capitation.settle(signings, claims, "wenzhou-2022", per_capita=60_000)
    # a's claim at its own K1; b's claim at no community is outside, charged in full
    assert res.communities.select(["community_id", "own", "outside"]).to_pylist() == [
        {"community_id": "K1", "own": 1_000, "outside": 0},
        {"community_id": "K2", "own": 0, "outside": 2_000},
    ]


def test_fund_reads_categorical_counties():
    workers = pl.DataFrame({"person_id": ["a"], "year": [2022], "county": ["ruian"], "category": ["in_service"],
                            "wage_prev": [1_200_000], "months": [12]}).with_columns(
        pl.col("county", "category").cast(pl.Categorical))  # fmt: skip
    out = wz.fund.employee_contributions(workers, "wenzhou-2022", social_avg_wage={2021: 700_000})
    assert out["individual"].to_pylist() == [288_000]  # 2 % of 12 000 yuan, 12 months
