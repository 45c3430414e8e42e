"""Bad input: rows rejected with stable reason codes, nothing lost; structural problems raise."""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.reference import capitation as ref

P = wz.capitation.load_profile("wenzhou-2022")


def signings(rows):
    return pa.Table.from_pylist(rows)


def claim(person, fund, community="K1", visit="outpatient", **kw):
    ids = {"claim_id": kw.pop("claim_id", None), "reverses": kw.pop("reverses", None)}
    return {**ids, "person_id": person, "visit_type": visit, "community_id": community, "fund": fund, "year": 2022}


S = [
    {"person_id": "a", "community_id": "K1", "age_band": "18-59", "months": 12},
    {"person_id": "a", "community_id": "K2", "age_band": "18-59", "months": 12},  # signed twice
    {"person_id": "b", "community_id": "K1", "age_band": "90-99", "months": 12},  # unknown band
    {"person_id": "c", "community_id": "K1", "age_band": "18-59", "months": 13},  # month out of range
    {"person_id": "d", "community_id": "K2", "age_band": "18-59", "months": 0},
    {"person_id": None, "community_id": "K2", "age_band": "18-59", "months": 5},
    {"person_id": "e", "community_id": None, "age_band": "18-59", "months": 5},
]


def test_signings_rejected_with_reasons_and_the_first_signing_kept():
    c = [claim("a", 10_000, "K1", claim_id="x1"), claim("b", 5_000, claim_id="x2")]
    res = wz.capitation.settle(signings(S), pa.Table.from_pylist(c), P, per_capita=60_000, year=2022)
    got = [(r["table"], r["row"], r["id"], r["reason"]) for r in res.rejected.to_pylist()]
    assert got == [
        ("signings", 1, "a", "DUPLICATE_SIGNING"),
        ("signings", 2, "b", "UNKNOWN_AGE_BAND"),
        ("signings", 3, "c", "MONTH_OUT_OF_RANGE"),
        ("signings", 4, "d", "MONTH_OUT_OF_RANGE"),
        ("signings", 5, None, "MISSING_VALUE"),
        ("signings", 6, "e", "MISSING_VALUE"),
    ]
    assert res.persons.column("person_id").to_pylist() == ["a"]
    assert res.persons.column("community_id").to_pylist() == ["K1"]  # the first row is used
    assert res.summary["signings"] == res.summary["signings_used"] + res.summary["signings_rejected"]
    assert res.summary["claims_own"] == 1 and res.summary["claims_not_signed"] == 1  # b's signing was rejected
    twin = ref.settle(S, c, P, per_capita=60_000, year=2022)
    assert [(t, r, why) for t, r, _, why in got] == twin["rejected"]


def test_claims_rejected_with_reasons():
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = [
        claim("a", 10_000, claim_id="x1"),
        claim("a", 10_000, claim_id="x1"),  # the same claim again: charged once
        claim("a", -500, claim_id="x3"),  # negative and not a reversal
        claim("a", 500, visit="dental", claim_id="x4"),
        claim(None, 500, claim_id="x5"),
        claim("a", None, claim_id="x6"),
        claim("a", -10_000, community=None, claim_id="x7", reverses="x1"),  # a reversal: K1's, like x1
    ]
    res = wz.capitation.settle(signings(s), pa.Table.from_pylist(c), P, per_capita=60_000, year=2022)
    got = [(r["row"], r["reason"]) for r in res.rejected.to_pylist()]
    assert got == [(1, "DUPLICATE_CLAIM_ID"), (2, "NEGATIVE_AMOUNT"), (3, "UNKNOWN_VISIT_TYPE"),
                   (4, "MISSING_VALUE"), (5, "MISSING_VALUE")]  # fmt: skip
    k1 = res.communities.to_pylist()[0]
    assert (k1["own"], k1["outside"]) == (0, 0)  # x1 charged once and reversed in full
    assert res.summary["claims_own"] == 2 and res.summary["claims_outside_no_community"] == 0
    twin = ref.settle(s, c, P, per_capita=60_000, year=2022)
    assert [(r, why) for _, r, why in twin["rejected"]] == got


def test_outside_charge_of_a_reversal_gives_back_exactly():
    p = P.with_changes(outside_charge_bp=5_000)
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = [claim("a", 101, community=None, claim_id="x1"), claim("a", -101, community=None, claim_id="x2", reverses="x1")]
    res = wz.capitation.settle(signings(s), pa.Table.from_pylist(c), p, per_capita=60_000, year=2022)
    assert res.persons.column("outside").to_pylist() == [0]  # +51 then −51 (50.5 rounds half up)


def test_claims_without_community_column_count_as_outside_and_warn():
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = pa.table({"person_id": ["a", "a"], "visit_type": ["outpatient"] * 2, "fund": [100, 200], "year": [2022] * 2})
    res = wz.capitation.settle(signings(s), c, P, per_capita=60_000)
    assert res.summary["claims_outside"] == 2 and res.summary["claims_outside_no_community"] == 2
    assert res.communities.column("outside").to_pylist() == [300]


