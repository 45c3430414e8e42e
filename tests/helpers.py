"""Shared test helpers: fixtures of the spec's worked examples, identities, random claims."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fixtures"
MONEY = (
    "eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
    "critical_illness", "medical_assistance", "account_hist", "cash",
)  # fmt: skip


def fen(yuan: str) -> int:
    value = Decimal(yuan) * 100
    assert value == value.to_integral_value(), yuan
    return int(value)


def load_example(k: int) -> dict:
    """A worked example of settlement.md §9 as Arrow inputs and expected values in fen."""
    doc = json.loads((FIXTURES / "settlement" / f"example_{k}.json").read_text("utf-8"))
    claims = [
        {**c, "settle_date": dt.date.fromisoformat(c["settle_date"]),
         **{m: fen(c[m]) for m in ("total_cost", "self_pay", "class_b_self_pay")}}
        for c in doc["claims"]
    ]  # fmt: skip
    accounts = [
        {**a, "current_balance": fen(a["current_balance"]), "hist_balance": fen(a["hist_balance"])}
        for a in doc["accounts"]
    ]

    def money_fields(row):
        return {k: (fen(v) if isinstance(v, str) and k not in ("claim_id", "person_id") else v) for k, v in row.items()}

    return {
        "claims": pa.Table.from_pylist(claims),
        "accounts": pa.Table.from_pylist(accounts) if accounts else None,
        "expected": [money_fields(e) for e in doc["expected"]],
        "expected_state": [money_fields(e) for e in doc["expected_state"]],
    }


def check_identities(claims: pa.Table, out, policy=None) -> None:
    """settlement.md §4 identities on every settled row, and the state bounds."""
    rows = out.settled.to_pylist()
    by_id = {c["claim_id"]: c for c in claims.to_pylist()}
    for r in rows:
        c = by_id[r["claim_id"]]
        total = c["total_cost"]
        paid = r["account_current"] + r["fund"] + r["critical_illness"] + r["medical_assistance"]
        assert total == paid + r["account_hist"] + r["cash"], r
        assert r["eligible"] == r["account_current"] + r["deductible"] + r["coinsurance"] + r["over_cap"] + r["fund"], r
        assert all(r[m] >= 0 for m in MONEY), r
        assert 0 <= r["ratio_bp"] <= 10_000
    if policy is not None and len(policy.profiles) == 1:
        p = policy.params
        for s in out.state.to_pylist():
            assert s["fund_paid"] <= max(p["fund_cap"].values())
            assert s["current_balance"] >= 0 and s["hist_balance"] >= 0
    assert out.settled.num_rows + out.rejected.num_rows == claims.num_rows


def run_pytest_child(*args: str, env: dict | None = None, timeout: int = 600):
    """Run pytest in a child process from the repository root, with ``src`` first on the path
    (for what must not share this process: the JIT switched off, a notebook kernel)."""
    import os
    import subprocess
    import sys

    root = FIXTURES.parents[1]
    full_env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root / "src"), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", *args]
    res = subprocess.run(cmd, cwd=root, env=full_env, capture_output=True, text=True, check=False, timeout=timeout)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert " passed" in res.stdout
    return res


def claims_schema(id_type=None, *, reverses: bool = False):
    """The claims table's Arrow schema from the contract (ids as ``id_type``, default string)."""
    import pyarrow as pa

    from wzmedins.contract import CLAIM_COLUMNS, CLAIM_TYPES

    id_type = id_type or pa.string()
    names = [c for c in CLAIM_COLUMNS if reverses or c != "reverses"]
    return pa.schema([(c, id_type if CLAIM_TYPES[c] == "id" else CLAIM_TYPES[c]) for c in names])


# the categories of each scheme, for random claims
SCHEME_CATEGORIES = {"employee": ["in_service", "retired"], "resident": ["adult", "minor", "student", "elderly"]}
