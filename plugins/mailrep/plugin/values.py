"""Value types for option arguments: numbers of seconds and counts, checked when parsed.

argparse calls these for each value; a refusal is an ``ArgumentTypeError``, which the plugin
parser turns into a usage error (UNKNOWN). Kept apart from :mod:`mailrep.plugin.runtime` so
the run's contract stays one page.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

#: The longest ``-t`` accepted: a check that needs longer is not a monitoring check, and
#: the interval timer behind the alarm overflows on much larger values.
MAX_TIMEOUT = 86400.0


def unrecognized(words: Sequence[str]) -> str:
    """``unrecognized arguments: --password (1 value not shown)``: option names only."""
    names = [w.split("=", 1)[0] for w in words if w.startswith("-") and len(w) > 1]
    hidden = len(words) - len(names) + sum(1 for w in words if w.startswith("-") and "=" in w)
    text = "unrecognized arguments: " + (" ".join(names) if names else "")
    if hidden:
        text += f"{' ' if names else ''}({hidden} value{'s' if hidden > 1 else ''} not shown)"
    return text


def positive_float(text: str) -> float:
    """A finite number above 0 (``inf`` and ``nan`` are not numbers of seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def timeout_seconds(text: str) -> float:
    """``-t``: above 0 and at most :data:`MAX_TIMEOUT` seconds."""
    value = positive_float(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIMEOUT:g} seconds: {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


#: What a Nagios range looks like, for the message that refuses one.
RANGE_FORMS = (
    "a range looks like 10 (alert above 10), 10: (below 10), ~:10 (above 10), "
    "10:20 (outside 10-20) or @10:20 (inside 10-20)"
)


def nagios_range(text: str) -> str:
    """Validate a Nagios range with nagiosplugin's own parser (never by hand).

    The parser's own message ("invalid literal for int() with base 10") means nothing to
    the admin who typed ``-c x``: the refusal shows what a range looks like instead.
    """
    from nagiosplugin import Range

    try:
        Range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a Nagios range: {text!r} ({RANGE_FORMS})") from None
    return text
