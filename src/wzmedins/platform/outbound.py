"""From settled claims to the platform's answer: ``setlinfo`` (one record per settlement) and
``setldetail`` (one record per fund that paid), amounts in yuan. See ``docs/platform.md``."""

from __future__ import annotations

import decimal
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .codes import CodeLists, load_codes

YUAN = pa.decimal128(16, 2)  # the platform's amounts: 16 digits, 2 decimals
RATIO = pa.decimal128(5, 4)

# setlinfo amount fields and how each is made from the settled columns (docs/platform.md)
SETLINFO_MONEY = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
    "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "hosp_part_amt",
    "balc", "acct_mulaid_pay",
)  # fmt: skip
SETLDETAIL_SCHEMA = pa.schema([
    ("setl_id", pa.string()), ("fund_pay_type", pa.string()), ("fund_pay_type_name", pa.string()),
    ("inscp_scp_amt", YUAN), ("crt_payb_lmt_amt", YUAN), ("fund_payamt", YUAN), ("setl_proc_info", pa.string()),
])  # fmt: skip


def yuan(fen: Any) -> pa.Array:
    """int64 fen as ``decimal128(16, 2)`` yuan, exactly (nulls kept).

    Examples
    --------
    >>> yuan(np.array([1708290, -5])).to_pylist()
    [Decimal('17082.90'), Decimal('-0.05')]
    """
    arr = pa.array(fen, pa.int64()) if not isinstance(fen, (pa.Array, pa.ChunkedArray)) else fen
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    values = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    words = np.empty((len(values), 2), dtype="<i8")
    words[:, 0] = values
    words[:, 1] = values >> 63
    validity = arr.buffers()[0] if arr.null_count else None
    if validity is not None and arr.offset:
        validity = pc.is_valid(arr).buffers()[1]
    return pa.Array.from_buffers(YUAN, len(values), [validity, pa.py_buffer(words.tobytes())])


@dataclass
class PlatformAnswer:
    """``setlinfo`` (one row per settled claim, input order) and ``setldetail`` (one row per fund
    that paid, ``setl_id`` linking them), both Arrow; write with :func:`write_answer`."""

    setlinfo: pa.Table
    setldetail: pa.Table

    def records(self) -> list[dict]:
        """One ``{"setlinfo": {...}, "setldetail": [...]}`` per claim, as the 2207 call answers."""
        details: dict[str, list[dict]] = {}
        for d in self.setldetail.to_pylist():
            details.setdefault(d["setl_id"], []).append(d)
        return [
            {"setlinfo": info, "setldetail": details.get(info["setl_id"], [])} for info in self.setlinfo.to_pylist()
        ]

    def to_polars(self):
        """``setlinfo`` as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.setlinfo)


def _col(table: pa.Table, name: str, n: int, default: int = 0) -> np.ndarray:
    if name not in table.column_names:
        return np.full(n, default, dtype=np.int64)
    return table[name].fill_null(default).to_numpy().astype(np.int64)


def _balances(settled: pa.Table, claims: pa.Table, state: pa.Table | None) -> pa.Array:
    """``balc``: the person's account balance (current + historical) after each claim, from the
    state after the batch and the account payments of the person's later claims that year."""
    n = settled.num_rows
    if state is None or n == 0:
        return pa.nulls(n, pa.int64())
    person = pc.cast(settled["person_id"], pa.string())
    year = _col(settled, "year", n)
    key = pc.binary_join_element_wise(person, pc.cast(pa.array(year), pa.string()), "\x1f").to_numpy(
        zero_copy_only=False
    )
    st_key = pc.binary_join_element_wise(
        pc.cast(state["person_id"], pa.string()), pc.cast(state["year"], pa.string()), "\x1f"
    )
    end = (state["current_balance"].to_numpy() + state["hist_balance"].to_numpy()).astype(np.int64)
    at = pc.index_in(pa.array(key, pa.string()), value_set=st_key).to_numpy(zero_copy_only=False)
    date = claims["settle_date"].cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
    pays = _col(settled, "account_current", n) + _col(settled, "account_hist", n)
    # settlement order within each person-year, then the payments of the claims that came later
    order = np.lexsort((np.arange(n), _col(claims, "seq", n), date, key))
    later = np.zeros(n, dtype=np.int64)
    sorted_key, sorted_pay = key[order], pays[order]
    suffix = np.cumsum(sorted_pay[::-1])[::-1]
    last = np.r_[np.flatnonzero(sorted_key[1:] != sorted_key[:-1]), n - 1]  # the end of each group
    group_end = last[np.searchsorted(last, np.arange(n))]
    later[order] = suffix - sorted_pay - np.r_[suffix[1:], 0][group_end]
    valid = ~np.isnan(at.astype(float)) if at.dtype.kind == "f" else np.ones(n, dtype=bool)
    balc = np.where(valid, end[np.nan_to_num(at.astype(float), nan=0).astype(np.int64)] + later, 0)
    return pa.array(balc, pa.int64(), mask=~valid)


