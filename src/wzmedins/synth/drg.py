"""Seeded synthetic DRG data: a catalog, hospitals of three levels, cases with skewed costs.

Floats appear only here, to draw random numbers; every amount is rounded to whole fen (and
every point to 1e-4) before it leaves the generator, so the engine sees integers only.

Examples
--------
>>> data = generate(1_000, seed=1)
>>> sorted(data)
['cases', 'catalog', 'coefficients', 'history', 'hospitals']
>>> data["cases"].num_rows, data["history"].num_rows
(1000, 2000)
>>> generate(50, seed=3)["cases"].equals(generate(50, seed=3)["cases"])
True
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LEVELS = ("primary", "secondary", "tertiary")
MDC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ADRG_TYPES = "BCEJRST"
REFERENCE_COST_FEN = 1_035_055  # the scale of the synthetic costs: wenzhou-2022's M
MIX_EXPONENT = (-0.6, 0.0, 0.8)  # primary, secondary, tertiary: how strongly they draw heavy groups


def generate(
    n_cases: int, *, seed: int = 0, n_hospitals: int = 30, year: int = 2022, n_groups: int = 400
) -> dict[str, pa.Table]:
    """Cases of ``year``, two reference years of history, catalog, coefficients, hospitals.

    Parameters
    ----------
    n_cases
        Cases in the payment year; the history has ``n_cases`` in each of the two years before.
    seed
        Everything is a function of the seed.
    n_hospitals, year, n_groups
        Hospitals (about 20% tertiary, 40% secondary, 40% primary), payment year, DRG groups.

    Returns
    -------
    dict
        ``"cases"`` (the *drg cases* table), ``"history"`` (same columns), ``"catalog"``,
        ``"coefficients"``, ``"hospitals"`` (``hospital_id``, ``level``).

    Examples
    --------
    >>> data = generate(100, seed=4, n_hospitals=6)
    >>> sorted(set(data["hospitals"].column("level").to_pylist()))
    ['primary', 'secondary', 'tertiary']
    """
    rng = np.random.default_rng(seed)
    catalog, truth = _catalog(rng, n_groups)
    hospitals, factor = _hospitals(rng, n_hospitals)
    coefficients = _coefficients(rng, hospitals, catalog, factor)
    cases = _cases(rng, n_cases, year, truth, hospitals, factor, id_offset=0)
    history = pa.concat_tables(
        [
            _cases(rng, n_cases, year - 2, truth, hospitals, factor, id_offset=10**10),
            _cases(rng, n_cases, year - 1, truth, hospitals, factor, id_offset=2 * 10**10),
        ]
    )
    return {
        "cases": cases,
        "catalog": catalog,
        "coefficients": coefficients,
        "hospitals": hospitals,
        "history": history,
    }


def suggested_budgets(cases: pa.Table, share_bp: int = 10_000) -> dict[str, int]:
    """A budget per fund: ``share_bp`` of what fee-for-service would pay (Σ ``fund_ffs``), in fen.

    Examples
    --------
    >>> b = suggested_budgets(generate(200, seed=2)["cases"])
    >>> sorted(b), all(v > 0 for v in b.values())
    (['employee', 'resident'], True)
    """
    fund = cases.column("fund").cast(pa.string()).to_numpy(zero_copy_only=False)
    ffs = cases.column("fund_ffs").to_numpy()
    out = {}
    for f in ("employee", "resident"):
        total = int(ffs[fund == f].sum())
        out[f] = (2 * total * share_bp + 10_000) // 20_000
    return out


def _catalog(rng, n_groups: int):
    codes, seen = [], set()
    while len(codes) < n_groups:
        mdc, adrg_type = rng.choice(list(MDC)), rng.choice(list(ADRG_TYPES))
        code = f"{mdc}{adrg_type}{rng.integers(1, 10)}{rng.choice([1, 3, 5, 9])}"
        if code not in seen and not code.endswith("QY"):
            seen.add(code)
            codes.append(code)
    base_points = np.clip(rng.lognormal(np.log(90), 0.75, n_groups), 5, 3000)
    base_e4 = np.rint(base_points * 100).astype(np.int64) * 100  # 1e-2 point steps, in e4
    stable = rng.random(n_groups) > 0.08
    basic = rng.random(n_groups) < 0.10
    daily = np.zeros(n_groups, dtype=np.int64)
    has_daily = np.zeros(n_groups, dtype=bool)
    has_daily[-2:] = True  # two bed-day groups (psychiatry, rehabilitation)
    daily[-2:] = [35_000, 28_000]
    catalog = pa.table(
        {
            "drg_code": pa.array(codes, pa.string()),
            "base_points": _e4_to_decimal(np.where(has_daily, 0, base_e4), ~has_daily),
            "stable": pa.array(stable),
            "basic": pa.array(basic & ~has_daily),
            "daily_points": _e4_to_decimal(daily, has_daily),
        }
    )
    # a case mix where the largest group holds a few percent (not a Zipf head of 30 %)
    popularity = rng.lognormal(0.0, 1.0, n_groups)
    truth = {
        "base_e4": base_e4,
        "stable": stable,
        "has_daily": has_daily,
        "p": popularity / popularity.sum(),
        "codes": codes,
    }
    return catalog, truth


def _e4_to_decimal(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    words = np.empty((len(values), 2), dtype="<i8")
    words[:, 0] = values
    words[:, 1] = values >> 63
    arr = pa.Array.from_buffers(pa.decimal128(18, 4), len(values), [None, pa.py_buffer(words.tobytes())])
    return pc.if_else(pa.array(valid), arr, pa.scalar(None, arr.type))


def _hospitals(rng, n: int):
    level = rng.choice(3, size=n, p=[0.4, 0.4, 0.2])
    level[: min(n, 3)] = [2, 1, 0][: min(n, 3)]  # at least one of each level
    factor = np.array([0.85, 1.0, 1.12])[level] * rng.normal(1.0, 0.05, n)
    ids = [f"H{i + 1:03d}" for i in range(n)]
    return pa.table({"hospital_id": ids, "level": [LEVELS[k] for k in level]}), factor


def _coefficients(rng, hospitals: pa.Table, catalog: pa.Table, factor: np.ndarray) -> pa.Table:
    n_h, n_g = hospitals.num_rows, catalog.num_rows
    c = factor[:, None] * rng.normal(1.0, 0.03, (n_h, n_g))
    c_e4 = np.clip(np.rint(c * 10_000), 8_000, 12_000).astype(np.int64)
    basic = catalog.column("basic").to_numpy(zero_copy_only=False)
    h, g = np.nonzero(~basic[None, :].repeat(n_h, axis=0))
    return pa.table(
        {
            "hospital_id": hospitals.column("hospital_id").take(pa.array(h)),
            "drg_code": catalog.column("drg_code").take(pa.array(g)),
            "coefficient": _e4_to_decimal(c_e4[h, g], np.ones(len(h), dtype=bool)),
        }
    )


def _cases(rng, n: int, year: int, truth: dict, hospitals: pa.Table, factor: np.ndarray, id_offset: int):
    n_h = hospitals.num_rows
    size = np.where(factor > 1.05, 3.0, np.where(factor > 0.93, 1.5, 0.6))
    hosp = rng.choice(n_h, size=n, p=size / size.sum())
    # case mix by level: tertiary hospitals treat the heavier groups (CMI clearly above 1),
    # primary ones the lighter: weight p_g · (B_g / 100 points)^k, k by level
    level = pc.index_in(hospitals.column("level"), value_set=pa.array(LEVELS)).to_numpy()
    weight_b = np.maximum(truth["base_e4"], 10_000) / 1_000_000
    group = np.empty(n, dtype=np.int64)
    for lv, k in zip(range(3), MIX_EXPONENT, strict=True):
        rows = np.flatnonzero(level[hosp] == lv)
        w = truth["p"] * weight_b**k
        group[rows] = rng.choice(len(truth["codes"]), size=len(rows), p=w / w.sum())
    # about 3% are readmissions: the same DRG as the row before (same person, dates below)
    again = np.flatnonzero(rng.random(n) < 0.03)
    again = again[again > 0]
    group[again] = group[again - 1]
    mean_fen = REFERENCE_COST_FEN * truth["base_e4"][group] / 1_000_000
    noise = rng.lognormal(0.0, 0.22, n)
    outlier = rng.random(n) < 0.02
    noise = np.where(outlier, noise * rng.uniform(2.5, 6.0, n), noise)
    cost = np.rint(np.maximum(mean_fen * factor[hosp] * noise, 5_000)).astype(np.int64)
    los = (1 + rng.geometric(0.13, n)).astype(np.int64)
    los = np.where(truth["has_daily"][group], rng.integers(20, 90, n), los)
    cost = np.where(truth["has_daily"][group], los * rng.integers(30_000, 45_000, n), cost)
    start = dt.date(year, 1, 1).toordinal() - dt.date(1970, 1, 1).toordinal()
    days = 365 + (year % 4 == 0)
    # the cases of a year are those discharged in it, evenly over the year; a stay admitted
    # the year before crosses New Year (no pile-up of discharges on 31 December)
    discharge = start + rng.integers(0, days, n)
    admit = discharge - los
    persons = rng.integers(0, max(1, int(n * 0.8)), n) + id_offset
    # readmissions: admitted 0..20 days after the row before's discharge, same person; one that
    # would be discharged after the year stays an independent stay
    gap = rng.integers(0, 21, len(again))
    fits = discharge[again - 1] + gap + los[again] < start + days
    again, gap = again[fits], gap[fits]
    persons[again] = persons[again - 1]
    admit[again] = discharge[again - 1] + gap
    discharge[again] = admit[again] + los[again]
    code_idx = group.astype(np.int32)
    kind = rng.random(n)
    codes = pa.array(truth["codes"] + ["0000", "GQY", "FQY"], pa.string())
    code_idx = np.where(kind < 0.015, len(truth["codes"]), code_idx)
    code_idx = np.where((kind >= 0.015) & (kind < 0.025), len(truth["codes"]) + 1 + (kind < 0.02), code_idx)
    patient = (cost * rng.uniform(0.18, 0.45, n)).astype(np.int64)
    fund = (rng.random(n) < 0.55).astype(np.int8)  # 0 employee, 1 resident
    special = rng.random(n) < 0.001
    manual = np.rint(truth["base_e4"][group] * rng.uniform(1.5, 3.0, n) / 100).astype(np.int64) * 100
    bonus_on = rng.random(n) < 0.005
    bonus = rng.integers(5, 21, n).astype(np.int64) * 10_000
    return pa.table(
        {
            "case_id": pa.array(np.arange(n, dtype=np.int64) + id_offset + 1),
            "person_id": pa.array(persons.astype(np.int64)),
            "hospital_id": pa.DictionaryArray.from_arrays(
                pa.array(hosp.astype(np.int32)), hospitals.column("hospital_id").combine_chunks()
            ),
            "fund": pa.DictionaryArray.from_arrays(pa.array(fund), pa.array(["employee", "resident"])),
            "drg_code": pa.DictionaryArray.from_arrays(pa.array(code_idx.astype(np.int32)), codes),
            "total_cost": pa.array(cost),
            "patient_paid": pa.array(patient),
            "fund_ffs": pa.array(cost - patient),
            "admit_date": pa.array(admit.astype(np.int32)).cast(pa.date32()),
            "discharge_date": pa.array(discharge.astype(np.int32)).cast(pa.date32()),
            "los": pa.array(los),
            "manual_points": _e4_to_decimal(manual, special),
            "bonus_points": _e4_to_decimal(np.where(bonus_on, bonus, 0), bonus_on),
        }
    )
