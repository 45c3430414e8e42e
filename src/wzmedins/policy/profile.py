"""Policy profiles: parameter files with an effective date range and a source per value.

A profile file (TOML) has a ``[profile]`` table (``name``, ``title``, ``illustrative``,
``effective_from``, optional ``effective_to``) and one table per parameter of docs/rules/settlement.md
§4. Every leaf is ``{ value = ..., source = "ND", note = "..." }``; see ``docs/policy.md``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from ..errors import PolicyError
from .schema import validate

SOURCE_LABELS = {
    "FZ": "found for another Zhejiang city (Hangzhou 杭政〔2020〕56号)",
    "FV": "national rule found verbatim",
    "NR": "national rule, seen applied elsewhere (Beijing)",
    "ND": "not found; illustrative",
    "what-if": "changed with Policy.with_changes",
}
PROFILE_KEYS = ("name", "title", "illustrative", "effective_from", "effective_to", "description")


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with wzmedins.

    Examples
    --------
    >>> "wenzhou-2022" in builtin_profiles()
    True
    """
    folder = resources.files("wzmedins.policy") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


MAX_PROFILE_BYTES = 1 << 20  # a profile is a few kB; anything larger is not one


def _read_profile_file(source: str | os.PathLike) -> str:
    """The text of a profile file; a device, FIFO or huge file is refused before reading, and
    an undecodable one named."""
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise PolicyError(f"{path}: not a regular file (a profile is a TOML file)")
    if os.path.getsize(path) > MAX_PROFILE_BYTES:
        size = os.path.getsize(path)
        raise PolicyError(f"{path}: {size:,} bytes, more than a profile can be ({MAX_PROFILE_BYTES:,})")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as e:
        raise PolicyError(f"{path}: not UTF-8 text (byte {e.start}): not a TOML profile") from None


def _split_leaves(node: Any, path: str, sources: dict[str, tuple[str, str]]) -> Any:
    """Replace every ``{value, source}`` leaf by its value, recording the source by path."""
    if isinstance(node, dict) and "value" in node:
        extra = set(node) - {"value", "source", "note"}
        if extra or "source" not in node:
            raise PolicyError(f"parameter {path!r}: a leaf holds value, source and an optional note")
        if node["source"] not in SOURCE_LABELS:
            raise PolicyError(f"parameter {path!r}: source {node['source']!r} is not one of {', '.join(SOURCE_LABELS)}")
        sources[path] = (node["source"], node.get("note", ""))
        return node["value"]
    if isinstance(node, dict):
        return {k: _split_leaves(v, f"{path}.{k}" if path else k, sources) for k, v in node.items()}
    raise PolicyError(f"parameter {path!r}: expected {{ value = ..., source = ... }}")


