"""The settle calls' short way (service/fast.py): it reads a body exactly as the pydantic models
do, or leaves it to them; the event loop's combiner."""

from __future__ import annotations

import asyncio
import decimal
import json

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wzmedins.service.combine import LoopCombiner
from wzmedins.service.fast import settle_record
from wzmedins.service.models import SettleCall

# values near the edges of each field's rule, good and bad
TEXT = st.one_of(
    st.sampled_from(["P1", "V-1.a_b", "", " P1", "P1 ", "P\n", "x" * 40, "x" * 41, "中文", "a/b"]),
    st.from_regex(r"[0-9A-Za-z_.\-]{1,45}", fullmatch=True),
    st.integers(-5, 10**12), st.none(), st.booleans(),
)  # fmt: skip
CODE = st.one_of(st.sampled_from(["390", "310", "21", "1", "", "x" * 10, "x" * 11, " 21", "2-1"]),
                 st.integers(0, 999), st.none())  # fmt: skip
MONEY = st.one_of(
    st.sampled_from(["5000.00", "0", "0.5", "1.234", "1e2", "-1", "10000000000", "10000000000.01", " 5", "abc",
                     "99999999999"]),
    st.integers(-3, 10**11), st.decimals(min_value=-1, max_value=10**11, places=3, allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False), st.none(), st.floats(0, 100), st.just(True),
)  # fmt: skip
DAY = st.one_of(st.sampled_from(["2022-06-01", "2022-06-01 10:00", "2022-06-01T10:00:00", "2022-6-1", "x",
                                 "2022-06-01 10:00:00.5", " 2022-06-01"]), st.none(), st.integers())  # fmt: skip
FIELDS = {
    "psn_no": TEXT, "mdtrt_id": TEXT, "insutype": CODE, "psn_type": CODE, "med_type": CODE,
    "medfee_sumamt": MONEY, "fulamt_ownpay_amt": MONEY, "overlmt_selfpay": MONEY, "preselfpay_amt": MONEY,
    "inscp_scp_amt": MONEY, "psn_idet_type": CODE, "insuplc_admdvs": CODE, "out_registered": CODE,
    "acct_used_flag": CODE, "setl_time": DAY, "extra": TEXT,
}  # fmt: skip
REQUIRED = ("psn_no", "mdtrt_id", "insutype", "psn_type", "med_type", "medfee_sumamt")
# well-formed values, drawn most of the time so that many bodies pass both ways
GOOD_MONEY = st.one_of(st.from_regex(r"[0-9]{1,10}(\.[0-9]{1,2})?", fullmatch=True), st.integers(0, 10**9),
                       st.decimals(min_value=0, max_value=10**9, places=2))  # fmt: skip
GOOD = {name: (GOOD_MONEY if "amt" in name or "pay" in name else st.from_regex(r"[0-9A-Za-z]{1,10}", fullmatch=True))
        for name in FIELDS}  # fmt: skip
GOOD["setl_time"] = st.sampled_from(["2022-06-01", "2022-06-01 10:00", "2022-06-01T10:00:00"])


@st.composite
def bodies(draw) -> bytes:
    data = {}
    for name, values in FIELDS.items():
        # the required fields mostly present, the optional ones often absent
        if draw(st.integers(0, 9)) < (9 if name in REQUIRED else 4):
            data[name] = draw(GOOD[name] if draw(st.integers(0, 19)) else values)
    msgid = draw(st.one_of(st.from_regex(r"[0-9A-Za-z_.\-]{1,70}", fullmatch=True), TEXT))
    call = {"msgid": msgid, "infno": draw(st.one_of(st.none(), st.sampled_from(["2207", "123456789", 2207]))),
            "input": draw(st.sampled_from(["data", "list", "none"]))}  # fmt: skip
    call["input"] = {"data": data} if call["input"] == "data" else ([data] if call["input"] == "list" else None)
    if draw(st.booleans()):
        call.pop("infno")
    text = json.dumps(call, default=str)
    # decimals as JSON numbers, exactly as written (json.dumps would go through a float)
    for name, value in data.items():
        if isinstance(value, decimal.Decimal) and value.is_finite():
            text = text.replace(json.dumps({name: str(value)})[1:-1], f'"{name}": {value}', 1)
    return text.encode()


def _model(body: bytes):
    """What the FastAPI route gets: the body read with decimals, then the model."""
    try:
        call = SettleCall.model_validate(json.loads(body, parse_float=decimal.Decimal))
    except (pydantic.ValidationError, ValueError):
        return None
    data = call.input.data
    return call.msgid, data.model_dump(exclude_none=True), data.setl_time is not None


@given(bodies())
def test_short_way_reads_what_the_model_reads_or_leaves_it_to_the_model(body):
    fast = settle_record(body)
    if fast is None:
        return  # the route's model judges it (and names the field at fault)
    model = _model(body)
    assert model is not None, "the short way accepted a body the model refuses"
    assert fast[0] == model[0] and fast[2] == model[2]
    assert list(fast[1]) == list(model[1])  # the same fields in the same order
    for name, value in model[1].items():
        assert type(fast[1][name]) is type(value) and fast[1][name] == value, name


def test_short_way_takes_the_usual_calls():
    data = {"psn_no": "P1", "mdtrt_id": "V1", "insutype": "390", "psn_type": "21", "med_type": "11",
            "medfee_sumamt": "123.45", "fulamt_ownpay_amt": 10, "inscp_scp_amt": 100.5,
            "setl_time": "2022-06-01"}  # fmt: skip
    body = {"msgid": "m-1", "infno": "2207", "input": {"data": data}}
    raw = json.dumps(body).encode()
    assert settle_record(raw) == _model(raw)
    got = settle_record(raw)[1]
    assert got["medfee_sumamt"] == decimal.Decimal("123.45") and got["inscp_scp_amt"] == decimal.Decimal("100.5")
    for bad in (b"", b"[]", b"{", b'{"msgid": "m"}', raw.replace(b'"P1"', b'" P1"')):
        assert settle_record(bad) is None


def test_loop_combiner_works_one_turn_together_and_fails_alone():
    batches = []

    def work(items):
        batches.append(list(items))
        if "bad" in items:
            raise ValueError("bad item")
        return [x * 2 for x in items]

    async def main():
        combine = LoopCombiner(work)
        first = await asyncio.gather(combine("a"), combine("b"))
        second = await asyncio.gather(combine("c"), combine("bad"), return_exceptions=True)
        return first, second

    first, second = asyncio.run(main())
    assert first == ["aa", "bb"]
    assert second[0] == "cc" and isinstance(second[1], ValueError)
    assert batches[0] == ["a", "b"] and batches[1] == ["c", "bad"]  # then each alone
    assert batches[2:] == [["c"], ["bad"]]


@pytest.mark.parametrize("value", ["1.000", "1e2", " 5.00"])
def test_amounts_the_short_way_leaves_to_the_model(value):
    body = {"msgid": "m", "input": {"data": {"psn_no": "P1", "mdtrt_id": "V1", "insutype": "390", "psn_type": "21",
                                             "med_type": "11", "medfee_sumamt": value}}}  # fmt: skip
    assert settle_record(json.dumps(body).encode()) is None
    assert _model(json.dumps(body).encode()) is not None  # accepted there, same value in the end
