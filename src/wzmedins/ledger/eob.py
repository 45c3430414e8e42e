"""Explanation of benefits (费用结算单): for one person and year, every settled claim with
how each payer's amount came about, as a table and as text or HTML a clerk can hand over."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..tables import fen_to_yuan
from .batch import id_text

VISIT = {"outpatient": "outpatient (普通门诊)", "chronic": "chronic-disease outpatient (门诊慢性病)",
         "special": "special-disease outpatient (门诊特殊病种)", "inpatient": "inpatient (住院)"}  # fmt: skip
PAYER_LABELS = (
    ("account_current", "Current-year account (当年账户)"),
    ("fund", "Pooled fund (统筹基金)"),
    ("critical_illness", "Critical-illness insurance (大病保险)"),
    ("medical_assistance", "Medical assistance (医疗救助)"),
    ("account_hist", "Historical account (历年账户)"),
    ("cash", "Cash, paid by the patient (现金)"),
)


def _y(fen: int) -> str:
    """Yuan with a thousands separator: 17 082.90."""
    text = fen_to_yuan(fen)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, cents = text.split(".")
    return f"{sign}{int(whole):,}".replace(",", " ") + "." + cents


POOL = {"outpatient": "outpatient", "chronic": "outpatient", "inpatient": "inpatient"}


def explain(row: dict, fund_to_date: int, ci_base_to_date: int, deductible_to_date: int = 0) -> list[str]:
    """The sentences that say how one settled claim's amounts came about."""
    if row["reverses"] is not None:
        return [f"Reverses claim {row['reverses']} (冲正): every amount is the negative of the original's, "
                "and what the original took from the year's deductible, caps and accounts is given back."]  # fmt: skip
    lines = [
        f"Total {_y(row['total_cost'])} = items outside the catalogue {_y(row['self_pay'])} "
        f"+ class-B share paid first {_y(row['class_b_self_pay'])} + in-scope (政策范围内) {_y(row['eligible'])}."
    ]
    if row["account_current"]:
        lines.append(f"The current-year account paid {_y(row['account_current'])} of the in-scope amount first.")
    base = row["eligible"] - row["account_current"] - row["deductible"]
    if row["deductible"]:
        lines.append(
            f"Deductible (起付线): {_y(row['deductible'])} is the patient's before the fund pays "
            f"({POOL.get(row['visit_type'], row['visit_type'])} deductible paid this year: {_y(deductible_to_date)})."
        )
    elif row["visit_type"] != "special" and base > 0:
        lines.append("No deductible: this year's deductible had already been met.")
    lines.append(
        f"The fund pays {row['ratio_bp'] / 100:g}% of the remaining {_y(base)}: {_y(row['fund'] + row['over_cap'])}; "
        f"the other {_y(row['coinsurance'])} is coinsurance (比例自付)."
    )
    if row["over_cap"]:
        lines.append(
            f"The fund's annual cap (最高支付限额) was reached: it paid {_y(row['fund'])}, and "
            f"{_y(row['over_cap'])} above the cap is the patient's (fund paid this year: {_y(fund_to_date)})."
        )
    if row["ci_base_added"]:
        if row["critical_illness"]:
            lines.append(
                f"Critical-illness insurance paid {_y(row['critical_illness'])} on the patient's compliant share "
                f"{_y(row['ci_base_added'])} (compliant amount this year: {_y(ci_base_to_date)})."
            )
        else:
            lines.append(
                f"The compliant share {_y(row['ci_base_added'])} counts toward critical-illness insurance "
                f"(this year: {_y(ci_base_to_date)}); nothing is paid below its deductible or above its cap."
            )
    if row["medical_assistance"]:
        lines.append(
            f"Medical assistance paid {_y(row['medical_assistance'])} of the remaining {_y(row['ma_base_added'])}."
        )
    if row["account_hist"]:
        lines.append(f"The historical account paid {_y(row['account_hist'])} of what was left.")
    lines.append(f"Left to pay in cash: {_y(row['cash'])}.")
    return lines


