"""The worked examples of docs/rules/fund.md §8 (data/fixtures/fund/example_*.json), in fen."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.helpers import FIXTURES


def fen(yuan: str | None) -> int | None:
    if yuan is None:
        return None
    value = Decimal(yuan) * 100
    assert value == value.to_integral_value(), yuan
    return int(value)


MONEY = {
    "wage_prev", "payroll", "base", "individual", "account_credit", "employer", "base_total", "base_individual",
    "total", "subsidy", "by_assistance", "by_person", "balance", "monthly_expenditure", "transferred", "retained",
    "county_debt", "revenue", "target", "expenditure", "budget", "shortfall", "overspend", "responsibility",
    "reward", "gap_share", "delta", "from_balance", "from_reserve", "city_part", "to_reserve", "reserve",
}  # fmt: skip


def in_fen(row: dict) -> dict:
    return {k: fen(v) if k in MONEY else v for k, v in row.items()}


def example(k: int) -> dict:
    doc = json.loads((FIXTURES / "fund" / f"example_{k}.json").read_text("utf-8"))
    out = {}
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [in_fen(r) for r in value]
        elif isinstance(value, dict) and key.startswith("expected"):
            out[key] = in_fen(value)
        elif key in MONEY:
            out[key] = fen(value)
        else:
            out[key] = value
    return out
