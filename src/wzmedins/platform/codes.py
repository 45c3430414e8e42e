"""The platform's code lists (字典表) as editable data: which platform code is which value of
the wzmedins vocabulary, with the source of each mapping. See ``docs/platform.md``."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from ..errors import PolicyError
from ..vocab import ASSISTANCE, CATEGORIES, FACILITY_LEVELS, SCHEMES, VISIT_TYPES

# each code list: the platform field it decodes, and the wzmedins values it may map to
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "insutype": ("scheme", SCHEMES),
    "med_type": ("visit_type", VISIT_TYPES),
    "psn_type": ("category", CATEGORIES),
    "psn_idet_type": ("assistance", ASSISTANCE),
    "hosp_lv": ("facility_level", FACILITY_LEVELS),
    "acct_used_flag": ("account use", ("yes",)),
}
AREA_KEYS = ("local_prefix", "province_prefix")
FUND_PAY_KEYS = (
    "employee_fund", "employee_critical_illness", "resident_fund", "resident_critical_illness",
    "medical_assistance",
)  # fmt: skip
BUILTIN = "national-2022"


class CodeListError(PolicyError):
    """A code-list file that cannot be used: names the list, the code and what is allowed."""


@dataclass(frozen=True)
class CodeLists:
    """The platform's code lists, mapped to wzmedins values.

    ``maps[list][code]`` is the wzmedins value, ``names[list][code]`` the platform's label,
    ``sources[list][code]`` the source label (explained in ``source_labels``); ``area`` holds
    the division-code prefixes and ``fund_pay_type`` the setldetail codes by scheme and payer.
    """

    name: str
    maps: dict[str, dict[str, str]]
    names: dict[str, dict[str, str]]
    sources: dict[str, dict[str, str]]
    area: dict[str, str]
    fund_pay_type: dict[str, str]
    fund_pay_type_name: dict[str, str]
    source_labels: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str, str, str, str]]:
        """One row per code: ``(list, code, value, name, source)``.

        Examples
        --------
        >>> [r for r in load_codes().describe() if r[0] == "insutype"][0]
        ('insutype', '310', 'employee', '职工基本医疗保险', 'NP')
        """
        rows = []
        for lst, codes in self.maps.items():
            rows.extend((lst, c, v, self.names[lst][c], self.sources[lst][c]) for c, v in codes.items())
        return rows


def _leaf(node, where: str, labels: dict[str, str]) -> tuple[str, str, str]:
    if not isinstance(node, dict) or set(node) - {"value", "name", "source"} or "value" not in node:
        raise CodeListError(f"{where}: expected {{ value = ..., name = ..., source = ... }}")
    source = node.get("source")
    if source not in labels:
        raise CodeListError(f"{where}: source {source!r} is not one of {', '.join(labels) or '(none defined)'}")
    return str(node["value"]), str(node.get("name", "")), source


def load_codes(source: str | os.PathLike | None = None) -> CodeLists:
    """Load code lists: the built-in ``national-2022`` (default) or a TOML file of the same shape.

    Parameters
    ----------
    source
        None or ``"national-2022"`` for the shipped lists, else a path to a TOML file.

    Raises
    ------
    CodeListError
        Naming the list and code that is wrong (an unknown value, a missing source).

    Examples
    --------
    >>> codes = load_codes()
    >>> codes.maps["insutype"]["310"], codes.maps["med_type"]["21"], codes.fund_pay_type["resident_fund"]
    ('employee', 'inpatient', '390100')
    """
    if source is None or os.fspath(source) == BUILTIN:
        return _builtin()
    return _load(source)


@functools.cache
def _builtin() -> CodeLists:
    return _load(BUILTIN)


def _load(source: str | os.PathLike) -> CodeLists:
    if os.fspath(source) == BUILTIN:
        text = (resources.files("wzmedins.platform") / "codes" / f"{BUILTIN}.toml").read_text("utf-8")
        where = BUILTIN
    else:
        if not os.path.isfile(source):
            raise CodeListError(f"code-list file not found: {os.fspath(source)}")
        with open(source, encoding="utf-8") as f:
            text = f.read()
        where = os.fspath(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CodeListError(f"{where}: not valid TOML: {exc}") from None
    labels = doc.get("sources", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise CodeListError(f"{where}: [sources] maps each label to a description")
    maps, names, sources = {}, {}, {}
    for lst, (column, allowed) in LISTS.items():
        table = doc.get(lst)
        if not isinstance(table, dict) or not table:
            raise CodeListError(f"{where}: list [{lst}] is missing or empty")
        maps[lst], names[lst], sources[lst] = {}, {}, {}
        for code, node in table.items():
            value, name, src = _leaf(node, f"{where}: [{lst}] code {code!r}", labels)
            if value not in allowed:
                raise CodeListError(
                    f"{where}: [{lst}] code {code!r} maps to {value!r}, not a {column} ({', '.join(allowed)})"
                )
            maps[lst][code], names[lst][code], sources[lst][code] = value, name, src
    area = {}
    for key in AREA_KEYS:
        value, _, _ = _leaf(doc.get("area", {}).get(key), f"{where}: [area] {key}", labels)
        if not value.isdigit():
            raise CodeListError(f"{where}: [area] {key} = {value!r}: expected a division-code prefix (digits)")
        area[key] = value
    fund, fund_names = {}, {}
    for key in FUND_PAY_KEYS:
        fund[key], fund_names[key], _ = _leaf(
            doc.get("fund_pay_type", {}).get(key), f"{where}: [fund_pay_type] {key}", labels
        )
    name = str(doc.get("list", {}).get("name", where))
    return CodeLists(name, maps, names, sources, area, fund, fund_names, dict(labels))


__all__ = ["CodeLists", "CodeListError", "load_codes", "LISTS"]
