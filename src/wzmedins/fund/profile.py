"""Fund profiles: every number of docs/rules/fund.md as data (``profiles/*.toml``), loaded and checked.

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
built-in profile whose values it inherits) and a ``[parameters]`` table where each value is
``{ value = ..., source = "..." }``. Units: ``*_bp`` are integers in 1e-4 (10 000 = 1),
``retired_account_annual`` is fen a year, ``warning_bands`` are tenths of a month.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import PolicyError
from ..parameters import ParameterProfile, builtin_names, is_int, load
from ..vocab import ASSISTANCE

BP = 10_000
# name -> (kind, lo, hi, meaning). Bounds keep every product of the kernels inside int64.
SPEC: dict[str, tuple[str, int, int, str]] = {
    "counties": ("strs", 1, 0, "the county ids of the pooled area"),
    "employer_rate_bp": ("int", 0, BP, "employer rate on the payroll"),
    "individual_rate_bp": ("int", 0, BP, "in-service rate on the base, credited to the account"),
    "flexible_rate_bp": ("int", 0, BP, "flexible-employment rate on the base (both shares)"),
    "retired_rate_bp": ("int", 0, BP, "retiree rate on the base"),
    "floor_bp": ("int", 0, 10**5, "base floor as a share of the social average wage A"),
    "ceiling_bp": ("int", 0, 10**5, "base ceiling as a share of A"),
    "retired_account_annual": ("int", 0, 10**8, "retiree account credit, fen a year"),
    "min_income_share_bp": ("int", 0, BP, "resident funding at least this share of last year's income"),
    "individual_min_third": ("bool", 0, 1, "the individual share is at least a third of the total"),
    "transition_base_year": ("int", 1990, 2100, "year of the counties' own standards"),
    "transition_share_bp": ("years", 0, BP, "share of the way to the city standard, per year"),
    "assistance_pays_bp": ("classes", 0, BP, "share of the individual part paid by medical assistance"),
    "subsidy_levels": ("strs", 1, 0, "fiscal levels that share the subsidy (the last takes the remainder)"),
    "subsidy_split_bp": ("split", 0, BP, "split of the subsidy per level: default and per county"),
    "capacity_months": ("int", 0, 120, "surplus moved to the city fund, months of payout"),
    "tolerance_bp": ("int", 0, BP, "overspend tolerance on the budget"),
    "shortfall_share_bp": ("int", 0, BP, "county's share of its collection shortfall"),
    "overspend_share_bp": ("int", 0, BP, "county's share of its overspend"),
    "city_share_bp": ("int", 0, BP, "city's share of what is left of a gap"),
    "reward_bp": ("int", 0, BP, "reward on the saving under budget"),
    "reserve_rate_bp": ("int", 0, BP, "risk reserve, share of revenue"),
    "reserve_cap_months": ("int", 0, 120, "risk reserve cap, months of expenditure"),
    "growth_bp": ("int", -BP, 10 * BP, "budget growth on this year's expenditure"),
    "warning_window_months": ("int", 1, 12, "months of expenditure averaged by the warning"),
    "warning_bands": ("ints", 0, 10**6, "upper bounds of red, orange, green in tenths of a month"),
}
WARNING_LEVELS = ("red", "orange", "green", "blue")  # the vocabulary of the warning, in order

_KIND_TEXT = {
    "int": "an integer in [{lo}, {hi}]",
    "ints": "three increasing integers in [{lo}, {hi}]",
    "bool": "true or false",
    "strs": "a non-empty list of distinct names",
    "years": "a table year -> integer in [{lo}, {hi}]",
    "classes": "a table assistance class -> integer in [{lo}, {hi}] for " + ", ".join(ASSISTANCE),
    "split": "a table default / county -> one integer per subsidy level, summing to 10000",
}


@dataclasses.dataclass(frozen=True)
class FundProfile(ParameterProfile):
    """A loaded, checked fund profile. Values are plain ints, bools, tuples and dicts.

    Examples
    --------
    >>> fp = load_profile("wenzhou-2022")
    >>> fp.employer_rate_bp, fp.transition_share(2023), fp.transition_share(2030)
    (950, 6667, 10000)
    >>> fp.with_changes({"reward_bp": 500}).reward_bp, fp.reward_bp
    (500, 1000)
    >>> fp.sources["min_income_share_bp"][:3]
    'FV:'
    """

    tables_ordered: ClassVar[bool] = False  # a table of years or classes means the same in any order

    @staticmethod
    def check(values: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The values checked (docs/rules/fund.md).

        Examples
        --------
        >>> fp = load_profile("wenzhou-2022")
        >>> fp.with_changes(city_share_bp=12_000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wzmedins.errors.PolicyError: city_share_bp: 12000 is out of range; expected an integer in [0, 10000] ...
        """
        return _check(values, name)

    def transition_share(self, year: int) -> int:
        """``s_y`` of docs/rules/fund.md §2: 0 up to the base year, the listed share, then 10 000.

        Years between listed ones take the last listed share before them.

        Examples
        --------
        >>> fp = load_profile("wenzhou-2022")
        >>> [fp.transition_share(y) for y in (2021, 2022, 2024, 2025)]
        [0, 3334, 10000, 10000]
        """
        if year <= self.transition_base_year:
            return 0
        shares = self.transition_share_bp
        listed = [y for y in shares if y <= year]
        if not listed:
            return 0
        if year > max(shares):
            return BP
        return shares[max(listed)]

    def subsidy_split(self, county: str) -> tuple[int, ...]:
        """The county's split of the subsidy over ``subsidy_levels`` (its own, else the default).

        Examples
        --------
        >>> fp = load_profile("wenzhou-2022")
        >>> fp.subsidy_split("taishun"), fp.subsidy_split("lucheng")
        ((6000, 2000, 2000), (4000, 3000, 3000))
        """
        split = self.subsidy_split_bp
        return split.get(county, split["default"])


