import contextlib

import pytest


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
