"""From the platform's fields to the claims table: 2207/2304 records (yuan, platform codes)
in, wzmedins claims (int64 fen, settlement.md §2 values) out. See ``docs/platform.md``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..reasons import CODE, MAX_AMOUNT_FEN, REASONS
from .codes import CodeLists, load_codes

# platform money fields (yuan, two decimals) and the claims column each feeds
MONEY_FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
CODE_FIELDS = ("insutype", "med_type", "psn_type", "psn_idet_type", "hosp_lv", "acct_used_flag")
TEXT_FIELDS = ("psn_no", "mdtrt_id", "setl_id", "fixmedins_code", "insuplc_admdvs", "out_registered", "msgid")
# carried into the claims table so that the answer can echo them (outbound.py)
ECHO_FIELDS = ("setl_id", "mdtrt_id", "fixmedins_code", "insutype", "med_type", "psn_type", "psn_idet_type")
REQUIRED = ("psn_no", "insutype", "med_type", "psn_type", "medfee_sumamt")


@dataclass
class PlatformClaims:
    """Platform records mapped to claims: ``claims`` (the claims table, plus the input position
    ``row`` and the platform fields echoed in answers) and ``rejected`` (rows that could not be
    mapped: ``row``, ``claim_id``, ``reason``, ``message``). ``claims + rejected = records``."""

    claims: pa.Table
    rejected: pa.Table

    def to_polars(self):
        """The claims table as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.claims)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def records_table(records: Any) -> pa.Table:
    """Platform records as an Arrow table: a list of dicts (JSON objects, amounts as numbers or
    strings), a ``.json``/``.jsonl`` file of them, a Parquet path, or any table input.

    Amounts and codes are kept as text so that nothing is rounded on the way in.

    Examples
    --------
    >>> records_table([{"psn_no": "p1", "med_type": 21, "medfee_sumamt": 100.5}]).to_pylist()
    [{'psn_no': 'p1', 'med_type': '21', 'medfee_sumamt': '100.5'}]
    """
    if isinstance(records, (str, os.PathLike)) and os.fspath(records).endswith((".json", ".jsonl")):
        with open(records, encoding="utf-8") as f:
            text = f.read()
        if os.fspath(records).endswith(".jsonl"):
            records = [json.loads(line, parse_float=decimal.Decimal) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text, parse_float=decimal.Decimal)
            if isinstance(records, dict):  # {"data": [...]} or one record
                records = records.get("data", [records])
    if isinstance(records, list):
        names: dict[str, None] = {}
        for r in records:
            names.update(dict.fromkeys(r))
        cols = {}
        for name in names:
            raw = [r.get(name) for r in records]
            if any(isinstance(v, dt.date) for v in raw):  # dates given as dates (Python callers)
                cols[name] = pa.array([v.isoformat() if isinstance(v, dt.date) else _text(v) for v in raw], pa.string())
            else:
                cols[name] = pa.array([_text(v) for v in raw], pa.string())
        return pa.table(cols) if cols else pa.table({"psn_no": pa.array([], pa.string())})
    return t.to_table(records)


def _yuan(table: pa.Table, name: str, reason: np.ndarray, details: list, *, required: bool) -> np.ndarray:
    """A platform amount (yuan) as int64 fen. Text and decimals are read exactly; integers are
    whole yuan; floats must be the double nearest to a whole number of fen."""
    n = table.num_rows
    arr = t.column(table, name, "yuan")
    if arr is None:
        if required:
            t.flag(reason, np.ones(n, dtype=bool), "MISSING_VALUE")
            for i in range(n):
                details[i] = details[i] or f"{name} is missing"
        return np.zeros(n, dtype=np.int64)
    typ = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if pa.types.is_integer(typ):
        table = pa.table({name: pc.multiply(arr.cast(pa.int64()), 100)})
        return t.money(table, name, reason, is_required=required)
    if pa.types.is_floating(typ) or (pa.types.is_decimal(typ) and typ.scale <= 2):
        return t.money(pa.table({name: arr}), name, reason, is_required=required)
    fen = np.zeros(n, dtype=np.int64)
    for i, value in enumerate(arr.to_pylist()):
        if value is None or value == "":
            if required:
                t.flag(reason, _one(n, i), "MISSING_VALUE")
            continue
        try:
            amount = decimal.Decimal(str(value).strip())
            if not amount.is_finite():
                raise decimal.InvalidOperation
        except (decimal.InvalidOperation, ValueError):
            t.flag(reason, _one(n, i), "NOT_A_NUMBER")
            details[i] = details[i] or f"{name} {str(value)[:20]!r} is not a number of yuan"
            continue
        cents = amount * 100
        if abs(cents) > MAX_AMOUNT_FEN:
            t.flag(reason, _one(n, i), "AMOUNT_TOO_LARGE")
        elif cents != cents.to_integral_value():
            t.flag(reason, _one(n, i), "AMOUNT_NOT_IN_FEN")
            details[i] = details[i] or f"{name} {value} has more than two decimals (yuan)"
        elif cents < 0:
            t.flag(reason, _one(n, i), "NEGATIVE_AMOUNT")
        else:
            fen[i] = int(cents)
    return fen


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def _codes(table: pa.Table, field: str) -> list[str | None]:
    arr = t.column(table, field, "a code")
    if arr is None:
        return [None] * table.num_rows
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return [None if v is None else _text(v).strip() for v in arr.to_pylist()]


