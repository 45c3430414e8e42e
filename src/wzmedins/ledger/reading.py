"""Reading a ledger: whole tables, a committed batch's result, claims by id; voiding and
restoring a batch (``voids``). A mixin of :class:`wzmedins.Ledger`, with the helpers every
ledger operation shares (schema version, batch ids, timestamps)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pyarrow as pa

from .. import tables as t
from ..contract import STATE_FIELDS  # with the order rule's last (date, seq)
from ..settle import SettleResult
from ..settle.state import state_schema
from . import schema as s
from . import voids, warm
from .batch import unique_text
from .store import LedgerError, Tx

ID_TYPES = {"int64": pa.int64(), "string": pa.string()}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _schema_text(schema: pa.Schema) -> str:
    return base64.b64encode(schema.remove_metadata().serialize().to_pybytes()).decode("ascii")


def _schema_from_text(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def _check_version(tx: Tx) -> None:
    found = tx.query("SELECT value FROM meta WHERE key = 'schema_version'")["value"].to_pylist()
    if found != [s.SCHEMA_VERSION]:
        raise LedgerError(
            f"ledger schema version {found[0] if found else 'unknown'}; this wzmedins writes "
            f"version {s.SCHEMA_VERSION}: export it with the wzmedins that wrote it"
        )


def check_batch_id(batch_id: Any) -> str:
    """A batch id is a non-empty string without NUL, at most ``tables.MAX_ID_BYTES`` bytes
    (it keys the batch record on both backends)."""
    if not isinstance(batch_id, str):
        raise LedgerError(f"batch_id must be a non-empty string, got {type(batch_id).__name__} {batch_id!r}")
    if not batch_id.strip() or "\x00" in batch_id or len(batch_id.encode()) > t.MAX_ID_BYTES:
        raise LedgerError(
            f"batch_id must be a non-empty string without NUL, at most {t.MAX_ID_BYTES} bytes; got {batch_id[:40]!r}"
        )
    return batch_id


class LedgerReading:
    """What :class:`~wzmedins.Ledger` reads, and void/restore (``self.store``: its store)."""

    def _meta_types(self, tx: Tx) -> dict[str, pa.DataType]:
        rows = tx.query("SELECT key, value FROM meta").to_pylist()
        return {r["key"].removesuffix("_type"): ID_TYPES[r["value"]] for r in rows if r["key"].endswith("_type")}

    @staticmethod
    def _typed(rows: pa.Table, types: dict[str, pa.DataType | None]) -> pa.Table:
        """Stored rows with ids cast back to the ledger's id types."""
        for name, typ in (("claim_id", types.get("claim_id")), ("reverses", types.get("claim_id")),
                          ("person_id", types.get("person_id"))):  # fmt: skip
            if name in rows.column_names and typ is not None:
                rows = rows.set_column(rows.schema.get_field_index(name), name, rows[name].cast(typ))
        return rows

    def _stored(self, tx: Tx, record: dict, person_col) -> SettleResult:
        """A committed batch's result as it was returned; state: its persons' current rows."""
        batch_id = record["batch_id"]
        types = self._meta_types(tx)
        schema = _schema_from_text(record["settled_schema"])
        settled = tx.query(
            "SELECT " + ", ".join(f'"{c}"' for c in schema.names) + ' FROM settled WHERE batch_id = $1 ORDER BY "row"',
            (batch_id,),
        )
        settled = self._typed(settled, types).cast(schema)
        meta = {
            b"wzmedins.policy": record["policy"].encode(),
            b"wzmedins.fingerprint": record["fingerprint"].encode(),
        }
        rejected = tx.query(
            'SELECT "row", claim_id, reason, message FROM rejected WHERE batch_id = $1 ORDER BY "row"',
            (batch_id,),
        ).cast(t.REJECTED_SCHEMA)
        tx.temp("_wz_persons", unique_text(person_col))
        state = self._person_rows(tx, "state", types.get("person_id"))
        tx.drop_temp("_wz_persons")
        if state is None:
            state = state_schema(types.get("person_id", pa.string())).empty_table()
        else:
            state = state.cast(state_schema(state["person_id"].type))
        return SettleResult(settled.replace_schema_metadata(meta), rejected, state.replace_schema_metadata(meta))

    # ------------------------------------------------------------------ reading

    def table(self, name: str) -> pa.Table:
        """A whole stored table (``settled``, ``rejected``, ``state``, ``accounts``,
        ``batches``, ``closed_years``), ids in the ledger's types, in a stable order."""
        if name not in s.TABLES or name == "meta":
            raise LedgerError(f"no table {name!r}; one of " + ", ".join(n for n in s.TABLES if n != "meta"))
        with self.store.transaction(write=False) as tx:
            if name in ("settled", "rejected", "voided_settled", "voided_rejected"):
                rows = tx.query(
                    f'SELECT x.* FROM {name} x JOIN batches b ON x.batch_id = b.batch_id ORDER BY b.seqno, x."row"'
                )
            else:
                by = "seqno" if name == "batches" else ", ".join(f'"{k}"' for k in s.KEYS[name])
                rows = tx.query(f"SELECT * FROM {name} ORDER BY {by}")
            if name in ("rejected", "voided_rejected"):  # the rejected table's claim ids are text
                return s.conform(rows, name)
            return self._typed(s.conform(rows, name), self._meta_types(tx))

    def result(self, batch_id: str) -> SettleResult:
        """The result of a committed batch, as :meth:`settle` returned it (``settled`` and
        ``rejected`` as stored; ``state``: the current stored rows of its persons).

        Examples
        --------
        >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "r.duckdb", policy="wenzhou-2022")
        >>> _ = ledger.settle(pa.table({"claim_id": ["a"], "person_id": ["p"],
        ...     "settle_date": [dt.date(2022, 3, 1)], "scheme": ["resident"], "category": ["student"],
        ...     "visit_type": ["outpatient"], "facility_level": ["primary"], "total_cost": [50_000]}),
        ...     batch_id="d1")
        >>> ledger.result("d1").settled["fund"].to_pylist()
        [12000]
        """
        check_batch_id(batch_id)
        with self.store.transaction(write=False) as tx:
            _check_version(tx)
            record = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,)).to_pylist()
            if not record:
                raise LedgerError(f"no batch {batch_id!r} in the ledger")
            if record[0]["policy"] == "adjustment":
                raise LedgerError(f"batch {batch_id!r} is an accounts adjustment: see table('adjustments')")
            voids.refuse_if_voided(tx, batch_id)
            persons = tx.query("SELECT DISTINCT person_id FROM settled WHERE batch_id = $1", (batch_id,))
            return self._stored(tx, record[0], persons["person_id"])

    def claims(self, claim_ids: Any) -> pa.Table:
        """The stored settled rows of some claims, by id (and the rows reversing them), read
        by key without loading the whole table; ids in the ledger's types, in commit order.

        Examples
        --------
        >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb", policy="wenzhou-2022")
        >>> _ = ledger.settle(pa.table({"claim_id": ["a", "b"], "person_id": ["p", "q"],
        ...     "settle_date": [dt.date(2022, 3, 1)] * 2, "scheme": ["resident"] * 2,
        ...     "category": ["student"] * 2, "visit_type": ["outpatient"] * 2,
        ...     "facility_level": ["primary"] * 2, "total_cost": [50_000, 10_000]}), batch_id="d1")
        >>> ledger.claims(["a", "zzz"]).select(["claim_id", "person_id", "fund"]).to_pylist()
        [{'claim_id': 'a', 'person_id': 'p', 'fund': 12000}]
        """
        ids = claim_ids if isinstance(claim_ids, (pa.Array, pa.ChunkedArray)) else pa.array(list(claim_ids))
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        with self.store.transaction(write=False) as tx:
            _check_version(tx)
            tx.temp("_wz_lookup", unique_text(ids))
            rows = tx.query(
                "SELECT x.* FROM settled x JOIN batches b ON x.batch_id = b.batch_id "
                "WHERE x.claim_id IN (SELECT id FROM _wz_lookup) OR x.reverses IN (SELECT id FROM _wz_lookup) "
                'ORDER BY b.seqno, x."row"'
            )
            tx.drop_temp("_wz_lookup")
            return self._typed(s.conform(rows, "settled"), self._meta_types(tx))

    def void(self, batch_id: str, *, note: str | None = None) -> int:
        """Void a committed batch (作废): its settled and rejected rows leave the ledger (kept
        in ``voided_settled`` / ``voided_rejected``), its persons' state is put back as it
        was before it, its claim ids are free again, and ``voids`` records when and why.
        :meth:`restore` undoes it. Refused when something later built on the batch (a later
        batch of one of its persons, a closed year it touched): reverse claims instead.
        Returns the number of settled claims taken out.

        Examples
        --------
        >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "v.duckdb", policy="wenzhou-2022")
        >>> day = pa.table({"claim_id": ["a"], "person_id": ["p"],
        ...     "settle_date": [dt.date(2022, 3, 1)], "scheme": ["resident"], "category": ["adult"],
        ...     "visit_type": ["inpatient"], "facility_level": ["primary"], "total_cost": [200_000]})
        >>> _ = ledger.settle(day, batch_id="wrong-file")
        >>> ledger.void("wrong-file", note="sent twice by the hospital")
        1
        >>> ledger.table("settled").num_rows, ledger.state().num_rows
        (0, 0)
        >>> ledger.restore("wrong-file")
        1
        >>> ledger.state()["inpatient_deductible_used"].to_pylist()
        [30000]
        """
        self._warm = None  # state changes in SQL: the warm store is stale
        check_batch_id(batch_id)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            warm.bump(tx)
            return voids.void(tx, batch_id, note)

    def restore(self, batch_id: str) -> int:
        """Undo :meth:`void`: the batch's rows and its persons' state come back as they were.
        Refused when one of its persons was settled since, or one of its claim ids was
        settled again. Returns the number of settled claims put back."""
        self._warm = None  # state changes in SQL: the warm store is stale
        check_batch_id(batch_id)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            warm.bump(tx)
            return voids.restore(tx, batch_id)

    def state(self) -> pa.Table:
        """The stored state, one row per (person, year) (docs/rules/interfaces.md "state")."""
        st = self.table("state")
        return st.select(["person_id", "year", *STATE_FIELDS])

    def batches(self) -> pa.Table:
        """One row per committed batch, in commit order."""
        return self.table("batches")
