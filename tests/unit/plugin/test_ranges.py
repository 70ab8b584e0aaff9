"""Nagios ranges in words: when each one alerts."""

from __future__ import annotations

import nagiosplugin
import pytest
from mailrep.plugin.ranges import describe


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("10", "above 10"),
        ("0", "above 0"),
        ("10:", "below 10"),
        ("~:10", "above 10"),
        ("5:10", "outside 5..10"),
        ("@5:10", "inside 5..10"),
        ("@10:", "at or above 10"),
        ("2.5", "above 2.5"),
    ],
)
def test_range_in_words(spec, words):
    assert describe(nagiosplugin.Range(spec)) == words
