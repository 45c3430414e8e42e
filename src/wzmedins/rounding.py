"""The one rounding rule of docs/rules/settlement.md §1: ``n / d`` rounded half up, for ``n >= 0``.

``half_up`` is plain Python (exact on Python ints of any size, for wrappers and the reference
twins); ``rnd`` and ``mulrnd`` are the same rule compiled for the kernels.
"""

from __future__ import annotations

from ._jit import kernel


def half_up(n, d):
    """``n / d`` rounded half up: ``(2n + d) // 2d``.

    Examples
    --------
    >>> half_up(5, 2), half_up(4, 2), half_up(7, 4), half_up(2_500, 10_000)
    (3, 2, 2, 0)
    >>> half_up(5_000, 10_000)
    1
    """
    return (2 * n + d) // (2 * d)


def times_half_up(a, b, d):
    """``half_up(a·b, d)`` for ``a, b >= 0`` with no intermediate above ``2·d·b + d``.

    ``a·b = q·d·b + r·b`` with ``q, r = divmod(a, d)``, and ``2·q·d·b`` is a multiple of ``2·d``.

    Examples
    --------
    >>> times_half_up(12_345, 7_000, 10_000) == half_up(12_345 * 7_000, 10_000)
    True
    """
    q = a // d
    r = a - q * d
    return q * b + (2 * r * b + d) // (2 * d)


rnd = kernel(half_up)
mulrnd = kernel(times_half_up)
