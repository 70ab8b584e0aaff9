"""Blocklist lookups: many addresses against many zones, with answers that never lie.

Value types are NamedTuples rather than dataclasses on purpose: a plugin is a short
process, and importing :mod:`dataclasses` plus generating each class's methods cost ~15 ms
of a start-up budget measured in tens of milliseconds (bench/bench_dnsbl.py).

A result per (item, zone) is one of LISTED, POLICY, CLEAN, ERROR or BROKEN. The
rules that make it trustworthy:

* a query that failed (timeout, SERVFAIL, REFUSED, malformed) is ERROR, never CLEAN;
* an error answer (Spamhaus 127.255.255.254, URIBL 127.0.0.1, anything outside 127/8) is
  ERROR, never LISTED — and one error code among the A records makes the whole answer an
  error, because it means the list is not really answering us;
* every zone is self-tested per RFC 5782 in the same round trip as the real queries: a zone
  that lists 127.0.0.1 (the "never listed" entry) is BROKEN and none of its answers count; a
  zone that does not list 127.0.0.2 is *suspect* (typo'd or dead zone that lists nothing).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import NamedTuple

from mailrep.dns import addresses
from mailrep.dns import wire as dnswire
from mailrep.dns.addresses import IPAddress
from mailrep.dns.resolver import Nameserver, Question, Reply, StubResolver
from mailrep.dnsbl.catalogue import Answer, Catalogue, Meaning, Zone


class Status(StrEnum):
    LISTED = "listed"
    POLICY = "policy"
    CLEAN = "clean"
    ERROR = "error"
    BROKEN = "broken"


class Item(NamedTuple):
    """Something to look up: an address (IP lists) or a domain (domain lists)."""

    text: str
    address: IPAddress | None = None
    label: str = ""  # where it came from, e.g. the hostname that resolved to it

    @property
    def is_domain(self) -> bool:
        return self.address is None

    @classmethod
    def for_address(cls, addr: IPAddress, label: str = "") -> Item:
        return cls(str(addr), addr, label)

    @classmethod
    def for_domain(cls, domain: str) -> Item:
        return cls(domain.rstrip(".").lower())


class Verdict(NamedTuple):
    """What one zone says about one item."""

    item: Item
    zone: Zone
    zone_shown: str
    status: Status
    answers: tuple[Answer, ...] = ()
    txt: tuple[str, ...] = ()
    error: str = ""
    elapsed: float = 0.0
    query: str = ""  # the name asked (may hold a DQS key: never print it)
    query_shown: str = ""  # the same with the key masked

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.answers)

    @property
    def meaning(self) -> str:
        return "; ".join(dict.fromkeys(a.label for a in self.answers if a.label))

    @property
    def url(self) -> str:
        return self.zone.url_for(self.item.text) if self.zone.lookup_url else ""


class ZoneHealth(NamedTuple):
    """The RFC 5782 self-test of one zone."""

    zone: Zone
    zone_shown: str
    broken: bool = False  # lists the never-listed entry: answers are meaningless
    suspect: bool = False  # does not list the always-listed entry
    error: str = ""  # the self-test itself failed (timeout, error code, ...)
    detail: str = ""


class Report(NamedTuple):
    """Everything one run learnt, in a form every plugin can present."""

    verdicts: list[Verdict]
    health: dict[str, ZoneHealth]
    zones: list[Zone]
    elapsed: float = 0.0
    queries: int = 0

    def by_status(self, *statuses: Status) -> list[Verdict]:
        return [v for v in self.verdicts if v.status in statuses]

    @property
    def usable(self) -> int:
        """Verdicts that are real answers (listed, policy or clean)."""
        return len(self.by_status(Status.LISTED, Status.POLICY, Status.CLEAN))

    @property
    def broken_zones(self) -> list[ZoneHealth]:
        return [h for h in self.health.values() if h.broken]

    @property
    def suspect_zones(self) -> list[ZoneHealth]:
        return [h for h in self.health.values() if h.suspect and not h.broken]


class LookupSettings(NamedTuple):
    nameservers: Sequence[Nameserver]
    query_timeout: float = 4.0
    concurrency: int = 100
    deadline: float | None = None  # time.monotonic() value bounding the whole run
    dqs_key: str | None = None
    self_test: bool = True
    fetch_txt: bool = True


class BlocklistConfig(NamedTuple):
    """The lists a run checks and how to ask them, as the options chose them."""

    zones: list[Zone]
    settings: LookupSettings
    catalogue: Catalogue


def resolver_for(settings: LookupSettings) -> StubResolver:
    """The stub resolver these settings describe (nameservers, budget, deadline)."""
    return StubResolver(
        list(settings.nameservers),
        query_timeout=settings.query_timeout,
        concurrency=settings.concurrency,
        deadline=settings.deadline,
    )


def _query_for(item: Item, zone_query: str) -> Question:
    if item.address is not None:
        return Question(addresses.query_name(item.address, zone_query), dnswire.TYPE_A)
    return Question(addresses.domain_query_name(item.text, zone_query), dnswire.TYPE_A)


def applies(zone: Zone, item: Item) -> bool:
    if item.address is None:
        return zone.is_domain_list
    return f"ip{item.address.version}" in zone.kinds


def _test_items(zone: Zone) -> tuple[Item | None, Item | None]:
    """The RFC 5782 test entries of a zone as items (IPv6 ones kept unmapped)."""

    def make(text: str) -> Item | None:
        if not text:
            return None
        if zone.is_domain_list:
            return Item.for_domain(text)
        return Item(text, ipaddress.ip_address(text))

    return make(zone.test_listed), make(zone.test_clean)


def _decode(zone: Zone, reply: Reply) -> tuple[Status, tuple[Answer, ...], str]:
    """Turn one reply into a status with the decoded answers, or the error it is."""
    if reply.error is not None:
        return Status.ERROR, (), reply.error
    if reply.rcode == "NXDOMAIN" or not reply.records:
        return Status.CLEAN, (), ""
    answers = tuple(zone.decode(code) for code in reply.records)
    errors = [a for a in answers if a.meaning is Meaning.ERROR]
    if errors:
        return (
            Status.ERROR,
            answers,
            "error answer " + ", ".join(f"{a.code} ({a.label})" for a in errors),
        )
    if any(a.meaning is Meaning.LISTING for a in answers):
        return Status.LISTED, answers, ""
    if any(a.meaning is Meaning.POLICY for a in answers):
        return Status.POLICY, answers, ""
    return Status.CLEAN, answers, ""


def _health(zone: Zone, shown: str, listed: Reply | None, clean: Reply | None) -> ZoneHealth:
    broken = suspect = False
    problems: list[str] = []
    error = ""
    if clean is not None:
        status, answers, err = _decode(zone, clean)
        if status in (Status.LISTED, Status.POLICY):
            broken = True
            problems.append(
                f"answers {', '.join(a.code for a in answers)} for the never-listed test entry "
                f"{zone.test_clean}: it lists everything, so its answers are ignored"
            )
        elif status is Status.ERROR and answers:
            error = err
    if listed is not None:
        status, _answers, err = _decode(zone, listed)
        if status is Status.CLEAN:
            suspect = True
            problems.append(
                f"does not list its test entry {zone.test_listed}: a typo'd or dead zone "
                "would look like this"
            )
        elif status is Status.ERROR and not error:
            error = err
    return ZoneHealth(zone, shown, broken, suspect, error, "; ".join(problems))


def _run(items: Sequence[Item], zones: Sequence[Zone], settings: LookupSettings) -> Report:
    started = time.monotonic()
    resolver = resolver_for(settings)
    plan: list[tuple[Item, Zone, str, Question]] = []
    tests: dict[str, tuple[Zone, str, Question | None, Question | None]] = {}
    for zone in zones:
        zone_query, shown = zone.with_key(settings.dqs_key)
        wanted = [item for item in items if applies(zone, item)]
        for item in wanted:
            plan.append((item, zone, shown, _query_for(item, zone_query)))
        if settings.self_test and wanted:
            t_listed, t_clean = _test_items(zone)
            tests[zone.name] = (
                zone,
                shown,
                _query_for(t_listed, zone_query) if t_listed else None,
                _query_for(t_clean, zone_query) if t_clean else None,
            )
    questions = [q for *_rest, q in plan]
    for _zone, _shown, ql, qc in tests.values():
        questions.extend(q for q in (ql, qc) if q is not None)
    replies = resolver.ask_all(questions)

    health = {
        name: _health(zone, shown, replies.get(ql) if ql else None, replies.get(qc) if qc else None)
        for name, (zone, shown, ql, qc) in tests.items()
    }
    verdicts: list[Verdict] = []
    for item, zone, shown, question in plan:
        reply = replies[question]
        status, answers, error = _decode(zone, reply)
        zone_health = health.get(zone.name)
        if (
            zone_health is not None
            and zone_health.broken
            and status
            in (
                Status.LISTED,
                Status.POLICY,
            )
        ):
            status, error = Status.BROKEN, "zone is broken (lists its never-listed test entry)"
        masked = question.name.replace(zone.with_key(settings.dqs_key)[0], shown)
        verdicts.append(
            Verdict(
                item,
                zone,
                shown,
                status,
                answers,
                (),
                error,
                reply.elapsed,
                question.name,
                masked,
            )
        )
    if settings.fetch_txt:
        verdicts = _add_txt(resolver, verdicts)
    return Report(verdicts, health, list(zones), time.monotonic() - started, len(set(questions)))


def _add_txt(resolver: StubResolver, verdicts: list[Verdict]) -> list[Verdict]:
    """TXT records for listings only: they carry the list's reason and removal link."""
    wanted = {
        Question(v.query, dnswire.TYPE_TXT)
        for v in verdicts
        if v.status in (Status.LISTED, Status.POLICY)
    }
    if not wanted:
        return verdicts
    if resolver.deadline is not None and resolver.deadline - time.monotonic() < 0.05:
        return verdicts
    replies = resolver.ask_all(wanted)
    out = []
    for v in verdicts:
        reply = replies.get(Question(v.query, dnswire.TYPE_TXT))
        if reply is not None and reply.ok and reply.records:
            v = v._replace(txt=reply.records)
        out.append(v)
    return out


