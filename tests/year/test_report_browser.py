"""The year's report opened in a real headless browser (Debian's Chromium; .ci/chromium.sh
installs it in CI): the page renders (a screenshot that is not blank) and the key figures of
the run are in the browser's DOM, formatted from the result tables, not from the page itself."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from wzmedins.tables import fen_to_yuan

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]  # fmt: skip


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed: .ci/run sources .ci/chromium.sh to install it")
    pytest.skip("Chromium is not installed (source .ci/chromium.sh)")


def _browser(args: list[str], profile, timeout=180) -> subprocess.CompletedProcess:
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def test_report_renders_in_chromium_with_the_key_figures(small_year, tmp_path):
    result, report = small_year
    url = report.resolve().as_uri()
    dom = _browser(["--dump-dom", url], tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    for section in ("summary", "money-in", "money-out", "drg", "capitation", "fund", "checks"):
        assert f'id="{section}"' in page
    for row in result.tables["fund_city"].to_pylist():
        assert fen_to_yuan(row["delta"]) in page
        assert fen_to_yuan(row["balance"]) in page
    point_values = result.tables["drg_funds"].column("point_value").to_pylist()
    assert all(str(v) in page for v in point_values if v is not None)
    assert "every check held" in page
    assert page.count("<img") >= 6

    png = tmp_path / "shot.png"
    shot = _browser([f"--screenshot={png}", "--window-size=1200,2400", url], tmp_path / "profile-shot")
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1000
    # not blank: many distinct colours (text, bars, bands), not one background colour
    flat = (pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0)) > 50
    assert flat.std() > 10
