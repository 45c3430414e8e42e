"""explain(): one case of docs/rules/drg.md §6, every number worked by hand."""

from __future__ import annotations

import pytest

import wzmedins.drg as drg
from wzmedins.errors import SchemaError

from .drg_fixtures import cases_table, catalog_table, coefficient_table, load

CASES = load("section6_cases.json")
ARGS = (cases_table(CASES["cases"]), catalog_table(CASES["catalog"]), coefficient_table(CASES["coefficients"]))


def test_case_15_high_at_a_coefficient_below_one():
    e = drg.explain("15", *ARGS)
    assert (e.case_type, e.coefficient, e.coefficient_source, e.base_points) == ("high", 9_000, "table", 1_200_000)
    assert (e.reference_cost, e.standard_cost, e.high_multiple) == (1_035_055, 1_117_859, 20_000)
    # low below ⌈0.4·S⌉, partial up to ⌊0.8·S⌋, high above ⌊2·S⌋ (fen)
    assert (e.low_threshold, e.partial_threshold, e.high_threshold) == (447_144, 894_287, 2_235_718)
    assert (e.points_before_readmission, e.readmission, e.bonus_points, e.points) == (2_784_530, False, 0, 2_784_530)
    assert "high above           22357.18 yuan (H = 2.0000)" in str(e)


def test_case_11_halved_by_case_12_and_case_14_bonus():
    e = drg.explain("11", *ARGS)
    assert (e.points_before_readmission, e.readmission, e.readmitted_by, e.points) == (1_000_000, True, "12", 500_000)
    assert e.coefficient_source == "default" and "halved: stay 12" in str(e)
    b = drg.explain("14", *ARGS)
    assert (b.points_before_readmission, b.bonus_points, b.points) == (1_000_000, 50_000, 1_050_000)
    assert "高倍率" in "\n".join(drg.explain("2", *ARGS).lines(labels="zh"))


def test_unknown_case_is_named():
    with pytest.raises(SchemaError, match="'99'"):
        drg.explain("99", *ARGS)
