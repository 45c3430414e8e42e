"""A policy bundle: the four profiles a year runs under — benefits, DRG, capitation, fund.

A bundle is named by a TOML file (or a built-in name, which takes the profile of that name from
each of the four families)::

    [bundle]
    name = "wenzhou-2022-richer-residents"
    title = "Residents' inpatient ratio +5 points"     # optional
    policy = "wenzhou-2022"          # benefits (wz.load_policy): a built-in name or a path
    drg = "wenzhou-2022"             # wz.drg.load_profile
    capitation = "wenzhou-2022"      # wz.capitation.load_profile
    fund = "wenzhou-2022"            # wz.fund.load_profile

    [changes.policy]                 # optional what-ifs, each passed to that profile's with_changes
    "ratio_inpatient.resident" = [7000, 8000, 8500]

A relative path in a bundle file is taken relative to the file. Every value in code comes from
the profiles: the bundle only chooses them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PolicyError

FAMILIES = ("policy", "drg", "capitation", "fund")


@dataclass(frozen=True)
class Bundle:
    """The profiles of one run: ``policy`` (benefits), ``drg``, ``capitation``, ``fund``."""

    name: str
    policy: Any
    drg: Any
    capitation: Any
    fund: Any
    title: str = ""

    def fingerprints(self) -> dict[str, str]:
        """Each profile's fingerprint (where the family has one), for the report's provenance."""
        out = {}
        for f in FAMILIES:
            fp = getattr(getattr(self, f), "fingerprint", "")
            out[f] = str(fp() if callable(fp) else fp)
        return out


def _loaders() -> dict[str, Any]:
    import wzmedins as wz

    return {
        "policy": wz.load_policy,
        "drg": wz.drg.load_profile,
        "capitation": wz.capitation.load_profile,
        "fund": wz.fund.load_profile,
    }


def load_bundle(name_or_path: str | os.PathLike | Bundle = "wenzhou-2022") -> Bundle:
    """Load a bundle: a built-in name (the same name in all four families) or a TOML file.

    Examples
    --------
    >>> b = load_bundle("wenzhou-2022")
    >>> b.name, b.policy.name
    ('wenzhou-2022', 'wenzhou-2022')
    >>> load_bundle("no-such-bundle")
    Traceback (most recent call last):
    ...
    wzmedins.errors.PolicyError: bundle 'no-such-bundle': not a built-in name (policy: ...) nor a TOML file
    """
    if isinstance(name_or_path, Bundle):
        return name_or_path
    loaders = _loaders()
    text = os.fspath(name_or_path)
    path = Path(text)
    if not (path.suffix == ".toml" or path.exists()):
        try:
            return Bundle(text, *(loaders[f](text) for f in FAMILIES))
        except (PolicyError, FileNotFoundError, KeyError, ValueError) as exc:
            import wzmedins as wz

            raise PolicyError(
                f"bundle {text!r}: not a built-in name (policy: {', '.join(wz.policy.builtin_profiles())}) "
                f"nor a TOML file"
            ) from exc
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"bundle file {text}: {exc}") from exc
    head = data.get("bundle")
    if not isinstance(head, dict) or "name" not in head:
        raise PolicyError(f"bundle file {text}: needs a [bundle] table with a name")
    unknown = set(data) - {"bundle", "changes"} | (set(head) - {"name", "title", *FAMILIES})
    if unknown:
        raise PolicyError(
            f"bundle file {text}: unknown keys {sorted(unknown)}; allowed: bundle.{{name, title, "
            f"{', '.join(FAMILIES)}}} and [changes.<family>]"
        )
    changes = data.get("changes", {})
    bad = set(changes) - set(FAMILIES)
    if bad:
        raise PolicyError(f"bundle file {text}: [changes.{sorted(bad)[0]}] is not one of {', '.join(FAMILIES)}")
    profiles = {}
    for family in FAMILIES:
        ref = str(head.get(family, "wenzhou-2022"))
        if ref.endswith(".toml") and not Path(ref).is_absolute():
            ref = str(path.parent / ref)
        profile = loaders[family](ref)
        if changes.get(family):
            profile = profile.with_changes(changes[family])
        profiles[family] = profile
    return Bundle(str(head["name"]), title=str(head.get("title", "")), **profiles)
