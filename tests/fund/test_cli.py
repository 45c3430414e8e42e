"""``wzmedins fund ...``: summaries in yuan with Chinese labels, files written, errors in one line."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wzmedins.cli import main

from .fund_fixtures import example


def write(tmp_path, name: str, rows: list[dict], schema=None) -> str:
    path = str(tmp_path / f"{name}.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_contributions(tmp_path, capsys):
    ex = example(1)
    workers = write(tmp_path, "workers", ex["workers"])
    employers = write(tmp_path, "employers", ex["employers"])
    acc = str(tmp_path / "acc.parquet")
    code = main(["fund", "contributions", workers, "--avg-wage", "2021=7000", "--employers", employers,
                 "--accounts-out", acc])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    # Σ individual 2 880 + 1 008 + 2 520 + 5 796 = 12 204; credits + 1 800 + 1 050 = 10 266 yuan
    assert "个人缴费 individual contributions" in out and "12204.00 yuan" in out
    assert "10266.00 yuan" in out and "95000.00 yuan" in out
    assert pq.read_table(acc).num_rows == 6


def test_standards(tmp_path, capsys):
    ex = example(2)
    schema = pa.schema([("county", pa.string()), ("urban", pa.bool_()), ("base_total", pa.int64()),
                        ("base_individual", pa.int64())])  # fmt: skip
    counties = write(tmp_path, "counties", ex["counties"], schema)
    residents = write(tmp_path, "residents", ex["residents"])
    code = main(["fund", "standards", counties, "--income", "2021=60700", "--policy", "2022=1350/450",
                 "--residents", residents])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "1252.53" in out and "421.96" in out and "1517.50" in out
    assert "2491.71 yuan" in out  # subsidy 830.57 × 3


def test_year_end(tmp_path, capsys):
    ex = example(5)
    path = write(tmp_path, "cy", ex["counties"])
    code = main(["fund", "year-end", path, "--balance", "60000000", "--reserve", "40000000"])
    out = capsys.readouterr().out
    assert code == 0
    assert "市级分担 city part" in out and "151475000.00" in out and "66751694.91" in out


def test_warning_with_plot(tmp_path, capsys):
    rows = [{"county": None, "year": 2022, "month": m, "revenue": 0, "expenditure": 10_000, "balance": 60_000}
            for m in range(1, 13)]  # fmt: skip
    path = write(tmp_path, "monthly", rows)
    png = tmp_path / "w.png"
    code = main(["fund", "warning", path, "--plot", str(png)])
    out = capsys.readouterr().out
    assert code == 0
    assert "全市 city" in out and "2022-12" in out and "6.0" in out and "绿 green" in out
    assert png.stat().st_size > 1000


@pytest.mark.parametrize(
    "argv",
    [
        ["fund", "year-end", "x.parquet", "--balance", "1.001", "--reserve", "0"],
        ["fund", "contributions", "x.parquet", "--avg-wage", "2021=-5"],
        ["fund", "warning", "no-such-file.parquet"],
    ],
)
def test_errors_are_one_line(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("wzmedins: error:") and err.count("\n") == 1


def test_bad_profile_value_is_one_line(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text('name = "x"\nvalid_from = 2022-01-01\nextends = "wenzhou-2022"\n[parameters]\n'
                 'reward_bp = { value = -1, source = "x" }\n')  # fmt: skip
    path = write(tmp_path, "cy", example(6)["counties"])
    assert main(["fund", "year-end", path, "--balance", "0", "--reserve", "0", "--profile", str(f)]) == 1
    assert "reward_bp" in capsys.readouterr().err
