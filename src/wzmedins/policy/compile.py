"""Compile a policy into dense integer lookup tables for the kernel (compile once, run many).

Every table has a leading profile axis; the other axes are the integer codes of
``wzmedins.vocab``. The poor-person adjustments of critical-illness insurance are resolved
here per assistance class, so the kernel does no parameter logic at all.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np

from ..rounding import half_up
from ..vocab import (
    AREAS,
    ASSISTANCE,
    CATEGORIES,
    CATEGORY_SCHEME,
    FACILITY_LEVELS,
    SCHEMES,
    VISIT_TYPES,
)  # fmt: skip
from .schema import BP_MAX, NO_CAP, group_names

NONE = -1  # "no cap" in a cap table
EPOCH = dt.date(1970, 1, 1)
OPEN_END = np.iinfo(np.int32).max


class CompiledPolicy(NamedTuple):
    start: np.ndarray  # [P] first day in force (days since 1970-01-01)
    end: np.ndarray  # [P] last day in force, inclusive
    group: np.ndarray  # [P, category] benefit group code
    ratio: np.ndarray  # [P, group, visit, level] bp before the area adjustment
    area_adjust: np.ndarray  # [P, area] bp
    deductible_outpatient: np.ndarray  # [P, group] fen
    deductible_inpatient: np.ndarray  # [P, group, level] fen
    per_admission: np.ndarray  # [P] 1 if the inpatient deductible is per admission
    factors: np.ndarray  # [P, K] bp, the last repeats
    n_factors: np.ndarray  # [P]
    fund_cap: np.ndarray  # [P, scheme] fen
    account_scheme: np.ndarray  # [P, scheme] 0/1
    current_first: np.ndarray  # [P, visit] 0/1
    hist_pays: np.ndarray  # [P] 0/1
    hist_covers_self_pay: np.ndarray  # [P] 0/1
    ci_scheme: np.ndarray  # [P, scheme] 0/1
    ci_visit: np.ndarray  # [P, visit] 0/1
    ci_includes_class_b: np.ndarray  # [P] 0/1
    ci_deductible: np.ndarray  # [P, assistance] fen, poor factor applied
    ci_upper: np.ndarray  # [P, band] fen; unused bands and the last hold OPEN_AMOUNT
    ci_ratio: np.ndarray  # [P, assistance, band] bp, poor bonus applied and clamped
    n_bands: np.ndarray  # [P]
    ci_cap: np.ndarray  # [P, assistance] fen or NONE
    ma_visit: np.ndarray  # [P, visit] 0/1
    ma_ratio: np.ndarray  # [P, assistance] bp
    ma_deductible: np.ndarray  # [P, assistance] fen
    ma_cap: np.ndarray  # [P, assistance] fen or NONE
    late_settle: np.ndarray  # [P] 1: a back-dated claim is settled (late_claims = "settle"), 0: rejected


OPEN_AMOUNT = np.iinfo(np.int64).max // 4  # an upper bound no cumulative amount reaches


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _flags(chosen: list[str], vocab: tuple[str, ...]) -> list[int]:
    return [int(v in chosen) for v in vocab]


def compile_policy(policy) -> CompiledPolicy:
    """Turn a :class:`~wzmedins.policy.Policy` into a :class:`CompiledPolicy`."""
    profiles = policy.profiles
    P = len(profiles)
    params = [p.params for p in profiles]
    groups = [group_names(q["groups"]) for q in params]
    G = max(len(g) for g in groups)
    K = max(len(q["inpatient_deductible"]["per_admission_factors"]) for q in params)
    NB = max(len(q["critical_illness"]["bands"]) for q in params)
    NV, NL = len(VISIT_TYPES), len(FACILITY_LEVELS)
    i64 = np.int64

    c = {name: [] for name in CompiledPolicy._fields}
    for (start, end), q, gnames in zip(policy.periods(), params, groups, strict=True):
        c["start"].append(_days(start))
        c["end"].append(OPEN_END if end is None else _days(end))
        c["group"].append(
            [gnames.index(q["groups"][SCHEMES[CATEGORY_SCHEME[k]]][cat]) for k, cat in enumerate(CATEGORIES)]
        )
        ratio = np.zeros((G, NV, NL), dtype=i64)
        for gi, g in enumerate(gnames):
            out, inp = q["ratio_outpatient"][g], q["ratio_inpatient"][g]
            ratio[gi, VISIT_TYPES.index("outpatient")] = out
            ratio[gi, VISIT_TYPES.index("chronic")] = np.array(out) + q["chronic_bonus"]
            ratio[gi, VISIT_TYPES.index("special")] = inp
            ratio[gi, VISIT_TYPES.index("inpatient")] = inp
        c["ratio"].append(ratio)
        c["area_adjust"].append([q["area_adjust"][a] for a in AREAS])
        ded_out = np.zeros(G, dtype=i64)
        ded_in = np.zeros((G, NL), dtype=i64)
        for gi, g in enumerate(gnames):
            ded_out[gi] = q["deductible_outpatient"][g]
            ded_in[gi] = q["deductible_inpatient"][g]
        c["deductible_outpatient"].append(ded_out)
        c["deductible_inpatient"].append(ded_in)
        inp = q["inpatient_deductible"]
        c["per_admission"].append(int(inp["mode"] == "per_admission"))
        f = inp["per_admission_factors"]
        c["factors"].append(f + [f[-1]] * (K - len(f)))
        c["n_factors"].append(len(f))
        c["fund_cap"].append([q["fund_cap"][s] for s in SCHEMES])
        acc = q["account"]
        c["account_scheme"].append(_flags(acc["schemes"], SCHEMES))
        c["current_first"].append(_flags(acc["current_first"], VISIT_TYPES))
        c["hist_pays"].append(int(acc["hist_pays"]))
        c["hist_covers_self_pay"].append(int(acc["hist_covers_self_pay"]))

        ci = q["critical_illness"]
        c["ci_scheme"].append(_flags(ci["schemes"], SCHEMES))
        c["ci_visit"].append(_flags(ci["visit_types"], VISIT_TYPES))
        c["ci_includes_class_b"].append(int(ci["compliant_includes_class_b"]))
        bands = ci["bands"]
        upper = [b.get("upper", OPEN_AMOUNT) for b in bands] + [OPEN_AMOUNT] * (NB - len(bands))
        c["ci_upper"].append(upper)
        c["n_bands"].append(len(bands))
        ded, ratios, caps = [], [], []
        cap = NONE if ci["cap"] == NO_CAP else ci["cap"]
        for a in ASSISTANCE:
            poor = a in ci["poor"]
            ded.append(half_up(ci["deductible"] * ci["poor_deductible_factor"], BP_MAX) if poor else ci["deductible"])
            bonus = ci["poor_ratio_bonus"] if poor else 0
            ratios.append([min(b["ratio"] + bonus, BP_MAX) for b in bands] + [0] * (NB - len(bands)))
            caps.append(NONE if poor and ci["poor_uncapped"] else cap)
        c["ci_deductible"].append(ded)
        c["ci_ratio"].append(ratios)
        c["ci_cap"].append(caps)

        c["late_settle"].append(int(q.get("late_claims", "reject") == "settle"))
        ma = q["medical_assistance"]
        c["ma_visit"].append(_flags(ma["visit_types"], VISIT_TYPES))
        c["ma_ratio"].append([0] + [ma[a]["ratio"] for a in ASSISTANCE[1:]])
        c["ma_deductible"].append([0] + [ma[a]["deductible"] for a in ASSISTANCE[1:]])
        c["ma_cap"].append([0] + [NONE if ma[a]["cap"] == NO_CAP else ma[a]["cap"] for a in ASSISTANCE[1:]])

    arrays = {}
    for name, rows in c.items():
        dtype = np.int32 if name in ("start", "end") else i64
        arrays[name] = np.ascontiguousarray(np.array(rows, dtype=dtype))
    assert arrays["start"].shape == (P,)
    return CompiledPolicy(**arrays)
