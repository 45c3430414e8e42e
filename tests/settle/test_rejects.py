"""Bad rows are rejected with a stable reason and change nothing; structural problems raise."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.reasons import REASONS

POLICY = wz.load_policy("wenzhou-2022")
GOOD = {
    "claim_id": "ok", "person_id": "p1", "settle_date": dt.date(2022, 3, 1), "seq": 0,
    "scheme": "resident", "category": "adult", "visit_type": "inpatient",
    "facility_level": "tertiary", "area": "local", "assistance": "none",
    "total_cost": 5_000_000, "self_pay": 0, "class_b_self_pay": 0,
}  # fmt: skip

BAD_ROWS = [
    ("MISSING_VALUE", {"person_id": None}),
    ("MISSING_VALUE", {"total_cost": None}),
    ("MISSING_VALUE", {"scheme": None}),
    ("NEGATIVE_AMOUNT", {"self_pay": -1}),
    ("SPLIT_EXCEEDS_TOTAL", {"self_pay": 4_000_000, "class_b_self_pay": 1_000_001}),
    ("AMOUNT_TOO_LARGE", {"total_cost": 10**12 + 1}),
    ("UNKNOWN_SCHEME", {"scheme": "military"}),
    ("UNKNOWN_CATEGORY", {"category": "astronaut"}),
    ("UNKNOWN_CATEGORY", {"category": "retired"}),  # an employee category under resident
    ("UNKNOWN_VISIT_TYPE", {"visit_type": "dental"}),
    ("UNKNOWN_FACILITY_LEVEL", {"facility_level": "quaternary"}),
    ("UNKNOWN_AREA", {"area": "abroad"}),
    ("UNKNOWN_ASSISTANCE", {"assistance": "rich"}),
    ("POLICY_NOT_IN_FORCE", {"settle_date": dt.date(2021, 12, 31)}),
    ("DUPLICATE_CLAIM_ID", {"claim_id": "ok"}),
]


def batch(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist([{**GOOD, **r} for r in rows])


@pytest.mark.parametrize(("reason", "change"), BAD_ROWS, ids=[f"{r}-{sorted(c)[0]}" for r, c in BAD_ROWS])
@pytest.mark.parametrize("engine", [wz.settle, wz.reference.settle], ids=["kernel", "reference"])
def test_each_reason(reason, change, engine):
    claims = batch({}, {"claim_id": "bad", **change})
    out = engine(claims, POLICY)
    assert out.rejected.to_pylist()[0]["reason"] == reason
    assert out.rejected["row"].to_pylist() == [1]
    assert out.settled["claim_id"].to_pylist() == ["ok"]
    assert out.settled["fund"].to_pylist() == [3_444_000]  # the bad row changed no state
    assert out.settled.num_rows + out.rejected.num_rows == claims.num_rows


def test_amount_not_in_fen_from_float_yuan():
    claims = batch({}, {"claim_id": "bad"}).set_column(10, "total_cost", pa.array([50_000.0, 100.005]))
    out = wz.settle(claims, POLICY)
    assert out.rejected.select(["row", "reason"]).to_pylist() == [{"row": 1, "reason": "AMOUNT_NOT_IN_FEN"}]
    assert out.settled["eligible"].to_pylist() == [5_000_000]


def test_duplicate_of_an_earlier_batch():
    out = wz.settle(batch({}), POLICY, known_claim_ids=pa.array(["ok"]))
    assert out.rejected["reason"].to_pylist() == ["DUPLICATE_CLAIM_ID"]


def test_first_applicable_reason_wins_and_every_row_is_kept():
    claims = batch(
        {"claim_id": "a", "scheme": "military", "total_cost": -1},  # NEGATIVE_AMOUNT is listed first
        {"claim_id": "b", "visit_type": None, "area": "abroad"},
        {"claim_id": "c"},
        {"claim_id": "c", "total_cost": 7},
    )
    out = wz.settle(claims, POLICY)
    assert out.rejected.select(["row", "claim_id", "reason"]).to_pylist() == [
        {"row": 0, "claim_id": "a", "reason": "NEGATIVE_AMOUNT"},
        {"row": 1, "claim_id": "b", "reason": "MISSING_VALUE"},
        {"row": 3, "claim_id": "c", "reason": "DUPLICATE_CLAIM_ID"},
    ]
    assert all(m for m in out.rejected["message"].to_pylist())
    assert out.settled["claim_id"].to_pylist() == ["c"]


def test_reason_codes_are_stable():
    """Codes are appended, never renumbered: stored rejects must keep their meaning."""
    assert REASONS[:16] == (
        "MISSING_VALUE", "NEGATIVE_AMOUNT", "SPLIT_EXCEEDS_TOTAL", "AMOUNT_NOT_IN_FEN",
        "AMOUNT_TOO_LARGE", "UNKNOWN_SCHEME", "UNKNOWN_CATEGORY", "UNKNOWN_VISIT_TYPE",
        "UNKNOWN_FACILITY_LEVEL", "UNKNOWN_AREA", "UNKNOWN_ASSISTANCE", "DUPLICATE_CLAIM_ID",
        "POLICY_NOT_IN_FORCE", "UNKNOWN_ORIGINAL", "ALREADY_REVERSED", "REVERSAL_PERSON_MISMATCH",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("drop_or_change", "column", "expected"),
    [
        ("drop", "total_cost", "no such column"),
        ("drop", "settle_date", "no such column"),
        ("drop", "scheme", "no such column"),
        ("string", "total_cost", "int64 fen"),
        ("string", "settle_date", "date32"),
        ("float", "claim_id", "string or int64"),
    ],
)
def test_structural_errors_name_the_column(drop_or_change, column, expected):
    claims = batch({})
    if drop_or_change == "drop":
        claims = claims.drop_columns([column])
    else:
        i = claims.schema.get_field_index(column)
        kind = pa.string() if drop_or_change == "string" else pa.float64()
        claims = claims.set_column(i, column, pa.array(["1"] if kind == pa.string() else [1.5], kind))
    with pytest.raises(wz.SchemaError, match=f"column '{column}'.*{expected}"):
        wz.settle(claims, POLICY)


def test_decimal_with_too_many_places_is_structural():
    claims = batch({}).set_column(10, "total_cost", pa.array([1], pa.decimal128(10, 3)))
    with pytest.raises(wz.SchemaError, match="column 'total_cost'"):
        wz.settle(claims, POLICY)


def test_messages_name_the_column_and_value():
    claims = batch(
        {"claim_id": "a", "total_cost": None},
        {"claim_id": "b", "area": "abroad"},
        {"claim_id": "c", "category": "retired"},
    )
    assert wz.settle(claims, POLICY).rejected["message"].to_pylist() == [
        "null in required column 'total_cost'",
        "area 'abroad' is not one of local, province, national_registered, national_unregistered",
        "category 'retired' is not a category of scheme 'resident'",
    ]
