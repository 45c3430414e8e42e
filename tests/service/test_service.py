"""The service against a real server: settle, retry, reverse, look-ups, concurrent clients on
the same person, equality with ``wz.settle`` in arrival order, and a bounded load."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
import threading

import pyarrow as pa
import pytest

import wzmedins as wz

from .conftest import settle_call, uid

D = decimal.Decimal
POLICY = wz.load_policy("wenzhou-2022")


def fen(value) -> int:
    return int(D(str(value)) * 100)


def body(response) -> dict:
    return json.loads(response.text, parse_float=D)


def test_settle_worked_example_retry_and_reverse(server):
    u = uid()
    with server.client("H1") as http:
        call = settle_call(f"m{u}", f"P{u}", "50000.00")
        first = http.post("/v1/settle", json=call)
        assert first.status_code == 200, first.text
        info = body(first)["output"]["setlinfo"]
        # settlement.md §9 example 1, tertiary (H1's level 02): deductible 800, fund 34 440, cash 15 560
        assert (info["act_pay_dedc"], info["hifp_pay"], info["psn_cash_pay"]) == (D("800.00"), D("34440.00"),
                                                                                  D("15560.00"))  # fmt: skip
        assert info["setl_id"] == f"H1:m{u}" and info["mdtrt_id"] == f"Vm{u}"
        proc = body(first)["output"]["setldetail"][0]["setl_proc_info"]
        assert "起付线 deductible 800.00 [deductible_inpatient.resident FZ]" in proc
        again = http.post("/v1/settle", json=call)  # a retry after a timeout
        assert again.status_code == 200 and body(again)["replayed"] is True
        assert body(again)["output"]["setlinfo"] == info
        changed = settle_call(f"m{u}", f"P{u}", "50000.01")
        assert http.post("/v1/settle", json=changed).status_code == 409
        looked = http.get(f"/v1/claims/H1:m{u}")
        assert looked.status_code == 200 and body(looked)["output"]["setlinfo"]["hifp_pay"] == D("34440.00")
        rev_call = {"msgid": f"r{u}", "input": {"data": {"setl_id": f"H1:m{u}", "setl_time": "2022-06-01"}}}
        rev = http.post("/v1/reverse", json=rev_call)
        assert rev.status_code == 200, rev.text
        rinfo = body(rev)["output"]["setlinfo"]
        assert rinfo["hifp_pay"] == D("-34440.00") and rinfo["reverses"] == f"H1:m{u}"
        twice = http.post("/v1/reverse", json={"msgid": f"r2{u}", "input": {"data": {"setl_id": f"H1:m{u}"}}})
        assert twice.status_code == 422 and body(twice)["reason"] == "ALREADY_REVERSED"
        # the deductible was given back: the next admission pays it again
        nxt = http.post("/v1/settle", json=settle_call(f"n{u}", f"P{u}", "50000.00", setl_time="2022-06-02"))
        assert body(nxt)["output"]["setlinfo"]["act_pay_dedc"] == D("800.00")
    ids = [r["claim_id"] for r in server.claims_of(f"P{u}")]
    assert ids == [f"H1:m{u}", f"H1:r{u}", f"H1:n{u}"]  # each once, nothing doubled


def test_presettle_stores_nothing(server):
    u = uid()
    before = server.counts()
    with server.client("H2") as http:
        out = http.post("/v1/presettle", json=settle_call(f"p{u}", f"P{u}", "2000.00"))
    assert out.status_code == 200
    # primary level (H2 is 09): resident inpatient 2 000, deductible 300, fund 80% of 1 700 = 1 360
    assert body(out)["output"]["setlinfo"]["hifp_pay"] == D("1360.00")
    assert server.counts() == before
    with server.client("AG") as http:
        assert body(http.get(f"/v1/persons/P{u}"))["output"]["years"] == []


def test_unmapped_code_and_rule_rejection(server):
    u = uid()
    with server.client("H1") as http:
        bad = http.post("/v1/settle", json=settle_call(f"x{u}", f"P{u}", med_type="99"))
        assert bad.status_code == 422
        assert body(bad)["reason"] == "UNMAPPED_CODE" and "med_type code '99'" in body(bad)["err_msg"]
        wrong = http.post("/v1/settle", json=settle_call(f"y{u}", f"P{u}", psn_type="11"))  # employee category
        assert wrong.status_code == 422 and body(wrong)["reason"] == "UNKNOWN_CATEGORY"


def test_person_and_statement_need_the_persons_credential(server):
    with server.client("H1") as http:
        assert http.post("/v1/settle", json=settle_call(f"s{uid()}", "PSTMT", "2000.00")).status_code == 200
        assert http.get("/v1/persons/PSTMT").status_code == 403
        assert http.get("/v1/persons/PSTMT/statement", params={"year": 2022}).status_code == 403
        mine = http.get("/v1/persons/PSTMT/statement", params={"year": 2022},
                        headers={"X-Person-Key": server.person_keys["PSTMT"]})  # fmt: skip
        assert mine.status_code == 200 and "Statement of benefits" in body(mine)["output"]["text"]
        assert http.get("/v1/persons/OTHER", headers={"X-Person-Key": server.person_keys["PSTMT"]}).status_code == 403
    with server.client("AG") as http:
        years = body(http.get("/v1/persons/PSTMT"))["output"]["years"]
        assert years[0]["inpatient_deductible_used"] == D("800.00")  # tertiary (H1)


VISITS = [("11", "outpatient"), ("14", "chronic"), ("21", "inpatient"), ("1402", "special")]


def test_concurrent_clients_equal_settle_in_arrival_order(server):
    """Eight clients settle claims of the same three persons at once; the service must settle
    each person's claims one after the other, exactly as wz.settle settles them in the order
    they were committed."""
    u = uid()
    persons = {f"A{u}": ("310", "11"), f"B{u}": ("390", "24"), f"C{u}": ("390", "21")}
    rng = random.Random(7)
    calls = []
    for i in range(48):
        person = rng.choice(sorted(persons))
        med, _ = rng.choice(VISITS)
        amount = f"{rng.randint(100, 4_000_000) // 100}.{rng.randint(0, 99):02d}"
        calls.append(settle_call(f"c{u}-{i}", person, amount, insutype=persons[person][0],
                                 psn_type=persons[person][1], med_type=med))  # fmt: skip
    answers: dict[str, dict] = {}
    errors = []

    def client(part):
        with server.client("H1" if len(part) % 2 else "H2") as http:
            for call in part:
                r = http.post("/v1/settle", json=call)
                if r.status_code != 200:
                    errors.append(r.text)
                else:
                    answers[call["msgid"]] = body(r)["output"]["setlinfo"]

    threads = [threading.Thread(target=client, args=(calls[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # each person's claims as the ledger settled them (all on one day: in commit order)
    stored = [dict(r, person_id=p) for p in sorted(persons) for r in server.claims_of(p)]
    assert len(stored) == len(calls) == len({r["claim_id"] for r in stored})
    by_msg = {c["msgid"]: c["input"]["data"] for c in calls}
    levels = {"H1": "tertiary", "H2": "primary"}
    order = [r["claim_id"] for r in stored]  # commit order
    claims = pa.table({
        "claim_id": order,
        "person_id": [by_msg[c.split(":")[1]]["psn_no"] for c in order],
        "settle_date": [dt.date(2022, 6, 1)] * len(order),
        "scheme": ["employee" if by_msg[c.split(":")[1]]["insutype"] == "310" else "resident" for c in order],
        "category": [{"11": "in_service", "24": "elderly", "21": "adult"}[by_msg[c.split(":")[1]]["psn_type"]]
                     for c in order],
        "visit_type": [dict(VISITS)[by_msg[c.split(":")[1]]["med_type"]] for c in order],
        "facility_level": [levels[c.split(":")[0]] for c in order],
        "total_cost": [fen(by_msg[c.split(":")[1]]["medfee_sumamt"]) for c in order],
    })  # fmt: skip
    expected = wz.settle(claims, POLICY).settled.to_pylist()
    for want, got_row in zip(expected, stored, strict=True):
        got = answers[want["claim_id"].split(":")[1]]
        assert fen(got["hifp_pay"]) == want["fund"] == fen(got_row["fund"])
        assert fen(got["act_pay_dedc"]) == want["deductible"]
        assert fen(got["hifmi_pay"]) + fen(got["hifob_pay"]) == want["critical_illness"]
        assert fen(got["psn_cash_pay"]) == want["cash"] and fen(got["acct_pay"]) == 0
        assert fen(got["medfee_sumamt"]) == fen(got["fund_pay_sumamt"]) + fen(got["psn_part_amt"])


@pytest.mark.parametrize("clients, per_client", [(10, 20)])
def test_bounded_load_nothing_lost_or_doubled(server, clients, per_client):
    """A fixed load on loopback: 200 claims from 10 clients, some sent twice (retries)."""
    u = uid()
    before = server.counts()
    statuses: list[int] = []
    lock = threading.Lock()

    def client(k):
        with server.client("H1") as http:
            for i in range(per_client):
                call = settle_call(f"L{u}-{k}-{i}", f"L{u}-{(k * per_client + i) % 37}", "300.00", med_type="11")
                codes = [http.post("/v1/settle", json=call).status_code]
                if i % 5 == 0:
                    codes.append(http.post("/v1/settle", json=call).status_code)  # a retry
                with lock:
                    statuses.extend(codes)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert set(statuses) == {200}
    stored = [r["claim_id"] for p in range(37) for r in server.claims_of(f"L{u}-{p}")]
    assert len(stored) == len(set(stored)) == clients * per_client
    assert server.counts()["settled"] - before["settled"] == clients * per_client


def test_health_metrics_openapi_and_quiet_logs(server):
    with server.client(None) as http:
        assert http.get("/health").json()["status"] == "ok"
        assert "wzmedins_requests_total" in http.get("/metrics").text
        spec = http.get("/openapi.json").json()
        assert {"/v1/settle", "/v1/presettle", "/v1/reverse"} <= set(spec["paths"])
    log = server.log.read_text()
    assert "POST /v1/settle 200" in log
    # person ids never reach the log at INFO (the look-ups' paths are logged as templates)
    assert "PSTMT" not in log and "/v1/persons/{psn_no}" in log
