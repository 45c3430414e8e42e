"""Exceptions for problems that are not a bad row: a bad table or a bad policy."""

from __future__ import annotations


class WzmedinsError(Exception):
    """Base of every error raised by wzmedins.

    Every error can be pickled (a task on a Dask worker raises it on the client); a subclass
    whose constructor takes other arguments than its message defines ``__reduce__``.
    """


class SchemaError(WzmedinsError, ValueError):
    """A structural problem with an input table: names the column and what was expected.

    Examples
    --------
    >>> raise SchemaError("total_cost", "int64 fen", "string")
    Traceback (most recent call last):
    ...
    wzmedins.errors.SchemaError: column 'total_cost': expected int64 fen, got string
    """

    def __init__(self, column: str, expected: str, got: str | None = None):
        self.column = column
        self.expected = expected
        self.got = got
        msg = f"column {column!r}: expected {expected}"
        if got is not None:
            msg += f", got {got}"
        super().__init__(msg)

    def __reduce__(self):
        """Rebuilt from its three arguments, so it crosses processes (a Dask worker's error)."""
        return (type(self), (self.column, self.expected, self.got))


class PolicyError(WzmedinsError, ValueError):
    """A profile that cannot be loaded: names the key and what is allowed."""


class NotSettledError(WzmedinsError, LookupError):
    """A claim that was not settled (rejected, or not in the batch) cannot be explained.

    Examples
    --------
    >>> raise NotSettledError("c9", "no row with this claim_id")
    Traceback (most recent call last):
    ...
    wzmedins.errors.NotSettledError: claim 'c9' was not settled: no row with this claim_id
    """

    def __init__(self, claim_id, reason: str):
        self.claim_id = claim_id
        self.reason = reason
        super().__init__(f"claim {claim_id!r} was not settled: {reason}")

    def __reduce__(self):
        """Rebuilt from its two arguments, so it crosses processes."""
        return (type(self), (self.claim_id, self.reason))


class UnitWarning(UserWarning):
    """The symptom of a unit slip: amounts that look like yuan where fen are expected (off by 100)."""
