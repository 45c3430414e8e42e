"""Files on any fsspec filesystem: atomic writes and reads of Parquet and Arrow IPC pieces.

A piece is written under a hidden temporary name in its final directory and renamed when
complete. A task retried after a lost worker writes the same final name again, so every
output exists exactly once; readers (``pyarrow.dataset``) skip hidden names (``.`` and ``_``)
and :func:`remove_temporaries` sweeps what a killed task left behind.
"""

from __future__ import annotations

import os
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

TEMP_MARK = ".tmp-"
IPC = ".arrow"  # shuffle pieces: Arrow IPC files, written and read without encoding


def filesystem(url: str):
    """``(fs, path)`` for a local path or any fsspec URL (``s3://``, ``gs://``, ``memory://`` …)."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(os.fspath(url))
    return fs, path


def join(*parts: str) -> str:
    return "/".join(p.rstrip("/") for p in parts)


def write_atomic(table: pa.Table, url: str, **options) -> None:
    """Write ``table`` at ``url`` through a temporary name and a rename: as an Arrow IPC file
    when the name ends in ``.arrow``, else as Parquet (``options`` go to
    ``pyarrow.parquet.write_table``).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_atomic(pa.table({"a": [1]}), d + "/x/p.parquet")
    >>> write_atomic(pa.table({"a": [1]}), d + "/x/p.parquet")  # a retry: still one file
    >>> sorted(os.listdir(d + "/x"))
    ['p.parquet']
    """
    fs, path = filesystem(url)
    directory, name = path.rsplit("/", 1)
    fs.makedirs(directory, exist_ok=True)
    temp = f"{directory}/.{name}{TEMP_MARK}{uuid.uuid4().hex}"
    try:
        with fs.open(temp, "wb") as f:
            if path.endswith(IPC):
                with pa.ipc.new_file(f, table.schema) as writer:
                    writer.write_table(table)
            else:
                pq.write_table(table, f, **options)
        fs.mv(temp, path)
    finally:
        if fs.exists(temp):
            fs.rm(temp)


def read_pieces(urls: list[str], schema: pa.Schema | None = None) -> pa.Table | None:
    """The pieces that exist among ``urls``, concatenated in that order (None: no piece)."""
    tables = []
    for url in urls:
        fs, path = filesystem(url)
        if fs.exists(path):
            with fs.open(path, "rb") as f:
                tables.append(pa.ipc.open_file(f).read_all() if path.endswith(IPC) else pq.read_table(f))
    if not tables:
        return None if schema is None else schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def remove_temporaries(url: str) -> int:
    """Delete the temporary files a killed task left under ``url``; returns how many."""
    fs, path = filesystem(url)
    if not fs.exists(path):
        return 0
    left = [p for p in fs.find(path) if TEMP_MARK in p.rsplit("/", 1)[-1]]
    for p in left:
        fs.rm(p)
    return len(left)


def remove_tree(url: str) -> None:
    fs, path = filesystem(url)
    if fs.exists(path):
        fs.rm(path, recursive=True)