def _map(values: list[str | None], field: str, codes: CodeLists, reason, details, *, default: str | None = None):
    """Platform codes of ``field`` to wzmedins values; an unlisted code is UNMAPPED_CODE."""
    n = len(values)
    table = codes.maps[field]
    out: list[str | None] = []
    for i, code in enumerate(values):
        if code is None or code == "":
            if default is None:
                t.flag(reason, _one(n, i), "MISSING_VALUE")
                details[i] = details[i] or f"{field} is missing"
            out.append(default)
        elif code in table:
            out.append(table[code])
        else:
            t.flag(reason, _one(n, i), "UNMAPPED_CODE")
            if reason[i] == CODE["UNMAPPED_CODE"]:
                details[i] = details[i] or f"{field} code {code!r} is not in the code list {codes.name}"
            out.append(default)
    return out


def _areas(table: pa.Table, codes: CodeLists) -> list[str]:
    division = _codes(table, "insuplc_admdvs")
    registered = _codes(table, "out_registered")
    local, province = codes.area["local_prefix"], codes.area["province_prefix"]
    out = []
    for d, r in zip(division, registered, strict=True):
        if not d or d.startswith(local):
            out.append("local")
        elif d.startswith(province):
            out.append("province")
        else:
            out.append("national_registered" if r == "1" else "national_unregistered")
    return out


def _dates(table: pa.Table, default: dt.date | None, reason, details) -> pa.Array:
    n = table.num_rows
    arr = t.column(table, "setl_time", "a date")
    if arr is None:
        if default is None:
            t.flag(reason, np.ones(n, dtype=bool), "MISSING_VALUE")
            return pa.nulls(n, pa.date32())
        return pa.array([default] * n, pa.date32())
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        out = pc.cast(arr, pa.date32())
        t.flag(reason, t.null_mask(out), "MISSING_VALUE")
        return out
    days: list[dt.date | None] = []
    for i, value in enumerate(arr.cast(pa.string()).to_pylist()):
        try:
            days.append(dt.date.fromisoformat(value.strip()[:10]) if value else None)
        except ValueError:
            days.append(None)
            t.flag(reason, _one(n, i), "VALUE_OUT_OF_RANGE")
            details[i] = details[i] or f"setl_time {value[:30]!r} is not a date (YYYY-MM-DD[ hh:mm:ss])"
            continue
        if days[-1] is None and default is not None:
            days[-1] = default
        elif days[-1] is None:
            t.flag(reason, _one(n, i), "MISSING_VALUE")
            details[i] = details[i] or "setl_time is missing"
    return pa.array(days, pa.date32())


