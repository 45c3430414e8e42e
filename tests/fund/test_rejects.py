"""Bad input (issue item 6): a reason code on the row, nothing lost; a bad profile names the key."""

from __future__ import annotations

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.errors import PolicyError, SchemaError

FP = wz.fund.load_profile("wenzhou-2022")
A = {2021: 700_000}


def reasons(t: pa.Table) -> list:
    return t.column("reason").to_pylist()


def test_bad_worker_rows_come_back_with_reasons():
    workers = pa.table({
        "person_id": ["a", "b", "c", "d", "e", "e", "f", None, "g"],
        "year": [2022, 2022, 2022, 2022, 2022, 2022, 2022, 2022, 2023],
        "county": ["lucheng", "ruian", "atlantis", "ruian", "ruian", "ruian", "ruian", "ruian", "ruian"],
        "category": ["in_service", "in_service", "in_service", "pensioner", "in_service", "flexible", "retired",
                     "retired", "retired"],
        "wage_prev": [-100, 500_000, 500_000, 500_000, 500_000, 500_000, 0, 0, 0],
        "months": [12, 13, 12, 12, 8, 5, 0, 12, 12],
    })  # fmt: skip
    out = wz.fund.employee_contributions(workers, FP, social_avg_wage=A)
    assert out.num_rows == workers.num_rows
    assert reasons(out) == [
        "NEGATIVE_AMOUNT", "MONTH_OUT_OF_RANGE", "UNKNOWN_COUNTY", "UNKNOWN_CATEGORY", None,
        "DUPLICATE_ENROLMENT",  # 8 + 5 months in one year: enrolled twice
        "MONTH_OUT_OF_RANGE", "MISSING_VALUE",
        "VALUE_OUT_OF_RANGE",  # no social average wage for 2022
    ]  # fmt: skip
    assert out["individual"].to_pylist()[4] == 100_000 * 8 // 10  # rnd(500 000·0.02)·8 = 10 000·8
    assert out["individual"].null_count == 8


def test_a_county_with_no_base_year_standard():
    counties = pa.table({"county": ["ruian", "wencheng", "ruian", "mars"], "urban": [False] * 4,
                         "base_total": [112_000, None, 110_000, 1],
                         "base_individual": [38_000, None, 1, 1]})  # fmt: skip
    std = wz.fund.resident_standards(
        counties, FP, income_prev={2021: 6_070_000}, policy_amounts={2022: (135_000, 45_000)}
    )
    assert reasons(std) == [None, "NO_BASE_STANDARD", "DUPLICATE_ENROLMENT", "UNKNOWN_COUNTY"]
    residents = pa.table({"person_id": [1, 2, 1, 3, 4], "year": [2022] * 5,
                          "county": ["ruian", "wencheng", "ruian", "ruian", None],
                          "assistance": ["none", "none", "dibao", "millionaire", "none"]})  # fmt: skip
    out = wz.fund.resident_contributions(residents, std, FP)
    assert reasons(out) == [None, "NO_BASE_STANDARD", "DUPLICATE_ENROLMENT", "UNKNOWN_ASSISTANCE", "MISSING_VALUE"]


def test_employer_month_twice_and_negative_payroll():
    e = pa.table({"employer_id": ["E1", "E1", "E2"], "county": ["ruian"] * 3, "year": [2022] * 3,
                  "month": [3, 3, 3], "payroll": [100, 100, -1]})  # fmt: skip
    assert reasons(wz.fund.employer_contributions(e, FP)) == [None, "DUPLICATE_ENROLMENT", "NEGATIVE_AMOUNT"]


def test_year_end_leaves_out_rejected_counties():
    cy = pa.table({"county": ["ruian", "ruian", "nowhere"], "R": [100, 5, 5], "T": [100, 5, 5], "E": [50, 5, 5],
                   "B": [100, 5, 5]})  # fmt: skip
    res = wz.fund.year_end(cy, FP, balance=0, reserve=0)
    assert reasons(res.counties) == [None, "DUPLICATE_ENROLMENT", "UNKNOWN_COUNTY"]
    assert res.city["delta"].to_pylist() == [50]


def test_warning_bad_months():
    m = pa.table({"county": ["ruian", "ruian", None], "year": [2022] * 3, "month": [0, 1, 1], "revenue": [0, -5, 0],
                  "expenditure": [1, 1, 1]})  # fmt: skip
    assert reasons(wz.fund.warning(m, FP)) == ["MONTH_OUT_OF_RANGE", "NEGATIVE_AMOUNT", None]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"employer_rate_bp": 10_001}, "employer_rate_bp"),
        ({"individual_rate_bp": -1}, "individual_rate_bp"),
        ({"city_share_bp": 2.5}, "city_share_bp"),
        ({"transition_share_bp": {"2022": 20_000}}, "transition_share_bp.2022"),
        ({"assistance_pays_bp": {"none": 0}}, "assistance_pays_bp"),
        ({"subsidy_split_bp": {"default": [5000, 5000, 1]}}, "subsidy_split_bp.default"),
        ({"warning_bands": [60, 30, 150]}, "warning_bands"),
        ({"floor_bp": 40_000}, "floor_bp"),
    ],
)
def test_out_of_range_profile_values_name_the_key(change, key):
    with pytest.raises(PolicyError, match=rf"^{key}\b"):
        FP.with_changes(change)


def test_profile_file_errors(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('name = "x"\nvalid_from = 2022-01-01\nextends = "wenzhou-2022"\n[parameters]\n'
                 'reward_bp = { value = 99999, source = "ND" }\n')  # fmt: skip
    with pytest.raises(PolicyError, match="reward_bp"):
        wz.fund.load_profile(f)
    f.write_text('name = "x"\nvalid_from = 2022-01-01\nextends = "wenzhou-2022"\n[parameters]\n'
                 'reward_bp = { value = 500, source = "ours" }\n')  # fmt: skip
    p = wz.fund.load_profile(f)
    assert (p.reward_bp, p.sources["reward_bp"], p.sources["city_share_bp"][:3]) == (500, "ours", "ND:")
    with pytest.raises(PolicyError, match="no such built-in fund profile"):
        wz.fund.load_profile("hangzhou-2099")


def test_every_builtin_value_has_a_source_label():
    for key, source in FP.sources.items():
        assert source[:3] in ("FV:", "FZ:", "ND:"), key
    assert set(FP.sources) == set(FP.values)


def test_structural_errors_name_the_column():
    with pytest.raises(SchemaError, match="'months'"):
        no_months = pa.table({"person_id": ["a"], "year": [2022], "county": ["ruian"], "category": ["retired"],
                              "wage_prev": [0]})  # fmt: skip
        wz.fund.employee_contributions(no_months, FP, social_avg_wage=A)
    with pytest.raises(SchemaError, match="'wage_prev'"):
        wz.fund.employee_contributions(pa.table({"person_id": ["a"], "year": [2022], "county": ["ruian"],
                                                 "category": ["retired"], "wage_prev": ["x"], "months": [1]}), FP,
                                       social_avg_wage=A)  # fmt: skip
    with pytest.raises(PolicyError, match=r"social_avg_wage\[2021\]"):
        wz.fund.employee_contributions(pa.table({"person_id": ["a"]}), FP, social_avg_wage={2021: -1})
    with pytest.raises(PolicyError, match="income_prev"):
        wz.fund.resident_standards(pa.table({"county": ["ruian"], "urban": [True]}), FP, income_prev={},
                                   policy_amounts={2022: (1, 1)})  # fmt: skip
