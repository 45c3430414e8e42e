"""DRG profiles: every threshold of docs/rules/drg.md as data (``profiles/*.toml``), loaded and checked.

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
built-in profile whose values it inherits) and a ``[parameters]`` table where each value is
``{ value = ..., source = "..." }``. Units: ``*_bp`` are integers in 1e-4 (10 000 = 1),
``reference_cost`` is fen, ``high_band_upper`` is base points in e4.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from ..errors import PolicyError
from ..parameters import ParameterProfile, builtin_names, load

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
class DrgProfile(ParameterProfile):
    """A loaded, checked DRG profile. Values are plain ints, bools and tuples.

    Examples
    --------
    >>> p = load_profile("wenzhou-2022")
    >>> p.reference_cost, p.low_bp, p.high_multiple_bp
    (1035055, 4000, (30000, 20000, 15000))
    >>> p.with_changes({"reserve_bp": 300}).reserve_bp, p.reserve_bp
    (300, 500)
    """

    @staticmethod
    def check(values: Mapping[str, Any], name: str) -> dict[str, Any]:
        return _check(values, name)

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


def builtin_profiles() -> list[str]:
    """Names of the built-in DRG profiles.

    Examples
    --------
    >>> builtin_profiles()
    ['jiaxing-2024', 'jinhua-2024', 'quzhou-2024', 'taizhou-2024', 'wenzhou-2022']
    """
    return builtin_names(__package__)


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
    return load(name_or_path, DrgProfile, SPEC, __package__)


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
