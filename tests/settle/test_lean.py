"""Settler.settle_rows (plain claims, no Arrow checks) against Settler.settle, to the fen.

Two stores see the same groups of random claims — ordinary ones and anything unusual
(unknown codes, negative or split-exceeding amounts, repeated ids, back-dated claims, dates
without a profile, non-ASCII ids): one settles each group with ``settle_rows`` (falling back to
``settle`` when it declines), the other with ``settle``. Results and stores must be equal.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wzmedins as wz
from tests.helpers import SCHEME_CATEGORIES, claims_schema
from wzmedins.settle.lean import SettledRows

POLICY = wz.load_policy("wenzhou-2022")
SCHEMA = claims_schema()

CATEGORY = SCHEME_CATEGORIES


@st.composite
def claim(draw, n: int):
    scheme = draw(st.sampled_from(["employee", "resident"]))
    unusual = draw(st.integers(0, 9)) == 0
    category = draw(st.sampled_from(CATEGORY[scheme] + (["adult", "nobody"] if unusual else [])))
    total = draw(st.integers(0, 3_000_000))
    own = draw(st.one_of(st.none(), st.integers(0, total)))
    b = draw(st.one_of(st.none(), st.integers(0, total - (own or 0))))
    if unusual:
        total = draw(st.sampled_from([total, -5, 10**13]))
        b = draw(st.sampled_from([b, total + 1]))
    day = dt.date(2022, 1, 1) + dt.timedelta(days=draw(st.integers(0, 400 if unusual else 360)))
    return {
        "claim_id": draw(st.sampled_from([f"c{n}", f"c{n}", f"c{n}", "c0", "ç1" if unusual else f"c{n}"])),
        "person_id": draw(st.sampled_from(["p1", "p2", "p3", "p4", "p5", " " if unusual else "p6"])),
        "settle_date": day if not unusual or draw(st.booleans()) else dt.date(1990, 1, 1),
        "seq": draw(st.one_of(st.none(), st.integers(-3, 3))),
        "scheme": scheme,
        "category": category,
        "visit_type": draw(st.sampled_from(["outpatient", "chronic", "special", "inpatient"])),
        "facility_level": draw(st.sampled_from(["primary", "secondary", "tertiary"] + (["x"] if unusual else []))),
        "area": draw(st.sampled_from([None, "local", "province", "national_registered", "national_unregistered"])),
        "assistance": draw(st.sampled_from([None, "none", "tekun", "dibao", "dibian", "zhichu"])),
        "total_cost": total,
        "self_pay": own,
        "class_b_self_pay": b,
    }


@st.composite
def groups(draw):
    out, n = [], 1
    for _ in range(draw(st.integers(1, 6))):
        size = draw(st.integers(1, 4))
        out.append([draw(claim(n + i)) for i in range(size)])
        n += size
    return out


def _same(a: SettledRows, b: SettledRows) -> None:
    assert a.settled == b.settled
    assert a.rejected == b.rejected
    assert sorted(a.state, key=lambda r: (r["person_id"], r["year"])) == sorted(
        b.state, key=lambda r: (r["person_id"], r["year"])
    )
    assert a.settled_schema.remove_metadata() == b.settled_schema.remove_metadata()


@given(groups(), st.booleans())
def test_settle_rows_equals_settle(batches, remember):
    lean = wz.Settler(POLICY, remember_claims=remember, threads=1)
    full = wz.Settler(POLICY, remember_claims=remember, threads=1)
    for group in batches:
        got = lean.settle_rows(group)
        if got is None:
            got = SettledRows.of(lean.settle(pa.Table.from_pylist(group, SCHEMA)))
        _same(got, SettledRows.of(full.settle(pa.Table.from_pylist(group, SCHEMA))))
    assert lean.state().to_pylist() == full.state().to_pylist()


def one_claim(visit_type: str) -> dict:
    """A resident adult's 2 000-yuan claim at a primary facility on 2022-03-02."""
    return {"claim_id": "a", "person_id": "p", "settle_date": dt.date(2022, 3, 2), "scheme": "resident",
            "category": "adult", "visit_type": visit_type, "facility_level": "primary",
            "total_cost": 200_000}  # fmt: skip


def test_lean_path_taken_and_declined():
    settler = wz.Settler(POLICY, threads=1)
    base = one_claim("inpatient")
    got = settler.settle_rows([base])
    # as in the Ledger's example (a resident adult, inpatient, primary hospital): 300 yuan
    # deductible, the fund pays 1 360 yuan of 2 000
    assert got is not None and got.rejected == []
    assert (got.settled[0]["deductible"], got.settled[0]["fund"]) == (30_000, 136_000)
    assert settler.settle_rows([{**base, "claim_id": "b", "settle_date": dt.date(2022, 3, 1)}]) is None  # back-dated
    assert settler.settle_rows([{**base, "claim_id": "a"}]) is None  # settled before
    assert settler.settle_rows([{**base, "claim_id": "c", "reverses": "a"}]) is None  # a reversal
    assert settler.settle_rows([{**base, "claim_id": "d"}], known_claim_ids={"d"}) is None
    assert settler.settle_rows([{**base, "claim_id": "e", "total_cost": 1.5}]) is None  # not int fen
    assert settler.settle_rows([{**base, "claim_id": "f", "settle_date": dt.date(1990, 1, 1)}]) is None  # no profile


@pytest.mark.parametrize("bad", [{"claim_id": ""}, {"person_id": "p\x00"}, {"category": "retired"},
                                 {"self_pay": 150_000, "class_b_self_pay": 60_000}, {"seq": True}])  # fmt: skip
def test_declines_leave_store_unchanged(bad):
    settler = wz.Settler(POLICY, threads=1)
    base = one_claim("outpatient")
    assert settler.settle_rows([{**base, **bad}]) is None
    assert settler.state().num_rows == 0
