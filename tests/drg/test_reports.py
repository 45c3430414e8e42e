"""Analyst tables on the clearing example of docs/rules/drg.md §6 (PV 92.7083), worked by hand,
export to CSV and Excel, and the plots."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import pytest

import wzmedins.drg as drg

from .drg_fixtures import cases_table, catalog_table, coefficient_table, load

CASES = load("section6_cases.json")
CLEARING = load("section6_clearing.json")


@pytest.fixture(scope="module")
def clearing():
    scored = drg.score(
        cases_table(CLEARING["cases"]),
        catalog_table(CASES["catalog"]),
        coefficient_table(CLEARING["coefficients"]),
    )
    return scored, drg.clear(scored, {"resident": 3_000_000})


def test_drg_table(clearing):
    _, cl = clearing
    rows = {r["drg_code"]: r for r in drg.drg_table(cl, catalog_table(CASES["catalog"])).to_pylist()}
    # GB15: 110 + 110 + 100 points; values 10 197.91 + 10 197.91 + 9 270.83 against 32 000 yuan
    g = rows["GB15"]
    assert (g["cases"], g["n_normal"], g["points"], g["base_points"]) == (
        3,
        3,
        Decimal("320.0000"),
        Decimal("100.0000"),
    )
    assert (g["value"], g["cost"], g["gain"], g["mean_gain"]) == (2_966_665, 3_200_000, -233_335, -77_778)
    e = rows["ES35"]  # 80 points twice: 7 416.66 each against 9 000 + 8 000
    assert (e["value"], e["gain"], e["mean_gain"]) == (1_483_332, -216_668, -108_334)


def test_hospital_drg_and_cmi(clearing):
    scored, cl = clearing
    got = {(r["hospital_id"], r["drg_code"]): r["gain"] for r in drg.hospital_drg_table(cl).to_pylist()}
    assert got == {("H1", "GB15"): -260_418, ("H2", "GB15"): 27_083, ("H1", "ES35"): -158_334, ("H2", "ES35"): -58_334}
    cmi = {r["hospital_id"]: r["cmi"] for r in drg.cmi_table(scored).to_pylist()}
    assert cmi == {"H1": Decimal("0.9333"), "H2": Decimal("0.9000")}  # (100+100+80)/3/100, (100+80)/2/100
    zh = drg.cmi_table(scored, labels="zh")
    assert zh.column_names == ["医院", "病例数", "cases_with_base", "CMI"]


def test_export_csv_and_excel(clearing, tmp_path):
    _, cl = clearing
    files = cl.export(tmp_path / "csv")
    assert sorted(f.rsplit("/", 1)[1] for f in files) == ["cases.csv", "drgs.csv", "funds.csv", "hospitals.csv"]
    assert (tmp_path / "csv" / "funds.csv").read_text().splitlines()[1].startswith("resident,12,3000000,150000")
    pytest.importorskip("xlsxwriter")
    (xlsx,) = cl.export(tmp_path / "clearing.xlsx", labels="zh")
    with zipfile.ZipFile(xlsx) as z:
        book = z.read("xl/workbook.xml").decode()
    assert all(f'name="{n}"' in book for n in ("funds", "hospitals", "cases", "drgs"))


def test_plots(clearing):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    scored, cl = clearing
    ax = drg.plot_balances(cl)
    assert [round(p.get_height(), 2) for p in ax.patches] == [-962.51, 1568.75]
    pv = drg.provisional(scored, {"resident": 3_000_000})
    ax = drg.plot_point_value(pv, final=cl.funds)
    assert len(ax.lines[0].get_xdata()) == 12
