import contextlib

import pytest


@pytest.fixture(scope="session")
def monkeypatch_parts():
    """Set the number of claims per part of a batch (wzmedins.settle.batch.PART_ROWS)."""
    from wzmedins.settle import batch

    @contextlib.contextmanager
    def rows_per_part(n):
        old = batch.PART_ROWS
        batch.PART_ROWS = n
        try:
            yield
        finally:
            batch.PART_ROWS = old

    return rows_per_part
