"""The zone catalogue: which blocklists exist and what their answers mean.

An A record from a DNSBL is only a number; what it means is the list's own published
convention. Spamhaus answers 127.255.255.254 when the query came through a public resolver
(an *error*, not a listing), ZEN's 127.0.0.10/11 are PBL *policy* listings (dynamic space,
fix: use your provider's relay), URIBL answers 127.0.0.1 when it refuses a query. Treating
every answer as "listed" is how other checkers cry wolf; treating every failure as "clean" is
how they miss the listing that bounces mail. So every answer is decoded with the zone's entry
here, and an answer we cannot place is never silently good news.

The catalogue is ``zones.toml`` in this package; a user file (same format, or Debian
check_rbl's ``.ini`` with ``server=`` lines) extends or replaces it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from typing import Any, NamedTuple

from mailrep.dnsbl import zone_toml
from mailrep.errors import CannotJudge


class Meaning(StrEnum):
    LISTING = "listing"  # reputation listing: mail from here is being rejected
    POLICY = "policy"  # scope/policy listing (PBL, UCEPROTECT 2/3): a different fix
    ERROR = "error"  # the list refused, is over quota, or the zone is misused
    CLEAN = "clean"  # an explicit "not listed" code (e.g. a whitelist answer)


class CatalogueError(CannotJudge, ValueError):
    """A catalogue file that cannot be used (reported as UNKNOWN)."""


class CodeRule(NamedTuple):
    """One decoding rule: an exact code, an inclusive range, or a bitmask on the last octet."""

    meaning: Meaning
    label: str
    first: ipaddress.IPv4Address | None = None
    last: ipaddress.IPv4Address | None = None
    mask: int | None = None

    def matches(self, code: ipaddress.IPv4Address) -> bool:
        if self.mask is not None:
            return int(code) >> 8 == 0x7F0000 and bool(int(code) & 0xFF & self.mask)
        assert self.first is not None and self.last is not None
        return self.first <= code <= self.last


class Answer(NamedTuple):
    """One decoded A record; ``documented`` is False for a 127/8 code no rule of the zone
    explains (its meaning is then ERROR: the code is unknown, never a listing by default)."""

    code: str
    meaning: Meaning
    label: str
    documented: bool = True


_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_OUTSIDE = "answer outside 127.0.0.0/8 (parked, hijacked or wildcarded zone)"
UNDOCUMENTED = "undocumented code: not among the list's published return codes"


class Zone(NamedTuple):
    """A blocklist zone and everything needed to query it and read its answers."""

    name: str
    kinds: frozenset[str] = frozenset({"ip4"})  # ip4, ip6, domain
    description: str = ""
    rules: tuple[CodeRule, ...] = ()
    unmatched: Meaning | None = None  # None: a code no rule matches is an unknown code (error)
    unmatched_label: str = "listed"
    lookup_url: str = ""
    notes: str = ""
    default: bool = False
    dead: str = ""  # why and since when it is gone; empty when alive
    blocks_public_resolvers: bool = False
    needs_key: bool = False
    dqs_zone: str = ""  # Spamhaus DQS name used instead when a key is given
    test_listed: str = ""  # RFC 5782 entries; empty string disables that test
    test_clean: str = ""
    origin: str = "catalogue"

    @property
    def is_domain_list(self) -> bool:
        return "domain" in self.kinds

    def decode(self, code_text: str) -> Answer:
        """What one A record means for this zone."""
        try:
            code = ipaddress.IPv4Address(code_text)
        except ValueError:
            return Answer(code_text, Meaning.ERROR, "not an IPv4 answer")
        if code not in _LOOPBACK:
            return Answer(code_text, Meaning.ERROR, _OUTSIDE)
        for rule in self.rules:
            if rule.mask is None and rule.matches(code):
                return Answer(code_text, rule.meaning, rule.label)
        bits = [r for r in self.rules if r.mask is not None and r.matches(code)]
        if bits:
            # Bitmask lists set several bits at once: the gravest meaning wins, labels combine.
            order = [Meaning.ERROR, Meaning.LISTING, Meaning.POLICY, Meaning.CLEAN]
            meaning = min((r.meaning for r in bits), key=order.index)
            return Answer(code_text, meaning, ", ".join(r.label for r in bits))
        if self.unmatched is None:
            return Answer(code_text, Meaning.ERROR, UNDOCUMENTED, documented=False)
        return Answer(code_text, self.unmatched, self.unmatched_label)

    def url_for(self, item: str) -> str:
        return self.lookup_url.replace("{address}", item).replace("{zone}", self.name)

    def with_key(self, key: str | None) -> tuple[str, str]:
        """(name to query, name to show): a DQS key goes into the query, never the output."""
        if key and self.dqs_zone:
            return f"{key}.{self.dqs_zone}", f"<key>.{self.dqs_zone}"
        return self.name, self.name


class Catalogue:
    """All known zones by name, in catalogue order, and the domains whose every zone is dead.

    A list operator that closes takes all its zones with it, named in our catalogue or not:
    SORBS alone ran dozens (``aspews.ext.sorbs.net``, ``l2.spews.dnsbl.sorbs.net``, ...), and
    a stale configuration names any of them. ``dead_domains`` (domain -> reason) makes every
    zone under such a domain dead without listing each one.
    """

    def __init__(
        self,
        zones: dict[str, Zone] | None = None,
        selects: bool = False,
        dead_domains: dict[str, str] | None = None,
    ) -> None:
        self.zones = dict(zones or {})
        self.selects = selects  # a check_rbl list: its zones are the ones to check
        self.dead_domains = dict(dead_domains or {})

    def dead_reason(self, name: str) -> str:
        """Why the zone ``name`` is dead: its own entry says so (an entry is authoritative),
        or, for a zone the catalogue does not name, its domain's; "" if alive."""
        key = name.strip().rstrip(".").lower()
        known = self.zones.get(key)
        if known is not None:
            return known.dead
        for domain, reason in self.dead_domains.items():
            if key == domain or key.endswith("." + domain):
                return reason
        return ""

    def defaults(self) -> list[Zone]:
        return [z for z in self.zones.values() if z.default and not z.dead]

    def get(self, name: str) -> Zone:
        """A known zone, or an ad-hoc one decoded by RFC 5782's generic rules."""
        key = name.strip().rstrip(".").lower()
        if key in self.zones:
            return self.zones[key]
        return Zone(
            name=key,
            kinds=frozenset({"ip4", "ip6"}),
            origin="command line",
            test_listed="127.0.0.2",
            test_clean="127.0.0.1",
            rules=GENERIC_RULES,
            dead=self.dead_reason(key),
        )

    def merge(self, other: Catalogue, replace_all: bool = False) -> Catalogue:
        if replace_all:
            return Catalogue(dict(other.zones), dead_domains=other.dead_domains)
        merged = dict(self.zones)
        merged.update(other.zones)
        return Catalogue(merged, dead_domains={**self.dead_domains, **other.dead_domains})


