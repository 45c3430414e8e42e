"""Capitation profiles: every number of docs/rules/capitation.md as data (``profiles/*.toml``).

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
profile whose values it inherits) and a ``[parameters]`` table where each value is
``{ value = ..., source = "..." }``. Units: ``*_bp`` are integers in 1e-4 (10 000 = 1).
``pool_shares_bp`` and ``weight_bp`` are tables (pool -> share, age band -> weight); the order
of ``pool_shares_bp`` matters: its first pool takes what the others leave.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from ..errors import PolicyError
from ..parameters import ParameterProfile, builtin_names, is_int, load
from ..vocab import VISIT_TYPES

ONE = 10_000  # 1.0000 in 1e-4 units: the unit of the representation, not a policy number

# name -> (kind, lo, hi, meaning). kind: int, table (name -> int), visits (list of visit types).
# The bounds keep every product of the kernel inside int64 (docs/capitation.md, "Limits").
SPEC: dict[str, tuple[str, int, int, str]] = {
    "pool_shares_bp": ("table", 0, ONE, "share of the budget after out-of-area care, per pool; they add up to 10000"),
    "weight_bp": ("table", 1, 10**5, "capitation weight per age band"),
    "chronic_weight_bp": ("int", 0, 10**5, "factor on the weight of a chronic-disease patient"),
    "visit_types": ("visits", 0, 0, "visit types charged to the community"),
    "outside_charge_bp": ("int", 0, 10**5, "share of the fund amount charged for care outside the community"),
    "surplus_cap_bp": ("int", 0, ONE, "surplus counted for retention, as a share of the budget"),
    "retain_bp": ("int", 0, ONE, "share of the counted surplus the community keeps"),
    "overspend_band_bp": ("int", 0, ONE, "overspend band (share of the budget) within which the fund shares"),
    "overspend_share_bp": ("int", 0, ONE, "share of the overspend in the band paid by the fund"),
    "default_quality_bp": ("int", 0, ONE, "quality score of a community without an assessment"),
}

_KIND_TEXT = {
    "int": "an integer in [{lo}, {hi}]",
    "table": "a table of names to integers in [{lo}, {hi}]",
    "visits": "a list of visit types from " + ", ".join(VISIT_TYPES),
}
_TOP_KEYS = ("name", "description", "valid_from", "extends", "parameters")


@dataclasses.dataclass(frozen=True)
class CapitationProfile(ParameterProfile):
    """A loaded, checked capitation profile. Values are ints, dicts and tuples.

    Examples
    --------
    >>> p = load_profile("wenzhou-2022")
    >>> p.pool_shares_bp, p.chronic_weight_bp
    ({'drg': 5500, 'capitation': 3000, 'other': 1500}, 15000)
    >>> p.with_changes({"retain_bp": 6000}).retain_bp, p.retain_bp
    (6000, 8000)
    >>> p.sources["retain_bp"][:3]
    'ND:'
    """

    @staticmethod
    def check(values: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The values checked (docs/capitation.md, "Limits").

        Examples
        --------
        >>> p = load_profile("wenzhou-2022")
        >>> p.with_changes(weight_bp={"all": 10000}).weight_bp
        {'all': 10000}
        >>> p.with_changes(retain_bp=12000)
        Traceback (most recent call last):
        ...
        wzmedins.errors.PolicyError: retain_bp: 12000 is out of range; expected an integer in [0, 10000] \
(share of the counted surplus the community keeps)
        """
        return _check(values, name)


def builtin_profiles() -> list[str]:
    """Names of the built-in capitation profiles.

    Examples
    --------
    >>> builtin_profiles()
    ['wenzhou-2022']
    """
    return builtin_names(__package__)


def load_profile(name_or_path: str | os.PathLike | CapitationProfile = "wenzhou-2022") -> CapitationProfile:
    """Load a built-in capitation profile by name, or a profile file by path.

    Parameters
    ----------
    name_or_path
        ``"wenzhou-2022"`` or a path to a TOML file of the same form (it may ``extends`` a
        built-in profile and change only some values).

    Raises
    ------
    PolicyError
        A missing, unknown or out-of-range key, named with what is allowed.

    Examples
    --------
    >>> load_profile("wenzhou-2022").weight_bp["60-79"]
    15000
    >>> load_profile("hangzhou-2030")
    Traceback (most recent call last):
    ...
    wzmedins.errors.PolicyError: profile 'hangzhou-2030': no such built-in profile; built in: wenzhou-2022
    """
    if isinstance(name_or_path, CapitationProfile):
        return name_or_path
    return load(name_or_path, CapitationProfile, SPEC, __package__)


def _check(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in values:
        if key not in SPEC:
            raise PolicyError(f"{key}: unknown key; allowed keys are {', '.join(SPEC)}")
    for key, (kind, lo, hi, meaning) in SPEC.items():
        want = _KIND_TEXT[kind].format(lo=lo, hi=hi)
        if key not in values:
            raise PolicyError(f"{key}: missing in profile {name!r}; expected {want} ({meaning})")
        v = values[key]
        if kind == "int":
            if not is_int(v, lo, hi):
                raise PolicyError(f"{key}: {v!r} is out of range; expected {want} ({meaning})")
        elif kind == "table":
            if (
                not isinstance(v, Mapping)
                or not v
                or any(not isinstance(k, str) or not k or not is_int(x, lo, hi) for k, x in v.items())
            ):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
            v = dict(v)
        else:
            if not isinstance(v, (list, tuple)) or any(x not in VISIT_TYPES for x in v) or len(set(v)) != len(v):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want}, each once ({meaning})")
            v = tuple(v)
        out[key] = v
    if sum(out["pool_shares_bp"].values()) != ONE:
        raise PolicyError(
            f"pool_shares_bp: {out['pool_shares_bp']} add up to {sum(out['pool_shares_bp'].values())}; "
            f"expected {ONE} (the first pool takes the remainder)"
        )
    return out
