"""Refusals: no key, a wrong key, another institution's claim, an oversized or malformed body,
a rotated key — each with its status, each leaving the ledger as it was."""

from __future__ import annotations

import pytest

from wzmedins.service.auth import add_key

from .conftest import settle_call, uid


def snapshot(server) -> dict[str, int]:
    return server.counts()


@pytest.fixture
def h1_claim(server):
    u = uid()
    with server.client("H1") as http:
        assert http.post("/v1/settle", json=settle_call(f"own{u}", f"S{u}")).status_code == 200
    return f"H1:own{u}"


def test_refusals_store_nothing(server, h1_claim):
    before = snapshot(server)
    u = uid()
    call = settle_call(f"z{u}", f"Z{u}")
    with server.client(None) as anon:
        assert anon.post("/v1/settle", json=call).status_code == 401
        assert anon.post("/v1/settle", json=call, headers={"X-API-Key": "wzk_not-a-key"}).status_code == 401
        assert anon.get(f"/v1/claims/{h1_claim}", headers={"Authorization": "Bearer nope"}).status_code == 401
    with server.client("H2") as other:
        assert other.get(f"/v1/claims/{h1_claim}").status_code == 403
        rev = {"msgid": f"r{u}", "input": {"data": {"setl_id": h1_claim}}}
        assert other.post("/v1/reverse", json=rev).status_code == 403
        big = settle_call(f"b{u}", f"Z{u}", mdtrt_id="V" + "x" * 30)
        big["padding"] = "x" * 10_000
        assert other.post("/v1/settle", json=big).status_code == 413
        json_type = {"content-type": "application/json"}
        bad = other.post("/v1/settle", content=b'{"msgid": "m", "input": {', headers=json_type)
        assert bad.status_code == 400
        missing = settle_call(f"q{u}", f"Z{u}")
        del missing["input"]["data"]["medfee_sumamt"]
        r = other.post("/v1/settle", json=missing)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input.data.medfee_sumamt"
        r = other.post("/v1/settle", json=settle_call(f"w{u}", f"Z{u}", "12.345"))
        assert r.status_code == 422 and "medfee_sumamt" in r.json()["err_msg"]
        assert other.get("/v1/claims/H1:does-not-exist").status_code == 403
    with server.client("AG") as agency:  # the agency reads every institution's claims
        assert agency.get(f"/v1/claims/{h1_claim}").status_code == 200
    with server.client("H1") as own:
        assert own.get("/v1/audit/counts").status_code == 403
    assert snapshot(server) == before
    log = server.log.read_text()
    assert "refused 401 unknown key" in log and "refused 403 other institution" in log
    assert f"Z{u}" not in log


def test_key_rotation_without_restart(server):
    new = add_key(server.keys_file, code="H2", replace=True)
    call = settle_call(f"k{uid()}", f"K{uid()}")
    with server.client(None) as http:
        assert http.post("/v1/settle", json=call, headers={"X-API-Key": server.keys["H2"]}).status_code == 401
        assert http.post("/v1/settle", json=call, headers={"X-API-Key": new}).status_code == 200
    server.keys["H2"] = new
