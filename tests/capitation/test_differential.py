"""Kernel == reference twin on random signings, claims and profiles (hypothesis), and the
identities of docs/rules/capitation.md on every result."""

from __future__ import annotations

import warnings

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from wzmedins.capitation.settlement import MAX_PER_CAPITA_FEN
from wzmedins.reference import capitation as ref

from .strategies_cap import YEAR, claims, profiles, quality, signings

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SIGNING_SCHEMA = pa.schema(
    [("person_id", pa.string()), ("community_id", pa.string()), ("age_band", pa.string()),
     ("chronic", pa.bool_()), ("months", pa.int64()), ("year", pa.int64())]
)  # fmt: skip
CLAIM_SCHEMA = pa.schema(
    [("claim_id", pa.string()), ("person_id", pa.string()), ("visit_type", pa.string()),
     ("community_id", pa.string()), ("fund", pa.int64()), ("year", pa.int64()),
     ("settle_date", pa.date32()), ("reverses", pa.string())]
)  # fmt: skip
KIND = {0: None, 1: "own", 2: "outside"}


def run_both(s_rows, c_rows, p, *, per_capita=None, pool=None, q=None, through_month=None, dictionary=False):
    s_t = pa.Table.from_pylist(s_rows, schema=SIGNING_SCHEMA)
    c_t = pa.Table.from_pylist(c_rows, schema=CLAIM_SCHEMA)
    if dictionary:  # the synthetic and settled tables carry dictionary-encoded strings
        for name in ("community_id", "visit_type", "person_id"):
            i = c_t.schema.get_field_index(name)
            c_t = c_t.set_column(i, name, c_t.column(name).dictionary_encode())
    kwargs = {"per_capita": per_capita, "pool": pool, "quality": q, "year": YEAR, "claims_detail": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if through_month is None:
            res = wz.capitation.settle(s_t, c_t, p, **kwargs)
        else:
            res = wz.capitation.provisional(s_t, c_t, p, through_month=through_month, **kwargs)
    twin = ref.settle(
        s_rows, c_rows, p, per_capita=per_capita, pool=pool, quality=q, year=YEAR, through_month=through_month
    )
    return res, twin


def check(res, twin, c_rows):
    assert res.per_capita == twin["per_capita"]
    got = res.communities.to_pylist()
    assert got == twin["communities"]
    persons = res.persons.to_pylist()
    assert persons == [{k: r[k] for k in persons[0]} for r in twin["persons"]] if persons else twin["persons"] == []
    rejected = [(r["table"], r["row"], r["reason"]) for r in res.rejected.to_pylist()]
    assert rejected == twin["rejected"]
    kinds = [KIND[k] for k in res.claims.column("kind").to_pylist()]
    assert kinds == twin["kinds"]
    # identities: each claim charged at most once (one kind per row, charged rows accepted and
    # not repeated), charges add up, the fund's cost is charges + settlement
    rejected_claims = {r for t, r, _ in rejected if t == "claims"}
    assert not rejected_claims & {i for i, k in enumerate(kinds) if k}
    charged_ids = [c_rows[i]["claim_id"] for i, k in enumerate(kinds) if k]
    assert len(charged_ids) == len(set(charged_ids))
    assert sum(r["charges"] for r in got) == sum(r["charges"] for r in persons)
    assert sum(r["budget"] for r in got) == sum(r["budget"] for r in persons) or res.through_month
    own_fund = sum(c_rows[i]["fund"] for i, k in enumerate(kinds) if k == "own")
    assert sum(r["own"] for r in got) == own_fund
    for r in got:
        assert r["charges"] == r["own"] + r["outside"]
        assert r["fund_cost"] == r["charges"] + r["settlement"]
        assert r["surplus"] == r["budget"] - r["charges"]
        assert r["retained"] >= 0 and r["fund_shares"] >= 0 and r["community_bears"] >= 0
        if r["surplus"] < 0:
            assert r["fund_shares"] + r["community_bears"] == -r["surplus"]
            assert r["fund_cost"] == r["budget"] + r["fund_shares"]
    s = res.summary
    assert s["claims_own"] + s["claims_outside"] == sum(1 for k in kinds if k)
    assert (
        s["claims_rejected"] + s["claims_other_period"] + s["claims_not_signed"] + s["claims_visit_not_charged"]
        + s["claims_own"] + s["claims_outside"] == s["claims"]
    )  # fmt: skip


@SETTINGS
@given(signings(), claims(), profiles(), quality(), st.integers(0, 10**6), st.booleans())
def test_settle_matches_twin(s_rows, c_rows, p, q, a, dictionary):
    res, twin = run_both(s_rows, c_rows, p, per_capita=a, q=q, dictionary=dictionary)
    check(res, twin, c_rows)


def as_int(pid):
    return None if pid is None else (999 if pid == "zz" else int(pid[1:]))


@SETTINGS
@given(signings(), claims(), profiles(), st.integers(0, 10**6))
def test_integer_person_ids(s_rows, c_rows, p, a):
    s_rows = [dict(r, person_id=as_int(r["person_id"])) for r in s_rows]
    c_rows = [dict(r, person_id=as_int(r["person_id"])) for r in c_rows]
    s_t = pa.Table.from_pylist(s_rows, schema=SIGNING_SCHEMA.set(0, pa.field("person_id", pa.int64())))
    c_t = pa.Table.from_pylist(c_rows, schema=CLAIM_SCHEMA.set(1, pa.field("person_id", pa.int64())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = wz.capitation.settle(s_t, c_t, p, per_capita=a, year=YEAR)
    twin = ref.settle(s_rows, c_rows, p, per_capita=a, year=YEAR)
    assert res.communities.to_pylist() == twin["communities"]
    assert res.persons["person_id"].to_pylist() == [r["person_id"] for r in twin["persons"]]
    assert [(r["table"], r["row"], r["reason"]) for r in res.rejected.to_pylist()] == twin["rejected"]


@SETTINGS
@given(signings(), claims(), profiles(), st.integers(0, 10**9), st.integers(1, 12))
def test_pool_and_provisional_match_twin(s_rows, c_rows, p, pool, month):
    twin_signed, _, _, _ = ref.signed(s_rows, p, YEAR)
    total = sum(ref.weight(s, p) * s["months"] for _, s in twin_signed.values())
    if total == 0 or ref.per_capita(pool, s_rows, p, YEAR) > MAX_PER_CAPITA_FEN:
        with pytest.raises(wz.SchemaError):  # nothing to share the pool over, or far too much per head
            run_both(s_rows, c_rows, p, pool=pool, through_month=month)
        return
    res, twin = run_both(s_rows, c_rows, p, pool=pool, through_month=month)
    check(res, twin, c_rows)


@SETTINGS
@given(st.integers(0, 10**15), st.integers(0, 10**15), profiles())
def test_pools_add_up_to_the_budget(total, out_of_area, p):
    out_of_area = min(out_of_area, total)
    pools = wz.capitation.split_budget(total, out_of_area, p)
    assert sum(pools.values()) == total
    assert all(v >= 0 for v in pools.values())
    assert pools == ref.split_budget(total, out_of_area, p)
