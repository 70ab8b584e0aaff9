"""mailrep's TOML zone catalogue format, read strictly.

A catalogue decides what an answer means, so a mistake in it must stop the check with a
message that leads to the mistake, not change verdicts quietly: a TOML syntax error names
the file and line; a bad value names the zone and the key (``kinds = "ip4"`` is not a list,
``default = "yes"`` is not a boolean, a misspelt key would otherwise be ignored). The
format is described at the top of the built-in ``zones.toml``.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from mailrep.dnsbl.catalogue import (
    GENERIC_RULES,
    Catalogue,
    CatalogueError,
    CodeRule,
    Meaning,
    Zone,
)

_STRINGS = frozenset(
    {
        "name",
        "description",
        "lookup_url",
        "notes",
        "dead",
        "dqs_zone",
        "test_listed",
        "test_clean",
        "unmatched",
        "unmatched_label",
    }
)
_BOOLEANS = frozenset({"default", "blocks_public_resolvers", "needs_key"})
_KEYS = _STRINGS | _BOOLEANS | {"kinds", "answers"}
_RULE_KEYS = frozenset({"match", "mask", "means", "label"})
_KINDS = ("ip4", "ip6", "domain")
_MEANINGS = ", ".join(m.value for m in Meaning)
_DEFAULT_TESTS = {
    "ip4": ("127.0.0.2", "127.0.0.1"),
    "ip6": ("::ffff:7f00:2", "::ffff:7f00:1"),
    "domain": ("test", "invalid"),
}
_CODE_RANGE = re.compile(r"^\s*([0-9.]+)\s*(?:-\s*([0-9.]+))?\s*$")
_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class _Where:
    """Where a value sits, for the message: file, zone, key."""

    def __init__(self, origin: str, zone: str) -> None:
        self.origin = origin
        self.zone = zone

    def fail(self, key: str, expected: str, value: object) -> CatalogueError:
        return CatalogueError(
            f"{self.origin}: zone {self.zone}: key '{key}' must be {expected}, not {value!r}"
        )


def parse(text: str, origin: str) -> Catalogue:
    """Every ``[[zone]]`` table of ``text``; raises :class:`CatalogueError` on any mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(_syntax_message(str(exc), origin)) from None
    entries = data.get("zone", [])
    if not isinstance(entries, list):
        raise CatalogueError(f"{origin}: expected [[zone]] tables, not 'zone = ...'")
    zones = [_zone(entry, origin, number) for number, entry in enumerate(entries, 1)]
    return Catalogue({z.name: z for z in zones})


def _syntax_message(message: str, origin: str) -> str:
    """``FILE: TOML error at line N, column M: what`` from tomllib's message (Python 3.11's
    error carries the position only in its text)."""
    found = _AT_LINE.search(message)
    if found is None:
        return f"{origin}: TOML error: {message}"
    what = message[: found.start()]
    return f"{origin}: TOML error at line {found.group(1)}, column {found.group(2)}: {what}"


def _zone(entry: object, origin: str, number: int) -> Zone:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{origin}: zone #{number} is not a table: {entry!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip().rstrip("."):
        raise CatalogueError(f"{origin}: zone #{number} has no name (key 'name')")
    where = _Where(origin, name.strip().rstrip(".").lower())
    _check_keys(entry, where)
    kinds = _kinds(entry, where)
    listed, clean = _DEFAULT_TESTS["domain" if "domain" in kinds else min(kinds)]
    unmatched = None
    if "unmatched" in entry:
        try:
            unmatched = Meaning(entry["unmatched"])
        except ValueError:
            raise where.fail("unmatched", f"one of {_MEANINGS}", entry["unmatched"]) from None
    answers = entry.get("answers")
    rules = GENERIC_RULES if answers is None else _rules(answers, where)
    return Zone(
        name=where.zone,
        kinds=kinds,
        description=entry.get("description", ""),
        rules=rules,
        unmatched=unmatched,
        unmatched_label=entry.get("unmatched_label", "listed"),
        lookup_url=entry.get("lookup_url", ""),
        notes=entry.get("notes", ""),
        default=entry.get("default", False),
        dead=entry.get("dead", ""),
        blocks_public_resolvers=entry.get("blocks_public_resolvers", False),
        needs_key=entry.get("needs_key", False),
        dqs_zone=entry.get("dqs_zone", ""),
        test_listed=entry.get("test_listed", listed),
        test_clean=entry.get("test_clean", clean),
        origin=origin,
    )


def _check_keys(entry: Mapping[str, Any], where: _Where) -> None:
    for key, value in entry.items():
        if key not in _KEYS:
            raise CatalogueError(
                f"{where.origin}: zone {where.zone}: unknown key '{key}' "
                f"(known: {', '.join(sorted(_KEYS))})"
            )
        if key in _STRINGS and not isinstance(value, str):
            raise where.fail(key, "a string", value)
        if key in _BOOLEANS and not isinstance(value, bool):
            raise where.fail(key, "true or false", value)


def _kinds(entry: Mapping[str, Any], where: _Where) -> frozenset[str]:
    kinds = entry.get("kinds", ["ip4"])
    if (
        not isinstance(kinds, list)
        or not kinds
        or not all(isinstance(k, str) and k in _KINDS for k in kinds)
    ):
        raise where.fail("kinds", 'a list of "ip4", "ip6", "domain"', kinds)
    return frozenset(kinds)


def _rules(answers: object, where: _Where) -> tuple[CodeRule, ...]:
    if not isinstance(answers, list):
        raise where.fail("answers", "a list of tables", answers)
    return tuple(_rule(entry, where, i) for i, entry in enumerate(answers))


def _rule(entry: object, where: _Where, index: int) -> CodeRule:
    key = f"answers[{index}]"
    if not isinstance(entry, dict):
        raise where.fail(key, 'a table such as { match = "127.0.0.2", means = ... }', entry)
    unknown = sorted(set(entry) - _RULE_KEYS)
    if unknown:
        raise CatalogueError(
            f"{where.origin}: zone {where.zone}: unknown key '{key}.{unknown[0]}' "
            "(known: match, mask, means, label)"
        )
    try:
        meaning = Meaning(entry.get("means", "listing"))
    except ValueError:
        raise where.fail(f"{key}.means", f"one of {_MEANINGS}", entry.get("means")) from None
    label = entry.get("label", meaning.value)
    if not isinstance(label, str):
        raise where.fail(f"{key}.label", "a string", label)
    if ("mask" in entry) == ("match" in entry):
        raise where.fail(key, "a table with either 'match' or 'mask'", entry)
    if "mask" in entry:
        mask = entry["mask"]
        if isinstance(mask, bool) or not isinstance(mask, int) or not 0 < mask < 256:
            raise where.fail(f"{key}.mask", "a number from 1 to 255", mask)
        return CodeRule(meaning, label, mask=mask)
    return _range_rule(entry["match"], meaning, label, where, f"{key}.match")


def _range_rule(value: object, meaning: Meaning, label: str, where: _Where, key: str) -> CodeRule:
    expected = 'an IPv4 code or range such as "127.0.0.2" or "127.0.0.4-127.0.0.7"'
    found = _CODE_RANGE.match(value) if isinstance(value, str) else None
    if found is None:
        raise where.fail(key, expected, value)
    try:
        first = ipaddress.IPv4Address(found.group(1))
        last = ipaddress.IPv4Address(found.group(2)) if found.group(2) else first
    except ValueError:
        raise where.fail(key, expected, value) from None
    if last < first:
        raise where.fail(key, "a range whose first code is not above its last", value)
    return CodeRule(meaning, label, first, last)
