"""Run the kernels as plain Python (NUMBA_DISABLE_JIT=1) so coverage counts their lines, and
check they still agree with the reference there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import wzmedins as wz
from wzmedins.settle import _kernel
assert not hasattr(_kernel.settle_range, "py_func"), "the kernel is still compiled"
from tests.helpers import load_example
from tests.settle.compare import assert_same
from tests.strategies import claims, policies, accounts
from hypothesis import given, settings

policy = wz.load_policy("wenzhou-2022")
for k in range(1, 9):
    ex = load_example(k)
    a = wz.settle(ex["claims"], policy, accounts=ex["accounts"])
    b = wz.reference.settle(ex["claims"], policy, accounts=ex["accounts"])
    assert_same(a, b)

@settings(max_examples=40, deadline=None)
@given(policy=policies(), batch=claims(bad=True, reversals=True), opening=accounts())
def agree(policy, batch, opening):
    a = wz.settle(batch, policy, accounts=opening)
    b = wz.reference.settle(batch, policy, accounts=opening)
    assert_same(a, b)
agree()
print("nojit ok")
"""


def test_kernels_without_jit(tmp_path):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    script = tmp_path / "nojit.py"
    script.write_text(SCRIPT, "utf-8")
    cmd = [sys.executable, str(script)]
    if os.environ.get("WZMEDINS_COVERAGE"):  # make coverage: count the kernel lines too
        cmd = [sys.executable, "-m", "coverage", "run", "--parallel-mode", "--source=wzmedins", str(script)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "nojit ok" in proc.stdout
