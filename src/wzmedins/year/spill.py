"""Keeping a year's memory to what the running stage needs (docs/year.md, "Scale").

A city-year has ten million persons: the per-person tables of the ``contributions`` stage
(contributions, accounts, enrolment) would hold several GB to the end if kept. With an ``out``
folder, :class:`Tables` writes such a table to ``OUT/<name>.parquet`` as soon as it is made and
keeps only the path; a later stage reads back only the columns it needs
(:meth:`Tables.columns`). :class:`Spill` does the same for rows kept batch by batch (the
inpatient rows for DRG, the signed persons' rows for capitation): each batch's part is written
as it comes and read back once, by the stage that uses it.

Without ``out`` everything stays in memory, and the results are the same to the fen (a test
compares the two paths).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq

ENUMS = ("county", "scheme", "category", "visit_type", "facility_level", "area", "assistance", "community_id")


def compact(table: pa.Table, *, enums: tuple[str, ...] = ENUMS) -> pa.Table:
    """``table`` with its enum-like string columns dictionary-encoded (one small dictionary
    and an int32 code a row instead of a string a row). Values, nulls and order unchanged.

    Examples
    --------
    >>> t = compact(pa.table({"person_id": ["a", "b"], "county": ["ruian", "ruian"]}))
    >>> t.schema.field("county").type, t.column("county").to_pylist()
    (DictionaryType(dictionary<values=string, indices=int32, ordered=0>), ['ruian', 'ruian'])
    """
    for i, f in enumerate(table.schema):
        if f.name in enums and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            table = table.set_column(i, f.name, pc.dictionary_encode(table.column(i)))
    return table


class Tables(MutableMapping):
    """The result tables by name; with ``folder``, tables put with :meth:`park` live on disk.

    Reading a parked table (``tables[name]``) reads it back whole, every time: a stage that
    needs a few columns asks :meth:`columns`.

    Examples
    --------
    >>> import tempfile
    >>> t = Tables(tempfile.mkdtemp())
    >>> t.park("people", pa.table({"person_id": ["a", "b"], "wage": [1, 2]}))
    >>> t["people"].num_rows, t.columns("people", ["wage"]).column_names, t.parked("people").name
    (2, ['wage'], 'people.parquet')
    """

    def __init__(self, folder: str | Path | None = None):
        self.folder = None if folder is None else Path(folder)
        self._tables: dict[str, pa.Table | Path] = {}
        self._writing: dict[str, Future] = {}
        self._writer: ThreadPoolExecutor | None = None

    def park(self, name: str, table: pa.Table) -> None:
        """Keep ``table`` as ``name``: written to the folder and then dropped from memory (kept
        in memory when there is no folder). The file is written on a thread of its own while
        the caller goes on; reading the table, or :meth:`wait`, waits for it."""
        if self.folder is None:
            self._tables[name] = table
            return
        path = self.folder / f"{name}.parquet"
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1)
        self._writing[name] = self._writer.submit(pq.write_table, table, path)
        self._tables[name] = path

    def wait(self, name: str | None = None) -> None:
        """Wait until table ``name`` (every table, without a name) is on disk."""
        for key in [name] if name is not None else list(self._writing):
            done = self._writing.pop(key, None)
            if done is not None:
                done.result()

    def parked(self, name: str) -> Path | None:
        """The Parquet file of a parked table (once written), or None when it is in memory."""
        value = self._tables.get(name)
        if isinstance(value, Path):
            self.wait(name)
            return value
        return None

    def columns(self, name: str, columns: list[str]) -> pa.Table:
        """Only ``columns`` of table ``name`` (those it has), read from disk when parked."""
        value = self._tables[name]
        if isinstance(value, Path):
            self.wait(name)
            have = pq.read_schema(value).names
            return pq.read_table(value, columns=[c for c in columns if c in have])
        return value.select([c for c in columns if c in value.column_names])

    def __getitem__(self, name: str) -> pa.Table:
        value = self._tables[name]
        if isinstance(value, Path):
            self.wait(name)
            return pq.read_table(value)
        return value

    def __setitem__(self, name: str, table: pa.Table) -> None:
        self._tables[name] = table

    def __delitem__(self, name: str) -> None:
        del self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


class Spill:
    """Rows kept batch by batch for a later stage: in memory, or one part per batch in
    ``folder`` (Arrow IPC, lz4; read back once, whole, by :meth:`table`).

    Examples
    --------
    >>> import tempfile
    >>> s = Spill(tempfile.mkdtemp())
    >>> s.append(pa.table({"fund": [1, 2]})); s.append(pa.table({"fund": [3]}))
    >>> s.table().column("fund").to_pylist(), len(s)
    ([1, 2, 3], 2)
    """

    def __init__(self, folder: str | Path | None = None):
        self.folder = None if folder is None else Path(folder)
        self.parts: list[pa.Table | Path] = []
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def append(self, table: pa.Table) -> None:
        if self.folder is None:
            self.parts.append(table)
            return
        # Arrow IPC with lz4: written and read back once by this process, a third of the time
        # of Parquet for these parts (docs/performance.md, "One city-year")
        path = self.folder / f"part-{len(self.parts):05d}.arrow"
        feather.write_feather(table, path, compression="lz4")
        self.parts.append(path)

    def read(self, part: pa.Table | Path) -> pa.Table:
        """One part, read back when spilled."""
        return feather.read_table(part) if isinstance(part, Path) else part

    def __len__(self) -> int:
        return len(self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)

    def table(self) -> pa.Table | None:
        """Every part as one table (dictionaries unified, one chunk), or None when none."""
        if not self.parts:
            return None
        parts = [self.read(p) for p in self.parts]
        return pa.concat_tables(parts, promote_options="permissive").unify_dictionaries().combine_chunks()
