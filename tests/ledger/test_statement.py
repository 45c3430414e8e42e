"""Explanation of benefits: every claim of a person's year with how each payer's amount came about."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

import wzmedins as wz
from tests.helpers import load_example


def test_statement_of_example_4(location):
    ex = load_example(4)
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(ex["claims"], batch_id="d1")
    st = ledger.statement("p4", 2022)
    (row,) = st.table.to_pylist()
    assert (row["total_cost"], row["self_pay"], row["class_b_self_pay"], row["eligible"]) == (
        12_000_000, 1_000_000, 300_000, 10_700_000)  # fmt: skip
    assert (row["deductible"], row["fund"], row["critical_illness"], row["medical_assistance"], row["cash"]) == (
        80_000, 7_434_000, 1_667_900, 1_708_290, 1_189_810)  # fmt: skip
    assert "The fund pays 70% of the remaining 106 200.00: 74 340.00" in row["explanation"]
    assert "Critical-illness insurance paid 16 679.00 on the patient's compliant share 35 660.00" in row["explanation"]
    assert "Medical assistance paid 17 082.90" in row["explanation"]
    text = st.to_text()
    assert "person p4, year 2022" in text and "11 898.10" in text
    html = st.to_html()
    assert html.startswith("<!DOCTYPE html>") and "<td>17 082.90</td>" in html and "Year total" in html


def test_statement_shows_caps_and_reversals(location):
    ex = load_example(7)  # the fund cap is reached on the second stay
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(ex["claims"], batch_id="d1")
    first = ex["claims"]["claim_id"][0].as_py()
    ledger.settle(pa.table({"claim_id": ["refund"], "person_id": ["p7"], "settle_date": [dt.date(2022, 12, 1)],
                            "reverses": [first]}), batch_id="d2")  # fmt: skip
    st = ledger.statement("p7", 2022)
    rows = st.table.to_pylist()
    assert [r["claim_id"] for r in rows] == [*ex["claims"]["claim_id"].to_pylist(), "refund"]
    assert "annual cap" in rows[1]["explanation"] and "39 600.00 above the cap" in rows[1]["explanation"]
    assert rows[2]["reverses"] == first and "Reverses claim" in rows[2]["explanation"]
    assert rows[2]["fund"] == -rows[0]["fund"]
    totals = st.totals()
    assert totals["total_cost"] == rows[1]["total_cost"]  # the refunded stay nets to nothing
    assert sum(totals[c] for c in ("account_current", "fund", "critical_illness", "medical_assistance",
                                   "account_hist", "cash")) == totals["total_cost"]  # fmt: skip


def test_statement_of_nobody_is_empty(location):
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    st = ledger.statement("nobody", 2022)
    assert st.table.num_rows == 0 and "No settled claims." in st.to_text()


def test_statement_tracks_the_years_deductible(location):
    """Example 2: the tertiary stay tops the year's inpatient deductible up to 800 yuan."""
    ledger = wz.Ledger(location, policy="wenzhou-2022")
    ledger.settle(load_example(2)["claims"], batch_id="d1")
    why = ledger.statement("p2", 2022).table["explanation"].to_pylist()
    assert "Deductible (起付线): 300.00" in why[0] and "inpatient deductible paid this year: 300.00" in why[0]
    assert "Deductible (起付线): 500.00" in why[1] and "inpatient deductible paid this year: 800.00" in why[1]
    assert "No deductible: this year's deductible had already been met." in why[2]
    assert "The fund pays 75% of the remaining 5 000.00: 3 750.00" in why[2]
