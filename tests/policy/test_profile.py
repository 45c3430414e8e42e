"""Policy profiles: loading, validation messages, what-ifs, fingerprints, date ranges."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources

import pyarrow as pa
import pytest

import wzmedins as wz
from wzmedins.policy import Profile

BUILTIN = tomllib.loads((resources.files("wzmedins.policy") / "profiles" / "wenzhou-2022.toml").read_text("utf-8"))


def doc_with(path: str, leaf) -> dict:
    """The built-in profile document with one leaf replaced (or removed when leaf is None)."""
    import copy

    doc = copy.deepcopy(BUILTIN)
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[p]
    if leaf is None:
        del node[last]
    else:
        node[last] = leaf
    return doc


def test_builtin_profile_matches_the_spec_table():
    """A few rows of settlement.md §8, checked by hand (fen and basis points)."""
    p = wz.load_policy("wenzhou-2022").params
    assert p["ratio_inpatient"]["resident"] == [8000, 7500, 7000]
    assert p["deductible_inpatient"]["resident"] == [30_000, 50_000, 80_000]
    assert p["fund_cap"] == {"employee": 40_000_000, "resident": 30_000_000}
    assert p["critical_illness"]["bands"][-1] == {"ratio": 8000}
    assert p["medical_assistance"]["tekun"]["cap"] == "none"
    sources = {key: src for _, key, _, src, _ in wz.load_policy("wenzhou-2022").describe()}
    assert sources["ratio_inpatient.resident"] == "FZ"
    assert sources["critical_illness.poor"] == "NR"
    assert sources["fund_cap.employee"] == "ND"


@pytest.mark.parametrize(
    ("path", "leaf", "message"),
    [
        ("chronic_bonus", None, "missing parameter 'chronic_bonus'"),
        ("fund_cap.employee", None, "missing parameter 'fund_cap.employee'"),
        (
            "fund_cap.navy",
            {"value": 1, "source": "ND"},
            "unknown parameter 'fund_cap.navy'; allowed: employee, resident",
        ),
        (
            "ratio_inpatient.resident",
            {"value": [8000, 7500, 10001], "source": "FZ"},
            r"ratio_inpatient.resident\[2\]'.*from 0 to 10000",
        ),
        ("inpatient_deductible.mode", {"value": "monthly", "source": "ND"}, "annual_highest_level, per_admission"),
        ("account.schemes", {"value": ["army"], "source": "ND"}, "employee, resident"),
        ("chronic_bonus", {"value": 1000, "source": "XX"}, "source 'XX' is not one of"),
        ("critical_illness.cap", {"value": "unlimited", "source": "ND"}, 'fen or "none"'),
        (
            "critical_illness.bands",
            {"value": [{"upper": 5, "ratio": 1}, {"upper": 4, "ratio": 1}, {"ratio": 1}], "source": "ND"},
            "bounds increase",
        ),
    ],
)
def test_bad_profiles_name_the_key(path, leaf, message):
    with pytest.raises(wz.PolicyError, match=message):
        Profile.from_dict(doc_with(path, leaf))


def test_load_from_a_file_and_reject_unknown_names(tmp_path):
    text = (resources.files("wzmedins.policy") / "profiles" / "wenzhou-2022.toml").read_text("utf-8")
    f = tmp_path / "mine.toml"
    f.write_text(text.replace('name = "wenzhou-2022"', 'name = "mine"'), "utf-8")
    assert wz.load_policy(f).name == "mine"
    (tmp_path / "broken.toml").write_text("[profile\n", "utf-8")
    with pytest.raises(wz.PolicyError, match="not valid TOML"):
        wz.load_policy(tmp_path / "broken.toml")


def test_with_changes_is_a_new_policy_and_validates():
    base = wz.load_policy("wenzhou-2022")
    fp = base.fingerprint
    lower = base.with_changes({"fund_cap.resident": 100, "critical_illness.bands.0.ratio": 5000})
    assert lower.params["fund_cap"]["resident"] == 100
    assert lower.params["critical_illness"]["bands"][0]["ratio"] == 5000
    assert base.params["fund_cap"]["resident"] == 30_000_000 and base.fingerprint == fp
    assert wz.load_policy("wenzhou-2022").fingerprint == fp  # stable across loads
    with pytest.raises(wz.PolicyError, match="no parameter 'fund_cap.navy'"):
        base.with_changes({"fund_cap.navy": 1})
    with pytest.raises(wz.PolicyError, match="chronic_bonus"):
        base.with_changes({"chronic_bonus": 20_000})


def test_each_claim_is_settled_under_the_profile_in_force(tmp_path):
    """A 2023 profile with a richer resident inpatient ratio takes over from its start date."""
    text = (resources.files("wzmedins.policy") / "profiles" / "wenzhou-2022.toml").read_text("utf-8")
    text = text.replace('name = "wenzhou-2022"', 'name = "richer-2023"').replace("2022-01-01", "2023-01-01")
    text = text.replace(
        'resident = { value = [8000, 7500, 7000], source = "FZ" }',
        'resident = { value = [9000, 9000, 9000], source = "ND" }',
    )
    (tmp_path / "richer.toml").write_text(text, "utf-8")
    policy = wz.load_policy("wenzhou-2022", tmp_path / "richer.toml")
    assert policy.periods() == [(dt.date(2022, 1, 1), dt.date(2022, 12, 31)), (dt.date(2023, 1, 1), None)]
    claims = pa.Table.from_pylist([
        {"claim_id": c, "person_id": c, "settle_date": d, "scheme": "resident", "category": "adult",
         "visit_type": "inpatient", "facility_level": "tertiary", "total_cost": 5_000_000}
        for c, d in (("old", dt.date(2022, 12, 31)), ("new", dt.date(2023, 1, 1)), ("early", dt.date(2021, 6, 1)))
    ])  # fmt: skip
    for engine in (wz.settle, wz.reference.settle):
        out = engine(claims, policy)
        assert out.settled["ratio_bp"].to_pylist() == [7000, 9000]
        assert out.settled["fund"].to_pylist() == [3_444_000, (5_000_000 - 80_000) * 9 // 10]
        assert out.rejected["reason"].to_pylist() == ["POLICY_NOT_IN_FORCE"]
    with pytest.raises(wz.PolicyError, match="both start on"):
        wz.load_policy("wenzhou-2022", "wenzhou-2022")
