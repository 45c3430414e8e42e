"""Platform fields in and out: code lists, the field mapping, units, and the round trip
platform → settle → platform with the money identities."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from wzmedins.platform import CodeListError, from_platform, load_codes

D = decimal.Decimal
POLICY = wz.load_policy("wenzhou-2022")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def record(**kw) -> dict:
    base = {"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390", "psn_type": "21", "med_type": "21",
            "hosp_lv": "02", "setl_time": "2022-03-01 10:00:00", "medfee_sumamt": "50000.00"}  # fmt: skip
    base.update(kw)
    return base


# ------------------------------------------------------------------ code lists


def test_builtin_code_lists_have_sources():
    codes = load_codes()
    rows = codes.describe()
    assert ("insutype", "310", "employee", "职工基本医疗保险", "NP") in rows
    assert all(r[4] in codes.source_labels for r in rows)


def test_edited_code_list(tmp_path):
    text = (wz.platform.codes.resources.files("wzmedins.platform") / "codes" / "national-2022.toml").read_text("utf-8")
    path = tmp_path / "mine.toml"
    edited = text.replace("[insutype]\n", '[insutype]\n"340" = { value = "employee", name = "离休", source = "ND" }\n')
    path.write_text(edited, "utf-8")
    out = from_platform([record(insutype="340", psn_type="11")], codes=path)
    assert out.claims["scheme"].to_pylist() == ["employee"] and out.rejected.num_rows == 0
    bad = text.replace('"310" = { value = "employee"', '"310" = { value = "navy"')
    path.write_text(bad, "utf-8")
    with pytest.raises(CodeListError, match=r"\[insutype\] code '310' maps to 'navy'"):
        load_codes(path)
    path.write_text(text.replace('"390" = { value = "resident", name = "城乡居民基本医疗保险", source = "NP" }',
                                 '"390" = { value = "resident", name = "x", source = "XX" }'), "utf-8")  # fmt: skip
    with pytest.raises(CodeListError, match=r"\[insutype\] code '390': source 'XX'"):
        load_codes(path)


# ------------------------------------------------------------------ mapping


@pytest.mark.parametrize(
    "field, code",
    [("insutype", "340"), ("med_type", "99"), ("psn_type", "77"), ("hosp_lv", "12"), ("psn_idet_type", "9"),
     ("acct_used_flag", "0")],
)  # fmt: skip
def test_unmapped_code_names_field_and_code(field, code):
    out = from_platform([record(), record(mdtrt_id="M2", **{field: code})])
    assert out.claims["claim_id"].to_pylist() == ["M1"]
    assert out.rejected.to_pylist() == [
        {"row": 1, "claim_id": "M2", "reason": "UNMAPPED_CODE",
         "message": f"{field} code {code!r} is not in the code list national-2022"}
    ]  # fmt: skip


def test_units_and_bad_amounts():
    out = from_platform([
        record(mdtrt_id="a", medfee_sumamt=10),  # an integer is whole yuan
        record(mdtrt_id="b", medfee_sumamt=0.1),
        record(mdtrt_id="c", medfee_sumamt=D("1234.56"), fulamt_ownpay_amt="4.56", overlmt_selfpay="30",
               preselfpay_amt="0.50", inscp_scp_amt="1199.50"),
        record(mdtrt_id="d", medfee_sumamt="100.005"),
        record(mdtrt_id="e", medfee_sumamt="abc"),
        record(mdtrt_id="f", medfee_sumamt="-1"),
        record(mdtrt_id="g", medfee_sumamt="100", inscp_scp_amt="99"),
        record(mdtrt_id="h", medfee_sumamt=None),
        record(mdtrt_id="i", setl_time="yesterday"),
    ])  # fmt: skip
    assert out.claims.select(["claim_id", "total_cost", "self_pay", "class_b_self_pay"]).to_pylist() == [
        {"claim_id": "a", "total_cost": 1000, "self_pay": 0, "class_b_self_pay": 0},
        {"claim_id": "b", "total_cost": 10, "self_pay": 0, "class_b_self_pay": 0},
        {"claim_id": "c", "total_cost": 123456, "self_pay": 3456, "class_b_self_pay": 50},
    ]
    assert dict(zip(out.rejected["claim_id"].to_pylist(), out.rejected["reason"].to_pylist(), strict=True)) == {
        "d": "AMOUNT_NOT_IN_FEN", "e": "NOT_A_NUMBER", "f": "NEGATIVE_AMOUNT", "g": "VALUE_OUT_OF_RANGE",
        "h": "MISSING_VALUE", "i": "VALUE_OUT_OF_RANGE",
    }  # fmt: skip
    message = dict(zip(out.rejected["claim_id"].to_pylist(), out.rejected["message"].to_pylist(), strict=True))
    assert "inscp_scp_amt 99.00" in message["g"] and "100.00" in message["g"]


def test_area_and_dates():
    out = from_platform([
        record(mdtrt_id="a"), record(mdtrt_id="b", insuplc_admdvs="330302"),
        record(mdtrt_id="c", insuplc_admdvs="330100"), record(mdtrt_id="d", insuplc_admdvs="110000"),
        record(mdtrt_id="e", insuplc_admdvs="110000", out_registered="1", setl_time=dt.date(2022, 5, 6)),
    ])  # fmt: skip
    assert out.claims["area"].to_pylist() == ["local", "local", "province", "national_unregistered",
                                              "national_registered"]  # fmt: skip
    assert out.claims["settle_date"].to_pylist()[-1] == dt.date(2022, 5, 6)


# ------------------------------------------------------------------ the answer, worked by hand


def test_worked_example_4_in_platform_fields():
    """settlement.md §9 example 4: dibao resident, tertiary inpatient, 120 000 yuan of which
    10 000 outside the catalogue (here 6 000 全自费 + 4 000 超限价) and 3 000 class-B."""
    out = wz.platform.settle([record(medfee_sumamt="120000.00", fulamt_ownpay_amt="6000.00",
                                     overlmt_selfpay="4000.00", preselfpay_amt="3000.00",
                                     inscp_scp_amt="107000.00", psn_idet_type="22")], POLICY)  # fmt: skip
    info = {k: str(v) for k, v in out.setlinfo.to_pylist()[0].items()}
    assert info["inscp_scp_amt"] == "107000.00" and info["act_pay_dedc"] == "800.00"
    assert info["hifp_pay"] == "74340.00" and info["hifmi_pay"] == "16679.00" and info["hifob_pay"] == "0.00"
    assert info["maf_pay"] == "17082.90" and info["psn_cash_pay"] == "11898.10"
    assert info["fund_pay_sumamt"] == "108101.90" and info["psn_part_amt"] == "11898.10"
    assert info["fulamt_ownpay_amt"] == "6000.00" and info["overlmt_selfpay"] == "4000.00"
    assert info["pool_prop_selfpay"] == "0.7000"
    detail = [(d["fund_pay_type"], str(d["fund_payamt"])) for d in out.setldetail.to_pylist()]
    assert detail == [("390100", "74340.00"), ("390200", "16679.00"), ("610100", "17082.90")]
    assert "coinsurance" in out.setldetail["setl_proc_info"][0].as_py()


def test_worked_example_6_employee_accounts_and_balance():
    """Example 6: employee in service, outpatient tertiary 2 100 (100 self-paid), opening
    balances 500 current and 2 000 historical."""
    accounts = pa.table({"person_id": ["E1"], "year": [2022], "current_balance": [50_000], "hist_balance": [200_000]})
    rec = record(psn_no="E1", insutype="310", psn_type="11", med_type="11", medfee_sumamt="2100")
    rec["fulamt_ownpay_amt"] = "100"
    out = wz.platform.settle([rec], POLICY, accounts=accounts)
    info = {k: str(v) for k, v in out.setlinfo.to_pylist()[0].items()}
    assert info["acct_pay"] == "1650.00" and info["hifp_pay"] == "350.00" and info["psn_cash_pay"] == "100.00"
    assert info["balc"] == "850.00"  # 2 500 − 1 650
    assert [d["fund_pay_type"] for d in out.setldetail.to_pylist()] == ["310100"]


def test_balance_after_each_claim():
    accounts = pa.table({"person_id": ["E1"], "year": [2022], "current_balance": [50_000], "hist_balance": [0]})
    recs = [record(psn_no="E1", mdtrt_id=f"M{i}", insutype="310", psn_type="11", med_type="11",
                   setl_time=f"2022-03-0{i}", medfee_sumamt="200") for i in (2, 1)]  # fmt: skip
    out = wz.platform.settle(recs, POLICY, accounts=accounts)
    # M1 (1 March) is settled first: 500 − 200 = 300; then M2: 100
    assert [str(b) for b in out.setlinfo["balc"].to_pylist()] == ["100.00", "300.00"]


# ------------------------------------------------------------------ round trip


INSUTYPE = {"310": "employee", "390": "resident"}
PSN = {"310": {"11": "in_service", "12": "retired"}, "390": {"21": "adult", "22": "minor", "23": "student",
                                                             "24": "elderly"}}  # fmt: skip
MED = {"11": "outpatient", "14": "chronic", "1402": "special", "21": "inpatient"}
LV = {"02": "tertiary", "06": "secondary", "09": "primary"}
IDET = {"00": "none", "21": "tekun", "22": "dibao", "23": "dibian", "24": "zhichu"}


@st.composite
def platform_records(draw):
    n = draw(st.integers(1, 12))
    recs = []
    for i in range(n):
        insutype = draw(st.sampled_from(sorted(INSUTYPE)))
        total = draw(st.integers(0, 30_000_000))
        parts = sorted(draw(st.lists(st.integers(0, total), min_size=3, max_size=3)))
        fulamt, overlmt, pre = parts[0], parts[1] - parts[0], parts[2] - parts[1]
        as_text = draw(st.booleans())

        def amount(fen, as_text=as_text):
            return f"{fen // 100}.{fen % 100:02d}" if as_text else D(fen).scaleb(-2)

        recs.append({
            "psn_no": f"P{draw(st.integers(0, 3))}", "mdtrt_id": f"M{i}", "insutype": insutype,
            "psn_type": draw(st.sampled_from(sorted(PSN[insutype]))), "med_type": draw(st.sampled_from(sorted(MED))),
            "hosp_lv": draw(st.sampled_from(sorted(LV))), "psn_idet_type": draw(st.sampled_from(sorted(IDET))),
            "setl_time": f"2022-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
            "medfee_sumamt": amount(total), "fulamt_ownpay_amt": amount(fulamt), "overlmt_selfpay": amount(overlmt),
            "preselfpay_amt": amount(pre), "inscp_scp_amt": amount(total - parts[2]),
        })  # fmt: skip
    # a person keeps one insurance type and category
    first = {}
    for r in recs:
        keep = first.setdefault(r["psn_no"], (r["insutype"], r["psn_type"], r["psn_idet_type"]))
        r["insutype"], r["psn_type"], r["psn_idet_type"] = keep
    return recs


def fen(value) -> int:
    return int(D(str(value)) * 100)


@SETTINGS
@given(recs=platform_records())
def test_round_trip_matches_the_twin_with_identities(recs):
    out = wz.platform.settle(recs, POLICY)
    # the twin settles the same claims written by hand in wzmedins' own vocabulary
    claims = pa.table({
        "claim_id": [r["mdtrt_id"] for r in recs], "person_id": [r["psn_no"] for r in recs],
        "settle_date": [dt.date.fromisoformat(r["setl_time"]) for r in recs],
        "scheme": [INSUTYPE[r["insutype"]] for r in recs],
        "category": [PSN[r["insutype"]][r["psn_type"]] for r in recs],
        "visit_type": [MED[r["med_type"]] for r in recs], "facility_level": [LV[r["hosp_lv"]] for r in recs],
        "assistance": [IDET[r["psn_idet_type"]] for r in recs],
        "total_cost": [fen(r["medfee_sumamt"]) for r in recs],
        "self_pay": [fen(r["fulamt_ownpay_amt"]) + fen(r["overlmt_selfpay"]) for r in recs],
        "class_b_self_pay": [fen(r["preselfpay_amt"]) for r in recs],
    })  # fmt: skip
    twin = wz.reference.settle(claims, POLICY)
    assert out.rejected.num_rows == twin.rejected.num_rows == 0
    expected = {r["claim_id"]: r for r in twin.settled.to_pylist()}
    by_id = {r["mdtrt_id"]: r for r in recs}
    for info in out.setlinfo.to_pylist():
        s, r = expected[info["setl_id"]], by_id[info["setl_id"]]
        y = {k: fen(v) for k, v in info.items() if isinstance(v, D) and k != "pool_prop_selfpay"}
        assert y["medfee_sumamt"] == fen(r["medfee_sumamt"])
        assert y["fulamt_ownpay_amt"] == fen(r["fulamt_ownpay_amt"])
        assert y["overlmt_selfpay"] == fen(r["overlmt_selfpay"])
        assert y["preselfpay_amt"] == fen(r["preselfpay_amt"])
        assert y["inscp_scp_amt"] == fen(r["inscp_scp_amt"]) == s["eligible"]
        assert y["act_pay_dedc"] == s["deductible"] and y["hifp_pay"] == s["fund"]
        assert y["hifmi_pay"] + y["hifob_pay"] == s["critical_illness"] and y["maf_pay"] == s["medical_assistance"]
        assert y["acct_pay"] == s["account_current"] + s["account_hist"] and y["psn_cash_pay"] == s["cash"]
        assert y["medfee_sumamt"] == y["fund_pay_sumamt"] + y["psn_part_amt"]
        assert y["psn_part_amt"] == y["acct_pay"] + y["psn_cash_pay"]
        assert info["pool_prop_selfpay"] == D(s["ratio_bp"]).scaleb(-4)
        assert (info["insutype"], info["psn_type"], info["med_type"]) == (r["insutype"], r["psn_type"], r["med_type"])
        paid = sum(fen(d["fund_payamt"]) for d in out.setldetail.to_pylist() if d["setl_id"] == info["setl_id"])
        assert paid == y["fund_pay_sumamt"]


def test_json_answer_round_trips_exactly(tmp_path):
    out = wz.platform.settle([record(medfee_sumamt="12345.67", fulamt_ownpay_amt="0.01")], POLICY)
    (path,) = wz.platform.write_answer(out.answer, tmp_path / "answer.json")
    text = open(path, encoding="utf-8").read()
    assert '"medfee_sumamt": 12345.67' in text and '"fulamt_ownpay_amt": 0.01' in text
    back = json.loads(text, parse_float=D)
    assert back[0]["setlinfo"]["hifp_pay"] == out.setlinfo["hifp_pay"][0].as_py()
    assert back[0]["setldetail"][0]["fund_pay_type"] == "390100"
    paths = wz.platform.write_answer(out.answer, tmp_path / "answer.parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(paths[0]).equals(out.setlinfo)
    # the answer read back as records is mapped again: same bill
    again = from_platform([back[0]["setlinfo"] | {"hosp_lv": "02"}])
    assert again.claims["total_cost"].to_pylist() == [1234567]


def test_command_line(tmp_path, capsys):
    from wzmedins.cli import main

    records = tmp_path / "records.jsonl"
    lines = [json.dumps(record(medfee_sumamt=50000.00)), json.dumps(record(mdtrt_id="M2", med_type="77"))]
    records.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "answer.json"
    assert main(["platform", "settle", str(records), "--policy", "wenzhou-2022", "--out", str(out)]) == 0
    answer = json.loads(out.read_text("utf-8"), parse_float=D)
    assert answer[0]["setlinfo"]["hifp_pay"] == D("34440.00")
    assert "UNMAPPED_CODE: 1" in capsys.readouterr().out
    assert main(["platform", "codes", "--codes", str(tmp_path / "none.toml")]) == 1