def test_slips_warn():
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = pa.table({"person_id": ["WZ1"], "visit_type": ["outpatient"], "fund": [100], "year": [2022],
                  "community_id": ["k-1"]})  # fmt: skip
    with pytest.warns(UserWarning, match="person_id matches"):
        wz.capitation.settle(signings(s), c.set_column(4, "community_id", pa.array(["K1"])), P, per_capita=60_000)
    c2 = c.set_column(0, "person_id", pa.array(["a"]))
    with pytest.warns(UserWarning, match="community_id matches"):
        wz.capitation.settle(signings(s), c2, P, per_capita=60_000)
    with pytest.warns(UserWarning, match="amounts are in fen"):
        wz.capitation.settle(signings(s), c2.drop(["community_id"]), P, per_capita=600)
    with pytest.warns(UserWarning, match="no signings: K9"):
        wz.capitation.settle(signings(s), c2.drop(["community_id"]), P, per_capita=60_000, quality={"K9": 9000})


@pytest.mark.parametrize("q", [10_001, -1, 0.9, True])
def test_quality_out_of_range_is_an_error(q):
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [100], "year": [2022]})
    with pytest.raises(wz.SchemaError, match="quality"):
        wz.capitation.settle(signings(s), c, P, per_capita=60_000, quality={"K1": q})


def test_quality_as_a_table():
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [100], "year": [2022]})
    q = pa.table({"community_id": ["K1"], "quality_bp": [5_000]})
    res = wz.capitation.settle(signings(s), c, P, per_capita=60_000, quality=q)
    # budget 480, surplus 479, counted 48, retained 48 · 0.8 · 0.5 = 19.20
    assert res.communities.column("retained").to_pylist() == [1920]


@pytest.mark.parametrize(
    "kwargs, column",
    [({}, "per_capita"), ({"per_capita": 1, "pool": 1}, "per_capita"), ({"per_capita": 10**10}, "per_capita"),
     ({"per_capita": 60_000, "year": None}, None)],
)  # fmt: skip
def test_amount_errors(kwargs, column):
    s = [{"person_id": "a", "community_id": "K1", "age_band": "18-59"}]
    c = pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [100], "year": [2022]})
    if column is None:
        assert wz.capitation.settle(signings(s), c, P, **kwargs).year == 2022
        return
    with pytest.raises(wz.SchemaError, match=column):
        wz.capitation.settle(signings(s), c, P, **kwargs)


def test_structural_errors_name_the_column():
    s = pa.table({"person_id": ["a"], "community_id": ["K1"], "age_band": ["18-59"]})
    with pytest.raises(wz.SchemaError, match="'fund'"):
        wz.capitation.settle(s, pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "year": [2022]}),
                             P, per_capita=1)  # fmt: skip
    with pytest.raises(wz.SchemaError, match="'age_band'"):
        wz.capitation.settle(s.drop(["age_band"]), pa.table({"person_id": ["a"], "visit_type": ["outpatient"],
                             "year": [2022], "fund": [1]}), P, per_capita=1)  # fmt: skip
    with pytest.raises(wz.SchemaError, match="'months'"):
        wz.capitation.settle(s.append_column("months", pa.array(["12"])), pa.table({"person_id": ["a"],
                             "visit_type": ["outpatient"], "year": [2022], "fund": [1]}), P, per_capita=1)  # fmt: skip
    with pytest.raises(wz.SchemaError, match="'year'"):
        wz.capitation.settle(s, pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [1]}),
                             P, per_capita=1)  # fmt: skip
    with pytest.raises(wz.SchemaError, match="'settle_date'"):
        wz.capitation.provisional(s, pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [1],
                                  "year": [2022]}), P, per_capita=1, through_month=3)  # fmt: skip
    with pytest.raises(wz.SchemaError, match="through_month"):
        c = pa.table(
            {"person_id": ["a"], "visit_type": ["outpatient"], "fund": [1], "settle_date": [dt.date(2022, 1, 1)]}
        )
        wz.capitation.provisional(s, c, P, per_capita=1, through_month=13)


def test_several_signing_years_need_a_year():
    s = pa.table({"person_id": ["a", "a"], "community_id": ["K1", "K2"], "age_band": ["18-59"] * 2,
                  "year": [2021, 2022]})  # fmt: skip
    c = pa.table({"person_id": ["a"], "visit_type": ["outpatient"], "fund": [100], "year": [2021]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = wz.capitation.settle(s, c, P, per_capita=60_000)  # the claims' year
    assert res.year == 2021 and res.persons.column("community_id").to_pylist() == ["K1"]
    assert res.summary["signings_other_year"] == 1
    with pytest.raises(wz.SchemaError, match="year"):
        wz.capitation.per_capita(100_000, s, P)
