"""Hostile and clumsy input (issue 9): each row is rejected with one stable reason, the same by
the kernel and the twin, and nothing raises a raw error. Expected reasons are worked from
docs/settlement.md "Rejected rows", not read off the code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

import wzmedins as wz

POLICY = wz.load_policy("wenzhou-2022")


def claims(**over) -> pa.Table:
    base = {
        "claim_id": ["c1", "c2"],
        "person_id": ["p1", "p2"],
        "settle_date": [dt.date(2022, 3, 1)] * 2,
        "scheme": ["resident"] * 2,
        "category": ["adult"] * 2,
        "visit_type": ["inpatient"] * 2,
        "facility_level": ["primary"] * 2,
        "total_cost": [100_000, 200_000],
    }
    base.update(over)
    return pa.table(base)


def reasons(table: pa.Table) -> dict[int, str]:
    """{row: reason} from the kernel, after checking the twin gives the same settled rows and reasons."""
    out = wz.settle(table, POLICY)
    twin = wz.reference.settle(table, POLICY)
    assert out.rejected.select(["row", "reason"]).to_pylist() == twin.rejected.select(["row", "reason"]).to_pylist()
    assert (
        out.settled.select(["claim_id", "fund", "cash"]).to_pylist()
        == twin.settled.select(["claim_id", "fund", "cash"]).to_pylist()
    )
    assert out.settled.num_rows + out.rejected.num_rows == table.num_rows
    return {r["row"]: r["reason"] for r in out.rejected.to_pylist()}


# ------------------------------------------------------------------ 7: NaN and infinities


@pytest.mark.parametrize("column", ["total_cost", "self_pay", "class_b_self_pay"])
def test_nan_is_not_a_number_even_next_to_a_null(column):
    # failed before: NaN was taken for a null (MISSING_VALUE for total_cost, 0 fen for the others)
    values = pa.array([float("nan"), None], pa.float64())
    got = reasons(claims(**{column: values}))
    assert got[0] == "NOT_A_NUMBER"
    assert got.get(1) == ("MISSING_VALUE" if column == "total_cost" else None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_have_one_reason(value):
    # failed before: "above 10^12 fen" (AMOUNT_TOO_LARGE)
    assert reasons(claims(total_cost=pa.array([value, 2000.0]))) == {0: "NOT_A_NUMBER"}


def test_nan_takes_precedence_over_every_other_reason():
    # an unknown scheme (listed before NOT_A_NUMBER) and a NaN on one row: NaN is what is wrong with the money
    t = claims(scheme=["navy", "resident"], self_pay=pa.array([float("nan"), 0.0]))
    assert reasons(t) == {0: "NOT_A_NUMBER"}


# ------------------------------------------------------------------ 11: empty, blank, NUL ids


@pytest.mark.parametrize("column", ["claim_id", "person_id"])
@pytest.mark.parametrize("bad", ["", "   ", "p\x00", "\t"])
def test_empty_blank_or_nul_ids_are_missing(column, bad):
    # failed before: settled as real identities
    values = [bad, "ok"]
    assert reasons(claims(**{column: values})) == {0: "MISSING_VALUE"}


def test_overlong_ids_are_out_of_range():
    long_id = "x" * (wz.tables.MAX_ID_BYTES + 1)
    assert reasons(claims(claim_id=[long_id, "ok"])) == {0: "VALUE_OUT_OF_RANGE"}
    assert reasons(claims(person_id=["ok", "é" * (wz.tables.MAX_ID_BYTES // 2 + 1)])) == {1: "VALUE_OUT_OF_RANGE"}
    assert reasons(claims(claim_id=["x" * wz.tables.MAX_ID_BYTES, "ok"])) == {}


# ------------------------------------------------------------------ 9: seq range


def test_extreme_seq_is_rejected_not_overflowed():
    # failed before: the sort key overflowed and kernel and twin ordered the claims differently
    t = claims(person_id=["p", "p"], seq=pa.array([2**62, -(2**62)], pa.int64()))
    assert reasons(t) == {0: "VALUE_OUT_OF_RANGE", 1: "VALUE_OUT_OF_RANGE"}
    ok = claims(person_id=["p", "p"], seq=pa.array([2**31 - 1, -(2**31)], pa.int64()))
    assert reasons(ok) == {}


# ------------------------------------------------------------------ 13: types and ranges that crashed


def test_all_null_columns_of_null_type():
    # polars writes an all-null column as Arrow `null`; failed before with ArrowTypeError / SchemaError
    t = claims(assistance=pa.nulls(2), area=pa.nulls(2), self_pay=pa.nulls(2), seq=pa.nulls(2), reverses=pa.nulls(2))
    assert reasons(t) == {}
    assert reasons(claims(total_cost=pa.nulls(2))) == {0: "MISSING_VALUE", 1: "MISSING_VALUE"}
    assert reasons(claims(scheme=pa.nulls(2))) == {0: "MISSING_VALUE", 1: "MISSING_VALUE"}


def test_uint64_and_huge_decimal_amounts():
    # failed before: ArrowInvalid "Integer value ... not in range"
    assert reasons(claims(total_cost=pa.array([2**63 + 5, 10], pa.uint64()))) == {0: "AMOUNT_TOO_LARGE"}
    assert reasons(claims(total_cost=pa.array([2**40, 10], pa.uint64()))) == {0: "AMOUNT_TOO_LARGE"}
    huge = pa.array([Decimal(10) ** 60, Decimal("12.5")], pa.decimal256(76, 1))
    assert reasons(claims(total_cost=huge)) == {0: "AMOUNT_TOO_LARGE"}
    assert reasons(claims(seq=pa.array([2**64 - 1, 0], pa.uint64()))) == {0: "VALUE_OUT_OF_RANGE"}


def test_uint64_ids_beyond_int64_name_the_column():
    with pytest.raises(wz.SchemaError, match="claim_id"):
        wz.settle(claims(claim_id=pa.array([2**64 - 1, 1], pa.uint64())), POLICY)


def test_dates_out_of_range():
    # failed before: OverflowError for a date before year 1; a claim dated in year 10183 opened state for it
    far = (dt.date(9999, 1, 1) - dt.date(1970, 1, 1)).days + 3_000_000 - 2_921_938
    t = claims(settle_date=pa.array([-800_000, 19_000], pa.date32()))
    assert reasons(t) == {0: "VALUE_OUT_OF_RANGE"}
    out = reasons(claims(settle_date=pa.array([3_000_000, far], pa.date32())))
    assert out == {0: "VALUE_OUT_OF_RANGE", 1: "VALUE_OUT_OF_RANGE"}
    edge = claims(settle_date=[dt.date(2199, 12, 31), dt.date(2022, 1, 1)])
    assert reasons(edge) == {}


def test_duplicate_column_names_are_a_schema_error():
    t = claims()
    twice = pa.Table.from_arrays([*t.columns, pa.array([1, 2])], names=[*t.column_names, "total_cost"])
    with pytest.raises(wz.SchemaError, match="total_cost.*one column of that name"):
        wz.settle(twice, POLICY)


# ------------------------------------------------------------------ 8: accounts of another id type


def test_accounts_with_another_id_type_are_refused():
    # failed before: int person ids in the accounts matched no string claimant, silently
    t = claims(scheme=["employee"] * 2, category=["in_service"] * 2, visit_type=["outpatient"] * 2)
    accounts = pa.table({"person_id": [1, 2], "year": [2022, 2022], "current_balance": [50_000, 0],
                         "hist_balance": [0, 0]})  # fmt: skip
    with pytest.raises(wz.SchemaError, match="person_id"):
        wz.settle(t, POLICY, accounts=accounts)
    state = wz.settle(claims(person_id=[1, 2]), POLICY).state
    with pytest.raises(wz.SchemaError, match="person_id"):
        wz.settle(t, POLICY, state=state)
