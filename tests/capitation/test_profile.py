"""Capitation profiles: source labels, validation naming the key, with_changes, extends."""

from __future__ import annotations

import pytest

import wzmedins as wz
from wzmedins.capitation.profile import SPEC

P = wz.capitation.load_profile("wenzhou-2022")


def test_every_value_has_a_source_label():
    assert set(P.sources) == set(SPEC)
    assert all(src.startswith("ND:") for src in P.sources.values())  # illustrative, and says so


def test_builtin_values_are_the_rules():
    assert P.weight_bp == {"0-6": 12000, "7-17": 6000, "18-59": 8000, "60-79": 15000, "80+": 20000}
    assert (P.chronic_weight_bp, P.outside_charge_bp, P.surplus_cap_bp, P.retain_bp) == (15000, 10000, 1000, 8000)
    assert (P.overspend_band_bp, P.overspend_share_bp, P.default_quality_bp) == (1000, 5000, 10000)
    assert P.visit_types == ("outpatient", "chronic")
    assert list(P.pool_shares_bp) == ["drg", "capitation", "other"]


@pytest.mark.parametrize(
    "change, key",
    [
        ({"retain_bp": -1}, "retain_bp"),
        ({"pool_shares_bp": {"drg": 5000, "capitation": 3000}}, "pool_shares_bp"),
        ({"weight_bp": {}}, "weight_bp"),
        ({"weight_bp": {"18-59": 0}}, "weight_bp"),
        ({"visit_types": ["dental"]}, "visit_types"),
        ({"visit_types": ["chronic", "chronic"]}, "visit_types"),
        ({"surplus_cap_bp": True}, "surplus_cap_bp"),
        ({"no_such_key": 1}, "no_such_key"),
    ],
)
def test_validation_names_the_key(change, key):
    with pytest.raises(wz.PolicyError, match=key):
        P.with_changes(change)


def test_with_changes_leaves_the_original(tmp_path):
    q = P.with_changes(retain_bp=6000)
    assert (q.retain_bp, P.retain_bp, q.sources["retain_bp"]) == (6000, 8000, "changed by the user")
    assert q.fingerprint() != P.fingerprint()


def test_a_file_extends_the_builtin(tmp_path):
    f = tmp_path / "lucheng-2023.toml"
    f.write_text(
        'name = "lucheng-2023"\nvalid_from = 2023-01-01\nextends = "wenzhou-2022"\n[parameters]\n'
        'retain_bp = { value = 7000, source = "ND: a county notice" }\n',
        encoding="utf-8",
    )
    p = wz.capitation.load_profile(f)
    assert (p.name, p.retain_bp, p.overspend_share_bp) == ("lucheng-2023", 7000, 5000)
    assert p.sources["retain_bp"] == "ND: a county notice"


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\nvalid_from = 2023-01-01\n[parameters]\nretain_bp = 1\n', "value = ..."),
        ('valid_from = 2023-01-01\nextends = "wenzhou-2022"\n', "name"),
        ('name = "x"\nextends = "wenzhou-2022"\n', "valid_from"),
        ('name = "x"\nvalid_from = 2023-01-01\n', "missing"),
        ('name = "x"\nvalid_from = 2023-01-01\nextends = "wenzhou-2022"\ncolour = 1\n', "colour"),
        ("name = ", "TOML"),
    ],
)
def test_bad_files(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(wz.PolicyError, match=message):
        wz.capitation.load_profile(f)


def test_missing_file():
    with pytest.raises(wz.PolicyError, match="cannot read"):
        wz.capitation.load_profile("/no/such/file.toml")
