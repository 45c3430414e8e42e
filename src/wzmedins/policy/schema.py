"""Validation of a profile's parameters: every key of docs/rules/settlement.md §4, nothing else.

A profile that is missing a parameter, has one we do not know, or holds a value out of range
fails with a :class:`~wzmedins.errors.PolicyError` that names the key and what is allowed.
"""

from __future__ import annotations

from typing import Any

from ..errors import PolicyError
from ..reasons import MAX_AMOUNT_FEN
from ..vocab import AREAS, ASSISTANCE, FACILITY_LEVELS, SCHEME_CATEGORIES, SCHEMES, VISIT_TYPES

BP_MAX = 10_000
INPATIENT_MODES = ("annual_highest_level", "per_admission")
LATE_CLAIMS = ("reject", "settle")  # docs/settlement.md "The order rule"; absent means "reject"
NO_CAP = "none"

TOP_LEVEL = (
    "groups",
    "ratio_outpatient",
    "ratio_inpatient",
    "chronic_bonus",
    "area_adjust",
    "deductible_outpatient",
    "deductible_inpatient",
    "inpatient_deductible",
    "fund_cap",
    "account",
    "critical_illness",
    "medical_assistance",
)


def _fail(path: str, allowed: str, value: Any = None) -> None:
    got = "" if value is None else f", got {value!r}"
    raise PolicyError(f"parameter {path!r}: expected {allowed}{got}")


