"""Parameter profiles of the DRG, fund and capitation rules: dated TOML files of checked values,
each with its source, loaded the same way for all three (``wzmedins.drg.profile``,
``wzmedins.fund.profile``, ``wzmedins.capitation.profile`` supply what differs: the keys, their
kinds and bounds, and the checks between keys).

A profile file has ``name``, ``description``, ``valid_from``, an optional ``extends`` (another
built-in profile of the same package whose values it inherits; chains of up to ten) and a
``[parameters]`` table where each value is ``{ value = ..., source = "..." }``.
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
from typing import Any, ClassVar

from .errors import PolicyError

TOP_KEYS = ("name", "description", "valid_from", "extends", "parameters")
MAX_EXTENDS = 10


@dataclasses.dataclass(frozen=True)
class ParameterProfile:
    """A loaded, checked profile. Values are plain ints, bools, tuples and dicts, read as
    attributes (a dict value is returned as a copy). Subclasses set ``check`` (the domain's
    validation, returning the checked values) and may add methods.

    Examples
    --------
    >>> from wzmedins.fund import load_profile
    >>> fp = load_profile("wenzhou-2022")
    >>> fp.with_changes({"reward_bp": 500}).reward_bp, fp.reward_bp
    (500, 1000)
    >>> fp.with_changes(reward_bp=500).sources["reward_bp"]
    'changed by the user'
    >>> fp.fingerprint() == fp.with_changes({}).fingerprint(), fp.with_changes(reward_bp=1) == fp
    (True, False)
    >>> fp.no_such_key
    Traceback (most recent call last):
    ...
    AttributeError: no_such_key
    """

    name: str
    description: str
    valid_from: dt.date
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    # the order of a table's entries is part of a value (capitation's first pool takes the rest),
    # unless a subclass says it is not
    tables_ordered: ClassVar[bool] = True

    @staticmethod
    def check(values: Mapping[str, Any], name: str) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and key in values:
            value = values[key]
            return dict(value) if isinstance(value, dict) else value
        raise AttributeError(key)

    def with_changes(self, changes: Mapping[str, Any] | None = None, /, **kw: Any):
        """A new profile with some values changed (what-if), checked as a loaded one is; this one
        is untouched. A changed value's source becomes ``changed by the user``.

        Raises
        ------
        PolicyError
            A changed value out of range, named by its key.
        """
        values = dict(self.values)
        sources = dict(self.sources)
        for key, value in dict(changes or {}, **kw).items():
            values[key] = value
            sources[key] = "changed by the user"
        return type(self)(self.name, self.description, self.valid_from, self.check(values, self.name), sources)

    def fingerprint(self) -> str:
        """A short hash of the values: two profiles with equal values share it."""
        blob = json.dumps({k: _plain(v) for k, v in sorted(self.values.items())}, sort_keys=not self.tables_ordered)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def builtin_names(package: str) -> list[str]:
    """Names of the built-in profiles of ``package`` (its ``profiles/*.toml``).

    Examples
    --------
    >>> builtin_names("wzmedins.capitation")
    ['wenzhou-2022']
    """
    files = resources.files(package).joinpath("profiles")
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def read(name_or_path: str | os.PathLike, package: str, *, what: str = "profile") -> dict:
    """The TOML document of a built-in profile of ``package`` (a bare name) or of a file.

    Examples
    --------
    >>> read("wenzhou-2022", "wzmedins.drg")["name"]
    'wenzhou-2022'
    >>> read("hangzhou-2030", "wzmedins.capitation")
    Traceback (most recent call last):
    ...
    wzmedins.errors.PolicyError: profile 'hangzhou-2030': no such built-in profile; built in: wenzhou-2022
    """
    s = os.fspath(name_or_path)
    if os.sep not in s and not s.endswith(".toml"):
        res = resources.files(package).joinpath("profiles", s + ".toml")
        if not res.is_file():
            raise PolicyError(f"profile {s!r}: no such built-in {what}; built in: {', '.join(builtin_names(package))}")
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


def load(name_or_path: str | os.PathLike, cls: type[ParameterProfile], spec: Mapping[str, Any], package: str, *,
         what: str = "profile") -> ParameterProfile:  # fmt: skip
    """Read a profile and the chain it ``extends``, merge the values (the file's win), refuse
    unknown and malformed keys, and check the values with ``cls.check``.

    Examples
    --------
    >>> from wzmedins.drg.profile import SPEC, DrgProfile
    >>> load("quzhou-2024", DrgProfile, SPEC, "wzmedins.drg").sources["low_bp"][:3]
    'FZ:'
    """
    raw = read(name_or_path, package, what=what)
    chain = [raw]
    while "extends" in chain[-1]:
        if len(chain) > MAX_EXTENDS:
            raise PolicyError(f"extends: a chain of more than {MAX_EXTENDS} profiles (a cycle?)")
        chain.append(read(chain[-1]["extends"], package, what=what))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for doc in reversed(chain):
        for key, entry in doc.get("parameters", {}).items():
            if key not in spec:
                raise PolicyError(f"parameters.{key}: unknown key; allowed keys are {', '.join(spec)}")
            if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
                raise PolicyError(f'parameters.{key}: expected {{ value = ..., source = "..." }}')
            values[key] = entry["value"]
            sources[key] = str(entry["source"])
    for top in raw:
        if top not in TOP_KEYS:
            raise PolicyError(f"{top}: unknown key; allowed: {', '.join(TOP_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str):
        raise PolicyError("name: missing; expected a string")
    valid_from = raw.get("valid_from")
    if not isinstance(valid_from, dt.date):
        raise PolicyError("valid_from: missing; expected a date such as 2022-01-01")
    return cls(name, str(raw.get("description", "")), valid_from, cls.check(values, name), sources)


def is_int(v: Any, lo: int, hi: int) -> bool:
    """An int (not a bool) within ``[lo, hi]``.

    Examples
    --------
    >>> is_int(3, 0, 5), is_int(True, 0, 5), is_int(6, 0, 5), is_int(3.0, 0, 5)
    (True, False, False, False)
    """
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
