"""What an integrator hit (issue 9): wrong money or lost data with exit status 0, and raw
errors, in the ledger. Each test failed before its fix. Amounts are worked by hand from
docs/rules/settlement.md (example: outpatient claims of an employee paid from the current
account first)."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.ledger import LedgerError
from wzmedins.ledger.export import IntegrityError


def claim(claim_id, person, day, total, *, reverses=None, visit="inpatient", scheme="resident", category="adult"):
    row = {"claim_id": [claim_id], "person_id": [person], "settle_date": [day], "scheme": [scheme],
           "category": [category], "visit_type": [visit], "facility_level": ["primary"],
           "total_cost": [total]}  # fmt: skip
    if reverses is not None:
        row = {"claim_id": [claim_id], "person_id": [person], "settle_date": [day], "reverses": [reverses]}
    return pa.table(row)


def employee(claim_id, person, day, total):
    return claim(claim_id, person, day, total, visit="outpatient", scheme="employee", category="in_service")


def opening(person, year, current, hist):
    return pa.table({"person_id": [person], "year": pa.array([year], pa.int32()),
                     "current_balance": [current], "hist_balance": [hist]})  # fmt: skip


# ------------------------------------------------------------------ 2: refunds after close_year


def test_january_refund_of_a_december_claim_reaches_the_next_year(location):
    # failed before: the 300 yuan given back stayed in closed 2022; 2023 opened with 2 200, not 2 500
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(opening("p6", 2022, 50_000, 200_000))
    ledger.settle(employee("e1", "p6", dt.date(2022, 12, 30), 30_000), batch_id="2022-12-30")  # 300 from current
    ledger.close_year(2022)
    assert ledger.table("accounts").filter(pa.compute.field("year") == 2023)["hist_balance"].to_pylist() == [220_000]
    ledger.settle(employee("e1r", "p6", dt.date(2023, 1, 5), 0).drop_columns(["total_cost"]).append_column(
        "reverses", pa.array(["e1"])).select(["claim_id", "person_id", "settle_date", "reverses"]),
        batch_id="2023-01-05")  # fmt: skip
    rows = {(r["year"], r["source"]): r["hist_balance"] for r in ledger.table("accounts").to_pylist()}
    assert rows[(2023, "close_year")] == 250_000  # 500 + 2 000 unused, all of it rolled over


def test_refund_after_close_reaches_a_year_already_begun(location):
    # failed before: the 2023 state kept hist 2 200 after the refund of the December claim
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(opening("p6", 2022, 50_000, 200_000))
    ledger.settle(employee("e1", "p6", dt.date(2022, 12, 30), 30_000), batch_id="d1")
    ledger.close_year(2022)
    ledger.settle(employee("e2", "p6", dt.date(2023, 1, 3), 10_000), batch_id="d2")  # 2023 opens: cur 0, hist 2 200
    before = {r["year"]: r for r in ledger.state().to_pylist()}[2023]
    assert (before["current_balance"], before["hist_balance"]) == (0, 210_000)  # 100 yuan from hist
    ledger.settle(claim("e1r", "p6", dt.date(2023, 1, 5), 0, reverses="e1"), batch_id="d3")
    after = {r["year"]: r for r in ledger.state().to_pylist()}
    assert after[2022]["current_balance"] + after[2022]["hist_balance"] == 250_000
    assert after[2023]["hist_balance"] == 240_000


def test_adjusting_an_opened_year_is_a_recorded_batch(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.load_accounts(opening("p6", 2022, 50_000, 200_000))
    ledger.settle(employee("e1", "p6", dt.date(2022, 3, 1), 30_000), batch_id="d1")  # cur 500 -> 200
    change = pa.table({"person_id": ["p6"], "year": [2022], "current_balance": [5_000], "hist_balance": [-1_000]})
    assert ledger.adjust_accounts(change, batch_id="fix-1", note="allocation corrected") == 1
    st = ledger.state().to_pylist()[0]
    assert (st["current_balance"], st["hist_balance"]) == (25_000, 199_000)
    assert ledger.adjust_accounts(change, batch_id="fix-1", note="allocation corrected") == 1  # a replay: no change
    assert ledger.state().to_pylist()[0]["current_balance"] == 25_000
    assert ledger.batches()["batch_id"].to_pylist() == ["d1", "fix-1"]
    assert ledger.table("adjustments").select(["batch_id", "person_id", "current_balance", "note"]).to_pylist() == [
        {"batch_id": "fix-1", "person_id": "p6", "current_balance": 5_000, "note": "allocation corrected"}]  # fmt: skip
    with pytest.raises(LedgerError, match="negative"):
        ledger.adjust_accounts(change.set_column(2, "current_balance", pa.array([-30_000])), batch_id="fix-2")


# ------------------------------------------------------------------ 3: negative opening balances


def test_negative_opening_balances_are_refused(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    with pytest.raises(LedgerError, match="negative"):
        ledger.load_accounts(opening("p6", 2022, -50_000, 0))
    policy = wz.load_policy("wenzhou-2022")
    day = employee("e1", "p6", dt.date(2022, 3, 1), 30_000)
    # failed before: a negative account payment and a deductible above the bill
    with pytest.raises(wz.SchemaError, match="current_balance"):
        wz.settle(day, policy, accounts=opening("p6", 2022, -50_000, 0))
    state = wz.settle(day, policy, accounts=opening("p6", 2022, 50_000, 0)).state
    state = state.set_column(state.schema.get_field_index("hist_balance"), "hist_balance", pa.array([-1]))
    with pytest.raises(wz.SchemaError, match="hist_balance"):
        wz.settle(employee("e2", "p6", dt.date(2022, 4, 1), 30_000), policy, state=state)


# ------------------------------------------------------------------ 4, 12: what a ledger path may be


def test_a_ledger_path_must_be_a_ledger_or_new(tmp_path):
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1]}), tmp_path / "claims.parquet")
    (tmp_path / "claims.csv").write_text("a,b\n1,2\n")
    (tmp_path / "folder").mkdir()
    for path, why in ((tmp_path / "claims.parquet", "not a wzmedins ledger"),
                      (tmp_path / "claims.csv", "not a wzmedins ledger"),
                      (tmp_path / "folder", "is a directory"),
                      (tmp_path / "no-such-folder" / "l.duckdb", "no folder")):  # fmt: skip
        # failed before: Parquet/CSV "succeeded" storing nothing; a folder gave a traceback
        with pytest.raises(LedgerError, match=why):
            wz.Ledger(path, policy="wenzhou-2022").settle(claim("c1", "p1", dt.date(2022, 3, 1), 1000), batch_id="d")
    assert (tmp_path / "claims.parquet").read_bytes()[:4] == b"PAR1"


def test_readers_need_an_existing_ledger(new_location):
    where = new_location()
    with pytest.raises(LedgerError, match="no ledger"):
        wz.Ledger(where, create=False).statement("p1", 2022)
    with pytest.raises(LedgerError, match="no ledger"):
        wz.Ledger(where, create=False).table("settled")
    wz.Ledger(where).load_accounts(opening("p6", 2022, 1, 1))  # now it exists
    assert wz.Ledger(where, create=False).table("accounts").num_rows == 1


# ------------------------------------------------------------------ 5: batch ids


@pytest.mark.parametrize("bad", [None, "", "  ", 7, "a\x00b"])
def test_batch_ids_are_non_empty_strings(location, bad):
    # failed before: None and "" accepted on DuckDB (the claims vanished from `settled`); int: a driver error
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    with pytest.raises(LedgerError, match="batch_id"):
        ledger.settle(claim("c1", "p1", dt.date(2022, 3, 1), 1000), batch_id=bad)
    assert ledger.batches().num_rows == 0


# ------------------------------------------------------------------ 10: duplicate accounts rows


def test_duplicate_accounts_rows_are_refused_at_load(location):
    # failed before: loaded; every later batch of that person was refused (raw error on PostgreSQL)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    twice = pa.concat_tables([opening("p6", 2022, 1_000, 0), opening("p6", 2022, 2_000, 0)])
    with pytest.raises(LedgerError, match="p6.*2022.*twice"):
        ledger.load_accounts(twice)
    assert ledger.table("accounts").num_rows == 0
    ledger.settle(employee("e1", "p6", dt.date(2022, 3, 1), 500), batch_id="d1")


# ------------------------------------------------------------------ 14: the same rows refused on both backends


def test_hostile_ids_are_rejected_rows_on_both_backends(location):
    # failed before on PostgreSQL: NUL in an id or a 3 kB id failed the whole batch with a raw ADBC error
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    long_id = "x" * 3000
    batch = pa.concat_tables([
        claim("ok", "p1", dt.date(2022, 3, 1), 1000),
        claim("nul\x00", "p1", dt.date(2022, 3, 1), 1000),
        claim(long_id, "p1", dt.date(2022, 3, 1), 1000),
        claim("c4", "p\x00", dt.date(2022, 3, 1), 1000),
        claim("c5", "p1", dt.date(2022, 3, 2), 0, reverses="x\x00"),
    ], promote_options="default")  # fmt: skip
    out = ledger.settle(batch, batch_id="d1")
    got = [(r["row"], r["reason"]) for r in out.rejected.to_pylist()]
    assert got == [(1, "MISSING_VALUE"), (2, "VALUE_OUT_OF_RANGE"), (3, "MISSING_VALUE"), (4, "UNKNOWN_ORIGINAL")]
    assert ledger.table("settled")["claim_id"].to_pylist() == ["ok"]
    stored = ledger.table("rejected")["claim_id"].to_pylist()
    assert stored[0] == "nul\\x00" and stored[1] == long_id  # NUL is stored escaped, on both backends
    again = ledger.settle(batch, batch_id="d1")  # the replay gives the same answer
    assert [(r["row"], r["reason"]) for r in again.rejected.to_pylist()] == got


def test_postgres_schema_names_it_would_refuse():
    for bad in ("pg_x", "PG_toast", "a" * 64):
        with pytest.raises(LedgerError, match="schema name"):
            wz.Ledger(f"postgresql://u:p@127.0.0.1:1/db#{bad}")


# ------------------------------------------------------------------ 15: rebuild stays in its folder


@pytest.mark.parametrize("escape", ["../outside.parquet", "/etc/passwd", "sub/../../x.parquet"])
def test_rebuild_confines_manifest_paths(tmp_path, escape):
    ledger = wz.Ledger(tmp_path / "l.duckdb")
    ledger.load_accounts(opening("p6", 2022, 1, 1))
    ledger.export(tmp_path / "backup")
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["accounts"]["file"] = escape
    manifest_path.write_text(json.dumps(manifest))
    (tmp_path / "backup" / "accounts.parquet").unlink()
    # failed before: the file named was read wherever it was
    with pytest.raises(IntegrityError, match="outside the export"):
        wz.Ledger.rebuild(tmp_path / "backup", tmp_path / "copy.duckdb")


# ------------------------------------------------------------------ 19: result, claim lookup, void


def test_result_and_claim_lookup(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    day = pa.concat_tables([claim("c1", "p1", dt.date(2022, 3, 1), 200_000),
                            claim("c2", "p2", dt.date(2022, 3, 1), -5)])  # fmt: skip
    first = ledger.settle(day, batch_id="d1")
    again = ledger.result("d1")
    assert again.settled.schema == first.settled.schema
    assert again.settled.to_pylist() == first.settled.to_pylist()
    assert again.rejected.to_pylist() == first.rejected.to_pylist()
    assert again.settled["fund"].to_pylist() == [136_000]  # 2 000 - 300 deductible, 80%
    ledger.settle(claim("c1r", "p1", dt.date(2022, 3, 2), 0, reverses="c1"), batch_id="d2")
    assert ledger.claims(["c1"])["claim_id"].to_pylist() == ["c1", "c1r"]
    assert ledger.claims(["nobody"]).num_rows == 0
    with pytest.raises(LedgerError, match="no batch"):
        ledger.result("d9")


def test_void_and_restore_a_batch(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(claim("c1", "p1", dt.date(2022, 3, 1), 200_000), batch_id="d1")  # deductible 300 used
    wrong = pa.concat_tables([claim("c2", "p1", dt.date(2022, 3, 2), 2_000_000),
                              claim("c3", "p2", dt.date(2022, 3, 2), 100_000)])  # fmt: skip
    ledger.settle(wrong, batch_id="d2")
    assert {r["person_id"]: r["fund_paid"] for r in ledger.state().to_pylist()} == {"p1": 136_000 + 1_600_000,
                                                                                     "p2": 56_000}  # fmt: skip
    assert ledger.void("d2", note="wrong file") == 2
    assert ledger.table("settled")["claim_id"].to_pylist() == ["c1"]
    assert {r["person_id"]: r["fund_paid"] for r in ledger.state().to_pylist()} == {"p1": 136_000}
    assert ledger.table("voids").select(["batch_id", "note"]).to_pylist() == [{"batch_id": "d2", "note": "wrong file"}]
    with pytest.raises(LedgerError, match="voided"):
        ledger.settle(wrong, batch_id="d2")
    assert ledger.restore("d2") == 2
    assert {r["person_id"]: r["fund_paid"] for r in ledger.state().to_pylist()} == {"p1": 136_000 + 1_600_000,
                                                                                     "p2": 56_000}  # fmt: skip
    assert ledger.settle(wrong, batch_id="d2").settled["claim_id"].to_pylist() == ["c2", "c3"]  # replay again
    # void, then the corrected file reuses the claim ids: fine; restoring the wrong one is then refused
    ledger.void("d2")
    fixed = ledger.settle(wrong.set_column(7, "total_cost", pa.array([1_000_000, 100_000])), batch_id="d2-fixed")
    assert fixed.rejected.num_rows == 0
    with pytest.raises(LedgerError, match="changed since|settled again"):
        ledger.restore("d2")


def test_void_refused_when_a_later_batch_built_on_it(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(claim("c1", "p1", dt.date(2022, 3, 1), 200_000), batch_id="d1")
    ledger.settle(claim("c2", "p1", dt.date(2022, 3, 2), 200_000), batch_id="d2")
    with pytest.raises(LedgerError, match="changed after it.*d2"):
        ledger.void("d1")
    assert ledger.void("d2") == 1 and ledger.void("d1") == 1  # newest first is fine
    assert ledger.state().num_rows == 0


def test_one_ledger_shared_by_threads(location):
    """docs/ledger.md: a Ledger object may be shared by threads; its operations take turns."""
    from concurrent.futures import ThreadPoolExecutor

    ledger = wz.Ledger(location, policy="wenzhou-2022")

    def day(i):
        ledger.settle(claim(f"c{i}", f"p{i}", dt.date(2022, 3, 1), 200_000), batch_id=f"d{i}")
        return ledger.table("settled").num_rows

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(day, range(8)))
    assert sorted(ledger.table("settled")["claim_id"].to_pylist()) == sorted(f"c{i}" for i in range(8))
    assert ledger.state()["inpatient_deductible_used"].to_pylist() == [30_000] * 8
