import pytest

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """Two worker processes on loopback, one thread each; closed when the module's tests end."""
    from wzmedins.distributed import connect

    with connect("local", n_workers=2) as c:
        yield c
