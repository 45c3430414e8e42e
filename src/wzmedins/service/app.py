"""The real-time settlement service: platform-shaped HTTP/JSON calls over the ledger.

``create_app(ServiceConfig(...))`` builds the ASGI application (FastAPI); ``wzmedins serve``
runs it on uvicorn. See ``docs/service.md``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import decimal
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ..platform import from_platform, load_codes, to_platform
from ..platform.outbound import dumps
from ..policy import Policy, load_policy
from .answer import answer, explanation
from .auth import Caller, KeyStore
from .combine import LoopCombiner
from .fast import FAST_PATHS, FastCalls
from .guard import AccessLog, BodyLimit, Metrics, RateLimit
from .models import ReverseCall, SettleCall
from .stores import open_ledger
from .writer import CLAIM_SCHEMA, Outcome, Writer

log = logging.getLogger("wzmedins.service")
CHINA = dt.timezone(dt.timedelta(hours=8))  # settlement days are China's (no daylight saving)
COMPARED = ("person_id", "scheme", "category", "visit_type", "facility_level", "area", "assistance",
            "total_cost", "self_pay", "class_b_self_pay", "reverses")  # fmt: skip


@dataclass
class ServiceConfig:
    """How the service runs.

    ``ledger`` is a DuckDB path or a ``postgresql://`` URL; ``policy`` a profile name or file;
    ``keys`` the keys file (``wzmedins.service.auth``); ``codes`` the code lists (default the
    built-in ones). ``max_body`` bytes per request, ``rate`` calls a second per institution
    (bursts of ``burst``), ``max_group`` claims per commit, ``timeout`` seconds a call waits
    for its settlement."""

    ledger: str
    policy: str | os.PathLike | Policy
    keys: str | os.PathLike
    codes: str | os.PathLike | None = None
    max_body: int = 16_384
    rate: float = 500.0
    burst: int = 1_000
    max_group: int = 256
    timeout: float = 10.0
    lock_timeout: float = 30.0
    switch_interval: float = 0.0005  # seconds: the interpreter's thread switch interval (sys.setswitchinterval)


class JSONYuan(Response):
    """JSON with yuan amounts written exactly."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


