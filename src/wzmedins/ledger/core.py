"""The ledger: settle daily batches against stored state, one transaction per batch."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pyarrow as pa

from .. import tables as t
from ..contract import ACCOUNT_FIELDS, STATE_FIELDS  # STATE_FIELDS: with the order rule's last (date, seq)
from ..errors import SchemaError
from ..policy import Policy, load_policy
from ..settle import Settler, SettleResult
from ..settle.lean import SettledRows
from . import rows as lean
from . import schema as s
from . import voids, warm, yearend
from .accounts import LedgerAccounts
from .batch import (
    accepted_rows,
    claim_inputs,
    content_hash,
    fill_reversals,
    id_kind,
    id_text,
    storable_text,
    unique_text,
    usable_text,
)
from .reading import ID_TYPES, LedgerReading, _check_version, _now, _schema_text, check_batch_id
from .store import BatchConflictError, LedgerError, Store, Tx, open_store

LEAN_MAX = 1024  # claims a group may hold on the short path (its statements bind a parameter per claim)


def _resolve_policy(policy: Policy | str | os.PathLike | None) -> Policy:
    if policy is None:
        raise LedgerError("no policy: pass policy= to Ledger(...) or to settle(...)")
    return policy if isinstance(policy, Policy) else load_policy(policy)


class Ledger(LedgerReading, LedgerAccounts):
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
    hold
        Keep a DuckDB file open until :meth:`close` (or the ``with`` block ends), for a process
        that settles batch after batch: no open and no checkpoint per operation (docs/ledger.md,
        *Holding the file*). Other processes wait for the file meanwhile. By default the file
        is opened for each operation, so processes can take turns. A PostgreSQL ledger always
        keeps its connection.

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
        hold: bool = False,
    ):
        self.store: Store = open_store(location, schema=schema, lock_timeout=lock_timeout, create=create, hold=hold)
        self.policy = policy
        self._warm: tuple[tuple, Settler] | None = None  # a store kept between batches of this process

    def __repr__(self) -> str:
        return f"Ledger({self.store.display!r})"

    def close(self) -> None:
        """Close the ledger's database connection (PostgreSQL keeps one per Ledger; a DuckDB
        file is opened for each operation, so other processes can take turns, unless the
        ledger was opened with ``hold=True``)."""
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
            mark = warm.mark(tx, policy.fingerprint)  # another writer, new accounts, a void: the warm store is stale
            kept = self._warm[1] if self._warm and self._warm[0] == mark else None
            self._warm = None  # until this batch commits
            settler = kept or Settler(policy, remember_claims=False)
            before = self._load_persons(tx, settler, person_col, person_type, warm_store=kept is not None)
            tx.temp("_wz_claims", usable_text(claim_col))  # a claim id given twice is found once
            known = tx.query("SELECT claim_id FROM settled WHERE claim_id IN (SELECT id FROM _wz_claims)")
            tx.drop_temp("_wz_claims")
            originals = None
            if reverses_col is not None and reverses_col.null_count < len(reverses_col):
                originals = self._originals(tx, reverses_col)
            late = yearend.LateChanges(tx, person_col)
            out = settler.settle(
                table,
                known_claim_ids=known["claim_id"].cast(claim_type or pa.string()),
                originals=None if originals is None else self._typed(originals, {
                    "claim_id": claim_type, "person_id": person_type}),
            )  # fmt: skip
            self._store_result(tx, batch_id, table, out, originals, before)
            carried = late.carry(tx, person_col, batch_id)  # a change of a closed year reaches the years after
            generation = warm.bump(tx)
            seqno = self._record_batch(tx, {
                "batch_id": batch_id, "content_hash": digest, "policy": policy.name,
                "fingerprint": policy.fingerprint, "n_rows": table.num_rows,
                "n_settled": out.settled.num_rows, "n_rejected": out.rejected.num_rows,
                "settled_schema": _schema_text(out.settled.schema),
            })  # fmt: skip
        if not carried:  # a carry into later years changed state rows in SQL: load them afresh next time
            self._warm = ((mark[0], generation, seqno), settler)
        return out

    def settle_rows(self, claims: list[dict], *, batch_id: str, policy: Policy | str | None = None,
                    schema: pa.Schema | None = None) -> SettledRows:  # fmt: skip
        """Settle and commit a small group of claims given as dicts (one per claim, the columns
        of the claims table) as one batch, and return plain rows: what a real-time caller
        needs (docs/ledger.md, *A group at a time*).

        Ordinary claims against a warm store take a short path (``ledger/rows.py``: a few
        statements, no Arrow checks, no content hash); anything else is :meth:`settle` of the
        claims as a table (``schema``: its Arrow schema). The result is the same either way.

        Examples
        --------
        >>> import datetime as dt, pathlib, tempfile, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.duckdb", policy="wenzhou-2022")
        >>> def claim(cid, cost):   # as in settle()'s example, one group each: the same amounts
        ...     return {"claim_id": cid, "person_id": "p", "settle_date": dt.date(2022, 3, 1),
        ...             "scheme": "resident", "category": "student", "visit_type": "outpatient",
        ...             "facility_level": "primary", "total_cost": cost}
        >>> [r["fund"] for r in ledger.settle_rows([claim("a", 50_000)], batch_id="g1").settled]
        [12000]
        >>> [r["fund"] for r in ledger.settle_rows([claim("b", 10_000)], batch_id="g2").settled]
        [6000]
        >>> ledger.settle_rows([claim("b", 10_000)], batch_id="g3").rejected[0]["reason"]
        'DUPLICATE_CLAIM_ID'
        """
        check_batch_id(batch_id)
        policy = _resolve_policy(policy if policy is not None else self.policy)
        persons = list(dict.fromkeys(c.get("person_id") for c in claims))
        if (
            0 < len(claims) <= LEAN_MAX
            and all(type(c.get("claim_id")) is str for c in claims)
            and all(type(p) is str for p in persons)
        ):
            with self.store.transaction(write=True) as tx:
                done = self._settle_lean(tx, claims, batch_id, policy, persons)
            if done is not None:
                out, kept = done
                if kept is not None:
                    self._warm = kept
                return out
        table = pa.Table.from_pylist(claims, schema)
        if "reverses" in table.column_names and table["reverses"].null_count == table.num_rows:
            table = table.drop_columns(["reverses"])
        return SettledRows.of(self.settle(table, batch_id=batch_id, policy=policy))

    def _settle_lean(self, tx: Tx, claims, batch_id, policy, persons):
        """(rows, new warm store) of a group settled on the short path, or None: settle it in full."""
        head = lean.head(tx, batch_id, [c["claim_id"] for c in claims])
        lean.check_head(head)
        if head["recorded"]:
            record = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,)).to_pylist()[0]
            if record["content_hash"] != lean.NO_HASH:
                return None
            voids.refuse_if_voided(tx, batch_id)
            return SettledRows.of(self._replay(tx, record, lean.NO_HASH, policy, pa.array(persons))), None
        mark = (policy.fingerprint, int(head["generation"] or 0), head["last"])
        kept = self._warm[1] if self._warm and self._warm[0] == mark else None
        closed = head["closed"]  # a claim of a closed year changes the years after it: the full path
        of_closed = closed is not None and any(
            type(c.get("settle_date")) is not dt.date or c["settle_date"].year <= closed for c in claims
        )
        if (
            kept is None
            or of_closed
            or head["known"]
            or (head["claim_type"], head["person_type"]) != ("string", "string")
        ):
            return None
        before = lean.stored_state(tx, persons)
        self._warm = None  # until this group commits
        fresh = kept.persons.missing(pa.array(persons, pa.string()))
        if len(fresh):
            state = warm.state_for_store(warm.of_persons(before, fresh), pa.string())
            kept.load_state(state) if state is not None else None
            accounts = lean.opening_accounts(tx, fresh.to_pylist())
            kept.load_accounts(accounts) if accounts is not None else None
        out = kept.settle_rows(claims)
        if out is None:  # the store holds only what the ledger holds: still warm
            self._warm = (mark, kept)
            return None
        generation, seqno = mark[1] + 1, head["last"] + 1
        lean.write(tx, claims, out, before, batch_id, {
            "batch_id": batch_id, "seqno": seqno, "content_hash": lean.NO_HASH, "policy": policy.name,
            "fingerprint": policy.fingerprint, "n_rows": len(claims), "n_settled": len(out.settled),
            "n_rejected": 0, "settled_schema": _schema_text(out.settled_schema), "committed_at": _now(),
            "_generation": generation,
        })  # fmt: skip
        return out, ((mark[0], generation, seqno), kept)

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

    def _load_persons(self, tx: Tx, settler: Settler, person_col, person_type, *, warm_store: bool) -> pa.Table:
        """Read the stored state rows of the batch's persons once (returned, ids as text: what
        the batch replaces) and load the store with the state and opening accounts of the
        persons it lacks (all of them when it is not warm)."""
        persons = unique_text(person_col)
        tx.temp("_wz_persons", persons)
        before = warm.stored_state(tx, persons)
        relation, state = "_wz_persons", before
        if warm_store and persons.num_rows:
            fresh = usable_text(settler.persons.missing(person_col))  # distinct already
            relation, state = "_wz_fresh", warm.of_persons(before, fresh["id"])
            tx.temp(relation, fresh)
        state = warm.state_for_store(state, person_type)
        accounts = warm.accounts_for_store(tx, relation, person_type)
        tx.drop_temp(relation)
        if relation != "_wz_persons":
            tx.drop_temp("_wz_persons")
        settler.load_state(state) if state is not None else None
        settler.load_accounts(accounts) if accounts is not None else None
        return before

    def _person_rows(self, tx: Tx, table: str, person_type: pa.DataType | None) -> pa.Table | None:
        fields = STATE_FIELDS if table == "state" else ACCOUNT_FIELDS
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

    def _store_result(self, tx: Tx, batch_id: str, table: pa.Table, out: SettleResult, originals,
                      before: pa.Table) -> None:  # fmt: skip
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
        voids.save_state_before(tx, batch_id, warm.of_persons(before, state["person_id"]))  # so it can be voided
        state = state.append_column("batch_id", pa.array([batch_id] * state.num_rows, pa.string()))
        tx.replace("state", s.conform(state, "state"), s.KEYS["state"], warm.stored_mask(state, before))

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
