"""DRG profiles: every threshold of docs/rules/drg.md as data (``profiles/*.toml``), loaded and checked.

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
built-in profile whose values it inherits) and a ``[parameters]`` table where each value is
``{ value = ..., source = "..." }``. Units: ``*_bp`` are integers in 1e-4 (10 000 = 1),
``reference_cost`` is fen, ``high_band_upper`` is base points in e4.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ..errors import PolicyError

# name -> (kind, lo, hi, meaning). kind: int, bool, ints (list of int), strs (list of str).
# The bounds keep every integer product of the kernels inside int64 (docs/drg.md, "Limits").
SPEC: dict[str, tuple[str, int, int, str]] = {
    "reference_cost": ("int", 100, 10**8, "reference cost M in fen: the cost of 100 points"),
    "low_bp": ("int", 0, 10**4, "low multiple L (1e-4): low when cost < L x standard"),
    "high_band_upper": ("ints", 1, 10**9, "upper base points (e4) of each high-multiple band"),
    "high_multiple_bp": ("ints", 10**4, 10**5, "high multiple H per band (1 to 10), one more than the bounds"),
    "high_inclusive": ("bool", 0, 1, "high when cost >= H x standard (else >)"),
    "partial_enabled": ("bool", 0, 1, "apply the partial band"),
    "partial_upper_bp": ("int", 0, 10**4, "partial band upper multiple P_u (1e-4)"),
    "partial_beta_bp": ("int", 0, 10**4, "share beta of B x c added in the partial band; P_u + beta = 10000"),
    "incomplete_enabled": ("bool", 0, 1, "apply the incomplete-stay rule to flagged cases"),
    "ungroupable_bp": ("int", 0, 10**5, "factor k_u for ungroupable cases (code 0000)"),
    "ambiguous_bp": ("int", 0, 10**5, "factor k_a for ambiguous cases (code ending in QY)"),
    "readmission_days": ("int", 0, 366, "readmission window in days"),
    "readmission_bp": ("int", 0, 10**4, "factor on the earlier stay's points"),
    "readmission_exempt": ("strs", 0, 0, "DRG code prefixes never reduced for readmission"),
    "reserve_bp": ("int", 0, 10**4, "reserve (调剂金) share of the budget"),
    "prepay_bp": ("int", 0, 10**4, "monthly prepayment share of the fee-for-service fund amount"),
    "share_band_bp": ("int", 0, 10**4, "loss band within which the reserve shares the loss"),
    "share_bp": ("int", 0, 10**4, "share of the loss paid from the reserve"),
    "pool_funds": ("bool", 0, 1, "one point value for employee and resident funds together"),
    "trim_low_bp": ("int", 0, 10**5, "calibration trim: lowest multiple of the group mean kept"),
    "trim_high_bp": ("int", 0, 10**6, "calibration trim: highest multiple of the group mean kept"),
    "min_cases": ("int", 1, 10**9, "minimum cases for a stable group and for a coefficient"),
    "cv_max_bp": ("int", 0, 10**6, "stable when the coefficient of variation is below this"),
    "coef_weight_bp": ("int", 0, 10**4, "weight w of the hospital's own mean in its coefficient"),
    "coef_lo_bp": ("int", 0, 10**6, "lowest hospital coefficient"),
    "coef_hi_bp": ("int", 0, 10**6, "highest hospital coefficient"),
    "reference_years": ("int", 1, 10, "calibration years before the payment year"),
}

_KIND_TEXT = {
    "int": "an integer in [{lo}, {hi}]",
    "ints": "a list of integers in [{lo}, {hi}]",
    "bool": "true or false",
    "strs": "a list of strings",
}


@dataclasses.dataclass(frozen=True)
class DrgProfile:
    """A loaded, checked DRG profile. Values are plain ints, bools and tuples.

    Examples
    --------
    >>> p = load_profile("wenzhou-2022")
    >>> p.reference_cost, p.low_bp, p.high_multiple_bp
    (1035055, 4000, (30000, 20000, 15000))
    >>> p.with_changes({"reserve_bp": 300}).reserve_bp, p.reserve_bp
    (300, 500)
    """

    name: str
    description: str
    valid_from: dt.date
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and key in values:
            return values[key]
        raise AttributeError(key)

    def with_changes(self, changes: Mapping[str, Any] | None = None, /, **kw: Any) -> DrgProfile:
        """A new profile with some values changed (what-if); this one is untouched."""
        merged = dict(changes or {}, **kw)
        values = dict(self.values)
        sources = dict(self.sources)
        for key, value in merged.items():
            values[key] = value
            sources[key] = "changed by the user"
        checked = _check(values, self.name)
        return DrgProfile(self.name, self.description, self.valid_from, checked, sources)

    def high_multiple(self, base_points_e4: int) -> int:
        """``H(B)``: the high multiple for a group of ``base_points_e4`` (docs/rules/drg.md §3).

        Examples
        --------
        >>> p = load_profile("wenzhou-2022")
        >>> [p.high_multiple(b) for b in (800000, 1000000, 1000001, 3000001)]
        [30000, 30000, 20000, 15000]
        """
        for upper, mult in zip(self.high_band_upper, self.high_multiple_bp, strict=False):
            if base_points_e4 <= upper:
                return mult
        return self.high_multiple_bp[-1]

    def fingerprint(self) -> str:
        """A short hash of the values: two profiles with equal values share it.

        Examples
        --------
        >>> p = load_profile("wenzhou-2022")
        >>> p.fingerprint() == p.with_changes({}).fingerprint(), p.with_changes(low_bp=1) == p
        (True, False)
        """
        blob = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in sorted(self.values.items())})
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def builtin_profiles() -> list[str]:
    """Names of the built-in DRG profiles.

    Examples
    --------
    >>> builtin_profiles()
    ['jiaxing-2024', 'jinhua-2024', 'quzhou-2024', 'taizhou-2024', 'wenzhou-2022']
    """
    files = resources.files(__package__).joinpath("profiles")
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def load_profile(name_or_path: str | os.PathLike | DrgProfile = "wenzhou-2022") -> DrgProfile:
    """Load a built-in DRG profile by name, or a profile file by path.

    Parameters
    ----------
    name_or_path
        ``"wenzhou-2022"``, ``"jinhua-2024"``, ``"quzhou-2024"``, ``"taizhou-2024"``,
        ``"jiaxing-2024"``, or a path to a TOML file of the same form.

    Raises
    ------
    PolicyError
        A missing, unknown or out-of-range key, named with what is allowed.

    Examples
    --------
    >>> load_profile("jiaxing-2024").high_inclusive
    True
    >>> load_profile("quzhou-2024").sources["low_bp"]
    'FZ: Quzhou low multiple 0.35 (docs/rules/drg.md §3)'
    """
    if isinstance(name_or_path, DrgProfile):
        return name_or_path
    raw = _read(name_or_path)
    chain = [raw]
    while "extends" in chain[-1]:
        if len(chain) > 10:
            raise PolicyError("extends: a chain of more than 10 profiles (a cycle?)")
        chain.append(_read(chain[-1]["extends"]))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for doc in reversed(chain):
        for key, entry in doc.get("parameters", {}).items():
            if key not in SPEC:
                raise PolicyError(f"parameters.{key}: unknown key; allowed keys are {', '.join(SPEC)}")
            if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
                raise PolicyError(f'parameters.{key}: expected {{ value = ..., source = "..." }}')
            values[key] = entry["value"]
            sources[key] = str(entry["source"])
    for top in raw:
        if top not in ("name", "description", "valid_from", "extends", "parameters"):
            raise PolicyError(f"{top}: unknown key; allowed: name, description, valid_from, extends, parameters")
    name = raw.get("name")
    if not isinstance(name, str):
        raise PolicyError("name: missing; expected a string")
    valid_from = raw.get("valid_from")
    if not isinstance(valid_from, dt.date):
        raise PolicyError("valid_from: missing; expected a date such as 2022-01-01")
    return DrgProfile(name, str(raw.get("description", "")), valid_from, _check(values, name), sources)


def _read(name_or_path: str | os.PathLike) -> dict:
    text = None
    s = os.fspath(name_or_path)
    if os.sep not in s and not s.endswith(".toml"):
        res = resources.files(__package__).joinpath("profiles", s + ".toml")
        if not res.is_file():
            raise PolicyError(f"profile {s!r}: no such built-in profile; built in: {', '.join(builtin_profiles())}")
        text = res.read_text(encoding="utf-8")
    else:
        try:
            with open(s, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise PolicyError(f"profile {s!r}: cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"profile {s!r}: not valid TOML ({exc})") from None


def _check(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in values:
        if key not in SPEC:
            raise PolicyError(f"{key}: unknown key; allowed keys are {', '.join(SPEC)}")
    for key, (kind, lo, hi, meaning) in SPEC.items():
        if key not in values:
            raise PolicyError(
                f"{key}: missing in profile {name!r}; expected {_KIND_TEXT[kind].format(lo=lo, hi=hi)} ({meaning})"
            )
        v = values[key]
        want = _KIND_TEXT[kind].format(lo=lo, hi=hi)
        if kind == "int":
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise PolicyError(f"{key}: {v!r} is out of range; expected {want} ({meaning})")
        elif kind == "bool":
            if not isinstance(v, bool):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
        elif kind == "ints":
            if not isinstance(v, (list, tuple)) or any(
                isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi for x in v
            ):
                raise PolicyError(f"{key}: {v!r} is out of range; expected {want} ({meaning})")
            v = tuple(v)
        else:
            if not isinstance(v, (list, tuple)) or any(not isinstance(x, str) or not x for x in v):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
            v = tuple(v)
        out[key] = v
    bounds, mults = out["high_band_upper"], out["high_multiple_bp"]
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
        raise PolicyError(f"high_band_upper: {list(bounds)} must be strictly increasing")
    if len(mults) != len(bounds) + 1:
        raise PolicyError(
            f"high_multiple_bp: {list(mults)} must have one more value than high_band_upper {list(bounds)}"
        )
    if out["partial_enabled"] and out["partial_upper_bp"] + out["partial_beta_bp"] != 10_000:
        raise PolicyError(
            f"partial_beta_bp: {out['partial_beta_bp']} and partial_upper_bp: {out['partial_upper_bp']} must add up to "
            "10000, so that partial points meet the normal points at the band's upper edge (docs/rules/drg.md §3)"
        )
    if out["coef_lo_bp"] > out["coef_hi_bp"]:
        raise PolicyError(f"coef_lo_bp: {out['coef_lo_bp']} must not exceed coef_hi_bp {out['coef_hi_bp']}")
    if out["trim_low_bp"] > out["trim_high_bp"]:
        raise PolicyError(f"trim_low_bp: {out['trim_low_bp']} must not exceed trim_high_bp {out['trim_high_bp']}")
    return out