class DecimalRoute(APIRoute):
    """Reads request JSON with amounts as decimals, so a yuan amount never passes through a float."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            body = await request.body()
            if body:
                with contextlib.suppress(ValueError, UnicodeDecodeError):
                    request._json = json.loads(body, parse_float=decimal.Decimal)
            return await handler(request)

        return route


class Refused(Exception):
    """A call refused before anything is done: status, a short reason for the log, a message."""

    def __init__(self, status: int, why: str, message: str):
        super().__init__(message)
        self.status, self.why, self.message = status, why, message


class Service:
    """The state of a running service: ledgers, writer, keys, limits, metrics."""

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.policy = config.policy if isinstance(config.policy, Policy) else load_policy(config.policy)
        self.codes = load_codes(config.codes)
        self.keys = KeyStore(config.keys)
        self.metrics = Metrics()
        self.limit = RateLimit(rate=config.rate, burst=config.burst)
        self.ledger = open_ledger(config.ledger, policy=self.policy, lock_timeout=config.lock_timeout)
        self.reader = open_ledger(config.ledger, policy=self.policy, lock_timeout=config.lock_timeout,
                                  shared=self.ledger)  # fmt: skip
        # a PostgreSQL Ledger holds one connection, for one thread at a time; DuckDB cursors don't mind
        self.read_lock = threading.Lock() if self.reader.store is not self.ledger.store else contextlib.nullcontext()
        self._warm_up()
        self.writer = Writer(self.ledger, max_group=config.max_group, on_group=self.metrics.group)
        # recent answers and their claims, for retries without a trip to the database
        self.answers: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self.loop_mapper = LoopCombiner(self.map_records)  # the calls of one turn of the event loop mapped together
        self.recent: dict[str, dict] = {}

    def map_records(self, records: list[dict]) -> list[dict | Rejected]:
        """Platform records to claims rows (or a :class:`Rejected` each), in one ``from_platform``."""
        mapped = from_platform(records, codes=self.codes, settle_date=_today())
        out: list[dict | Rejected] = [None] * len(records)  # type: ignore[list-item]
        for r in mapped.rejected.to_pylist():
            out[r["row"]] = Rejected(r["reason"], r["message"])
        for row in mapped.claims.to_pylist():
            out[row["row"]] = row
        return out

    def _warm_up(self) -> None:
        """Compile the kernels before the first call: a cold first settlement would keep the first
        callers waiting for the compiler."""
        from ..settle import settle as settle_batch

        day = _today()
        rows = [{"claim_id": f"warm-{i}", "person_id": f"warm-{i}", "settle_date": day, "seq": 0,
                 "scheme": scheme, "category": category, "visit_type": visit, "facility_level": "primary",
                 "area": "local", "assistance": "none", "total_cost": 10_000, "self_pay": 0, "class_b_self_pay": 0,
                 "reverses": None}
                for i, (scheme, category, visit) in enumerate([("employee", "in_service", "outpatient"),
                                                               ("resident", "adult", "inpatient")])]  # fmt: skip
        with contextlib.suppress(Exception):  # a profile not in force today: the first call compiles
            settle_batch(pa.Table.from_pylist(rows, CLAIM_SCHEMA).drop_columns(["reverses"]), self.policy)

    def close(self) -> None:
        self.writer.close()
        self.reader.close()
        self.ledger.close()

    def remember(self, claim_id: str, answer: dict, claim: dict) -> None:
        self.answers[claim_id] = answer
        self.recent[claim_id] = claim
        while len(self.answers) > 10_000:
            old, _ = self.answers.popitem(last=False)
            self.recent.pop(old, None)

    async def read(self, fn, *args):
        def locked():
            with self.read_lock:
                return fn(*args)

        return await run_in_threadpool(locked)

    # ---------------------------------------------------------------- ledger reads

    def settled_row(self, claim_id: str) -> dict | None:
        with self.reader.store.transaction(write=False) as tx:
            rows = tx.query("SELECT * FROM settled WHERE claim_id = $1", (claim_id,)).to_pylist()
        return rows[0] if rows else None

    def person_rows(self, person_id: str) -> tuple[pa.Table, pa.Table]:
        with self.reader.store.transaction(write=False) as tx:
            state = tx.query("SELECT * FROM state WHERE person_id = $1 ORDER BY year", (person_id,))
            accounts = tx.query("SELECT * FROM accounts WHERE person_id = $1 ORDER BY year", (person_id,))
        return state, accounts

    def statement(self, person_id: str, year: int):
        return self.reader.statement(person_id, year)

    def counts(self) -> dict[str, int]:
        with self.reader.store.transaction(write=False) as tx:
            return {t: tx.query(f"SELECT COUNT(*) AS n FROM {t}")["n"][0].as_py()
                    for t in ("settled", "rejected", "batches")}  # fmt: skip


def _today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def create_app(config: ServiceConfig) -> FastAPI:
    """The service as an ASGI application (FastAPI). Opening it starts the ledger's writer.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from wzmedins.service.auth import add_key
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> key = add_key(tmp / "keys.toml", code="H1", hosp_lv="02")
    >>> app = create_app(ServiceConfig(str(tmp / "l.duckdb"), "wenzhou-2022", tmp / "keys.toml"))
    >>> sorted(r.path for r in app.routes if r.path.startswith("/v1/p") or r.path.startswith("/v1/s"))
    ['/v1/persons/{psn_no}', '/v1/persons/{psn_no}/statement', '/v1/presettle', '/v1/settle']
    """
    holder: dict[str, Service] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # The writer thread waits on the database a few dozen times a commit; each time it wakes
        # it must win the interpreter lock back from the threads building answers, which keep it
        # up to the switch interval (5 ms by default): a commit then took several times its SQL.
        sys.setswitchinterval(config.switch_interval)
        holder["service"] = Service(config)
        log.info("serving ledger %s, policy %s", holder["service"].ledger.store.display, holder["service"].policy.name)
        try:
            yield
        finally:
            await run_in_threadpool(holder["service"].close)

    app = FastAPI(
        title="wzmedins settlement service",
        version="1",
        description="Real-time settlement of Wenzhou medical-insurance claims in the national platform's fields "
        "(2206 pre-settle, 2207/2304 settle, 2208/2305 reverse). See docs/service.md.",
        lifespan=lifespan,
    )
    app.router.route_class = DecimalRoute

    def service() -> Service:
        return holder["service"]

    def refuse(request: Request, exc: Refused, caller: Caller | None = None) -> JSONResponse:
        # never personal data here: the route template, the status, the institution
        who = caller.code if caller else "-"
        log.warning("refused %d %s route=%s institution=%s", exc.status, exc.why, _route(request), who)
        if "service" in holder:
            holder["service"].metrics.refusal(exc.why)
        return JSONResponse({"infcode": -1, "err_msg": exc.message}, status_code=exc.status)

    @app.exception_handler(Refused)
    async def on_refused(request: Request, exc: Refused):
        return refuse(request, exc, request.scope.get("wz_caller"))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        errors = [{"field": "body" if e["type"] == "json_invalid" else ".".join(str(x) for x in e["loc"][1:]) or "body",
                   "message": e["msg"]} for e in exc.errors()]  # fmt: skip
        malformed = any(e["type"] in ("json_invalid", "model_attributes_type") for e in exc.errors())
        status = 400 if malformed else 422
        why = "malformed body" if malformed else "invalid field"
        who = getattr(request.scope.get("wz_caller"), "code", "-")
        fields = ",".join(e["field"] for e in errors)
        log.warning("refused %d %s route=%s institution=%s fields=%s", status, why, _route(request), who, fields)
        if "service" in holder:
            holder["service"].metrics.refusal(why)
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return JSONResponse({"infcode": -1, "err_msg": f"{first['field']}: {first['message']}", "errors": errors},
                            status_code=status)  # fmt: skip

    def access_log(scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        if "service" in holder:
            holder["service"].metrics.request(scope["method"], route, status, seconds)
        caller = scope.get("wz_caller")
        # the route template, never the path: a path may hold a person's id
        log.info("%s %s %d %.1fms institution=%s", scope["method"], route, status, seconds * 1000,
                 caller.code if caller else "-")  # fmt: skip

    app.add_middleware(AccessLog, on_done=access_log)

    def on_too_large(scope):
        log.warning("refused 413 body too large")
        if "service" in holder:
            holder["service"].metrics.refusal("body too large")

    app.add_middleware(BodyLimit, max_bytes=config.max_body, on_refuse=on_too_large)

    async def caller(request: Request, svc: Service = Depends(service)) -> Caller:
        key = request.headers.get("x-api-key")
        if not key:
            auth = request.headers.get("authorization", "")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if not key:
            raise Refused(401, "no key", "an API key is required (header X-API-Key)")
        who = svc.keys.institution(key)
        if who is None:
            raise Refused(401, "unknown key", "the API key is not valid")
        request.scope["wz_caller"] = who
        if not svc.limit.allow(who.code):
            raise Refused(429, "rate", "too many calls: slow down and retry")
        return who

    def own(setl_id: str, who: Caller) -> None:
        if not who.is_agency and not setl_id.startswith(who.code + ":"):
            raise Refused(403, "other institution", "this settlement is not one of the calling institution's")

    def person_allowed(request: Request, svc: Service, who: Caller, psn_no: str) -> None:
        if who.is_agency:
            return
        if svc.keys.person(request.headers.get("x-person-key")) != psn_no:
            raise Refused(403, "no person credential", "a person's records need the person's credential "
                          "(header X-Person-Key) or an agency key")  # fmt: skip

    # ---------------------------------------------------------------- answers

    def platform_record(record: dict, who: Caller, claim_id: str) -> dict:
        record = dict(record)
        record["setl_id"] = claim_id
        record["fixmedins_code"] = who.code
        if who.hosp_lv:
            record["hosp_lv"] = who.hosp_lv  # the institution's registered level, not the caller's word
        return record

    def claim_of(out) -> tuple[dict, dict]:
        if isinstance(out, Rejected):
            raise out
        return {k: out.get(k) for k in CLAIM_SCHEMA.names}, out

    async def mapped_claim(svc: Service, record: dict, who: Caller, claim_id: str) -> tuple[dict, dict]:
        """The call's claim (the columns of ``CLAIM_SCHEMA``) and its mapped row (with the
        platform fields the answer echoes) from its ``input.data`` (as the model dumps it);
        the calls of one turn of the event loop are mapped together, on the loop."""
        return claim_of(await svc.loop_mapper(platform_record(record, who, claim_id)))

    def answer_from_outcome(svc: Service, outcome, echo: dict) -> dict:
        # one claim's answer from plain rows (answer.py): no Arrow tables per claim
        row, state = outcome.settled, outcome.state_of_year()
        if outcome.texts is not None:  # the group's claims explained together, once
            text = outcome.texts.text(row, echo, svc.policy, state=state)
        else:
            text = explanation(row, echo, svc.policy, state=state)
        return answer(row, echo, svc.codes, state=state, explanation=text)

    def answer_from_stored(svc: Service, row: dict) -> dict:
        settled = pa.Table.from_pylist([row])
        claims = settled.append_column("fulamt_ownpay_amt", pa.array([row["self_pay"]], pa.int64()))
        claims = claims.append_column("overlmt_selfpay", pa.array([0], pa.int64()))
        claims = claims.append_column("fixmedins_code", pa.array([row["claim_id"].split(":")[0]]))
        try:
            st = svc.statement(row["person_id"], row["year"]).table
            text = dict(zip(st["claim_id"].cast(pa.string()).to_pylist(), st["explanation"].to_pylist(), strict=True))
        except Exception:  # an explanation is a courtesy; the amounts are what matter
            text = {}
        return to_platform(settled, claims, codes=svc.codes, explanations=text).records()[0]

    def same_call(stored: dict, claim: dict, dated: bool) -> bool:
        for k in COMPARED:
            a, b = stored.get(k), claim.get(k)
            if k == "reverses" and claim.get("reverses") is None:
                continue
            if k in ("scheme", "category", "area", "assistance", "total_cost", "self_pay", "class_b_self_pay",
                     "visit_type", "facility_level") and claim.get("reverses") is not None:  # fmt: skip
                continue
            if a != b:
                return False
        return not dated or stored.get("settle_date") == claim.get("settle_date")

    async def replay(svc: Service, claim_id: str, claim: dict, dated: bool, msgid: str) -> JSONYuan | None:
        if claim_id in svc.answers:
            stored = svc.recent[claim_id]
        else:
            stored = await svc.read(svc.settled_row, claim_id)
        if stored is None:
            return None
        if not same_call(stored, claim, dated):
            raise Refused(409, "msgid reused", f"message {msgid} was already settled with different content: "
                          "give a new call a new msgid")  # fmt: skip
        output = svc.answers.get(claim_id) or await svc.read(answer_from_stored, svc, stored)
        return JSONYuan({"infcode": 0, "msgid": msgid, "replayed": True, "output": output})

    async def settle_claim(svc: Service, claim: dict, echo: dict, dated: bool, msgid: str) -> Response:
        claim_id = claim["claim_id"]
        if claim_id in svc.answers:  # a retry of a call answered lately; older ones: the ledger says
            return await replay(svc, claim_id, claim, dated, msgid)
        future = svc.writer.submit(claim)
        try:
            outcome = await asyncio.wait_for(asyncio.wrap_future(future), svc.config.timeout)
        except TimeoutError:
            return JSONResponse({"infcode": -1, "err_msg": "not settled in time: send the same call again "
                                 "(same msgid) to learn the outcome"}, status_code=504)  # fmt: skip
        except Exception as exc:  # the group's transaction was rolled back: nothing of it is stored
            log.error("settlement failed: %s", type(exc).__name__)
            return JSONResponse({"infcode": -1, "err_msg": "settlement failed, nothing was stored: send the same "
                                 "call again (same msgid)"}, status_code=503)  # fmt: skip
        if outcome.rejected is not None:
            if outcome.rejected["reason"] == "DUPLICATE_CLAIM_ID":  # a concurrent retry got there first
                done = await replay(svc, claim_id, claim, dated, msgid)
                if done is not None:
                    return done
            return rejected_response(msgid, outcome.rejected["reason"], outcome.rejected["message"])
        output = answer_from_outcome(svc, outcome, echo)  # on the loop: the group's texts are made once
        stored = dict(claim, settle_date=claim["settle_date"], reverses=claim.get("reverses"))
        svc.remember(claim_id, output, stored)
        return JSONYuan({"infcode": 0, "msgid": msgid, "replayed": False, "output": output})

    def rejected_response(msgid: str, reason: str, message: str) -> JSONResponse:
        return JSONResponse({"infcode": -1, "msgid": msgid, "reason": reason, "err_msg": message}, status_code=422)

    # ---------------------------------------------------------------- calls

    async def presettle_call(who: Caller, msgid: str, record: dict, dated: bool) -> Response:
        svc = holder["service"]
        claim_id = f"{who.code}:{msgid}"
        try:
            claim, echo = await mapped_claim(svc, record, who, claim_id)
        except Rejected as r:
            return rejected_response(msgid, r.reason, r.message)
        state, accounts = await svc.read(svc.person_rows, claim["person_id"])
        from ..settle import settle as settle_batch

        def run():
            keep_state = state.drop_columns(["batch_id"]) if state.num_rows else None
            keep_accounts = accounts.drop_columns(["source"]) if accounts.num_rows else None
            out = settle_batch(pa.Table.from_pylist([claim], CLAIM_SCHEMA).drop_columns(["reverses"]), svc.policy,
                               state=keep_state, accounts=keep_accounts)  # fmt: skip
            return out

        out = await run_in_threadpool(run)
        if out.rejected.num_rows:
            r = out.rejected.to_pylist()[0]
            return rejected_response(msgid, r["reason"], r["message"])
        outcome = Outcome(out.settled.to_pylist()[0], None, out.state.to_pylist(), "")
        output = await run_in_threadpool(answer_from_outcome, svc, outcome, echo)
        return JSONYuan({"infcode": 0, "msgid": msgid, "output": output})

    async def settle_call(who: Caller, msgid: str, record: dict, dated: bool) -> Response:
        svc = holder["service"]
        claim_id = f"{who.code}:{msgid}"
        try:
            claim, echo = await mapped_claim(svc, record, who, claim_id)
        except Rejected as r:
            return rejected_response(msgid, r.reason, r.message)
        return await settle_claim(svc, claim, echo, dated, msgid)

    @app.post("/v1/presettle", summary="Pre-settle (2206): the amounts, nothing stored")
    async def presettle(call: SettleCall, who: Caller = Depends(caller)):
        data = call.input.data
        return await presettle_call(who, call.msgid, data.model_dump(exclude_none=True), data.setl_time is not None)

    @app.post("/v1/settle", summary="Settle (2207 outpatient, 2304 inpatient): stored in the ledger")
    async def settle(call: SettleCall, who: Caller = Depends(caller)):
        data = call.input.data
        return await settle_call(who, call.msgid, data.model_dump(exclude_none=True), data.setl_time is not None)

    @app.post("/v1/reverse", summary="Reverse a settlement (2208 outpatient, 2305 inpatient)")
    async def reverse(call: ReverseCall, who: Caller = Depends(caller), svc: Service = Depends(service)):
        data = call.input.data
        own(data.setl_id, who)
        original = await svc.read(svc.settled_row, data.setl_id)
        if original is None:
            raise Refused(404, "unknown settlement", "no such settlement")
        day = dt.date.fromisoformat(data.setl_time[:10]) if data.setl_time else _today()
        claim = {"claim_id": f"{who.code}:{call.msgid}", "person_id": data.psn_no or original["person_id"],
                 "settle_date": day, "seq": 0, "reverses": data.setl_id}  # fmt: skip
        echo = {"claim_id": claim["claim_id"], "settle_date": day, "seq": 0, "scheme": original["scheme"],
                "fixmedins_code": who.code, "mdtrt_id": data.mdtrt_id}  # fmt: skip
        return await settle_claim(svc, claim, echo, data.setl_time is not None, call.msgid)

    # ---------------------------------------------------------------- look-ups

    @app.get("/v1/claims/{setl_id}", summary="A settlement, as setlinfo and setldetail")
    async def claim(setl_id: str, who: Caller = Depends(caller), svc: Service = Depends(service)):
        own(setl_id, who)
        row = await svc.read(svc.settled_row, setl_id)
        if row is None:
            raise Refused(404, "unknown settlement", "no such settlement")
        output = svc.answers.get(setl_id) or await svc.read(answer_from_stored, svc, row)
        return JSONYuan({"infcode": 0, "output": output})

    @app.get("/v1/persons/{psn_no}", summary="A person's year: accumulators and balances (yuan)")
    async def person(psn_no: str, request: Request, who: Caller = Depends(caller), svc: Service = Depends(service)):
        person_allowed(request, svc, who, psn_no)
        state, accounts = await svc.read(svc.person_rows, psn_no)
        return JSONYuan({"infcode": 0, "output": {"psn_no": psn_no, "years": _yuan_rows(state, "batch_id"),
                                                  "accounts": _yuan_rows(accounts, "source")}})  # fmt: skip

    @app.get("/v1/persons/{psn_no}/statement", summary="Explanation of benefits (费用结算单) for a year")
    async def statement(psn_no: str, year: int, request: Request, who: Caller = Depends(caller),
                        svc: Service = Depends(service)):  # fmt: skip
        person_allowed(request, svc, who, psn_no)
        st = await svc.read(svc.statement, psn_no, year)
        rows = _yuan_rows(st.table.drop_columns(["ratio_bp"]), None)
        return JSONYuan({"infcode": 0, "output": {"psn_no": psn_no, "year": year, "claims": rows,
                                                  "text": st.to_text()}})  # fmt: skip

    # ---------------------------------------------------------------- operations

    @app.get("/v1/audit/counts", summary="Rows in the ledger's settled, rejected and batches tables (agency only)")
    async def counts(who: Caller = Depends(caller), svc: Service = Depends(service)):
        if not who.is_agency:
            raise Refused(403, "not an agency", "the ledger's counts are for the agency")
        return JSONResponse({"infcode": 0, "output": await svc.read(svc.counts)})

    @app.get("/health", summary="Liveness and the ledger's reachability")
    async def health(svc: Service = Depends(service)):
        def ping():
            with svc.reader.store.transaction(write=False) as tx:
                tx.query("SELECT 1 AS ok")

        try:
            await svc.read(ping)
            ok = True
        except Exception:
            ok = False
        body = {"status": "ok" if ok else "ledger unreachable", "queued": svc.writer._queue.qsize(),
                "policy": svc.policy.name, "fingerprint": svc.policy.fingerprint}  # fmt: skip
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", summary="Counters and latency histograms (Prometheus text format)")
    async def metrics(svc: Service = Depends(service)):
        return PlainTextResponse(svc.metrics.render(queued=svc.writer._queue.qsize()))

    # the settle and pre-settle calls' short way (fast.py): well-formed, authenticated calls skip
    # FastAPI's layers; anything else, every refusal included, takes the routes above
    def authenticate(scope) -> Caller | None:
        svc = holder.get("service")
        if svc is None:
            return None
        key = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                key = value.decode("latin-1")
                break
            if name == b"authorization" and key is None and value[:7].lower() == b"bearer ":
                key = value[7:].decode("latin-1").strip()
        who = svc.keys.institution(key) if key else None
        if who is None or not svc.limit.allow(who.code):
            return None
        return who

    def fast(call):
        async def handle(scope, who: Caller, msgid: str, record: dict, dated: bool) -> Response:
            try:
                return await call(who, msgid, record, dated)
            except Refused as exc:
                return refuse(Request(scope), exc, who)

        return handle

    app.add_middleware(FastCalls, max_bytes=config.max_body, authenticate=authenticate, on_done=access_log,
                       handlers={"/v1/settle": fast(settle_call), "/v1/presettle": fast(presettle_call)},
                       routes={r.path: r for r in app.routes if getattr(r, "path", None) in FAST_PATHS})  # fmt: skip
    return app


class Rejected(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


MONEY_WORDS = ("cost", "pay", "used", "paid", "base", "balance", "eligible", "deductible", "fund", "coinsurance",
               "over_cap", "critical_illness", "medical_assistance", "account", "cash", "added")  # fmt: skip


def _yuan_rows(table: pa.Table, drop: str | None) -> list[dict]:
    if drop and drop in table.column_names:
        table = table.drop_columns([drop])
    out = []
    for row in table.to_pylist():
        for k, v in row.items():
            if (
                isinstance(v, int)
                and not k.startswith(("admissions", "year", "seq"))
                and any(w in k for w in MONEY_WORDS)
            ):
                row[k] = decimal.Decimal(v).scaleb(-2)
        out.append(row)
    return out


__all__ = ["ServiceConfig", "create_app"]
