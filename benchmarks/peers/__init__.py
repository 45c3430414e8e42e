"""Settlement as a user might write it without wzmedins: polars expressions and DuckDB SQL.

Both peers implement the same part of settlement.md (see ``COVERS`` in each module) and are
checked against ``wzmedins.reference.settle`` in ``tests/test_peers.py``; the capacity report
times wzmedins on that same part (:func:`restricted`) as well as on all of it.
"""

from __future__ import annotations

from ._lookup import COVERS, OUTPUT_COLUMNS, restricted

__all__ = ["COVERS", "OUTPUT_COLUMNS", "restricted"]
