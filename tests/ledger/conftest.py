"""The ledger suite runs against both backends: a DuckDB file, and PostgreSQL at
``WZMEDINS_PG_URL`` (each test in its own schema). PostgreSQL tests are skipped only when the
URL is unset and we are not in CI; with ``CI=true`` they must run."""

from __future__ import annotations

import os
import uuid

import pytest

import wzmedins as wz

IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_url() -> str:
    url = os.environ.get("WZMEDINS_PG_URL")
    if not url:
        if IN_CI:
            pytest.fail("CI=true but WZMEDINS_PG_URL is not set: source .ci/postgres.sh first")
        pytest.skip("WZMEDINS_PG_URL is not set")
    return url


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    return request.param


@pytest.fixture
def new_location(backend, tmp_path):
    """A factory of fresh, empty ledger locations of the test's backend."""
    made = []

    def make(name: str = "ledger") -> str:
        if backend == "duckdb":
            return str(tmp_path / f"{name}.duckdb")
        url = postgres_url()
        location = f"{url}#t_{uuid.uuid4().hex[:16]}"
        made.append(location)
        return location

    yield make
    for location in made:
        try:
            wz.Ledger(location).store.drop()
        except wz.ledger.LedgerError:  # the server went away: the test has failed already
            pass


@pytest.fixture
def location(new_location):
    return new_location()


@pytest.fixture(scope="session")
def policy():
    return wz.load_policy("wenzhou-2022")