#: For zones we know nothing about (named on the command line, in a check_rbl .ini, or a
#: TOML zone without ``answers``): the conventions of RFC 5782 that nearly every list
#: follows. Rules match in order: the error codes first, then any other 127/8 code but
#: 127.0.0.0 is a listing.
GENERIC_RULES = (
    CodeRule(
        Meaning.ERROR,
        "127.0.0.1 is the RFC 5782 'never listed' entry: a refusal",
        ipaddress.IPv4Address("127.0.0.1"),
        ipaddress.IPv4Address("127.0.0.1"),
    ),
    CodeRule(
        Meaning.ERROR,
        "127.255.255.x: error code (quota, refused or misuse)",
        ipaddress.IPv4Address("127.255.255.0"),
        ipaddress.IPv4Address("127.255.255.255"),
    ),
    CodeRule(
        Meaning.LISTING,
        "listed (RFC 5782: a 127/8 answer other than 127.0.0.1)",
        ipaddress.IPv4Address("127.0.0.2"),
        ipaddress.IPv4Address("127.255.254.255"),
    ),
)


def parse_toml(text: str, origin: str) -> Catalogue:
    """A catalogue in mailrep's TOML format, read strictly by :mod:`~mailrep.dnsbl.zone_toml`."""
    try:
        entries, dead_domains = zone_toml.parse_document(text, origin)
    except zone_toml.ZoneFileError as exc:
        raise CatalogueError(str(exc)) from None
    zones = [_zone(entry, origin) for entry in entries]
    return Catalogue({z.name: z for z in zones}, dead_domains=dead_domains)