def _date(key: str, v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise PolicyError(f"profile.{key}: expected a date (YYYY-MM-DD), got {v!r}")


@dataclass(frozen=True)
class Profile:
    """One parameter set in force over a date range."""

    name: str
    effective_from: dt.date
    effective_to: dt.date | None
    params: dict
    sources: dict = field(default_factory=dict, compare=False)
    title: str = ""
    illustrative: bool = False

    @classmethod
    def from_dict(cls, doc: dict) -> Profile:
        """Build and validate a profile from a parsed TOML document."""
        doc = dict(doc)
        meta = doc.pop("profile", None)
        if not isinstance(meta, dict):
            raise PolicyError("missing table 'profile' (name, effective_from, ...)")
        for k in meta:
            if k not in PROFILE_KEYS:
                raise PolicyError(f"unknown key 'profile.{k}'; allowed: {', '.join(PROFILE_KEYS)}")
        if not isinstance(meta.get("name"), str) or not meta["name"]:
            raise PolicyError("missing parameter 'profile.name'")
        start = _date("effective_from", meta.get("effective_from"))
        if start is None:
            raise PolicyError("missing parameter 'profile.effective_from'")
        end = _date("effective_to", meta.get("effective_to"))
        if end is not None and end < start:
            raise PolicyError(f"profile.effective_to {end} is before effective_from {start}")
        sources: dict[str, tuple[str, str]] = {}
        params = _split_leaves(doc, "", sources)
        validate(params)
        return cls(
            meta["name"], start, end, params, sources, meta.get("title", ""), bool(meta.get("illustrative", False))
        )

    @classmethod
    def load(cls, source: str | os.PathLike) -> Profile:
        """Load a built-in profile by name, or a TOML file by path."""
        text = None
        if isinstance(source, str) and source in builtin_profiles():
            text = (resources.files("wzmedins.policy") / "profiles" / f"{source}.toml").read_text("utf-8")
        elif os.path.exists(source):
            text = _read_profile_file(source)
        else:
            raise PolicyError(
                f"no profile {os.fspath(source)!r}: not a file, nor a built-in profile "
                f"({', '.join(builtin_profiles())})"
            )
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise PolicyError(f"{os.fspath(source)}: not valid TOML: {e}") from None
        return cls.from_dict(doc)

    def canonical(self) -> dict:
        return {
            "name": self.name,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "params": self.params,
        }


def _set_path(params: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = params
    for i, part in enumerate(parts[:-1]):
        key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise PolicyError(f"with_changes: no parameter {'.'.join(parts[: i + 1])!r}") from None
    last: Any = int(parts[-1]) if isinstance(node, list) and parts[-1].isdigit() else parts[-1]
    if (
        isinstance(node, dict)
        and last not in node
        or isinstance(node, list)
        and not (isinstance(last, int) and last < len(node))
    ):
        raise PolicyError(f"with_changes: no parameter {path!r}")
    node[last] = value


class Policy:
    """One or more profiles with consecutive date ranges; each claim is settled under the
    profile in force on its settle date.

    Examples
    --------
    >>> import wzmedins as wz
    >>> policy = wz.load_policy("wenzhou-2022")
    >>> policy.name, len(policy.fingerprint)
    ('wenzhou-2022', 16)
    >>> richer = policy.with_changes({"ratio_inpatient.resident": [8500, 8000, 7500]})
    >>> richer.params["ratio_inpatient"]["resident"], policy.params["ratio_inpatient"]["resident"]
    ([8500, 8000, 7500], [8000, 7500, 7000])
    >>> richer.fingerprint != policy.fingerprint
    True
    """

    def __init__(self, profiles: list[Profile] | tuple[Profile, ...]):
        if not profiles:
            raise PolicyError("a policy needs at least one profile")
        ordered = sorted(profiles, key=lambda p: p.effective_from)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.effective_from == b.effective_from:
                raise PolicyError(f"profiles {a.name!r} and {b.name!r} both start on {a.effective_from}")
            if a.effective_to is not None and a.effective_to >= b.effective_from:
                # an explicit end is a statement about the rules: two profiles claiming one day
                # is a mistake to fix, not a cut to make silently
                raise PolicyError(
                    f"profiles {a.name!r} (to {a.effective_to}) and {b.name!r} (from {b.effective_from}) overlap: "
                    f"end {a.name!r} before {b.effective_from} or drop its effective_to"
                )
        self.profiles: tuple[Profile, ...] = tuple(ordered)

    @property
    def name(self) -> str:
        return "+".join(p.name for p in self.profiles)

    @property
    def params(self) -> dict:
        """The parameters of the only profile (a copy is not made: do not mutate)."""
        if len(self.profiles) != 1:
            raise PolicyError("this policy has several profiles: use policy.profiles[i].params")
        return self.profiles[0].params

    def periods(self) -> list[tuple[dt.date, dt.date | None]]:
        """Effective (from, to) of each profile: a later profile takes over from its start."""
        out = []
        for i, p in enumerate(self.profiles):
            end = p.effective_to
            if i + 1 < len(self.profiles):
                handover = self.profiles[i + 1].effective_from - dt.timedelta(days=1)
                end = handover if end is None else min(end, handover)
            out.append((p.effective_from, end))
        return out

    @cached_property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of the names, date ranges and parameter values."""
        blob = json.dumps([p.canonical() for p in self.profiles], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @cached_property
    def compiled(self):
        """The dense lookup tables the kernel reads (see ``wzmedins.policy.compile``)."""
        from .compile import compile_policy

        return compile_policy(self)

    def with_changes(self, changes: dict[str, Any]) -> Policy:
        """A new policy with some parameters replaced (dotted keys); this one is untouched.

        Changes apply to every profile of the policy; a changed key's source becomes ``what-if``.
        """
        new = []
        for p in self.profiles:
            params = copy.deepcopy(p.params)
            sources = dict(p.sources)
            for path, value in changes.items():
                _set_path(params, path, copy.deepcopy(value))
                sources[path] = ("what-if", "")
            validate(params)
            new.append(Profile(p.name, p.effective_from, p.effective_to, params, sources, p.title, p.illustrative))
        return Policy(new)

    def describe(self) -> list[tuple[str, str, Any, str, str]]:
        """Rows ``(profile, key, value, source, note)`` for every parameter, for display."""
        rows = []
        for p in self.profiles:
            for path, (src, note) in p.sources.items():
                node: Any = p.params
                for part in path.split("."):
                    node = node[int(part)] if isinstance(node, list) else node[part]
                rows.append((p.name, path, node, src, note))
        return rows

    def __repr__(self) -> str:
        spans = ", ".join(
            f"{p.name} from {a}" + (f" to {b}" if b else "")
            for p, (a, b) in zip(self.profiles, self.periods(), strict=True)
        )
        return f"Policy({spans}; fingerprint {self.fingerprint})"


def load_policy(*sources: str | os.PathLike | Profile | Policy | list) -> Policy:
    """Load one or more profiles (built-in names or TOML paths) as a :class:`Policy`.

    Examples
    --------
    >>> load_policy("wenzhou-2022").periods()
    [(datetime.date(2022, 1, 1), None)]
    >>> load_policy("no-such-profile")
    Traceback (most recent call last):
    ...
    wzmedins.errors.PolicyError: no profile 'no-such-profile': not a file, nor a built-in profile (wenzhou-2022)
    """
    profiles: list[Profile] = []
    for s in sources:
        if isinstance(s, (list, tuple)):
            profiles.extend(load_policy(*s).profiles)
        elif isinstance(s, Policy):
            profiles.extend(s.profiles)
        elif isinstance(s, Profile):
            profiles.append(s)
        else:
            profiles.append(Profile.load(s))
    return Policy(profiles)
