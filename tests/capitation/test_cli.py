"""``wzmedins capitation split|settle|scenarios`` on the worked examples."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wzmedins.cli import main

from .cap_fixtures import claim_rows, claims_table, load, signing_rows, signings_table

FX = load()


@pytest.fixture()
def files(tmp_path):
    s, c = tmp_path / "signings.parquet", tmp_path / "settled.parquet"
    pq.write_table(signings_table(signing_rows(FX)), s)
    pq.write_table(claims_table(claim_rows(FX)), c)
    return tmp_path, str(s), str(c)


def test_split(capsys):
    assert main(["capitation", "split", "--total", "10000000000", "--out-of-area", "600000000"]) == 0
    out = capsys.readouterr().out
    assert "DRG点数法 (drg): 5170000000.00 元" in out
    assert "按人头付费 (capitation): 2820000000.00 元" in out
    assert "其他 按项目/按床日 (other): 1410000000.00 元" in out


def test_split_bad_amount_is_one_line(capsys):
    assert main(["capitation", "split", "--total", "12.345", "--out-of-area", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--total" in err


def test_settle_example3(files, capsys):
    tmp, s, c = files
    out = tmp / "communities.parquet"
    args = ["capitation", "settle", s, c, "--per-capita", "600", "--quality", "K1=9000", "--out", str(out)]
    assert main([*args, "--persons-out", str(tmp / "p.parquet"), "--rejected-out", str(tmp / "r.parquet")]) == 0
    text = capsys.readouterr().out
    assert "人头费 per capita 600.00 元" in text
    assert "K1\t2190.00\t1050.00\t380.00\t1430.00\t157.68\t0.00\t0.00\t157.68" in text
    assert "K2\t1740.00\t1000.00\t400.00\t1400.00\t139.20" in text
    assert "2 without community_id" in text
    assert pq.read_table(out).column("retained").to_pylist() == [15768, 13920]
    assert pq.read_table(tmp / "p.parquet").num_rows == 5


def test_settle_joins_community_from_the_claims(files, capsys):
    tmp, s, c = files
    settled = pq.read_table(c).drop(["community_id"])
    pq.write_table(settled, tmp / "bare.parquet")
    out = tmp / "communities.parquet"
    args = ["capitation", "settle", s, str(tmp / "bare.parquet"), "--claims-input", c, "--per-capita", "400"]
    assert main([*args, "--quality", "K1=9000", "--out", str(out)]) == 0
    assert pq.read_table(out).column("settlement").to_pylist() == [2160, -18200]


def test_scenarios_sweep_and_plot(files, capsys):
    tmp, s, c = files
    out, png = tmp / "scen.parquet", tmp / "scen.png"
    args = ["capitation", "scenarios", s, c, "--per-capita-sweep", "400", "600", "--quality", "K1=9000"]
    assert main([*args, "--out", str(out), "--plot", str(png)]) == 0
    t = pq.read_table(out)
    assert t.column("scenario").to_pylist() == ["400.00 yuan"] * 2 + ["600.00 yuan"] * 2
    assert t.column("settlement").to_pylist() == [2160, -18200, 15768, 13920]
    assert png.stat().st_size > 1000
    assert "清算 settlement" in capsys.readouterr().out


def test_scenarios_variants_file(files, tmp_path):
    _, s, c = files
    v = tmp_path / "v.toml"
    v.write_text('[[variant]]\nname = "cap 5%"\nsurplus_cap_bp = 500\n', encoding="utf-8")
    out = tmp_path / "o.parquet"
    assert main(["capitation", "scenarios", s, c, "--per-capita", "600", "--variants", str(v), "--out", str(out)]) == 0
    # K1: surplus 760, counted rnd(2190 · 5%) = 109.50, retained 109.50 · 0.8 = 87.60 (quality 1)
    assert pq.read_table(out).column("retained").to_pylist() == [8760, 6960]


def test_settle_needs_an_amount(files, capsys):
    _, s, c = files
    with pytest.raises(SystemExit) as exc:
        main(["capitation", "settle", s, c, "--out", "x.parquet"])
    assert exc.value.code == 2


def test_bad_quality_is_an_error(files, capsys):
    tmp, s, c = files
    args = ["capitation", "settle", s, c, "--per-capita", "600", "--quality", "K1=12000"]
    assert main([*args, "--out", str(tmp / "o.parquet")]) == 1
    assert "quality" in capsys.readouterr().err


def test_empty_tables(tmp_path):
    pq.write_table(signings_table([]), tmp_path / "s.parquet")
    pq.write_table(claims_table([]).append_column("x", pa.array([], pa.int64())), tmp_path / "c.parquet")
    args = ["capitation", "settle", str(tmp_path / "s.parquet"), str(tmp_path / "c.parquet"), "--per-capita", "600"]
    assert main([*args, "--out", str(tmp_path / "o.parquet")]) == 0
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 0
