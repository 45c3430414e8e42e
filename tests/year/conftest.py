from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_year(tmp_path_factory):
    """A synthetic year of 10^5 claims (10^4 persons), run once and rendered for the session."""
    from wzmedins import year

    out = tmp_path_factory.mktemp("year")
    result = year.run(100_000, seed=3, out=out)
    return result, year.render(result, out)
