"""A real service for the tests: ``wzmedins serve`` started as its own process on 127.0.0.1,
over a fresh DuckDB file, and over PostgreSQL when WZMEDINS_PG_URL is set (``source
.ci/postgres.sh``; under CI=true it must be)."""

from __future__ import annotations

import decimal
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

import wzmedins as wz
from wzmedins.service.auth import add_key

SRC = str(pathlib.Path(__file__).resolve().parents[2] / "src")
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running service: its URL, ledger location, keys file and keys, log file."""

    def __init__(self, tmp: pathlib.Path, ledger: str, *extra: str):
        self.tmp, self.ledger = tmp, ledger
        self.keys_file = tmp / "keys.toml"
        self.keys = {
            "H1": add_key(self.keys_file, code="H1", name="hospital one", hosp_lv="02"),
            "H2": add_key(self.keys_file, code="H2", name="clinic two", hosp_lv="09"),
            "AG": add_key(self.keys_file, code="AG", name="insurer", role="agency"),
        }
        self.person_keys = {"PSTMT": add_key(self.keys_file, psn_no="PSTMT")}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "service.log"
        env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "wzmedins", "serve", "--ledger", ledger, "--policy", "wenzhou-2022",
               "--keys", str(self.keys_file), "--port", str(self.port), "--max-body", "8192",
               "--timeout", "120", *extra]  # fmt: skip
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("the service did not start:\n" + self.log.read_text())
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the service did not answer /health in 120 s:\n" + self.log.read_text())
            time.sleep(0.2)

    def client(self, who: str | None = "H1", **headers) -> httpx.Client:
        if who is not None:
            headers["X-API-Key"] = self.keys[who]
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def counts(self) -> dict[str, int]:
        """Rows in the ledger's settled, rejected and batches tables (the agency's audit call:
        the service holds a DuckDB file open, so the tests ask it)."""
        with self.client("AG") as http:
            return http.get("/v1/audit/counts").json()["output"]

    def claims_of(self, psn_no: str, year: int = 2022) -> list[dict]:
        """A person's settled claims in settlement order (the statement, read by the agency)."""
        with self.client("AG") as http:
            r = http.get(f"/v1/persons/{psn_no}/statement", params={"year": year})
            return json.loads(r.text, parse_float=decimal.Decimal)["output"]["claims"]


def postgres_location() -> str:
    url = os.environ.get("WZMEDINS_PG_URL")
    if not url:
        if IN_CI:
            pytest.fail("CI=true but WZMEDINS_PG_URL is not set: source .ci/postgres.sh first")
        pytest.skip("WZMEDINS_PG_URL is not set")
    return f"{url}#svc_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("service")
    ledger = str(tmp / "ledger.duckdb") if request.param == "duckdb" else postgres_location()
    srv = Server(tmp, ledger)
    yield srv
    srv.stop()
    if request.param == "postgres":
        wz.Ledger(ledger).store.drop()


def settle_call(msgid: str, psn_no: str, amount: str = "5000.00", **data) -> dict:
    body = {"psn_no": psn_no, "mdtrt_id": f"V{msgid}", "insutype": "390", "psn_type": "21", "med_type": "21",
            "medfee_sumamt": amount, "setl_time": "2022-06-01"}  # fmt: skip
    body.update(data)
    return {"msgid": msgid, "infno": "2304", "input": {"data": body}}


def uid() -> str:
    return uuid.uuid4().hex[:10]
