"""Claim columns onto a settled table that lacks them (a ledger's, or one settled without
``carry=``): the facility's ``community_id`` and the ``settle_date``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .. import tables
from .columns import lookup


def carry_claim_columns(settled: Any, claims: Any, columns: Any = None) -> pa.Table:
    """Add claim inputs (by default ``community_id``, and ``settle_date`` when the claims have
    it) to a settled table.

    For settled tables that were not made with ``wz.settle(..., carry=[...])``, such as the
    ledger's: rows are matched on ``claim_id``; a column the settled table already has is kept
    as it is, and a settled row with no matching claim gets null.

    Examples
    --------
    >>> settled = pa.table({"claim_id": ["c2", "c1"], "fund": [100, 200]})
    >>> claims = pa.table({"claim_id": ["c1", "c2"], "community_id": ["K1", None]})
    >>> carry_claim_columns(settled, claims, ["community_id"]).to_pylist()
    [{'claim_id': 'c2', 'fund': 100, 'community_id': None}, {'claim_id': 'c1', 'fund': 200, 'community_id': 'K1'}]
    """
    s = tables.to_table(settled)
    c = tables.to_table(claims)
    sid = tables.required(s, "claim_id", tables.ID_EXPECTED)
    cid = tables.required(c, "claim_id", tables.ID_EXPECTED)
    if pa.types.is_dictionary(cid.type):
        cid = cid.cast(cid.type.value_type)
    if columns is None:
        columns = [name for name in ("community_id", "settle_date") if name in c.column_names or name == "community_id"]
    idx = lookup(sid, cid)
    take = pa.array(idx, pa.int64(), mask=idx < 0)
    for name in columns:
        if name in s.column_names:
            continue
        s = s.append_column(name, tables.required(c, name, "a claim column to carry").take(take))
    return s
