"""Counted nouns for status lines: an admin reads "1 list" and "2 lists", not "1 lists"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "list")`` -> ``1 list``; ``counted(3, "list")`` -> ``3 lists``."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
