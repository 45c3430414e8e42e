"""Exceptions for problems that are not a bad row: a bad table or a bad policy."""

from __future__ import annotations


class WzmedinsError(Exception):
    """Base of every error raised by wzmedins."""


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


class PolicyError(WzmedinsError, ValueError):
    """A profile that cannot be loaded: names the key and what is allowed."""
