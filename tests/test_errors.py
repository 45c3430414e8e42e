"""The errors cross processes: pickled and unpickled, they keep their type, fields and message."""

import pickle

import pytest

from wzmedins.errors import NotSettledError, PolicyError, SchemaError, WzmedinsError


@pytest.mark.parametrize(
    "error",
    [
        SchemaError("total_cost", "int64 fen", "string"),
        SchemaError("points", "a scored table"),
        NotSettledError("c9", "no row with this claim_id"),
        PolicyError("deductible: not a number"),
        WzmedinsError("plain"),
    ],
)
def test_errors_pickle(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__


def test_schema_error_fields_after_pickle():
    back = pickle.loads(pickle.dumps(SchemaError("fund", "employee or resident", "navy")))
    assert (back.column, back.expected, back.got) == ("fund", "employee or resident", "navy")
    assert str(back) == "column 'fund': expected employee or resident, got navy"
