"""Hypothesis strategies: random policies (what-ifs of the built-in profile) and claims."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import strategies as st

import wzmedins as wz
from wzmedins.vocab import AREAS, ASSISTANCE, FACILITY_LEVELS, SCHEME_CATEGORIES, SCHEMES, VISIT_TYPES

BASE = wz.load_policy("wenzhou-2022")
GROUPS = ("employee_in_service", "employee_retired", "resident")
bp = st.integers(0, 10_000)
fen = st.one_of(st.integers(0, 2_000), st.integers(0, 50_000_000))
cap = st.one_of(st.integers(0, 500_000), st.integers(0, 10**10), st.just("none"))
subset = lambda vocab: st.lists(st.sampled_from(vocab), unique=True)  # noqa: E731


@st.composite
def bands(draw):
    n = draw(st.integers(1, 4))
    uppers = sorted(draw(st.lists(st.integers(1, 30_000_000), min_size=n - 1, max_size=n - 1, unique=True)))
    ratios = draw(st.lists(bp, min_size=n, max_size=n))
    return [{"upper": u, "ratio": r} for u, r in zip(uppers, ratios, strict=False)] + [{"ratio": ratios[-1]}]


@st.composite
def policies(draw):
    """A random what-if of wenzhou-2022: every kind of parameter may move."""
    per_level = st.lists(bp, min_size=3, max_size=3)
    changes = {
        **{f"ratio_outpatient.{g}": draw(per_level) for g in GROUPS},
        **{f"ratio_inpatient.{g}": draw(per_level) for g in GROUPS},
        "chronic_bonus": draw(st.integers(-3_000, 3_000)),
        "area_adjust": {a: draw(st.integers(-10_000, 10_000)) for a in AREAS},
        **{f"deductible_outpatient.{g}": draw(fen) for g in GROUPS},
        **{f"deductible_inpatient.{g}": draw(st.lists(fen, min_size=3, max_size=3)) for g in GROUPS},
        "inpatient_deductible": {
            "mode": draw(st.sampled_from(["annual_highest_level", "per_admission"])),
            "per_admission_factors": draw(st.lists(bp, min_size=1, max_size=4)),
        },
        "fund_cap": {s: draw(st.one_of(st.integers(0, 300_000), st.integers(0, 10**11))) for s in SCHEMES},
        "account": {
            "schemes": draw(subset(SCHEMES)),
            "current_first": draw(subset(VISIT_TYPES)),
            "hist_pays": draw(st.booleans()),
            "hist_covers_self_pay": draw(st.booleans()),
        },
        "critical_illness": {
            "schemes": draw(subset(SCHEMES)),
            "visit_types": draw(subset(VISIT_TYPES)),
            "compliant_includes_class_b": draw(st.booleans()),
            "deductible": draw(fen),
            "bands": draw(bands()),
            "cap": draw(cap),
            "poor": draw(subset(ASSISTANCE[1:])),
            "poor_deductible_factor": draw(bp),
            "poor_ratio_bonus": draw(bp),
            "poor_uncapped": draw(st.booleans()),
        },
        "medical_assistance": {
            "visit_types": draw(subset(VISIT_TYPES)),
            **{a: {"ratio": draw(bp), "deductible": draw(fen), "cap": draw(cap)} for a in ASSISTANCE[1:]},
        },
    }
    return BASE.with_changes(changes)


CATEGORY_PAIRS = [(s, c) for s in SCHEMES for c in SCHEME_CATEGORIES[s]]


@st.composite
def claims(draw, *, max_rows=40, persons=6, reversals=False, bad=False):
    """A random batch; with ``bad`` some rows carry row errors; with ``reversals`` some rows
    reverse earlier ones."""
    n = draw(st.integers(0, max_rows))
    rows = []
    person_pool = [f"p{i}" for i in range(draw(st.integers(1, persons)))]
    attrs = {p: draw(st.sampled_from(CATEGORY_PAIRS)) for p in person_pool}
    for i in range(n):
        person = draw(st.sampled_from(person_pool))
        scheme, category = attrs[person]
        total = draw(st.one_of(st.integers(0, 300_000), st.integers(0, 10**9)))
        self_pay = draw(st.integers(0, total))
        class_b = draw(st.integers(0, total - self_pay))
        row = {
            "claim_id": f"c{i}",
            "person_id": person,
            "settle_date": dt.date(2022, 1, 1) + dt.timedelta(days=draw(st.integers(0, 729))),
            "seq": draw(st.integers(0, 3)),
            "scheme": scheme,
            "category": category,
            "visit_type": draw(st.sampled_from(VISIT_TYPES)),
            "facility_level": draw(st.sampled_from(FACILITY_LEVELS)),
            "area": draw(st.sampled_from(AREAS)),
            "assistance": draw(st.sampled_from(ASSISTANCE)),
            "total_cost": total,
            "self_pay": self_pay,
            "class_b_self_pay": class_b,
            "reverses": None,
        }
        if reversals and i and draw(st.integers(0, 4)) == 0:
            row["reverses"] = f"c{draw(st.integers(0, i))}"  # may name itself, a later or a bad row
        if bad and draw(st.integers(0, 5)) == 0:
            field, value = draw(
                st.sampled_from(
                    [("scheme", "military"), ("category", "retired" if scheme == "resident" else "minor"),
                     ("visit_type", "dental"), ("facility_level", None), ("area", "abroad"),
                     ("assistance", "rich"), ("self_pay", total + 1), ("total_cost", -5),
                     ("total_cost", 10**12 + 1), ("claim_id", "c0"), ("settle_date", dt.date(2019, 5, 1))]
                )
            )  # fmt: skip
            row[field] = value
            if field == "self_pay":
                row["class_b_self_pay"] = 0
        rows.append(row)
    schema = pa.schema(
        [("claim_id", pa.string()), ("person_id", pa.string()), ("settle_date", pa.date32()),
         ("seq", pa.int64()), ("scheme", pa.string()), ("category", pa.string()),
         ("visit_type", pa.string()), ("facility_level", pa.string()), ("area", pa.string()),
         ("assistance", pa.string()), ("total_cost", pa.int64()), ("self_pay", pa.int64()),
         ("class_b_self_pay", pa.int64()), ("reverses", pa.string())]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


@st.composite
def accounts(draw, persons=6):
    rows = []
    for i in range(persons):
        for year in (2021, 2022, 2023):
            if draw(st.integers(0, 2)) == 0:
                rows.append({"person_id": f"p{i}", "year": year,
                             "current_balance": draw(st.integers(0, 500_000)),
                             "hist_balance": draw(st.integers(0, 2_000_000))})  # fmt: skip
    schema = pa.schema([("person_id", pa.string()), ("year", pa.int32()),
                        ("current_balance", pa.int64()), ("hist_balance", pa.int64())])  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


D0 = dt.date(2022, 1, 1)


@st.composite
def dated_policies(draw):
    """Two or three random profiles taking over from one another on random dates in 2022-2023;
    the first may start after the claims begin and one may end before the next starts (a gap:
    POLICY_NOT_IN_FORCE)."""
    import dataclasses

    n = draw(st.integers(2, 3))
    starts = sorted(draw(st.lists(st.integers(0, 700), min_size=n, max_size=n, unique=True)))
    profiles = []
    for k, start in enumerate(starts):
        base = draw(policies()).profiles[0]
        end = None
        if draw(st.integers(0, 3)) == 0:
            limit = starts[k + 1] - 1 if k + 1 < n else 729
            end = D0 + dt.timedelta(days=draw(st.integers(start, max(start, limit))))
        begin = D0 + dt.timedelta(days=start)
        profiles.append(dataclasses.replace(base, name=f"profile-{k}", effective_from=begin, effective_to=end))
    return wz.Policy(profiles)


def with_late_claims(policy, mode):
    """The policy with ``late_claims`` set in every profile's raw parameters."""
    import dataclasses

    return wz.Policy([dataclasses.replace(p, params={**p.params, "late_claims": mode}) for p in policy.profiles])
