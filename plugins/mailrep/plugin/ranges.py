"""Nagios ranges said in words, for status lines that name what set the state.

nagiosplugin parses and matches ranges (never by hand); this only phrases one: a value
alerts when it is *outside* ``start:end``, or inside it with ``@``.
"""

from __future__ import annotations

import math

import nagiosplugin


def _num(value: float) -> str:
    return f"{value:g}"


def describe(spec: nagiosplugin.Range) -> str:
    """``above 2``, ``below 5``, ``outside 1..3``, ``inside 1..3`` — when the range alerts."""
    start, end = spec.start, spec.end
    if spec.invert:
        if math.isinf(end):
            return f"at or above {_num(start)}"
        if math.isinf(start):
            return f"at or below {_num(end)}"
        return f"inside {_num(start)}..{_num(end)}"
    if math.isinf(end):
        return "never" if math.isinf(start) else f"below {_num(start)}"
    if math.isinf(start) or start == 0:
        return f"above {_num(end)}"
    return f"outside {_num(start)}..{_num(end)}"
