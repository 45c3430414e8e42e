"""Export a ledger to Parquet with a checksum manifest, and rebuild a ledger from it.

The export is a directory: one Parquet file per table and ``manifest.json`` holding each
file's SHA-256 and row count. :func:`rebuild` checks every file before it writes anything, so
a changed, missing or extra file is found and named.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import schema as s
from .store import LedgerError

FORMAT = "wzmedins-ledger-export"
MANIFEST = "manifest.json"


class IntegrityError(LedgerError):
    """An export whose files do not match its manifest."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export(ledger, directory: str | os.PathLike) -> dict:
    """Write every table of ``ledger`` to ``directory`` (created; must be empty) as Parquet,
    read in one transaction that holds the writer lock, so the export is one consistent
    moment. Returns the manifest.

    Examples
    --------
    >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
    >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
    >>> ledger = wz.Ledger(tmp_path / "l.duckdb")
    >>> _ = ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
    ...     "current_balance": [500], "hist_balance": [0]}))
    >>> manifest = ledger.export(tmp_path / "backup")
    >>> manifest["tables"]["accounts"]["rows"]
    1
    >>> wz.Ledger.rebuild(tmp_path / "backup", tmp_path / "copy.duckdb").table("accounts").num_rows
    1
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise LedgerError(f"export directory {out} is not empty")
    tables = {}
    with ledger.store.transaction(write=True) as tx:
        for name in s.TABLES:
            data = s.conform(tx.query(f"SELECT * FROM {name}"), name)
            file = out / f"{name}.parquet"
            pq.write_table(data, file)
            tables[name] = {"file": file.name, "rows": data.num_rows, "sha256": _sha256(file)}
    manifest = {
        "format": FORMAT,
        "schema_version": s.SCHEMA_VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": tables,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
    return manifest


def verify(directory: str | os.PathLike) -> dict:
    """Check every file of an export against its manifest; returns the manifest or raises
    :class:`IntegrityError` naming the first file that does not match."""
    root = Path(directory)
    try:
        manifest = json.loads((root / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise IntegrityError(f"{root}: no {MANIFEST}") from None
    except json.JSONDecodeError as e:
        raise IntegrityError(f"{root / MANIFEST}: not valid JSON ({e})") from None
    if manifest.get("format") != FORMAT or manifest.get("schema_version") != s.SCHEMA_VERSION:
        raise IntegrityError(f"{root / MANIFEST}: not a {FORMAT} version {s.SCHEMA_VERSION} manifest")
    listed = manifest["tables"]
    for entry in listed.values():  # a manifest names files in its own folder, nothing else
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in ("", ".", "..") or name != Path(name).name or "\\" in name:
            raise IntegrityError(f"{root / MANIFEST}: file {name!r} is outside the export folder")
    if not set(s.TABLES) - set(s.ADDED_TABLES) <= set(listed) <= set(s.TABLES):
        raise IntegrityError(f"{root / MANIFEST}: tables {sorted(listed)}, expected {sorted(s.TABLES)}")
    extra = {p.name for p in root.iterdir()} - {MANIFEST} - {e["file"] for e in listed.values()}
    if extra:
        raise IntegrityError(f"{root}: files not in the manifest: {', '.join(sorted(extra))}")
    for entry in listed.values():
        file = root / entry["file"]
        if not file.exists():
            raise IntegrityError(f"{file}: missing")
        if _sha256(file) != entry["sha256"]:
            raise IntegrityError(f"{file}: checksum does not match the manifest (the file was changed)")
        if pq.read_metadata(file).num_rows != entry["rows"]:
            raise IntegrityError(f"{file}: {pq.read_metadata(file).num_rows} rows, manifest says {entry['rows']}")
    return manifest


def rebuild(directory: str | os.PathLike, location: str | os.PathLike, **ledger_options):
    """A new ledger at ``location`` (which must hold no ledger data yet) from the export in
    ``directory``, after :func:`verify`. Loaded in one transaction."""
    from .core import Ledger

    manifest = verify(directory)
    ledger = Ledger(location, **ledger_options)
    with ledger.store.transaction(write=True) as tx:
        for name in s.TABLES:
            if name != "meta" and tx.query(f"SELECT COUNT(*) AS n FROM {name}")["n"][0].as_py():
                raise LedgerError(f"{ledger.store.display}: table {name} is not empty; rebuild into a new ledger")
        tx.execute("DELETE FROM meta")  # the export's meta (schema version, id types) replaces it
        for name, entry in manifest["tables"].items():
            data = pq.read_table(Path(directory) / entry["file"])
            if data.schema.remove_metadata() != s.arrow_schema(name):
                raise IntegrityError(f"{entry['file']}: columns {data.schema.names} do not match table {name}")
            tx.append(name, pa.Table.from_batches(data.to_batches(), schema=s.arrow_schema(name)))
    return ledger
