"""The example notebook (docs/drg_notebook.ipynb) runs top to bottom (nbmake)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import FIXTURES, run_pytest_child


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="slow without JIT")
def test_notebook_runs():
    pytest.importorskip("nbmake")
    run_pytest_child(
        "--nbmake", str(FIXTURES.parents[1] / "docs" / "drg_notebook.ipynb"), env={"MPLBACKEND": "Agg"}, timeout=900
    )
