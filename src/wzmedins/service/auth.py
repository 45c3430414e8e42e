"""Who is calling: per-institution API keys and per-person credentials, kept hashed in a TOML
file that is re-read when it changes (keys are rotated without a restart).

The file::

    [[institution]]
    code = "H33030200001"          # fixmedins_code (定点医药机构编号)
    name = "温州市某医院"
    hosp_lv = "02"                 # its level (医院等级), from the code lists
    role = "institution"           # or "agency" (the insurer: reads every claim and statement)
    keys = ["sha256:…", "sha256:…"] # two during a rotation

    [[person]]
    psn_no = "P330302000001"
    keys = ["sha256:…"]

Keys are random (``new_key``), so one SHA-256 is the right hash: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import tomllib
from dataclasses import dataclass

from ..errors import WzmedinsError

ROLES = ("institution", "agency")


class KeyFileError(WzmedinsError):
    """A keys file that cannot be used (the message names the entry)."""


@dataclass(frozen=True)
class Caller:
    """An authenticated institution: its ``code`` (fixmedins_code), ``name``, level code and role."""

    code: str
    name: str
    hosp_lv: str | None
    role: str

    @property
    def is_agency(self) -> bool:
        return self.role == "agency"


def hash_key(key: str) -> str:
    """The stored form of a key.

    Examples
    --------
    >>> hash_key("abc")[:20]
    'sha256:ba7816bf8f01c'
    """
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A new random API key (256 bits)."""
    return "wzk_" + secrets.token_urlsafe(32)


def _parse(path: str) -> tuple[dict[str, Caller], dict[str, str]]:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise KeyFileError(f"keys file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise KeyFileError(f"keys file {path}: not valid TOML: {exc}") from None
    callers: dict[str, Caller] = {}
    persons: dict[str, str] = {}
    for i, entry in enumerate(doc.get("institution", [])):
        where = f"keys file {path}: institution #{i + 1}"
        code = entry.get("code")
        if not isinstance(code, str) or not code or ":" in code:
            raise KeyFileError(f"{where}: code (fixmedins_code) must be a non-empty string without ':'")
        role = entry.get("role", "institution")
        if role not in ROLES:
            raise KeyFileError(f"{where} ({code}): role {role!r} is not one of {', '.join(ROLES)}")
        caller = Caller(code, str(entry.get("name", "")), entry.get("hosp_lv"), role)
        for key in entry.get("keys", []):
            if not str(key).startswith("sha256:"):
                raise KeyFileError(f"{where} ({code}): keys are stored hashed ('sha256:…'), never in clear")
            callers[key] = caller
    for i, entry in enumerate(doc.get("person", [])):
        psn = entry.get("psn_no")
        if not isinstance(psn, str) or not psn:
            raise KeyFileError(f"keys file {path}: person #{i + 1}: psn_no must be a non-empty string")
        for key in entry.get("keys", []):
            if not str(key).startswith("sha256:"):
                raise KeyFileError(f"keys file {path}: person #{i + 1}: keys are stored hashed ('sha256:…')")
            persons[key] = psn
    return callers, persons


class KeyStore:
    """The keys file, re-read whenever its modification time or size changes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "keys.toml"
    >>> _ = path.write_text(f'[[institution]]\\ncode = "H1"\\nkeys = ["{hash_key("k1")}"]\\n')
    >>> store = KeyStore(path)
    >>> store.institution("k1").code, store.institution("nope")
    ('H1', None)
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._callers: dict[str, Caller] = {}
        self._persons: dict[str, str] = {}
        self._refresh()

    def _refresh(self) -> None:
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp != self._stamp:
                # a file being rewritten may fail to parse: keep the last good keys until it is whole
                try:
                    self._callers, self._persons = _parse(self.path)
                except KeyFileError:
                    if self._stamp is None:
                        raise
                    return
                self._stamp = stamp

    @staticmethod
    def _find(table: dict, key: str | None):
        if not key:
            return None
        # looked up by the hash of the presented key: timing can tell nothing about a stored key
        return table.get(hash_key(key))

    def institution(self, key: str | None) -> Caller | None:
        """The institution holding ``key``, or None."""
        self._refresh()
        return self._find(self._callers, key)

    def person(self, key: str | None) -> str | None:
        """The ``psn_no`` whose credential is ``key``, or None."""
        self._refresh()
        return self._find(self._persons, key)


def add_key(path: str | os.PathLike, *, code: str | None = None, psn_no: str | None = None, name: str = "",
            hosp_lv: str | None = None, role: str = "institution", replace: bool = False) -> str:  # fmt: skip
    """Make a new key for an institution (``code``) or a person (``psn_no``), store its hash in
    the keys file (creating the entry if needed) and return the key, which is shown only once.
    With ``replace`` the entry's other keys are dropped (the end of a rotation)."""
    path = os.fspath(path)
    doc = {"institution": [], "person": []}
    if os.path.exists(path):
        with open(path, "rb") as f:
            doc.update(tomllib.load(f))
    key = new_key()
    if code is not None:
        entries, match = doc["institution"], {"code": code}
        extra = {"name": name, "role": role} | ({"hosp_lv": hosp_lv} if hosp_lv else {})
    elif psn_no is not None:
        entries, match, extra = doc["person"], {"psn_no": psn_no}, {}
    else:
        raise KeyFileError("add_key needs code= (an institution) or psn_no= (a person)")
    entry = next((e for e in entries if all(e.get(k) == v for k, v in match.items())), None)
    if entry is None:
        entry = match | extra | {"keys": []}
        entries.append(entry)
    else:
        for k, v in extra.items():
            if v:
                entry[k] = v
    entry["keys"] = ([] if replace else list(entry.get("keys", []))) + [hash_key(key)]
    lines = []
    for table in ("institution", "person"):
        for e in doc[table]:
            lines.append(f"[[{table}]]")
            for k, v in e.items():
                if isinstance(v, list):
                    lines.append(f"{k} = [" + ", ".join(f'"{x}"' for x in v) + "]")
                else:
                    lines.append(f'{k} = "{v}"')
            lines.append("")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)  # readers see the old file or the new one, never half of it
    return key


__all__ = ["Caller", "KeyStore", "KeyFileError", "add_key", "hash_key", "new_key"]