def from_platform(
    records: Any,
    *,
    codes: CodeLists | str | os.PathLike | None = None,
    hosp_lv: str | None = None,
    settle_date: dt.date | None = None,
) -> PlatformClaims:
    """Map platform settlement records (2207 outpatient, 2304 inpatient) to the claims table.

    Field by field (docs/platform.md has the table): ``psn_no`` → ``person_id``; ``setl_id``
    (else ``mdtrt_id``) → ``claim_id``; ``insutype`` → ``scheme``, ``psn_type`` → ``category``,
    ``med_type`` → ``visit_type``, ``hosp_lv`` → ``facility_level``, ``psn_idet_type`` →
    ``assistance``, ``insuplc_admdvs`` → ``area`` through the code lists; ``medfee_sumamt`` →
    ``total_cost``, ``fulamt_ownpay_amt + overlmt_selfpay`` → ``self_pay``, ``preselfpay_amt``
    → ``class_b_self_pay`` (yuan to fen, exactly); ``setl_time`` → ``settle_date``. A given
    ``inscp_scp_amt`` must equal ``medfee_sumamt − fulamt_ownpay_amt − overlmt_selfpay −
    preselfpay_amt``.

    Parameters
    ----------
    records
        A list of dicts, a ``.json``/``.jsonl``/Parquet path, or an Arrow/polars table.
    codes
        Code lists (:func:`load_codes` or a TOML path); default the built-in ``national-2022``.
    hosp_lv
        The institution's level code for records without a ``hosp_lv`` field.
    settle_date
        The date for records without ``setl_time``.

    Returns
    -------
    PlatformClaims
        Rows that cannot be mapped are in ``rejected`` with a reason (``UNMAPPED_CODE`` names
        the field and the code); the others in ``claims``.

    Examples
    --------
    >>> out = from_platform([
    ...     {"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390", "psn_type": "21", "med_type": "21",
    ...      "hosp_lv": "02", "setl_time": "2022-03-01 09:30:00", "medfee_sumamt": "50000.00"},
    ...     {"psn_no": "P2", "mdtrt_id": "M2", "insutype": "340", "psn_type": "21", "med_type": "21",
    ...      "hosp_lv": "02", "setl_time": "2022-03-01", "medfee_sumamt": 10}])
    >>> out.claims.select(["claim_id", "scheme", "visit_type", "facility_level"]).to_pylist()
    [{'claim_id': 'M1', 'scheme': 'resident', 'visit_type': 'inpatient', 'facility_level': 'tertiary'}]
    >>> out.claims["total_cost"].to_pylist()
    [5000000]
    >>> out.rejected.select(["row", "reason", "message"]).to_pylist()
    [{'row': 1, 'reason': 'UNMAPPED_CODE', 'message': "insutype code '340' is not in the code list national-2022"}]
    """
    codes = codes if isinstance(codes, CodeLists) else load_codes(codes)
    table = records_table(records)
    n = table.num_rows
    reason = np.full(n, t.NO_REASON)
    details: list[str | None] = [None] * n
    person = _codes(table, "psn_no")
    setl_id, mdtrt_id = _codes(table, "setl_id"), _codes(table, "mdtrt_id")
    claim_id = [s or m for s, m in zip(setl_id, mdtrt_id, strict=True)]
    for i in range(n):
        for name, value in (("psn_no", person[i]), ("setl_id or mdtrt_id", claim_id[i])):
            if not value:
                t.flag(reason, _one(n, i), "MISSING_VALUE")
                details[i] = details[i] or f"{name} is missing"
    fen = {}
    for name in MONEY_FIELDS:
        fen[name] = _yuan(table, name, reason, details, required=name == "medfee_sumamt")
    given = t.column(table, "inscp_scp_amt", "yuan")
    if given is not None:
        expected = fen["medfee_sumamt"] - fen["fulamt_ownpay_amt"] - fen["overlmt_selfpay"] - fen["preselfpay_amt"]
        mismatch = ~t.null_mask(given) & (fen["inscp_scp_amt"] != expected) & (reason == t.NO_REASON)
        t.flag(reason, mismatch, "VALUE_OUT_OF_RANGE")
        for i in np.flatnonzero(mismatch):
            details[i] = (
                f"inscp_scp_amt {t.fen_to_yuan(fen['inscp_scp_amt'][i])} is not medfee_sumamt − fulamt_ownpay_amt "
                f"− overlmt_selfpay − preselfpay_amt = {t.fen_to_yuan(expected[i])}"
            )
    raw = {f: _codes(table, f) for f in CODE_FIELDS}
    if hosp_lv is not None:
        raw["hosp_lv"] = [v or hosp_lv for v in raw["hosp_lv"]]
    mapped = {
        "scheme": _map(raw["insutype"], "insutype", codes, reason, details),
        "category": _map(raw["psn_type"], "psn_type", codes, reason, details),
        "visit_type": _map(raw["med_type"], "med_type", codes, reason, details),
        "facility_level": _map(raw["hosp_lv"], "hosp_lv", codes, reason, details),
        "assistance": _map(raw["psn_idet_type"], "psn_idet_type", codes, reason, details, default="none"),
    }
    _map(raw["acct_used_flag"], "acct_used_flag", codes, reason, details, default="yes")
    dates = _dates(table, settle_date, reason, details)
    ok = reason == t.NO_REASON
    keep = pa.array(np.flatnonzero(ok), pa.int64())
    claims = pa.table({
        "claim_id": pa.array(claim_id, pa.string()),
        "person_id": pa.array(person, pa.string()),
        "settle_date": dates,
        "seq": pa.array(t.integers(table, "seq", 0)),
        **{k: pa.array(v, pa.string()) for k, v in mapped.items()},
        "area": pa.array(_areas(table, codes), pa.string()),
        "total_cost": pa.array(fen["medfee_sumamt"]),
        "self_pay": pa.array(fen["fulamt_ownpay_amt"] + fen["overlmt_selfpay"]),
        "class_b_self_pay": pa.array(fen["preselfpay_amt"]),
        "row": pa.array(np.arange(n), pa.int64()),
        "fulamt_ownpay_amt": pa.array(fen["fulamt_ownpay_amt"]),
        "overlmt_selfpay": pa.array(fen["overlmt_selfpay"]),
        **{f: pa.array(raw.get(f) or _codes(table, f), pa.string()) for f in ECHO_FIELDS},
    }).take(keep)  # fmt: skip
    bad = np.flatnonzero(~ok)
    messages = {r: r for r in REASONS}
    rejected = t.rejected_table(bad, pa.array(claim_id, pa.string()), reason, messages, [details[i] for i in bad])
    return PlatformClaims(claims, rejected)


__all__ = ["PlatformClaims", "from_platform", "records_table"]