@dataclass
class Statement:
    """One person's year: ``table`` (one row per claim, with an ``explanation``), and
    :meth:`to_text` / :meth:`to_html` renderings."""

    person_id: Any
    year: int
    table: pa.Table

    def totals(self) -> dict[str, int]:
        """Sum in fen of each payer and of the total cost over the year's claims."""
        return {c: sum(self.table[c].to_pylist()) for c in ("total_cost", *(p for p, _ in PAYER_LABELS))}

    def to_text(self) -> str:
        """A plain-text statement."""
        rows = self.table.to_pylist()
        out = [
            f"Statement of benefits (费用结算单) — person {self.person_id}, year {self.year}",
            "",
        ]
        if not rows:
            out.append("No settled claims.")
        for r in rows:
            out.append(f"Claim {r['claim_id']} · {r['settle_date']} · {VISIT.get(r['visit_type'], r['visit_type'])}"
                       f" · {r['facility_level']} · total {_y(r['total_cost'])}")  # fmt: skip
            for label_col, label in PAYER_LABELS:
                if r[label_col]:
                    out.append(f"    {label:<44}{_y(r[label_col]):>14}")
            out.extend("  " + line for line in r["explanation"].split("\n"))
            out.append("")
        tot = self.totals()
        out.append(f"Year total {_y(tot['total_cost'])}:")
        for col, label in PAYER_LABELS:
            out.append(f"    {label:<44}{_y(tot[col]):>14}")
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML statement."""
        e = html.escape
        head = [
            "Claim",
            "Date",
            "Visit",
            "Level",
            "Total",
            *(lab for _, lab in PAYER_LABELS),
            "How it came about",
        ]
        body = []
        for r in self.table.to_pylist():
            cells = [e(str(r["claim_id"])), e(str(r["settle_date"])), e(VISIT.get(r["visit_type"], r["visit_type"])),
                     e(r["facility_level"]), _y(r["total_cost"]), *(_y(r[c]) for c, _ in PAYER_LABELS)]  # fmt: skip
            why = "<br>".join(e(x) for x in r["explanation"].split("\n"))
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{why}</td></tr>")
        tot = self.totals()
        foot = [
            "Year total",
            "",
            "",
            "",
            _y(tot["total_cost"]),
            *(_y(tot[c]) for c, _ in PAYER_LABELS),
            "",
        ]
        title = e(f"Statement of benefits (费用结算单) — person {self.person_id}, year {self.year}")
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>table{{border-collapse:collapse}}td,th{{border:1px solid #999;"
            "padding:4px;vertical-align:top}td:nth-child(n+5){text-align:right}td:last-child{text-align:left}"
            f"</style></head>\n<body><h1>{title}</h1>\n<table>\n<thead><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in head)
            + "</tr></thead>\n<tbody>\n"
            + "\n".join(body)
            + "\n</tbody>\n<tfoot><tr>"
            + "".join(f"<th>{c}</th>" for c in foot)
            + "</tr></tfoot>\n</table></body></html>\n"
        )


def statement(ledger, person_id: Any, year: int) -> Statement:
    """The explanation of benefits for ``person_id`` in ``year``, claims in settlement order.

    Examples
    --------
    >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, wzmedins as wz
    >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
    >>> ledger = wz.Ledger(tmp_path / "l.duckdb", policy="wenzhou-2022")
    >>> _ = ledger.settle(pa.table({"claim_id": ["c1"], "person_id": ["p1"],
    ...     "settle_date": [dt.date(2022, 3, 1)], "scheme": ["resident"], "category": ["adult"],
    ...     "visit_type": ["inpatient"], "facility_level": ["tertiary"], "total_cost": [5_000_000]}),
    ...     batch_id="d1")
    >>> st = ledger.statement("p1", 2022)
    >>> st.table["fund"].to_pylist(), st.totals()["cash"]
    ([3444000], 1556000)
    >>> print(st.to_text().splitlines()[7])
      The fund pays 70% of the remaining 49 200.00: 34 440.00; the other 14 760.00 is coinsurance (比例自付).
    >>> st.table["steps"][0].as_py().split("; ")[1]
    '起付线 deductible 800.00 [deductible_inpatient.resident FZ]'
    """
    person = id_text(pa.array([person_id]))[0].as_py()
    with ledger.store.transaction(write=False) as tx:
        rows = tx.query(
            "SELECT s.* FROM settled s JOIN batches b ON s.batch_id = b.batch_id "
            'WHERE s.person_id = $1 AND s.year = $2 ORDER BY s.settle_date, s.seq, b.seqno, s."row"',
            (person, int(year)),
        )
        rows = ledger._typed(rows, ledger._meta_types(tx))
        opening = _opening(tx, rows, person, int(year))
    explanations, fund, ci, deductible = [], 0, 0, {"outpatient": 0, "inpatient": 0}
    for r in rows.to_pylist():
        fund += r["fund"]
        ci += r["ci_base_added"]
        pool = POOL.get(r["visit_type"])
        if pool:
            deductible[pool] += r["deductible"]
        explanations.append("\n".join(explain(r, fund, ci, deductible.get(pool, 0))))
    keep = ["claim_id", "settle_date", "visit_type", "facility_level", "area", "assistance", "reverses",
            "total_cost", "self_pay", "class_b_self_pay", "eligible", "account_current", "deductible",
            "ratio_bp", "fund", "coinsurance", "over_cap", "critical_illness", "ci_base_added",
            "medical_assistance", "ma_base_added", "account_hist", "cash"]  # fmt: skip
    table = rows.select(keep).append_column("explanation", pa.array(explanations, pa.string()))
    table = table.append_column("steps", pa.array(_steps(ledger, rows, *opening), pa.string()))
    return Statement(person_id, int(year), table)


# ------------------------------------------------------------------ the twin's steps (wz.explain_text)

STEP_INPUTS = ("claim_id", "person_id", "settle_date", "seq", "scheme", "category", "visit_type", "facility_level",
               "area", "assistance", "total_cost", "self_pay", "class_b_self_pay", "reverses")  # fmt: skip


def _opening(tx, rows: pa.Table, person: str, year: int):
    """What opened the person's year: last year's state and the opening accounts rows."""
    if rows.num_rows == 0:
        return None, None
    typ = rows["person_id"].type
    prior = tx.query("SELECT * FROM state WHERE person_id = $1 AND year = $2", (person, year - 1))
    accounts = tx.query(
        "SELECT person_id, year, current_balance, hist_balance FROM accounts WHERE person_id = $1", (person,)
    )
    out = []
    for t in (prior, accounts):
        t = t.drop_columns([c for c in ("batch_id",) if c in t.column_names])
        out.append(t.set_column(0, "person_id", t["person_id"].cast(typ)) if t.num_rows else None)
    return tuple(out)


def _steps(ledger, rows: pa.Table, prior, accounts) -> list[str | None]:
    """``wz.explain_text`` of each claim: the twin settles the person's year again from its
    opening and must give the stored amounts; where it cannot (no policy on the ledger, a
    reversal, another profile, a claim settled late), the column is null."""
    from ..errors import WzmedinsError
    from ..explain import explain, explain_text

    policy = ledger.policy
    if policy is None or rows.num_rows == 0:
        return [None] * rows.num_rows
    if isinstance(policy, str):
        from ..policy import load_policy

        policy = load_policy(policy)
    claims = rows.select([c for c in STEP_INPUTS if c in rows.column_names])
    money = ("eligible", "deductible", "fund", "critical_illness", "medical_assistance", "account_current",
             "account_hist", "cash")  # fmt: skip
    out: list[str | None] = []
    for r in rows.to_pylist():
        text = None
        if r["reverses"] is None:
            try:
                steps = explain(claims, policy, claim_id=r["claim_id"], state=prior, accounts=accounts)
                got = {s["output"]: s["amount"] for s in steps.to_pylist() if s["output"] in money}
                if all(got.get(k, r[k]) == r[k] for k in money):
                    text = explain_text(steps)
            except WzmedinsError:
                pass
        out.append(text)
    return out