def lookup(items: Sequence[Item], zones: Sequence[Zone], settings: LookupSettings) -> Report:
    """Look every item up on every zone that applies to it; see the module docstring."""
    return _run(items, zones, settings)


def resolve_hostnames(
    names: Iterable[str], settings: LookupSettings
) -> dict[str, tuple[list[IPAddress], str]]:
    """A and AAAA of each hostname through the configured nameservers.

    Returns per name the addresses and an error text ("" when at least one family
    answered). A name that does not exist is an error: we cannot judge it.
    """
    resolver = resolver_for(settings)
    questions = [Question(f"{n}.", t) for n in names for t in (dnswire.TYPE_A, dnswire.TYPE_AAAA)]
    replies = resolver.ask_all(questions)
    result: dict[str, tuple[list[IPAddress], str]] = {}
    for name in dict.fromkeys(names):
        found: list[IPAddress] = []
        errors: list[str] = []
        for rdtype in (dnswire.TYPE_A, dnswire.TYPE_AAAA):
            reply = replies[Question(f"{name}.", rdtype)]
            if reply.error:
                errors.append(reply.error)
            else:
                found.extend(ipaddress.ip_address(r) for r in reply.records)
        if found:
            result[name] = (found, "")
        elif errors:
            result[name] = ([], f"cannot resolve {name}: {errors[0]}")
        else:
            result[name] = ([], f"{name} has no A or AAAA record")
    return result
