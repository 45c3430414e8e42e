"""The DRG kernels as plain Python (NUMBA_DISABLE_JIT=1), so coverage counts their lines.

Runs the worked examples, the rule boundaries and the calibration fixture again in a child
process with the JIT off; the results must be the same as compiled.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_pytest_child

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already without JIT")
def test_kernels_without_jit():
    run_pytest_child(
        *(str(HERE / m) for m in ("test_examples.py", "test_rules.py", "test_calibrate.py")),
        env={"NUMBA_DISABLE_JIT": "1"},
    )
