"""The ledger's tables: one column list per table, rendered as DDL for each backend.

Identifiers (``claim_id``, ``person_id``, ``reverses``) are stored as text whatever their
Arrow type; the ledger remembers the batch's id types in ``meta`` and casts back on the way
out, so int64 ids round-trip exactly.
"""

from __future__ import annotations

import pyarrow as pa

from ..contract import MONEY_OUT, STATE_ORDER
from ..contract import STATE_ACCUMULATORS as STATE_FIELDS

SCHEMA_VERSION = "2"  # 2: settled.late, state.last_date/last_seq (the order rule), voids and adjustments

TEXT, INT64, INT32, DATE = "text", "int64", "int32", "date"
ARROW = {TEXT: pa.string(), INT64: pa.int64(), INT32: pa.int32(), DATE: pa.date32()}

# settled: every output column of wz.settle, plus the claim inputs a statement needs
SETTLED: dict[str, str] = {
    "claim_id": TEXT,
    "batch_id": TEXT,
    "row": INT64,  # position in the batch
    "person_id": TEXT,
    "year": INT32,
    "settle_date": DATE,
    "seq": INT64,
    "scheme": TEXT,
    "category": TEXT,
    "visit_type": TEXT,
    "facility_level": TEXT,
    "area": TEXT,
    "assistance": TEXT,
    "reverses": TEXT,
    "total_cost": INT64,
    "self_pay": INT64,
    "class_b_self_pay": INT64,
    **{m: INT64 for m in MONEY_OUT},
    "ratio_bp": INT32,
    "ci_base_added": INT64,
    "ma_base_added": INT64,
    "late": INT32,  # the settled table's bool ``late`` (docs/settlement.md, the order rule), as 0/1
}
REJECTED = {"batch_id": TEXT, "row": INT64, "claim_id": TEXT, "reason": TEXT, "message": TEXT}
STATE: dict[str, str] = {
    "person_id": TEXT,
    "year": INT32,
    **{f: INT32 if f.startswith("admissions") else INT64 for f in STATE_FIELDS},
    **dict(zip(STATE_ORDER, (DATE, INT64), strict=True)),  # the order rule: last (settle_date, seq)
    "batch_id": TEXT,  # the batch that last changed the row ('' for a rebuilt ledger)
}
ACCOUNTS = {
    "person_id": TEXT,
    "year": INT32,
    "current_balance": INT64,
    "hist_balance": INT64,
    "source": TEXT,
}
BATCHES = {
    "batch_id": TEXT,
    "seqno": INT64,
    "content_hash": TEXT,
    "policy": TEXT,
    "fingerprint": TEXT,
    "n_rows": INT64,
    "n_settled": INT64,
    "n_rejected": INT64,
    "settled_schema": TEXT,  # base64 Arrow IPC schema of the settled table wz.settle returned
    "committed_at": TEXT,  # ISO 8601, UTC
}
CLOSED_YEARS = {"year": INT32, "persons": INT64, "closed_at": TEXT}
META = {"key": TEXT, "value": TEXT}
# a change of an opened year's balances by adjust_accounts: the amounts added, recorded as a batch
ADJUSTMENTS = {
    "batch_id": TEXT,
    "person_id": TEXT,
    "year": INT32,
    "current_balance": INT64,
    "hist_balance": INT64,
    "note": TEXT,
}
# state rows kept so a batch can be voided and restored: kind 'before' = the rows the batch
# replaced (as they were), kind 'voided' = the rows it wrote, while it is voided
STATE_SAVED = {"saved_by": TEXT, "kind": TEXT, **STATE}
VOIDS = {"batch_id": TEXT, "voided_at": TEXT, "restored_at": TEXT, "note": TEXT}

TABLES: dict[str, dict[str, str]] = {
    "meta": META,
    "batches": BATCHES,
    "settled": SETTLED,
    "rejected": REJECTED,
    "state": STATE,
    "accounts": ACCOUNTS,
    "closed_years": CLOSED_YEARS,
    "adjustments": ADJUSTMENTS,
    "state_saved": STATE_SAVED,
    "voids": VOIDS,
    "voided_settled": SETTLED,
    "voided_rejected": REJECTED,
}
# tables added after the first exports: an export without them rebuilds with them empty
ADDED_TABLES = ("adjustments", "state_saved", "voids", "voided_settled", "voided_rejected")
KEYS: dict[str, tuple[str, ...]] = {
    "meta": ("key",),
    "batches": ("batch_id",),
    "settled": ("claim_id",),
    "state": ("person_id", "year"),
    "accounts": ("person_id", "year"),
    "closed_years": ("year",),
    "adjustments": ("batch_id", "person_id", "year"),
    "state_saved": ("saved_by", "kind", "person_id", "year"),
    "voids": ("batch_id",),
    "voided_settled": ("batch_id", "claim_id"),
    "voided_rejected": ("batch_id", "row"),
}
INDEXES = {
    "settled_person": ("settled", ("person_id", "year")),
    "settled_reverses": ("settled", ("reverses",)),
    "settled_batch": ("settled", ("batch_id",)),
    "rejected_batch": ("rejected", ("batch_id",)),
    "state_batch": ("state", ("batch_id",)),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a stored table."""
    return pa.schema([(name, ARROW[kind]) for name, kind in TABLES[table].items()])


def conform(data: pa.Table, table: str) -> pa.Table:
    """``data`` with exactly the columns of ``table``, in order and cast to the stored types."""
    schema = arrow_schema(table)
    cols = []
    for field in schema:
        if field.name in data.column_names:
            cols.append(data.column(field.name).cast(field.type))
        else:
            cols.append(pa.nulls(data.num_rows, field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def ddl(types: dict[str, str], *, indexes: bool = True) -> list[str]:
    """CREATE statements for every table, with the backend's type names. With ``indexes``
    False there are no keys or indexes at all: DuckDB rewrites every index at each checkpoint
    (time in proportion to the ledger) and scans with zone maps instead; the ledger's logic
    keeps the keys unique under its writer lock."""
    out = []
    for name, cols in TABLES.items():
        body = [f'"{c}" {types[kind]}' for c, kind in cols.items()]
        if name in KEYS and indexes:
            body.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in KEYS[name]) + ")")
        out.append(f"CREATE TABLE IF NOT EXISTS {name} (" + ", ".join(body) + ")")
    for index, (table, cols) in INDEXES.items() if indexes else ():
        out.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} (" + ", ".join(f'"{c}"' for c in cols) + ")")
    out.append(
        "INSERT INTO meta (key, value) SELECT 'schema_version', '" + SCHEMA_VERSION + "' "
        "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'schema_version')"
    )
    return out
