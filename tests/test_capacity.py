"""The capacity report runs end to end (``--quick``: tiny sizes, about half a minute)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_capacity_report(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "capacity.py"),
            "--quick",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = (tmp_path / "performance.md").read_text(encoding="utf-8")
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    engines = [row.split("|")[1].strip() for row in rows]
    for engine in ("wzmedins", "wzmedins kernel", "wzmedins part", "reference", "polars", "duckdb"):
        assert engine in engines
    for row in (
        "| 10,000 | 1,000 | 5,000 |",
        "| 40,000 | 1,000 | 5,000 |",
        "| 40,000 | 4,000 | 5,000 |",
    ):
        assert row in report
    assert "streamed, 40,000 claims of 4,000 persons" in report
    assert "city-year (100M claims)" in report and "- CPU: " in report
    assert (tmp_path / "performance.png").stat().st_size > 10_000
    raw = json.loads((tmp_path / "performance.json").read_text(encoding="utf-8"))
    assert not [r for r in raw["table"] + raw["stream"] if "error" in r]
    wzmedins = next(r for r in raw["table"] if r["engine"] == "wzmedins")
    reference = next(r for r in raw["table"] if r["engine"] == "reference")
    assert wzmedins["seconds"] < reference["seconds"]  # numba beats pure Python even at 2e4
    assert all(r["peak_rss"] > r["rss_before"] > 0 for r in raw["table"])


def test_the_report_keeps_the_sections_written_by_hand(tmp_path):
    """`make bench` rewrote the whole of docs/performance.md, wiping every hand-written section."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.capacity import BEGIN, END, write_generated

    path = tmp_path / "performance.md"
    path.write_text(f"# Performance\n{BEGIN}\nold figures\n{END}\n\n## The fund\nby hand\n", encoding="utf-8")
    write_generated(path, "new figures")
    assert path.read_text(encoding="utf-8") == f"# Performance\n{BEGIN}\nnew figures\n{END}\n\n## The fund\nby hand\n"
    path.write_text("## no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        write_generated(path, "x")
    assert path.read_text(encoding="utf-8") == "## no markers\n"
