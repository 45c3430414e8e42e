"""Capitation profiles: every number of docs/rules/capitation.md as data (``profiles/*.toml``).

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
profile whose values it inherits) and a ``[parameters]`` table where each value is
``{ value = ..., source = "..." }``. Units: ``*_bp`` are integers in 1e-4 (10 000 = 1).
``pool_shares_bp`` and ``weight_bp`` are tables (pool -> share, age band -> weight); the order
of ``pool_shares_bp`` matters: its first pool takes what the others leave.
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
class CapitationProfile:
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

    name: str
    description: str
    valid_from: dt.date
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and key in values:
            value = values[key]
            return dict(value) if isinstance(value, dict) else value
        raise AttributeError(key)

    def with_changes(self, changes: Mapping[str, Any] | None = None, /, **kw: Any) -> CapitationProfile:
        """A new profile with some values changed (what-if); this one is untouched.

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
        merged = dict(changes or {}, **kw)
        values = dict(self.values)
        sources = dict(self.sources)
        for key, value in merged.items():
            values[key] = value
            sources[key] = "changed by the user"
        return CapitationProfile(self.name, self.description, self.valid_from, _check(values, self.name), sources)

    def fingerprint(self) -> str:
        """A short hash of the values: two profiles with equal values share it.

        Examples
        --------
        >>> p = load_profile("wenzhou-2022")
        >>> p.fingerprint() == p.with_changes({}).fingerprint(), p.with_changes(retain_bp=1) == p
        (True, False)
        """
        blob = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in sorted(self.values.items())})
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def builtin_profiles() -> list[str]:
    """Names of the built-in capitation profiles.

    Examples
    --------
    >>> builtin_profiles()
    ['wenzhou-2022']
    """
    files = resources.files(__package__).joinpath("profiles")
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


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
        if top not in _TOP_KEYS:
            raise PolicyError(f"{top}: unknown key; allowed: {', '.join(_TOP_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str):
        raise PolicyError("name: missing; expected a string")
    valid_from = raw.get("valid_from")
    if not isinstance(valid_from, dt.date):
        raise PolicyError("valid_from: missing; expected a date such as 2022-01-01")
    return CapitationProfile(name, str(raw.get("description", "")), valid_from, _check(values, name), sources)


def _read(name_or_path: str | os.PathLike) -> dict:
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


def _is_int(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


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
            if not _is_int(v, lo, hi):
                raise PolicyError(f"{key}: {v!r} is out of range; expected {want} ({meaning})")
        elif kind == "table":
            if (
                not isinstance(v, Mapping)
                or not v
                or any(not isinstance(k, str) or not k or not _is_int(x, lo, hi) for k, x in v.items())
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
