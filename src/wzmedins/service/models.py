"""The calls' JSON bodies, platform-shaped (``{"msgid": ..., "input": {"data": {...}}}``),
validated with errors that name the field. Amounts are yuan with at most two decimals, as
numbers or strings; they are read exactly (never through a float)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Yuan = Annotated[Decimal, Field(ge=0, le=Decimal("10000000000"), decimal_places=2)]
Code = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")]
Ident = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_.\-]+$")]
Day = Annotated[str, Field(max_length=19, pattern=r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")]

CONFIG = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)


class SettleData(BaseModel):
    """2206/2207/2304 ``input.data``: the visit's bill in the platform's fields."""

    model_config = CONFIG
    psn_no: Ident = Field(description="人员编号: the insured person")
    mdtrt_id: Ident = Field(description="就诊ID: the visit")
    insutype: Code = Field(description="险种类型: 310 employee, 390 resident")
    psn_type: Code = Field(description="人员类别 (code list psn_type)")
    med_type: Code = Field(description="医疗类别: 11 outpatient, 14 chronic, 21 inpatient, ...")
    medfee_sumamt: Yuan = Field(description="医疗费总额, yuan")
    fulamt_ownpay_amt: Yuan = Field(Decimal(0), description="全自费金额, yuan")
    overlmt_selfpay: Yuan = Field(Decimal(0), description="超限价自费金额, yuan")
    preselfpay_amt: Yuan = Field(Decimal(0), description="先行自付金额 (class-B share), yuan")
    inscp_scp_amt: Yuan | None = Field(None, description="符合政策范围金额, yuan: checked when given")
    psn_idet_type: Code | None = Field(None, description="人员身份类别 (assistance class)")
    insuplc_admdvs: Code | None = Field(None, description="参保地医保区划 (6 digits)")
    out_registered: Code | None = Field(None, description="'1' when a cross-province patient is registered (异地备案)")
    acct_used_flag: Code | None = Field(None, description="个人账户使用标志: '1' (the only value the rules know)")
    setl_time: Day | None = Field(None, description="settlement date (default: today, China time)")


class ReverseData(BaseModel):
    """2208/2305 ``input.data``: the settlement to reverse."""

    model_config = CONFIG
    setl_id: str = Field(min_length=1, max_length=120, description="结算ID of the settlement to reverse")
    psn_no: Ident | None = Field(None, description="人员编号 (checked against the settlement's when given)")
    mdtrt_id: Ident | None = None
    setl_time: Day | None = Field(None, description="date of the reversal (default: today, China time)")


class SettleInput(BaseModel):
    data: SettleData


class ReverseInput(BaseModel):
    data: ReverseData


MsgId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.\-]+$")]


class SettleCall(BaseModel):
    """A settlement call. ``msgid`` (报文ID) is the caller's unique message id: sending the same
    call again with it never settles twice."""

    model_config = ConfigDict(extra="ignore")
    msgid: MsgId
    infno: str | None = Field(None, max_length=8, description="2206, 2207 or 2304 (informative)")
    input: SettleInput


class ReverseCall(BaseModel):
    """A reversal call (2208/2305)."""

    model_config = ConfigDict(extra="ignore")
    msgid: MsgId
    infno: str | None = Field(None, max_length=8)
    input: ReverseInput


__all__ = ["SettleCall", "ReverseCall", "SettleData", "ReverseData"]
