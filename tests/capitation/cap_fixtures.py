"""Fixture loading for the capitation tests: JSON with yuan strings → Arrow tables and twin rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "capitation"


def load(name: str = "section6.json") -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fen(yuan: str | None) -> int | None:
    return None if yuan is None else int(Decimal(yuan) * 100)


SIGNING_KEYS = ("person_id", "community_id", "age_band", "chronic", "months")


def signing_rows(fx: dict) -> list[dict]:
    return [{k: s[k] for k in SIGNING_KEYS} for s in fx["signings"]]


def claim_rows(fx: dict) -> list[dict]:
    return [
        {
            "claim_id": c["claim_id"],
            "person_id": c["person_id"],
            "visit_type": c["visit_type"],
            "community_id": c["community_id"],
            "fund": fen(c["fund"]),
            "year": fx["year"],
        }
        for c in fx["claims"]
    ]


def signings_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [("person_id", pa.string()), ("community_id", pa.string()), ("age_band", pa.string()),
         ("chronic", pa.bool_()), ("months", pa.int64())]
    ))  # fmt: skip


def claims_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [("claim_id", pa.string()), ("person_id", pa.string()), ("visit_type", pa.string()),
         ("community_id", pa.string()), ("fund", pa.int64()), ("year", pa.int64())]
    ))  # fmt: skip
