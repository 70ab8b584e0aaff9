"""mailrep's TOML zone catalogue format, read strictly.

A catalogue decides what an answer means, so a mistake in it must stop the check with a
message that leads to the mistake, not change verdicts quietly: a TOML syntax error names
the file and line; a bad value names the zone and the key (``kinds = "ip4"`` is not a list,
``default = "yes"`` is not a boolean, a misspelt key would otherwise be ignored). The
format is described at the top of the built-in ``zones.toml``.

This module only reads the format into plain, checked values (:class:`RuleFields`, one
dict per zone); :mod:`mailrep.dnsbl.catalogue` makes zones of them.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from typing import Any, NamedTuple

#: The meanings an answer rule may give (the values of catalogue.Meaning).
MEANINGS = ("listing", "policy", "error", "clean")


class ZoneFileError(ValueError):
    """A catalogue file that cannot be used; the message says where and why."""


class RuleFields(NamedTuple):
    """One checked ``answers`` entry: a code range (first..last) or a bitmask."""

    means: str
    label: str
    first: ipaddress.IPv4Address | None = None
    last: ipaddress.IPv4Address | None = None
    mask: int | None = None


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
_MEANINGS = ", ".join(MEANINGS)
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

    def fail(self, key: str, expected: str, value: object) -> ZoneFileError:
        return ZoneFileError(
            f"{self.origin}: zone {self.zone}: key '{key}' must be {expected}, not {value!r}"
        )


def parse(text: str, origin: str) -> list[dict[str, Any]]:
    """Every ``[[zone]]`` table of ``text``, checked: a dict per zone with ``name``
    (normalised), ``kinds`` (a frozenset), ``rules`` (RuleFields, or None when the zone
    gives no ``answers``), ``unmatched`` (a meaning or None), the test entries (defaults
    filled in per kind) and the other keys as given. Raises :class:`ZoneFileError`."""
    return parse_document(text, origin)[0]


def parse_document(text: str, origin: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The ``[[zone]]`` tables (as :func:`parse` gives them) and the ``[[dead_domain]]``
    tables (domain -> reason: every zone under the domain is dead), both checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ZoneFileError(_syntax_message(str(exc), origin)) from None
    entries = data.get("zone", [])
    if not isinstance(entries, list):
        raise ZoneFileError(f"{origin}: expected [[zone]] tables, not 'zone = ...'")
    zones = [_zone(entry, origin, number) for number, entry in enumerate(entries, 1)]
    return zones, _dead_domains(data.get("dead_domain", []), origin)


def _dead_domains(entries: object, origin: str) -> dict[str, str]:
    if not isinstance(entries, list):
        raise ZoneFileError(f"{origin}: expected [[dead_domain]] tables, not 'dead_domain = ...'")
    found: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != {"domain", "dead"}:
            raise ZoneFileError(
                f"{origin}: [[dead_domain]] #{number} needs exactly 'domain' and 'dead'"
            )
        domain, reason = entry["domain"], entry["dead"]
        if not isinstance(domain, str) or not isinstance(reason, str) or not reason.strip():
            raise ZoneFileError(
                f"{origin}: [[dead_domain]] #{number}: 'domain' and 'dead' must be strings"
            )
        name = domain.strip().rstrip(".").lower()
        if not name:
            raise ZoneFileError(f"{origin}: [[dead_domain]] #{number} has an empty domain")
        found[name] = reason.strip()
    return found


def _syntax_message(message: str, origin: str) -> str:
    """``FILE: TOML error at line N, column M: what`` from tomllib's message (Python 3.11's
    error carries the position only in its text)."""
    found = _AT_LINE.search(message)
    if found is None:
        return f"{origin}: TOML error: {message}"
    what = message[: found.start()]
    return f"{origin}: TOML error at line {found.group(1)}, column {found.group(2)}: {what}"


def _zone(entry: object, origin: str, number: int) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ZoneFileError(f"{origin}: zone #{number} is not a table: {entry!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip().rstrip("."):
        raise ZoneFileError(f"{origin}: zone #{number} has no name (key 'name')")
    where = _Where(origin, name.strip().rstrip(".").lower())
    _check_keys(entry, where)
    kinds = _kinds(entry, where)
    listed, clean = _DEFAULT_TESTS["domain" if "domain" in kinds else min(kinds)]
    if entry.get("unmatched", MEANINGS[0]) not in MEANINGS:
        raise where.fail("unmatched", f"one of {_MEANINGS}", entry["unmatched"])
    answers = entry.get("answers")
    return {
        **entry,
        "name": where.zone,
        "kinds": kinds,
        "rules": None if answers is None else _rules(answers, where),
        "unmatched": entry.get("unmatched"),
        "test_listed": entry.get("test_listed", listed),
        "test_clean": entry.get("test_clean", clean),
    }


def _check_keys(entry: Mapping[str, Any], where: _Where) -> None:
    for key, value in entry.items():
        if key not in _KEYS:
            raise ZoneFileError(
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


def _rules(answers: object, where: _Where) -> tuple[RuleFields, ...]:
    if not isinstance(answers, list):
        raise where.fail("answers", "a list of tables", answers)
    return tuple(_rule(entry, where, i) for i, entry in enumerate(answers))


def _rule(entry: object, where: _Where, index: int) -> RuleFields:
    key = f"answers[{index}]"
    if not isinstance(entry, dict):
        raise where.fail(key, 'a table such as { match = "127.0.0.2", means = ... }', entry)
    unknown = sorted(set(entry) - _RULE_KEYS)
    if unknown:
        raise ZoneFileError(
            f"{where.origin}: zone {where.zone}: unknown key '{key}.{unknown[0]}' "
            "(known: match, mask, means, label)"
        )
    meaning = entry.get("means", "listing")
    if meaning not in MEANINGS:
        raise where.fail(f"{key}.means", f"one of {_MEANINGS}", meaning)
    label = entry.get("label", meaning)
    if not isinstance(label, str):
        raise where.fail(f"{key}.label", "a string", label)
    if ("mask" in entry) == ("match" in entry):
        raise where.fail(key, "a table with either 'match' or 'mask'", entry)
    if "mask" in entry:
        mask = entry["mask"]
        if isinstance(mask, bool) or not isinstance(mask, int) or not 0 < mask < 256:
            raise where.fail(f"{key}.mask", "a number from 1 to 255", mask)
        return RuleFields(meaning, label, mask=mask)
    return _range_rule(entry["match"], meaning, label, where, f"{key}.match")


def _range_rule(value: object, meaning: str, label: str, where: _Where, key: str) -> RuleFields:
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
    return RuleFields(meaning, label, first, last)