def to_platform(
    settled: pa.Table,
    claims: pa.Table,
    *,
    codes: CodeLists | str | os.PathLike | None = None,
    state: pa.Table | None = None,
    explanations: dict[str, str] | None = None,
) -> PlatformAnswer:
    """The platform's answer for settled claims.

    ``medfee_sumamt = fund_pay_sumamt + psn_part_amt`` and ``psn_part_amt = acct_pay +
    psn_cash_pay`` hold on every record: ``fund_pay_sumamt`` is the pooled fund (``hifp_pay``)
    plus critical illness (``hifob_pay`` for employees 职工大额, ``hifmi_pay`` for residents
    居民大病) plus medical assistance (``maf_pay``); ``acct_pay`` is both personal accounts.

    Parameters
    ----------
    settled
        The settled table of :func:`wzmedins.settle` (or of a ledger).
    claims
        The claims they came from (:func:`from_platform`'s ``claims``), for the echoed fields
        and the split of the self-paid part; matched by ``claim_id``.
    codes
        Code lists for the ``fund_pay_type`` of ``setldetail``.
    state
        The state after the batch: fills ``balc`` (else null).
    explanations
        ``setl_proc_info`` per claim id (how the amounts came about).

    Examples
    --------
    >>> import wzmedins as wz
    >>> mapped = wz.platform.from_platform([{"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390",
    ...     "psn_type": "21", "med_type": "21", "hosp_lv": "02", "setl_time": "2022-03-01",
    ...     "medfee_sumamt": "50000.00"}])
    >>> out = wz.settle(mapped.claims, wz.load_policy("wenzhou-2022"))
    >>> info = to_platform(out.settled, mapped.claims).setlinfo.to_pylist()[0]
    >>> [str(info[k]) for k in ("medfee_sumamt", "act_pay_dedc", "hifp_pay", "fund_pay_sumamt", "psn_cash_pay")]
    ['50000.00', '800.00', '34440.00', '34440.00', '15560.00']
    """
    codes = codes if isinstance(codes, CodeLists) else load_codes(codes)
    n = settled.num_rows
    ids = pc.cast(settled["claim_id"], pa.string())
    at = pc.index_in(ids, value_set=pc.cast(claims["claim_id"], pa.string()))
    src = claims.take(at)

    def echo(name: str) -> pa.Array:
        return pc.cast(src[name], pa.string()) if name in src.column_names else pa.nulls(n, pa.string())

    fund, ci, ma = (
        _col(settled, "fund", n),
        _col(settled, "critical_illness", n),
        _col(settled, "medical_assistance", n),
    )
    acct = _col(settled, "account_current", n) + _col(settled, "account_hist", n)
    cash, eligible = _col(settled, "cash", n), _col(settled, "eligible", n)
    total = fund + ci + ma + acct + cash
    scheme = pc.cast((settled if "scheme" in settled.column_names else src)["scheme"], pa.string()).to_pylist()
    employee = np.array([s == "employee" for s in scheme], dtype=bool)
    class_b = _col(src, "class_b_self_pay", n)
    fulamt, overlmt = _col(src, "fulamt_ownpay_amt", n), _col(src, "overlmt_selfpay", n)
    is_rev = np.zeros(n, dtype=bool)
    if "reverses" in settled.column_names:
        is_rev = np.asarray(pc.is_valid(settled["reverses"]).to_numpy(zero_copy_only=False), dtype=bool)
    # a reversal's bill is the negated original's: its self-paid part is reported whole as 全自费
    class_b = np.where(is_rev, 0, class_b)
    overlmt = np.where(is_rev, 0, overlmt)
    fulamt = np.where(is_rev, total - eligible, fulamt)
    zero = np.zeros(n, dtype=np.int64)
    amounts = {
        "medfee_sumamt": total, "fulamt_ownpay_amt": fulamt, "overlmt_selfpay": overlmt,
        "preselfpay_amt": class_b, "inscp_scp_amt": eligible, "act_pay_dedc": _col(settled, "deductible", n),
        "hifp_pay": fund, "cvlserv_pay": zero, "hifes_pay": zero,
        "hifmi_pay": np.where(employee, 0, ci), "hifob_pay": np.where(employee, ci, 0), "maf_pay": ma,
        "oth_pay": zero, "fund_pay_sumamt": fund + ci + ma, "psn_part_amt": acct + cash, "acct_pay": acct,
        "psn_cash_pay": cash, "hosp_part_amt": zero,
    }  # fmt: skip
    ratio = _col(settled, "ratio_bp", n)
    info = {
        "setl_id": ids,
        "mdtrt_id": echo("mdtrt_id"),
        "psn_no": pc.cast(settled["person_id"], pa.string()),
        "fixmedins_code": echo("fixmedins_code"),
        "insutype": echo("insutype"),
        "psn_type": echo("psn_type"),
        "med_type": echo("med_type"),
        "setl_time": src["settle_date"] if "settle_date" in src.column_names else pa.nulls(n, pa.date32()),
        **{k: yuan(v) for k, v in amounts.items()},
        "pool_prop_selfpay": pa.array([decimal.Decimal(int(r)).scaleb(-4) for r in ratio], RATIO),
        "balc": yuan(_balances(settled, src, state)),
        "acct_mulaid_pay": yuan(zero),
        "reverses": pc.cast(settled["reverses"], pa.string()) if "reverses" in settled.column_names
        else pa.nulls(n, pa.string()),
    }  # fmt: skip
    setlinfo = pa.table(info).select(["setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "insutype", "psn_type",
                                      "med_type", "setl_time", *SETLINFO_MONEY[:7], "pool_prop_selfpay",
                                      *SETLINFO_MONEY[7:], "reverses"])  # fmt: skip
    rows = []
    ids_py = ids.to_pylist()
    explanations = explanations or {}
    for i in range(n):
        prefix = "employee" if employee[i] else "resident"
        items = [(f"{prefix}_fund", fund[i]), (f"{prefix}_critical_illness", ci[i]), ("medical_assistance", ma[i])]
        for j, (key, amount) in enumerate(items):
            if j and not amount:
                continue
            rows.append({
                "setl_id": ids_py[i], "fund_pay_type": codes.fund_pay_type[key],
                "fund_pay_type_name": codes.fund_pay_type_name[key], "inscp_scp_amt": int(eligible[i]),
                "crt_payb_lmt_amt": None, "fund_payamt": int(amount),
                "setl_proc_info": explanations.get(ids_py[i]) if j == 0 else None,
            })  # fmt: skip
    detail = {name: [r[name] for r in rows] for name in SETLDETAIL_SCHEMA.names}
    for name in ("inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt"):
        detail[name] = yuan(pa.array(detail[name], pa.int64()))
    setldetail = pa.table(detail, schema=SETLDETAIL_SCHEMA)
    return PlatformAnswer(setlinfo, setldetail)


