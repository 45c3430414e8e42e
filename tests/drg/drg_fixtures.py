"""Fixture loading for the DRG tests: JSON with decimal strings → Arrow tables."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "drg"

DEC4 = pa.decimal128(18, 4)
DEC2 = pa.decimal128(18, 2)


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dec(v, t):
    return None if v is None else Decimal(v).quantize(Decimal(1).scaleb(-t.scale))


def catalog_table(rows) -> pa.Table:
    return pa.table(
        {
            "drg_code": [r["drg_code"] for r in rows],
            "base_points": pa.array([dec(r["base_points"], DEC4) for r in rows], DEC4),
            "stable": [r.get("stable", True) for r in rows],
            "basic": [r.get("basic", False) for r in rows],
            "daily_points": pa.array([dec(r.get("daily_points"), DEC4) for r in rows], DEC4),
        }
    )


def coefficient_table(rows) -> pa.Table:
    return pa.table(
        {
            "hospital_id": [r["hospital_id"] for r in rows],
            "drg_code": [r["drg_code"] for r in rows],
            "coefficient": pa.array([dec(r["coefficient"], DEC4) for r in rows], DEC4),
        }
    )


def cases_table(rows, fund="resident") -> pa.Table:
    day = dt.date(2022, 1, 1)

    def date(r, k):
        return dt.date.fromisoformat(r[k]) if k in r else day

    return pa.table(
        {
            "case_id": [r["case_id"] for r in rows],
            "person_id": [r.get("person_id", "P" + r["case_id"]) for r in rows],
            "hospital_id": [r["hospital_id"] for r in rows],
            "fund": [r.get("fund", fund) for r in rows],
            "drg_code": [r["drg_code"] for r in rows],
            "total_cost": pa.array([dec(r["total_cost"], DEC2) for r in rows], DEC2),
            "patient_paid": pa.array([dec(r.get("patient_paid", "0"), DEC2) for r in rows], DEC2),
            "fund_ffs": pa.array([dec(r.get("fund_ffs"), DEC2) for r in rows], DEC2),
            "admit_date": pa.array([date(r, "admit_date") for r in rows], pa.date32()),
            "discharge_date": pa.array([date(r, "discharge_date") for r in rows], pa.date32()),
            "los": pa.array([r.get("los") for r in rows], pa.int64()),
            "manual_points": pa.array([dec(r.get("manual_points"), DEC4) for r in rows], DEC4),
            "bonus_points": pa.array([dec(r.get("bonus_points"), DEC4) for r in rows], DEC4),
        }
    )


def fen(v) -> int:
    return int(Decimal(v) * 100)


def reference_inputs(doc):
    """Rows, catalog and coefficients of a fixture as the plain values of wzmedins.reference.drg."""
    rows = []
    for r in doc["cases"]:
        admit = dt.date.fromisoformat(r.get("admit_date", "2022-01-01")).toordinal()
        discharge = dt.date.fromisoformat(r.get("discharge_date", "2022-01-01")).toordinal()
        rows.append(
            {
                "person_id": r.get("person_id", "P" + r["case_id"]),
                "hospital_id": r["hospital_id"],
                "drg_code": r["drg_code"],
                "total_cost": fen(r["total_cost"]),
                "admit_date": admit,
                "discharge_date": discharge,
                "los": r.get("los", discharge - admit),
                "manual_points": None if r.get("manual_points") is None else int(Decimal(r["manual_points"]) * 10_000),
                "bonus_points": int(Decimal(r.get("bonus_points", "0")) * 10_000),
            }
        )
    catalog = {
        r["drg_code"]: {
            "base": None if r["base_points"] is None else int(Decimal(r["base_points"]) * 10_000),
            "stable": r.get("stable", True),
            "basic": r.get("basic", False),
            "daily": None if r.get("daily_points") is None else int(Decimal(r["daily_points"]) * 10_000),
        }
        for r in doc["catalog"]
    }
    coefficients = {
        (r["hospital_id"], r["drg_code"]): int(Decimal(r["coefficient"]) * 10_000) for r in doc["coefficients"]
    }
    return rows, catalog, coefficients