def _zone(entry: dict[str, Any], origin: str) -> Zone:
    """A zone of a checked zone_toml entry; no ``answers`` means RFC 5782's generic rules."""
    rules = entry["rules"]
    return Zone(
        name=entry["name"],
        kinds=entry["kinds"],
        description=entry.get("description", ""),
        rules=GENERIC_RULES
        if rules is None
        else tuple(CodeRule(Meaning(r.means), r.label, r.first, r.last, r.mask) for r in rules),
        unmatched=Meaning(entry["unmatched"]) if entry["unmatched"] else None,
        unmatched_label=entry.get("unmatched_label", "listed"),
        lookup_url=entry.get("lookup_url", ""),
        notes=entry.get("notes", ""),
        default=entry.get("default", False),
        dead=entry.get("dead", ""),
        blocks_public_resolvers=entry.get("blocks_public_resolvers", False),
        needs_key=entry.get("needs_key", False),
        dqs_zone=entry.get("dqs_zone", ""),
        test_listed=entry["test_listed"],
        test_clean=entry["test_clean"],
        origin=origin,
    )


def parse_check_rbl_ini(text: str, origin: str, base: Catalogue) -> Catalogue:
    """Debian check_rbl's config: ``server=ZONE`` lines (sections and other keys ignored).

    Zones we know keep our decoding; unknown ones get the generic rules.
    """
    zones: dict[str, Zone] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("server", "s"):
            name = value.strip().rstrip(".").lower()
            if name:
                known = base.get(name)
                zones[name] = known._replace(origin=origin)
    if not zones:
        raise CatalogueError(f"{origin}: no server= lines found")
    return Catalogue(zones, selects=True, dead_domains=base.dead_domains)


def load_default() -> Catalogue:
    text = resources.files(__package__).joinpath("zones.toml").read_text(encoding="utf-8")
    return parse_toml(text, "built-in catalogue")


def load_file(path: str, base: Catalogue) -> Catalogue:
    """A user catalogue: TOML in our format or check_rbl's ini, judged by content."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise CatalogueError(f"cannot read zones file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CatalogueError(f"zones file {path} is not UTF-8 text (line {line})") from None
    if re.search(r"^\s*\[\[zone\]\]", text, re.M):
        return parse_toml(text, path)
    return parse_check_rbl_ini(text, path, base)


class Selection(NamedTuple):
    """The zones a run checks, and the dead ones it left out (only when told to skip them)."""

    zones: list[Zone]
    skipped_dead: list[Zone]


def select_zones(
    catalogue: Catalogue,
    requested: Iterable[str],
    excluded: Iterable[str],
    *,
    skip_dead: bool = False,
) -> Selection:
    """The zones of this run: the requested ones (or the defaults) minus the excluded.

    A dead list that answers for every query would make every host look listed, and one
    that answers nothing hides real listings, so a dead zone is never queried. A zone the
    user named himself (``-z``) is refused with the reason: he can fix his command line. A
    file written for another tool (Debian's check_rbl.ini names 23 dead lists) is used as it
    is: with ``skip_dead`` its dead zones are left out and returned, to be named once.
    """
    names = [n.strip().rstrip(".").lower() for n in requested if n.strip()]
    zones = [catalogue.get(n) for n in dict.fromkeys(names)] if names else catalogue.defaults()
    dead = [z for z in zones if z.dead]
    if dead and not skip_dead:
        z = dead[0]
        raise CatalogueError(f"{z.name} is a dead list ({z.dead}); remove it from your zones")
    drop = {n.strip().rstrip(".").lower() for n in excluded}
    live = [z for z in zones if z.name not in drop and not z.dead]
    return Selection(live, [z for z in dead if z.name not in drop])


def select(
    catalogue: Catalogue,
    requested: Iterable[str],
    excluded: Iterable[str],
) -> list[Zone]:
    """:func:`select_zones` for zones the user named: a dead one is refused."""
    return select_zones(catalogue, requested, excluded).zones
