"""The settle and pre-settle calls' short way through the HTTP layer.

FastAPI costs about 1.5 ms of the interpreter a call (routing, dependency solving, pydantic,
several middleware layers), more than the settlement itself. :class:`FastCalls` is a plain
ASGI wrapper in front of the application: a ``POST /v1/settle`` or ``/v1/presettle`` whose body
is well formed and whose key is valid is read, checked and answered here, by the same code that
settles and answers behind the FastAPI routes. **Anything else goes to the FastAPI
application untouched** (its body replayed): other paths, a missing or wrong key, a body over
the limit, malformed JSON, any field the hand-written check does not accept. So every refusal,
its status, its message naming the field and its log line are the FastAPI route's, and the
OpenAPI document describes both ways.

:func:`settle_record` accepts a subset of what the pydantic models (``models.py``) accept and
gives the same values (a test holds the two equal on random bodies); what it does not accept,
the models judge.
"""

from __future__ import annotations

import decimal
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .models import SettleData

FAST_PATHS = ("/v1/settle", "/v1/presettle")
MAX_YUAN = decimal.Decimal("10000000000")
_MSGID = re.compile(r"[0-9A-Za-z_.\-]{1,64}")
_IDENT = re.compile(r"[0-9A-Za-z_.\-]{1,40}")
_CODE = re.compile(r"[0-9A-Za-z]{1,10}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")
_YUAN = re.compile(r"\d{1,11}(\.\d{1,2})?")
_IDENTS = ("psn_no", "mdtrt_id")
_CODES = ("insutype", "psn_type", "med_type")
_MONEY = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt")
_OPTIONAL_CODES = ("psn_idet_type", "insuplc_admdvs", "out_registered", "acct_used_flag")
FIELDS = tuple(SettleData.model_fields)  # the order model_dump gives


def _yuan(value) -> decimal.Decimal | None:
    """A yuan amount as the model reads it, or None when the model must judge it."""
    kind = type(value)
    if kind is str:
        return decimal.Decimal(value) if _YUAN.fullmatch(value) and decimal.Decimal(value) <= MAX_YUAN else None
    if kind is int:
        return decimal.Decimal(value) if 0 <= value <= MAX_YUAN else None
    if kind is decimal.Decimal:
        if value.is_finite() and value.as_tuple().exponent >= -2 and 0 <= value <= MAX_YUAN:
            return value
    return None


def settle_record(body: bytes) -> tuple[str, dict, bool] | None:
    """``(msgid, record, dated)`` of a settle or pre-settle body — ``record`` is what
    ``SettleCall``'s ``input.data.model_dump(exclude_none=True)`` gives, ``dated`` whether
    ``setl_time`` was given — or None when the body is anything the pydantic models must judge.

    Examples
    --------
    >>> msgid, record, dated = settle_record(b'{"msgid": "m1", "input": {"data": {"psn_no": "P1", '
    ...     b'"mdtrt_id": "V1", "insutype": "390", "psn_type": "21", "med_type": "21", "medfee_sumamt": "50.00"}}}')
    >>> msgid, record["medfee_sumamt"], record["preselfpay_amt"], dated
    ('m1', Decimal('50.00'), Decimal('0'), False)
    >>> settle_record(b'{"msgid": "m1", "input": {"data": {"psn_no": "P1"}}}') is None  # the model judges it
    True
    """
    try:
        call = json.loads(body, parse_float=decimal.Decimal)
    except (ValueError, UnicodeDecodeError):
        return None
    if type(call) is not dict:
        return None
    msgid, infno, given = call.get("msgid"), call.get("infno"), call.get("input")
    if type(msgid) is not str or not _MSGID.fullmatch(msgid):
        return None
    if infno is not None and (type(infno) is not str or len(infno) > 8):
        return None
    if type(given) is not dict or type(data := given.get("data")) is not dict:
        return None
    out: dict[str, Any] = {}
    for name in _IDENTS:
        value = data.get(name)
        if type(value) is not str or not _IDENT.fullmatch(value):
            return None
        out[name] = value
    for name in _CODES:
        value = data.get(name)
        if type(value) is not str or not _CODE.fullmatch(value):
            return None
        out[name] = value
    for name in _MONEY:
        if name not in data and name != "medfee_sumamt":  # absent: its default (null is refused)
            out[name] = decimal.Decimal(0)
            continue
        value = data[name] if name in data else None
        if (amount := _yuan(value)) is None:
            return None
        out[name] = amount
    if (value := data.get("inscp_scp_amt")) is not None:
        if (amount := _yuan(value)) is None:
            return None
        out["inscp_scp_amt"] = amount
    for name in _OPTIONAL_CODES:
        if (value := data.get(name)) is not None:
            if type(value) is not str or not _CODE.fullmatch(value):
                return None
            out[name] = value
    if (day := data.get("setl_time")) is not None:
        if type(day) is not str or not _DAY.fullmatch(day):
            return None
        out["setl_time"] = day
    return msgid, {k: out[k] for k in FIELDS if k in out}, day is not None


Handler = Callable[[Any, dict, str, dict, bool], Awaitable[Any]]


class FastCalls:
    """ASGI middleware: serves well-formed, authenticated settle and pre-settle calls itself
    (``handlers[path](scope, caller, msgid, record, dated)`` returns a Starlette response);
    passes everything else, body included, to ``app``.

    ``authenticate(scope)`` returns the calling institution or None (then ``app`` refuses the
    call); ``on_done(scope, status, seconds)`` is the access log."""

    def __init__(self, app, *, max_bytes: int, authenticate, handlers: dict[str, Handler], routes: dict, on_done):
        self.app = app
        self.max_bytes = max_bytes
        self.authenticate = authenticate
        self.handlers = handlers
        self.routes = routes
        self.on_done = on_done

    async def __call__(self, scope, receive, send):
        path = scope.get("path")
        if scope["type"] != "http" or path not in self.handlers or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is None or not declared.isdigit() or int(declared) > self.max_bytes:
            return await self.app(scope, receive, send)  # chunked, or too long: the application judges it
        started = time.perf_counter()
        chunks, size, more = [], 0, True
        while more and size <= self.max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was whole: nothing to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        parsed = None if more or size > self.max_bytes else settle_record(body)
        caller = self.authenticate(scope) if parsed is not None else None
        if caller is None:
            return await self.app(scope, _replay(body, more, receive), send)
        scope["route"] = self.routes[path]
        scope["wz_caller"] = caller
        status = 500
        try:
            response = await self.handlers[path](scope, caller, *parsed)
            status = response.status_code
            await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
            await send({"type": "http.response.body", "body": response.body})
        finally:
            self.on_done(scope, status, time.perf_counter() - started)


def _replay(body: bytes, more: bool, receive):
    """The request's messages again for the application: what was read, then the rest."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


__all__ = ["FastCalls", "settle_record"]