_NUMBER = "\u0000yuan:"


def _default(value: Any):
    if isinstance(value, decimal.Decimal):
        return f"{_NUMBER}{value}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(obj: Any, **kwargs) -> str:
    """JSON with yuan amounts written as exact numbers (``34440.00``), never through a float.

    Examples
    --------
    >>> dumps({"hifp_pay": decimal.Decimal("34440.00"), "setl_id": "S1"})
    '{"hifp_pay": 34440.00, "setl_id": "S1"}'
    """
    text = json.dumps(obj, ensure_ascii=False, default=lambda v: _default(v), **kwargs)
    return re.sub(r'"\\u0000yuan:(-?[0-9.]+)"', r"\1", text)


def write_answer(answer: PlatformAnswer, path: str | os.PathLike, *, format: str | None = None) -> list[str]:
    """Write an answer: ``json`` (one file, a list of ``{setlinfo, setldetail}``), ``parquet``
    or ``arrow`` (two files, ``<stem>.setlinfo.<ext>`` and ``<stem>.setldetail.<ext>``).
    The format defaults to the path's extension. Returns the paths written."""
    path = os.fspath(path)
    format = format or os.path.splitext(path)[1].lstrip(".") or "json"
    if format == "json":
        with open(path, "w", encoding="utf-8") as f:
            f.write(dumps(answer.records(), indent=1))
        return [path]
    stem = os.path.splitext(path)[0]
    written = []
    for name, table in (("setlinfo", answer.setlinfo), ("setldetail", answer.setldetail)):
        out = f"{stem}.{name}.{format}"
        if format == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, out)
        elif format in ("arrow", "feather", "ipc"):
            import pyarrow.feather as feather

            feather.write_feather(table, out)
        else:
            raise ValueError(f"unknown answer format {format!r}: json, parquet or arrow")
        written.append(out)
    return written


__all__ = ["PlatformAnswer", "to_platform", "write_answer", "dumps", "yuan"]
