"""Seeded random claims for the ledger tests: many persons, every visit type, some bad rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

GROUPS = [("employee", "in_service"), ("employee", "retired"), ("resident", "adult"),
          ("resident", "minor"), ("resident", "student"), ("resident", "elderly")]  # fmt: skip
VISITS = ["outpatient", "chronic", "special", "inpatient"]
LEVELS = ["primary", "secondary", "tertiary"]
AREAS = ["local", "local", "local", "province", "national_registered", "national_unregistered"]
ASSIST = ["none"] * 6 + ["tekun", "dibao", "dibian", "zhichu"]


def random_claims(n: int, n_persons: int, *, seed: int, start=dt.date(2022, 1, 1), days: int = 365,
                  int_ids: bool = False, first_id: int = 0, bad_share: float = 0.02) -> pa.Table:  # fmt: skip
    """``n`` claims of ``n_persons`` persons dated in ``[start, start + days)``, one person
    keeping one scheme, category and assistance class."""
    rng = np.random.default_rng(seed)
    person = rng.integers(0, n_persons, n)
    group = person % len(GROUPS)
    assist = np.array(ASSIST)[person % len(ASSIST)]
    visit = np.array(VISITS)[rng.choice(4, n, p=[0.55, 0.2, 0.1, 0.15])]
    big = np.isin(visit, ["inpatient", "special"])
    total = np.where(big, rng.integers(100_000, 30_000_000, n), rng.integers(1_000, 300_000, n))
    self_pay = (total * rng.integers(0, 20, n)) // 100
    class_b = (total * rng.integers(0, 10, n)) // 100
    bad = rng.random(n) < bad_share
    total = np.where(bad, -total, total)  # NEGATIVE_AMOUNT
    ids = np.arange(first_id, first_id + n)
    dates = [start + dt.timedelta(days=int(d)) for d in rng.integers(0, days, n)]
    return pa.table({
        "claim_id": pa.array(ids) if int_ids else pa.array([f"c{i}" for i in ids]),
        "person_id": pa.array(person) if int_ids else pa.array([f"p{p}" for p in person]),
        "settle_date": pa.array(dates, pa.date32()),
        "seq": pa.array(rng.integers(0, 3, n)),
        "scheme": [GROUPS[g][0] for g in group],
        "category": [GROUPS[g][1] for g in group],
        "visit_type": visit.tolist(),
        "facility_level": np.array(LEVELS)[rng.integers(0, 3, n)].tolist(),
        "area": np.array(AREAS)[rng.integers(0, len(AREAS), n)].tolist(),
        "assistance": assist.tolist(),
        "total_cost": pa.array(total),
        "self_pay": pa.array(self_pay),
        "class_b_self_pay": pa.array(class_b),
    })  # fmt: skip


def random_accounts(n_persons: int, *, seed: int, year: int = 2022, int_ids: bool = False) -> pa.Table:
    """Opening balances for the employee persons."""
    rng = np.random.default_rng(seed)
    persons = [p for p in range(n_persons) if GROUPS[p % len(GROUPS)][0] == "employee"]
    return pa.table({
        "person_id": pa.array(persons) if int_ids else pa.array([f"p{p}" for p in persons]),
        "year": pa.array([year] * len(persons), pa.int32()),
        "current_balance": pa.array(rng.integers(0, 300_000, len(persons))),
        "hist_balance": pa.array(rng.integers(0, 1_000_000, len(persons))),
    })  # fmt: skip


def by_date(claims: pa.Table, cuts: list[dt.date]) -> list[pa.Table]:
    """Split claims into consecutive date ranges (a person's claims arrive in date order)."""
    import pyarrow.compute as pc

    bounds = [None, *cuts, None]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        mask = pa.array([True] * claims.num_rows)
        if lo is not None:
            mask = pc.and_(mask, pc.greater_equal(claims["settle_date"], pa.scalar(lo, pa.date32())))
        if hi is not None:
            mask = pc.and_(mask, pc.less(claims["settle_date"], pa.scalar(hi, pa.date32())))
        out.append(claims.filter(mask))
    return out