def builtin_profiles() -> list[str]:
    """Names of the built-in fund profiles.

    Examples
    --------
    >>> builtin_profiles()
    ['wenzhou-2022']
    """
    return builtin_names(__package__)


def load_profile(name_or_path: str | os.PathLike | FundProfile = "wenzhou-2022") -> FundProfile:
    """Load a built-in fund profile by name, or a profile file by path.

    Parameters
    ----------
    name_or_path
        ``"wenzhou-2022"`` or a path to a TOML file of the same form (``extends`` may name a
        built-in profile whose values it inherits). A loaded profile is returned as it is.

    Raises
    ------
    PolicyError
        A missing, unknown or out-of-range key, named with what is allowed.

    Examples
    --------
    >>> fp = load_profile("wenzhou-2022")
    >>> fp.counties[:4], fp.warning_bands
    (('lucheng', 'longwan', 'ouhai', 'dongtou'), (30, 60, 150))
    """
    if isinstance(name_or_path, FundProfile):
        return name_or_path
    return load(name_or_path, FundProfile, SPEC, __package__, what="fund profile")


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
        bad = f"{key}: {v!r} is out of range; expected {want} ({meaning})"
        if kind == "int":
            if not is_int(v, lo, hi):
                raise PolicyError(bad)
        elif kind == "bool":
            if not isinstance(v, bool):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
        elif kind == "ints":
            if not isinstance(v, (list, tuple)) or len(v) != 3 or any(not is_int(x, lo, hi) for x in v):
                raise PolicyError(bad)
            if not v[0] < v[1] < v[2]:
                raise PolicyError(f"{key}: {list(v)} must be strictly increasing ({meaning})")
            v = tuple(v)
        elif kind == "strs":
            if (
                not isinstance(v, (list, tuple))
                or not v
                or any(not isinstance(x, str) or not x for x in v)
                or len(set(v)) != len(v)
            ):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
            v = tuple(v)
        elif kind == "years":
            if not isinstance(v, Mapping) or not v:
                raise PolicyError(bad)
            years = {}
            for y, share in v.items():
                try:
                    year = int(y)
                except (TypeError, ValueError):
                    raise PolicyError(f"{key}.{y}: not a year ({meaning})") from None
                if not is_int(share, lo, hi):
                    raise PolicyError(f"{key}.{y}: {share!r} is out of range; expected an integer in [{lo}, {hi}]")
                years[year] = share
            v = dict(sorted(years.items()))
        elif kind == "classes":
            if not isinstance(v, Mapping) or set(v) != set(ASSISTANCE):
                raise PolicyError(f"{key}: {v!r} is not allowed; expected {want} ({meaning})")
            for c, share in v.items():
                if not is_int(share, lo, hi):
                    raise PolicyError(f"{key}.{c}: {share!r} is out of range; expected an integer in [{lo}, {hi}]")
            v = {c: v[c] for c in ASSISTANCE}
        out[key] = v
    levels = out["subsidy_levels"]
    split = values["subsidy_split_bp"]
    if not isinstance(split, Mapping) or "default" not in split:
        raise PolicyError(f"subsidy_split_bp: {split!r} is not allowed; expected {_KIND_TEXT['split']}")
    checked = {}
    for where, shares in split.items():
        if where != "default" and where not in out["counties"]:
            raise PolicyError(f"subsidy_split_bp.{where}: not a county of the profile ({', '.join(out['counties'])})")
        if (
            not isinstance(shares, (list, tuple))
            or len(shares) != len(levels)
            or any(not is_int(x, 0, BP) for x in shares)
            or sum(shares) != BP
        ):
            raise PolicyError(
                f"subsidy_split_bp.{where}: {shares!r} is not allowed; expected {len(levels)} integers in "
                f"[0, 10000] summing to 10000, one per level of {list(levels)}"
            )
        checked[where] = tuple(shares)
    out["subsidy_split_bp"] = checked
    if out["floor_bp"] > out["ceiling_bp"]:
        raise PolicyError(f"floor_bp: {out['floor_bp']} must not exceed ceiling_bp {out['ceiling_bp']}")
    return out
