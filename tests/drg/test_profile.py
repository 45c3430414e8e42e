"""DRG profiles: built-ins load with a source on every value; bad files name the key."""

from __future__ import annotations

import pytest

import wzmedins.drg as drg
from wzmedins.drg.profile import SPEC
from wzmedins.errors import PolicyError


@pytest.mark.parametrize("name", ["wenzhou-2022", "jinhua-2024", "quzhou-2024", "taizhou-2024", "jiaxing-2024"])
def test_builtin_profiles_load_with_sources(name):
    p = drg.load_profile(name)
    assert set(p.values) == set(SPEC)
    assert all(p.sources[k] for k in SPEC)


def test_rule_sets_differ_as_drg_md_says():
    wz, jh, qz, tz, jx = (
        drg.load_profile(n) for n in ("wenzhou-2022", "jinhua-2024", "quzhou-2024", "taizhou-2024", "jiaxing-2024")
    )
    assert wz.high_multiple_bp == (30000, 20000, 15000) and wz.high_band_upper == (1000000, 3000000)
    assert jh.high_multiple_bp == (30000, 25000, 20000) and jh.high_band_upper == (1000000, 2000000)
    assert qz.low_bp == 3500 and qz.high_multiple_bp == jh.high_multiple_bp
    assert tz.low_bp == 5000 and tz.high_multiple_bp == (25000, 20000, 18000)
    assert jx.high_multiple_bp == (20000,) and jx.high_inclusive and jx.high_multiple(10**8) == 20000
    assert jh.high_multiple(2_000_000) == 25000 and jh.high_multiple(2_000_001) == 20000


def write(tmp_path, body):
    f = tmp_path / "p.toml"
    f.write_text('name = "t"\nvalid_from = 2024-01-01\nextends = "wenzhou-2022"\n[parameters]\n' + body)
    return f


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(PolicyError, match=r"parameters.low_multiple: unknown key; allowed keys are reference_cost"):
        drg.load_profile(write(tmp_path, 'low_multiple = { value = 1, source = "x" }\n'))


def test_out_of_range_value_is_named(tmp_path):
    with pytest.raises(PolicyError, match=r"low_bp: -1 is out of range; expected an integer in \[0, 10000\]"):
        drg.load_profile(write(tmp_path, 'low_bp = { value = -1, source = "x" }\n'))
    with pytest.raises(PolicyError, match="high_multiple_bp"):
        drg.load_profile(write(tmp_path, 'high_multiple_bp = { value = [20000], source = "x" }\n'))
    with pytest.raises(PolicyError, match="source"):
        drg.load_profile(write(tmp_path, "low_bp = 4000\n"))


def test_missing_key_is_named(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('name = "t"\nvalid_from = 2024-01-01\n[parameters]\nlow_bp = { value = 1, source = "x" }\n')
    with pytest.raises(PolicyError, match="reference_cost: missing"):
        drg.load_profile(f)


def test_unknown_builtin_lists_the_builtins():
    with pytest.raises(PolicyError, match="wenzhou-2022"):
        drg.load_profile("hangzhou-2099")


def test_with_changes_checks_and_leaves_the_original():
    p = drg.load_profile("wenzhou-2022")
    with pytest.raises(PolicyError, match="coef_lo_bp"):
        p.with_changes(coef_lo_bp=13000)
    q = p.with_changes(pool_funds=True)
    assert q.pool_funds and not p.pool_funds and q.fingerprint() != p.fingerprint()
