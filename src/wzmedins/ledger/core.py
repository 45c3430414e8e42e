"""The ledger: settle daily batches against stored state, one transaction per batch."""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..errors import SchemaError
from ..policy import Policy, load_policy
from ..settle import SettleResult
from ..settle import settle as settle_batch
from ..settle.state import STATE_FIELDS, state_schema
from . import schema as s
from . import voids, yearend
from .batch import (
    accepted_rows,
    claim_inputs,
    content_hash,
    duplicate_keys,
    fill_reversals,
    id_kind,
    id_text,
    storable_text,
    unique_text,
)
from .store import LedgerError, Store, Tx, open_store

ID_TYPES = {"int64": pa.int64(), "string": pa.string()}


class BatchConflictError(LedgerError):
    """A batch id that was already settled, now with different content or policy."""


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


def _resolve_policy(policy: Policy | str | os.PathLike | None) -> Policy:
    if policy is None:
        raise LedgerError("no policy: pass policy= to Ledger(...) or to settle(...)")
    return policy if isinstance(policy, Policy) else load_policy(policy)


class Ledger:
    """A settlement ledger (结算台账): settled claims, rejected rows, each person's state
    and the batch records, in a DuckDB file or a PostgreSQL database.

    Parameters
    ----------
    location
        A DuckDB file path (created on first use), or a ``postgresql://`` URL; a ``#name``
        suffix on the URL picks the schema (default ``wzmedins``).
    policy
        The default policy for :meth:`settle` (a :class:`~wzmedins.Policy` or a profile name).
    schema
        PostgreSQL schema holding the ledger's tables (overrides the URL's ``#name``).
    lock_timeout
        Seconds a writer waits for another writer before :class:`LedgerBusyError`.
    create
        Create the ledger when it does not exist (default). With False a missing ledger is a
        :class:`LedgerError`: readers use this, so a mistyped path is not an empty ledger.

    Examples
    --------
    >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
    >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
    >>> ledger = wz.Ledger(tmp_path / "ledger.duckdb", policy="wenzhou-2022")
    >>> day1 = pa.table({"claim_id": ["c1"], "person_id": ["p1"],
    ...     "settle_date": [dt.date(2022, 2, 1)], "scheme": ["resident"], "category": ["adult"],
    ...     "visit_type": ["inpatient"], "facility_level": ["primary"], "total_cost": [200_000]})
    >>> ledger.settle(day1, batch_id="2022-02-01").settled["fund"].to_pylist()
    [136000]
    >>> ledger.state()["inpatient_deductible_used"].to_pylist()
    [30000]
    """

    def __init__(
        self,
        location: str | os.PathLike,
        *,
        policy: Policy | str | None = None,
        schema: str | None = None,
        lock_timeout: float = 30.0,
        create: bool = True,
    ):
        self.store: Store = open_store(location, schema=schema, lock_timeout=lock_timeout, create=create)
        self.policy = policy

    def __repr__(self) -> str:
        return f"Ledger({self.store.display!r})"

    def close(self) -> None:
        """Close the ledger's database connection (PostgreSQL keeps one per Ledger; a DuckDB
        file is opened for each operation, so other processes can take turns)."""
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ settling

    def settle(self, batch: Any, *, batch_id: str, policy: Policy | str | None = None) -> SettleResult:
        """Settle one batch against the stored state and commit it in one transaction.

        Loads only what the batch needs: the state and opening accounts of its persons, the
        stored claim ids it repeats, and the settled rows its reversals name. The settled
        rows, the rejected rows, the new state and the batch record are committed together.

        Settling a ``batch_id`` again with the same content returns the stored result and
        changes nothing; with different content (or another policy) it raises
        :class:`BatchConflictError`. A claim id settled in an earlier batch is rejected
        ``DUPLICATE_CLAIM_ID``.

        Parameters
        ----------
        batch
            Claims (docs/rules/interfaces.md "claims"): Arrow, polars or a Parquet path.
        batch_id
            The caller's name for the batch, e.g. the settlement day.
        policy
            Overrides the ledger's default policy.

        Returns
        -------
        SettleResult
            ``settled`` and ``rejected`` as :func:`wzmedins.settle` returns them; ``state``
            is the stored state of the batch's persons after the batch.

        Examples
        --------
        >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
        >>> ledger = wz.Ledger(tmp_path / "l.duckdb", policy="wenzhou-2022")
        >>> claims = pa.table({"claim_id": ["a", "b"], "person_id": ["p", "p"],
        ...     "settle_date": [dt.date(2022, 3, 1)] * 2, "scheme": ["resident"] * 2,
        ...     "category": ["student"] * 2, "visit_type": ["outpatient"] * 2,
        ...     "facility_level": ["primary"] * 2, "total_cost": [50_000, 10_000]})
        >>> out = ledger.settle(claims, batch_id="d1")
        >>> out.settled["fund"].to_pylist()
        [12000, 6000]
        >>> ledger.settle(claims, batch_id="d1").settled["fund"].to_pylist()  # replay: stored result
        [12000, 6000]
        >>> ledger.settle(claims, batch_id="d2").rejected["reason"].to_pylist()
        ['DUPLICATE_CLAIM_ID', 'DUPLICATE_CLAIM_ID']
        """
        check_batch_id(batch_id)
        table = t.to_table(batch)
        policy = _resolve_policy(policy if policy is not None else self.policy)
        digest = content_hash(table)
        claim_col = t.column(table, "claim_id", "claim id")
        person_col = t.column(table, "person_id", "person id")
        reverses_col = t.column(table, "reverses", "claim id")
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            record = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,))
            if record.num_rows:
                voids.refuse_if_voided(tx, batch_id)
                return self._replay(tx, record.to_pylist()[0], digest, policy, person_col)
            claim_type = self._id_type(tx, "claim_id", claim_col)
            person_type = self._id_type(tx, "person_id", person_col)
            tx.temp("_wz_persons", unique_text(person_col))
            state = self._person_rows(tx, "state", person_type)
            accounts = self._person_rows(tx, "accounts", person_type)
            tx.drop_temp("_wz_persons")
            tx.temp("_wz_claims", unique_text(claim_col))
            known = tx.query("SELECT s.claim_id FROM settled s JOIN _wz_claims c ON s.claim_id = c.id")
            tx.drop_temp("_wz_claims")
            originals = None
            if reverses_col is not None and reverses_col.null_count < len(reverses_col):
                originals = self._originals(tx, reverses_col)
            late = yearend.LateChanges(tx, person_col)
            out = settle_batch(
                table, policy, state=state, accounts=accounts,
                known_claim_ids=known["claim_id"].cast(claim_type or pa.string()),
                originals=None if originals is None else self._typed(originals, {
                    "claim_id": claim_type, "person_id": person_type}),
            )  # fmt: skip
            self._store_result(tx, batch_id, table, out, originals)
            late.carry(tx, person_col, batch_id)  # a change of a closed year reaches the years after it
            self._record_batch(tx, {
                "batch_id": batch_id, "content_hash": digest, "policy": policy.name,
                "fingerprint": policy.fingerprint, "n_rows": table.num_rows,
                "n_settled": out.settled.num_rows, "n_rejected": out.rejected.num_rows,
                "settled_schema": _schema_text(out.settled.schema),
            })  # fmt: skip
        return out

    def _id_type(self, tx: Tx, name: str, col: pa.Array | None) -> pa.DataType | None:
        """The ledger's type for an id column; the first batch fixes it."""
        key = f"{name}_type"
        stored = tx.query("SELECT value FROM meta WHERE key = $1", (key,))
        kind = id_kind(col)
        if stored.num_rows:
            have = stored["value"][0].as_py()
            if kind is not None and kind != have:
                raise SchemaError(name, f"{have} ids, as in the ledger's earlier batches", kind)
            return ID_TYPES[have]
        if kind is None:
            return None
        tx.append("meta", pa.table({"key": [key], "value": [kind]}))
        return ID_TYPES[kind]

    def _meta_types(self, tx: Tx) -> dict[str, pa.DataType]:
        rows = tx.query("SELECT key, value FROM meta").to_pylist()
        return {r["key"].removesuffix("_type"): ID_TYPES[r["value"]] for r in rows if r["key"].endswith("_type")}

    def _person_rows(self, tx: Tx, table: str, person_type: pa.DataType | None) -> pa.Table | None:
        fields = STATE_FIELDS if table == "state" else ("current_balance", "hist_balance")
        cols = ", ".join(f't."{c}"' for c in ("person_id", "year", *fields))
        rows = tx.query(f"SELECT {cols} FROM {table} t JOIN _wz_persons p ON t.person_id = p.id")
        if rows.num_rows == 0:
            return None
        return rows.set_column(0, "person_id", rows["person_id"].cast(person_type or pa.string()))

    def _originals(self, tx: Tx, reverses: pa.Array) -> pa.Table:
        """Stored settled rows the batch's reversals may name: the originals and any earlier
        reversal of them (ids as stored, text)."""
        tx.temp("_wz_reverses", unique_text(reverses))
        rows = tx.query(
            "SELECT * FROM settled WHERE claim_id IN (SELECT id FROM _wz_reverses) "
            "OR reverses IN (SELECT id FROM _wz_reverses)"
        )
        tx.drop_temp("_wz_reverses")
        return s.conform(rows, "settled")

    @staticmethod
    def _typed(rows: pa.Table, types: dict[str, pa.DataType | None]) -> pa.Table:
        """Stored rows with ids cast back to the ledger's id types."""
        for name, typ in (("claim_id", types.get("claim_id")), ("reverses", types.get("claim_id")),
                          ("person_id", types.get("person_id"))):  # fmt: skip
            if name in rows.column_names and typ is not None:
                rows = rows.set_column(rows.schema.get_field_index(name), name, rows[name].cast(typ))
        return rows

    def _store_result(self, tx: Tx, batch_id: str, table: pa.Table, out: SettleResult, originals) -> None:
        rows = accepted_rows(table.num_rows, out.rejected)
        if len(rows) != out.settled.num_rows:
            raise LedgerError(f"internal: {len(rows)} accepted rows but {out.settled.num_rows} settled")
        inputs = claim_inputs(table, rows)
        settled = {name: out.settled[name] for name in out.settled.column_names if name in s.SETTLED}
        for name, values in inputs.items():
            settled.setdefault(name, values)
        for name in ("claim_id", "person_id", "reverses"):
            settled[name] = id_text(settled[name])
        for name in ("visit_type", "facility_level"):
            settled[name] = id_text(settled[name])  # dictionary-encoded labels to text
        settled = fill_reversals(
            settled, originals if originals is not None else s.arrow_schema("settled").empty_table()
        )
        settled["batch_id"] = pa.array([batch_id] * len(rows), pa.string())
        settled["row"] = pa.array(rows, pa.int64())
        tx.append("settled", s.conform(pa.table(settled), "settled"))
        rejected = out.rejected.append_column("batch_id", pa.array([batch_id] * out.rejected.num_rows, pa.string()))
        tx.append("rejected", s.conform(storable_text(rejected, ("claim_id", "message")), "rejected"))
        state = out.state.set_column(0, "person_id", id_text(out.state["person_id"]))
        voids.save_state_before(tx, batch_id, state["person_id"])  # what it replaces, so it can be voided
        state = state.append_column("batch_id", pa.array([batch_id] * state.num_rows, pa.string()))
        tx.upsert("state", s.conform(state, "state"), s.KEYS["state"])

    def _replay(self, tx: Tx, record: dict, digest: str, policy: Policy, person_col) -> SettleResult:
        batch_id = record["batch_id"]
        if record["content_hash"] != digest:
            raise BatchConflictError(
                f"batch {batch_id!r} was settled on {record['committed_at']} with different content "
                f"(hash {record['content_hash'][:12]}…, now {digest[:12]}…): give the new batch a new id"
            )
        if record["fingerprint"] != policy.fingerprint:
            raise BatchConflictError(
                f"batch {batch_id!r} was settled under policy {record['policy']} "
                f"({record['fingerprint'][:12]}…), not {policy.name} ({policy.fingerprint[:12]}…)"
            )
        return self._stored(tx, record, person_col)

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
        check_batch_id(batch_id)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            return voids.void(tx, batch_id, note)

    def restore(self, batch_id: str) -> int:
        """Undo :meth:`void`: the batch's rows and its persons' state come back as they were.
        Refused when one of its persons was settled since, or one of its claim ids was
        settled again. Returns the number of settled claims put back."""
        check_batch_id(batch_id)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            return voids.restore(tx, batch_id)

    def state(self) -> pa.Table:
        """The stored state, one row per (person, year) (docs/rules/interfaces.md "state")."""
        st = self.table("state")
        return st.select(["person_id", "year", *STATE_FIELDS])

    def batches(self) -> pa.Table:
        """One row per committed batch, in commit order."""
        return self.table("batches")

    # ------------------------------------------------------------------ accounts and year end

    def load_accounts(self, accounts: Any) -> int:
        """Load opening balances ``(person_id, year, current_balance[, hist_balance])``.

        A row replaces the stored opening balances of its person and year. Without a
        ``hist_balance`` column the stored one (e.g. from :meth:`close_year`) is kept. A
        person-year that already has settled claims is refused: its balances now live in
        the state (docs/rules/settlement.md §5).

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
        >>> ledger = wz.Ledger(tmp_path / "a.duckdb")
        >>> ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [200_000]}))
        1
        """
        table = t.to_table(accounts)
        n = table.num_rows
        reason = np.full(n, t.NO_REASON)
        person = t.ids(table, "person_id", reason)
        year = t.integers(table, "year", -1)
        data = {"person_id": id_text(person), "year": pa.array(year, pa.int32())}
        for name in ("current_balance", "hist_balance"):
            if name in table.column_names or name == "current_balance":
                data[name] = pa.array(t.money(table, name, reason, is_required=True))
        bad = np.flatnonzero((reason != t.NO_REASON) | (year < 0))
        if len(bad):
            row = int(bad[0])
            why = t.REASONS[reason[row]] if reason[row] != t.NO_REASON else "a missing or negative year"
            raise LedgerError(f"accounts row {row}: {why} (a missing, negative or malformed value)")
        twice = duplicate_keys(data["person_id"], data["year"])
        if twice is not None:
            raise LedgerError(
                f"accounts rows {twice[0]} and {twice[1]}: person {data['person_id'][twice[0]]}, "
                f"year {data['year'][twice[0]]} twice; one opening row per person and year"
            )
        data["source"] = pa.array(["loaded"] * n, pa.string())
        rows = pa.table(data)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            self._id_type(tx, "person_id", person)
            tx.temp("_wz_accounts", rows)
            opened = tx.query(
                "SELECT a.person_id, a.year FROM _wz_accounts a JOIN state s "
                "ON s.person_id = a.person_id AND s.year = a.year LIMIT 1"
            ).to_pylist()
            if opened:
                raise LedgerError(
                    f"accounts for person {opened[0]['person_id']}, year {opened[0]['year']}: that year already "
                    "has settled claims, so its balances are carried in the state"
                )
            if "hist_balance" not in data:
                rows = tx.query(
                    "SELECT a.person_id, a.year, a.current_balance, COALESCE(o.hist_balance, 0) AS hist_balance, "
                    "a.source FROM _wz_accounts a LEFT JOIN accounts o ON o.person_id = a.person_id AND o.year = a.year"
                )
            tx.drop_temp("_wz_accounts")
            tx.upsert("accounts", s.conform(rows, "accounts"), s.KEYS["accounts"])
        return n

    def close_year(self, year: int) -> int:
        """Year end (年终结转): roll each person's unused balances into next year's historical
        account (docs/rules/settlement.md §5), writing opening ``accounts`` rows for ``year + 1``.

        The closing balance is ``current_balance + hist_balance`` from the person's state
        for ``year``, or from the year's opening accounts row when the person had no
        claims. A current-year allocation already loaded for ``year + 1`` is kept. Persons
        who already have claims in ``year + 1`` are left alone (their year opened with the
        same roll-over), and so are zero balances with no row for ``year + 1``. Running it
        again refreshes the rows. Returns the number of accounts rows written.

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
        >>> ledger = wz.Ledger(tmp_path / "y.duckdb")
        >>> _ = ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [200_000]}))
        >>> ledger.close_year(2022)
        1
        >>> ledger.table("accounts").filter(pa.compute.field("year") == 2023).select(
        ...     ["current_balance", "hist_balance"]).to_pylist()
        [{'current_balance': 0, 'hist_balance': 250000}]
        """
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            return yearend.close_year(tx, int(year))

    def adjust_accounts(self, changes: Any, *, batch_id: str, note: str | None = None) -> int:
        """Add amounts to opened years' account balances, recorded as a batch (账户调整).

        ``changes`` has ``person_id``, ``year`` and the fen to add to ``current_balance``
        and/or ``hist_balance`` (negative to take away). A year that has begun (the person
        has claims in it) is changed in its state, otherwise in its opening accounts row; in a
        closed year the change is carried into the next year's historical balance too. A
        balance that would fall below zero refuses the whole adjustment. The batch id is
        recorded (``batches``, ``adjustments``): sending it again with the same rows changes
        nothing, with other rows raises :class:`BatchConflictError`. Returns the rows applied.

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "adj.duckdb")
        >>> _ = ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [0]}))
        >>> ledger.adjust_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [-10_000]}), batch_id="fix-1", note="allocation corrected")
        1
        >>> ledger.table("accounts")["current_balance"].to_pylist()
        [40000]
        """
        check_batch_id(batch_id)
        rows = yearend.adjustment_rows(t.to_table(changes))
        digest = content_hash(rows.append_column("note", pa.array([note] * rows.num_rows, pa.string())))
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            record = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,)).to_pylist()
            if record:
                if record[0]["content_hash"] != digest:
                    raise BatchConflictError(f"batch {batch_id!r} was recorded on {record[0]['committed_at']} "
                                             "with different content: give the adjustment a new id")  # fmt: skip
                return rows.num_rows
            self._id_type(tx, "person_id", rows["person_id"] if rows.num_rows else None)
            late = yearend.LateChanges(tx, rows["person_id"])
            yearend.apply_deltas(tx, rows, batch_id, source="adjustment", why=f"adjustment {batch_id!r}")
            late.carry(tx, rows["person_id"], batch_id)
            recorded = rows.append_column("batch_id", pa.array([batch_id] * rows.num_rows, pa.string()))
            recorded = recorded.append_column("note", pa.array([note] * rows.num_rows, pa.string()))
            tx.append("adjustments", s.conform(recorded, "adjustments"))
            self._record_batch(tx, {
                "batch_id": batch_id, "content_hash": digest, "policy": "adjustment", "fingerprint": "",
                "n_rows": rows.num_rows, "n_settled": 0, "n_rejected": 0, "settled_schema": "",
            })  # fmt: skip
        return rows.num_rows

    def _record_batch(self, tx: Tx, record: dict) -> None:
        seqno = tx.query("SELECT COALESCE(MAX(seqno), 0) + 1 AS n FROM batches")["n"][0].as_py()
        record = {**record, "seqno": seqno, "committed_at": _now()}
        tx.append("batches", s.conform(pa.Table.from_pylist([record]), "batches"))

    # ------------------------------------------------------------------ statements, export

    def statement(self, person_id: Any, year: int):
        """Explanation of benefits (费用结算单) for one person and year: see
        :func:`wzmedins.ledger.eob.statement`."""
        from .eob import statement

        return statement(self, person_id, year)

    def export(self, directory: str | os.PathLike) -> dict:
        """Write every table to Parquet with a checksum manifest: see
        :func:`wzmedins.ledger.export.export`."""
        from .export import export

        return export(self, directory)

    @classmethod
    def rebuild(cls, directory: str | os.PathLike, location: str | os.PathLike, **kwargs) -> Ledger:
        """A new ledger at ``location`` from an export, after checking every file against the
        manifest: see :func:`wzmedins.ledger.export.rebuild`."""
        from .export import rebuild

        return rebuild(directory, location, **kwargs)


__all__ = ["Ledger", "BatchConflictError"]