def _keys(path: str, d: Any, expected: tuple[str, ...] | list[str], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(d, dict):
        _fail(path, "a table with keys " + ", ".join(expected), d)
    for k in d:
        if k not in expected and k not in optional:
            where = f"{path}.{k}" if path else k
            raise PolicyError(f"unknown parameter {where!r}; allowed: {', '.join([*expected, *optional])}")
    for k in expected:
        if k not in d:
            where = f"{path}.{k}" if path else k
            raise PolicyError(f"missing parameter {where!r}")
    return d


def _int(path: str, v: Any, lo: int, hi: int, unit: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        _fail(path, f"an integer number of {unit} from {lo} to {hi}", v)
    return v


def bp(path: str, v: Any, lo: int = 0, hi: int = BP_MAX) -> int:
    return _int(path, v, lo, hi, "basis points")


def fen(path: str, v: Any) -> int:
    return _int(path, v, 0, MAX_AMOUNT_FEN, "fen")


def _cap(path: str, v: Any) -> int | None:
    return None if v == NO_CAP else fen(path, v) if not isinstance(v, str) else _fail(path, f'fen or "{NO_CAP}"', v)


def _bool(path: str, v: Any) -> bool:
    if not isinstance(v, bool):
        _fail(path, "true or false", v)
    return v


def _subset(path: str, v: Any, vocab: tuple[str, ...]) -> list[str]:
    if not isinstance(v, list) or any(x not in vocab for x in v) or len(set(v)) != len(v):
        _fail(path, "a list of distinct values from " + ", ".join(vocab), v)
    return v


def _per_level(path: str, v: Any, check) -> list[int]:
    if not isinstance(v, list) or len(v) != len(FACILITY_LEVELS):
        _fail(path, "a list of 3 values (" + " / ".join(FACILITY_LEVELS) + ")", v)
    return [check(f"{path}[{i}]", x) for i, x in enumerate(v)]


def group_names(groups: dict) -> list[str]:
    """Benefit groups in order of first appearance in the ``groups`` mapping."""
    names: list[str] = []
    for scheme in SCHEMES:
        for category in SCHEME_CATEGORIES[scheme]:
            g = groups[scheme][category]
            if g not in names:
                names.append(g)
    return names


def validate(p: dict) -> None:
    """Check a profile's resolved parameters; raise PolicyError naming the first bad key."""
    _keys("", p, TOP_LEVEL, optional=("late_claims",))
    if p.get("late_claims", "reject") not in LATE_CLAIMS:
        _fail("late_claims", "one of " + ", ".join(LATE_CLAIMS), p["late_claims"])
    _keys("groups", p["groups"], SCHEMES)
    for scheme in SCHEMES:
        for cat, g in _keys(f"groups.{scheme}", p["groups"][scheme], SCHEME_CATEGORIES[scheme]).items():
            if not isinstance(g, str) or not g:
                _fail(f"groups.{scheme}.{cat}", "a benefit group name", g)
    groups = group_names(p["groups"])
    for name in ("ratio_outpatient", "ratio_inpatient"):
        for g, v in _keys(name, p[name], groups).items():
            _per_level(f"{name}.{g}", v, bp)
    bp("chronic_bonus", p["chronic_bonus"], -BP_MAX, BP_MAX)
    for a, v in _keys("area_adjust", p["area_adjust"], AREAS).items():
        bp(f"area_adjust.{a}", v, -BP_MAX, BP_MAX)
    for g, v in _keys("deductible_outpatient", p["deductible_outpatient"], groups).items():
        fen(f"deductible_outpatient.{g}", v)
    for g, v in _keys("deductible_inpatient", p["deductible_inpatient"], groups).items():
        _per_level(f"deductible_inpatient.{g}", v, fen)
    inp = _keys("inpatient_deductible", p["inpatient_deductible"], ("mode", "per_admission_factors"))
    if inp["mode"] not in INPATIENT_MODES:
        _fail("inpatient_deductible.mode", "one of " + ", ".join(INPATIENT_MODES), inp["mode"])
    factors = inp["per_admission_factors"]
    if not isinstance(factors, list) or not factors:
        _fail("inpatient_deductible.per_admission_factors", "a non-empty list of basis points", factors)
    for i, f in enumerate(factors):
        bp(f"inpatient_deductible.per_admission_factors[{i}]", f)
    for s, v in _keys("fund_cap", p["fund_cap"], SCHEMES).items():
        fen(f"fund_cap.{s}", v)

    acc = _keys("account", p["account"], ("schemes", "current_first", "hist_pays", "hist_covers_self_pay"))
    _subset("account.schemes", acc["schemes"], SCHEMES)
    _subset("account.current_first", acc["current_first"], VISIT_TYPES)
    _bool("account.hist_pays", acc["hist_pays"])
    _bool("account.hist_covers_self_pay", acc["hist_covers_self_pay"])

    ci_keys = (
        "schemes", "visit_types", "compliant_includes_class_b", "deductible", "bands", "cap",
        "poor", "poor_deductible_factor", "poor_ratio_bonus", "poor_uncapped",
    )  # fmt: skip
    ci = _keys("critical_illness", p["critical_illness"], ci_keys)
    _subset("critical_illness.schemes", ci["schemes"], SCHEMES)
    _subset("critical_illness.visit_types", ci["visit_types"], VISIT_TYPES)
    _bool("critical_illness.compliant_includes_class_b", ci["compliant_includes_class_b"])
    fen("critical_illness.deductible", ci["deductible"])
    bands = ci["bands"]
    if not isinstance(bands, list) or not bands:
        _fail("critical_illness.bands", "a non-empty list of {upper, ratio}, the last without upper", bands)
    previous = 0
    for i, band in enumerate(bands):
        path = f"critical_illness.bands[{i}]"
        last = i == len(bands) - 1
        _keys(path, band, ("ratio",) if last else ("upper", "ratio"))
        bp(f"{path}.ratio", band["ratio"])
        if not last:
            upper = fen(f"{path}.upper", band["upper"])
            if upper <= previous:
                _fail(f"{path}.upper", f"an upper bound above {previous} (bounds increase)", upper)
            previous = upper
    _cap("critical_illness.cap", ci["cap"])
    _subset("critical_illness.poor", ci["poor"], ASSISTANCE[1:])
    bp("critical_illness.poor_deductible_factor", ci["poor_deductible_factor"])
    bp("critical_illness.poor_ratio_bonus", ci["poor_ratio_bonus"])
    _bool("critical_illness.poor_uncapped", ci["poor_uncapped"])

    ma = _keys("medical_assistance", p["medical_assistance"], ("visit_types", *ASSISTANCE[1:]))
    _subset("medical_assistance.visit_types", ma["visit_types"], VISIT_TYPES)
    for cls in ASSISTANCE[1:]:
        c = _keys(f"medical_assistance.{cls}", ma[cls], ("ratio", "deductible", "cap"))
        bp(f"medical_assistance.{cls}.ratio", c["ratio"])
        fen(f"medical_assistance.{cls}.deductible", c["deductible"])
        _cap(f"medical_assistance.{cls}.cap", c["cap"])
