"""Compiled passes over Arrow buffers: what ``tables.py`` does to a column in one pass instead of
a chain of compute calls and numpy masks.

Each pass reads a column's buffers (string offsets and bytes, dictionary indices, integer
values, the validity bitmap unpacked to a mask when there are nulls) and writes the codes,
values and reason codes in place. A reason is lowered to a code, never raised, so applying
them in one pass is the same as applying them one by one (the first applicable reason in the
order of ``reasons.REASONS`` wins: the smaller code).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)

# what the string-id scan finds in a row (bits of its output)
ID_MISSING = 1  # empty, all ASCII whitespace, or holding a NUL byte
ID_TOO_LONG = 2  # longer than the byte limit
ID_MAYBE_BLANK = 4  # only whitespace-like bytes, some of them not ASCII: to be checked exactly


@kernel
def mix64(z):
    """splitmix64 finaliser: spreads a 64-bit key over all bits."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@kernel
def hash_bytes(data, lo, hi):
    """FNV-1a over ``data[lo:hi]``, mixed (the hash of a string id)."""
    h = FNV_OFFSET
    for b in range(lo, hi):
        h = (h ^ np.uint64(data[b])) * FNV_PRIME
    return mix64(h)


@kernel
def scan_string_ids(offsets, data, max_bytes, hashes, found):
    """Hash each string id and find what is wrong with it, in one pass over the bytes.

    ``found[i]`` gets the bits ``ID_MISSING``, ``ID_TOO_LONG``, ``ID_MAYBE_BLANK``; ``hashes[i]``
    the id's hash (as ``settle.ids`` hashes it). Nulls are the caller's: their offsets span no
    bytes, so they come out as empty.
    """
    for i in range(offsets.shape[0] - 1):
        lo = offsets[i]
        hi = offsets[i + 1]
        h = FNV_OFFSET
        printable = False  # an ASCII byte that is certainly not whitespace
        wide = False  # a byte of a multi-byte character
        nul = False
        for b in range(lo, hi):
            c = data[b]
            h = (h ^ np.uint64(c)) * FNV_PRIME
            if c == 0:
                nul = True
            elif c >= 0x80:
                wide = True
            elif not (c == 0x20 or 0x09 <= c <= 0x0D or 0x1C <= c <= 0x1F):
                printable = True
        hashes[i] = mix64(h)
        bits = 0
        if hi - lo > max_bytes:
            bits |= ID_TOO_LONG
        if nul or hi == lo:
            bits |= ID_MISSING
        elif not printable:
            bits |= ID_MAYBE_BLANK if wide else ID_MISSING
        found[i] = bits


@kernel
def dictionary_codes(indices, nulls, lookup, default, reason, missing_code, unknown_code, out):
    """Codes of a dictionary-encoded column: ``lookup[index]`` per row (-1: not in the
    vocabulary: ``unknown_code``); a null row takes ``default`` when it is >= 0, else gets
    ``missing_code``. ``nulls`` is empty when the column has none."""
    has_nulls = nulls.shape[0] > 0
    for i in range(indices.shape[0]):
        if has_nulls and nulls[i]:
            if default >= 0:
                out[i] = default
            else:
                out[i] = 0
                if missing_code < reason[i]:
                    reason[i] = missing_code
            continue
        code = lookup[indices[i]]
        if code < 0:
            out[i] = 0
            if unknown_code < reason[i]:
                reason[i] = unknown_code
        else:
            out[i] = code


@kernel
def integer_money(values, nulls, max_fen, reason, missing_code, negative_code, too_large_code, out):
    """Integer fen with their checks: a null is 0 (``missing_code`` when >= 0: a required
    column), beyond ``max_fen`` either way is 0 and ``too_large_code``, below 0 is kept and gets
    ``negative_code``."""
    has_nulls = nulls.shape[0] > 0
    for i in range(values.shape[0]):
        if has_nulls and nulls[i]:
            out[i] = 0
            if 0 <= missing_code < reason[i]:
                reason[i] = missing_code
            continue
        v = values[i]
        if v > max_fen or v < -max_fen:
            out[i] = 0
            if too_large_code < reason[i]:
                reason[i] = too_large_code
        else:
            out[i] = v
            if v < 0 and negative_code < reason[i]:
                reason[i] = negative_code


@kernel
def money_problems(values, max_fen, reason, negative_code, too_large_code):
    """The checks of ``integer_money`` on a column without nulls, read only; returns how many
    values are beyond ``max_fen`` (none: the column can be used as it is, without a copy)."""
    too_large = 0
    for i in range(values.shape[0]):
        v = values[i]
        if v > max_fen or v < -max_fen:
            too_large += 1
            if too_large_code < reason[i]:
                reason[i] = too_large_code
        elif v < 0 and negative_code < reason[i]:
            reason[i] = negative_code
    return too_large


@kernel
def years_of_days(days, out):
    """Calendar year of each day count since 1970-01-01 (proleptic Gregorian, H. Hinnant's
    ``civil_from_days``)."""
    for i in range(days.shape[0]):
        z = np.int64(days[i]) + 719468
        era = (z if z >= 0 else z - 146096) // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        out[i] = yoe + era * 400 + (1 if mp >= 10 else 0)
