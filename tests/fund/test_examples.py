"""Every worked example of docs/rules/fund.md §8, through the library and through the twin."""

from __future__ import annotations

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.reference import fund as twin

from .fund_fixtures import example, fen

FP = wz.fund.load_profile("wenzhou-2022")
BOTH = pytest.mark.parametrize("impl", [wz.fund, twin], ids=["library", "twin"])


def pick(table: pa.Table, expected: list[dict]) -> list[dict]:
    return [{k: row[k] for k in want} for row, want in zip(table.to_pylist(), expected, strict=True)]


@BOTH
def test_example_1_contributions(impl):
    ex = example(1)
    wages = {int(y): fen(a) for y, a in ex["social_avg_wage"].items()}
    out = impl.employee_contributions(pa.Table.from_pylist(ex["workers"]), FP, social_avg_wage=wages)
    assert pick(out, ex["expected_workers"]) == ex["expected_workers"]
    assert out.column("reason").null_count == out.num_rows
    er = impl.employer_contributions(pa.Table.from_pylist(ex["employers"]), FP)
    assert pick(er, ex["expected_employers"]) == ex["expected_employers"]


@BOTH
def test_example_2_standards_and_residents(impl):
    ex = example(2)
    income = {int(y): fen(v) for y, v in ex["income_prev"].items()}
    amounts = {int(y): (fen(f), fen(i)) for y, (f, i) in ex["policy_amounts"].items()}
    assert wz.fund.city_standard(FP, income_prev=income[2021], policy_total=amounts[2022][0],
                                 policy_individual=amounts[2022][1]) == (fen(ex["city"]["total"]),
                                                                         fen(ex["city"]["individual"]))  # fmt: skip
    counties = pa.Table.from_pylist(ex["counties"], schema=pa.schema(
        [("county", pa.string()), ("urban", pa.bool_()), ("base_total", pa.int64()), ("base_individual", pa.int64())]
    ))  # fmt: skip
    std = impl.resident_standards(counties, FP, income_prev=income, policy_amounts=amounts)
    assert pick(std, ex["expected_standards"]) == ex["expected_standards"]
    out = impl.resident_contributions(pa.Table.from_pylist(ex["residents"]), std, FP)
    assert pick(out, ex["expected_residents"]) == ex["expected_residents"]
    row = out.to_pylist()[0]
    assert row["subsidy_province"] + row["subsidy_city"] + row["subsidy_county"] == row["subsidy"]
    assert row["subsidy_province"] == 49834  # taishun: 60 % of 830.57 yuan, half up


@BOTH
def test_example_3_legacy(impl):
    ex = example(3)
    out = impl.legacy(pa.Table.from_pylist(ex["balances"]), FP)
    assert pick(out, ex["expected"]) == ex["expected"]


@BOTH
@pytest.mark.parametrize("k", [4, 5, 6])
def test_examples_4_to_6_year_end(impl, k):
    ex = example(k)
    res = impl.year_end(pa.Table.from_pylist(ex["counties"]), FP, balance=ex["balance"], reserve=ex["reserve"])
    assert pick(res.counties, ex["expected_counties"]) == ex["expected_counties"]
    city = res.city.to_pylist()[0]
    assert {key: city[key] for key in ex["expected_city"]} == ex["expected_city"]


@BOTH
def test_example_7_warning(impl):
    ex = example(7)
    rows = []
    for s, series in enumerate(ex["series"]):
        county = wz.fund.load_profile("wenzhou-2022").counties[s]
        for m, spent in enumerate(series["expenditures"], start=1):
            rows.append({"county": county, "year": 2022, "month": m, "revenue": 0, "expenditure": fen(spent),
                         "balance": series["balance"]})  # fmt: skip
    out = impl.warning(pa.Table.from_pylist(rows), FP).to_pylist()
    for s, series in enumerate(ex["series"]):
        last = out[12 * s + 11]
        assert (last["months_e1"], last["level"]) == (series["months_e1"], series["level"])


def test_example_7_no_expenditure_is_blue():
    t = pa.table({"county": [None], "year": [2022], "month": [1], "revenue": [0], "expenditure": [0], "balance": [5]})
    for impl in (wz.fund, twin):
        row = impl.warning(t, FP).to_pylist()[0]
        assert (row["months_e1"], row["level"]) == (None, "blue")
