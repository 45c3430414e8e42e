"""The worked examples of settlement.md §9 (fixtures in data/fixtures/settlement), through
both the kernel and the reference."""

import pytest

import wzmedins as wz
from tests.helpers import check_identities, load_example

ENGINES = {"kernel": wz.settle, "reference": wz.reference.settle}


@pytest.fixture(scope="module")
def policy():
    return wz.load_policy("wenzhou-2022")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("k", range(1, 9))
def test_worked_example(k, engine, policy):
    ex = load_example(k)
    out = ENGINES[engine](ex["claims"], policy, accounts=ex["accounts"])
    assert out.rejected.num_rows == 0
    got = {r["claim_id"]: r for r in out.settled.to_pylist()}
    for expected in ex["expected"]:
        row = got[expected["claim_id"]]
        assert {f: row[f] for f in expected} == expected
    states = {(s["person_id"], s["year"]): s for s in out.state.to_pylist()}
    for expected in ex["expected_state"]:
        s = states[(expected["person_id"], expected["year"])]
        assert {f: s[f] for f in expected} == expected
    check_identities(ex["claims"], out, policy)


def test_example_4_in_yuan(policy):
    """The spec's headline figures, written out in yuan: assistance 17 082.90, cash 11 898.10."""
    out = wz.settle(load_example(4)["claims"], policy)
    row = out.settled.to_pylist()[0]
    assert (row["critical_illness"], row["medical_assistance"], row["cash"]) == (1_667_900, 1_708_290, 1_189_810)
