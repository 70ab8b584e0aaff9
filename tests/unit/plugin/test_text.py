"""Counted nouns on status lines."""

from mailrep.plugin.text import counted


def test_one_takes_the_singular():
    assert counted(1, "list") == "1 list"


def test_other_counts_take_the_plural():
    assert [counted(n, "list") for n in (0, 2)] == ["0 lists", "2 lists"]


def test_an_irregular_plural_is_given():
    assert counted(2, "cites", "cite") == "2 cite"
