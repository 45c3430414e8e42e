import contextlib
import os

import pytest
from hypothesis import HealthCheck, settings

# Named hypothesis profiles, registered once: HYPOTHESIS_PROFILE=dev|ci|thorough (default ci).
# No deadline: the machines are shared and a slow example is not a failure.
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def monkeypatch_parts():
    """Set the least number of claims per parallel partition (wzmedins.settle.store.PARTITION_ROWS)."""
    from wzmedins.settle import store

    @contextlib.contextmanager
    def rows_per_part(n):
        old = store.PARTITION_ROWS
        store.PARTITION_ROWS = n
        try:
            yield
        finally:
            store.PARTITION_ROWS = old

    return rows_per_part
