"""The kernels' own Python source (``.py_func``), run in this process: same results as compiled.

Complements test_nojit.py (a child process with NUMBA_DISABLE_JIT=1): here coverage of this
process sees every kernel line, and a compiled/interpreted difference would show.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import wzmedins.drg as drg
from wzmedins.drg import _kernel
from wzmedins.synth.drg import generate, suggested_budgets

KERNELS = (
    "mulrnd",
    "_score",
    "_readmission",
    "_sort_stays",
    "_sum_by",
    "_clear_sums",
    "_case_money",
    "_calib_raw",
    "_calib_trimmed",
)


@pytest.fixture(scope="module")
def data():
    return generate(1_500, seed=11, n_hospitals=5, n_groups=25)


def run_all(data):
    cases = pa.concat_tables([data["cases"], data["cases"].slice(0, 3)])  # 3 duplicates rejected
    out = drg.score(cases, data["catalog"], data["coefficients"])
    assert out.rejected.num_rows == 3
    cl = drg.clear(out.scored, suggested_budgets(data["cases"]), through_month=9)
    cal = drg.calibrate(data["history"], data["hospitals"], year=2022)
    return out.scored, cl.hospitals, cl.cases, cl.drgs, cal.catalog, cal.coefficients


def test_python_source_of_kernels_equals_compiled(data, monkeypatch):
    compiled = run_all(data)
    for name in KERNELS:
        fn = getattr(_kernel, name)
        monkeypatch.setattr(_kernel, name, getattr(fn, "py_func", fn))
    interpreted = run_all(data)
    for a, b in zip(compiled, interpreted, strict=True):
        assert a.equals(b)
