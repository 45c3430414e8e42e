"""A unit slip (wages in yuan where fen are expected) is warned about, not settled silently."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import wzmedins as wz
from wzmedins.errors import UnitWarning


def workers(wages):
    return pl.DataFrame({"person_id": [f"p{i}" for i in range(len(wages))], "year": [2022] * len(wages),
                         "county": ["ruian"] * len(wages), "category": ["in_service"] * len(wages),
                         "wage_prev": wages, "months": [12] * len(wages)})  # fmt: skip


def test_wages_in_yuan_warn():
    # 12 000 and 3 000 yuan a month given as if fen: every base would be clamped to the floor
    with pytest.warns(UnitWarning, match="wage_prev is fen"):
        out = wz.fund.employee_contributions(workers([12_000, 3_000]), "wenzhou-2022", social_avg_wage={2021: 700_000})
    assert out["base"].to_pylist() == [420_000, 420_000]  # still computed by the rule, as given


def test_wages_in_fen_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        out = wz.fund.employee_contributions(
            workers([1_200_000, 300_000]), "wenzhou-2022", social_avg_wage={2021: 700_000}
        )
    assert out["individual"].to_pylist() == [288_000, 100_800]
