"""Blocklist lookups: many addresses against many zones, with answers that never lie.

Value types are NamedTuples rather than dataclasses on purpose: a plugin is a short
process, and importing :mod:`dataclasses` plus generating each class's methods cost ~15 ms
of a start-up budget measured in tens of milliseconds (bench/bench_dnsbl.py).

A result per (item, zone) is one of LISTED, POLICY, CLEAN, ERROR or BROKEN. The
rules that make it trustworthy:

* a query that failed (timeout, SERVFAIL, REFUSED, truncated without a TCP answer,
  malformed or not matching the question) is ERROR, never CLEAN;
* an answer is decoded with the zone's catalogue entry (:mod:`mailrep.dnsbl.decode`): error
  answers are ERROR, never LISTED, and a code the catalogue does not document is an error
  shown raw, never a listing by default;
* every zone is self-tested per RFC 5782 in the same round trip as the real queries
  (:mod:`mailrep.dnsbl.selftest`): a zone that lists 127.0.0.1 (the "never listed" entry) is
  BROKEN and none of its answers count; a zone that does not list 127.0.0.2 is *suspect*;
  when every zone fails its test the same way the resolver is at fault
  (:attr:`Report.resolver_fault`) and no answer of the run is usable.

Every question asked is kept as an :class:`Exchange` (nameserver, rcode, answer) for -vvv.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Sequence
from typing import NamedTuple

from mailrep.dns import addresses
from mailrep.dns import wire as dnswire
from mailrep.dns.addresses import IPAddress
from mailrep.dns.resolver import Nameserver, Question, Reply, StubResolver
from mailrep.dnsbl.catalogue import Answer, Catalogue, Zone
from mailrep.dnsbl.decode import Status, decode
from mailrep.dnsbl.selftest import ResolverFault, ZoneHealth, resolver_fault, zone_health

__all__ = [
    "BlocklistConfig",
    "Exchange",
    "Item",
    "LookupSettings",
    "Report",
    "ResolverFault",
    "Status",
    "Verdict",
    "ZoneHealth",
    "applies",
    "lookup",
    "resolver_for",
]


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


class Exchange(NamedTuple):
    """One question of the run and what came back, as the resolver saw it (-vvv)."""

    purpose: str  # "query", "self-test", "TXT"
    name: str  # the name asked, any DQS key masked
    rdtype: str
    nameserver: str
    rcode: str
    records: tuple[str, ...]
    error: str
    elapsed: float
    cnames: tuple[str, ...] = ()


class Report(NamedTuple):
    """Everything one run learnt, in a form every plugin can present."""

    verdicts: list[Verdict]
    health: dict[str, ZoneHealth]
    zones: list[Zone]
    elapsed: float = 0.0
    queries: int = 0
    #: Set when every zone's RFC 5782 test entry failed the same way: the resolver does not
    #: reach the lists, so no answer of this run can be believed (``usable`` is 0).
    resolver_fault: ResolverFault | None = None
    exchanges: tuple[Exchange, ...] = ()
    #: Failures before any list was asked, e.g. the AAAA lookup of a ``-H`` hostname.
    target_errors: tuple[str, ...] = ()

    def by_status(self, *statuses: Status) -> list[Verdict]:
        return [v for v in self.verdicts if v.status in statuses]

    @property
    def usable(self) -> int:
        """Verdicts that are real answers (listed, policy or clean) from a resolver that
        reaches the lists."""
        if self.resolver_fault is not None:
            return 0
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
    skipped_dead: tuple[Zone, ...] = ()  # dead zones a check_rbl file named, left out


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


def _mask(text: str, zone_query: str, shown: str) -> str:
    """Text that may hold the query name (errors quote it) with a DQS key masked."""
    if zone_query == shown or not text:
        return text
    return re.sub(re.escape(zone_query), shown, text, flags=re.IGNORECASE)


def _exchange(purpose: str, reply: Reply, zone_query: str, shown: str) -> Exchange:
    return Exchange(
        purpose,
        _mask(reply.question.name, zone_query, shown),
        "TXT" if reply.question.rdtype == dnswire.TYPE_TXT else "A",
        reply.nameserver or "-",
        reply.rcode or "-",
        reply.records,
        _mask(reply.error or "", zone_query, shown),
        reply.elapsed,
        tuple(_mask(c, zone_query, shown) for c in reply.cnames),
    )


class _Planned(NamedTuple):
    item: Item
    zone: Zone
    zone_query: str
    shown: str
    question: Question


class _Tests(NamedTuple):
    zone: Zone
    zone_query: str
    shown: str
    listed: Question | None
    clean: Question | None


def _plan(
    items: Sequence[Item], zones: Sequence[Zone], settings: LookupSettings
) -> tuple[list[_Planned], dict[str, _Tests]]:
    plan: list[_Planned] = []
    tests: dict[str, _Tests] = {}
    for zone in zones:
        zone_query, shown = zone.with_key(settings.dqs_key)
        wanted = [item for item in items if applies(zone, item)]
        for item in wanted:
            plan.append(_Planned(item, zone, zone_query, shown, _query_for(item, zone_query)))
        if settings.self_test and wanted:
            t_listed, t_clean = _test_items(zone)
            tests[zone.name] = _Tests(
                zone,
                zone_query,
                shown,
                _query_for(t_listed, zone_query) if t_listed else None,
                _query_for(t_clean, zone_query) if t_clean else None,
            )
    return plan, tests


def _verdict(p: _Planned, reply: Reply, health: ZoneHealth | None) -> Verdict:
    status, answers, error = decode(p.zone, reply)
    if health is not None and health.broken and status in (Status.LISTED, Status.POLICY):
        status, error = Status.BROKEN, "zone is broken (lists its never-listed test entry)"
    return Verdict(
        p.item,
        p.zone,
        p.shown,
        status,
        answers,
        (),
        _mask(error, p.zone_query, p.shown),
        reply.elapsed,
        p.question.name,
        _mask(p.question.name, p.zone_query, p.shown),
    )


def _health(
    tests: dict[str, _Tests], replies: dict[Question, Reply]
) -> tuple[dict[str, ZoneHealth], ResolverFault | None, list[Exchange]]:
    health: dict[str, ZoneHealth] = {}
    listed: list[tuple[Zone, Reply]] = []
    log: list[Exchange] = []
    for name, t in tests.items():
        got_listed = replies[t.listed] if t.listed else None
        got_clean = replies[t.clean] if t.clean else None
        h = zone_health(t.zone, t.shown, got_listed, got_clean)
        health[name] = h._replace(
            error=_mask(h.error, t.zone_query, t.shown),
            detail=_mask(h.detail, t.zone_query, t.shown),
        )
        if got_listed is not None:
            listed.append((t.zone, got_listed))
        log += [
            _exchange("self-test", r, t.zone_query, t.shown) for r in (got_listed, got_clean) if r
        ]
    return health, resolver_fault(listed), log


def _run(
    items: Sequence[Item],
    zones: Sequence[Zone],
    settings: LookupSettings,
    target_errors: Sequence[str] = (),
) -> Report:
    started = time.monotonic()
    resolver = resolver_for(settings)
    plan, tests = _plan(items, zones, settings)
    questions = [p.question for p in plan]
    for t in tests.values():
        questions.extend(q for q in (t.listed, t.clean) if q is not None)
    replies = resolver.ask_all(questions)
    health, fault, log = _health(tests, replies)
    verdicts = [_verdict(p, replies[p.question], health.get(p.zone.name)) for p in plan]
    log = [_exchange("query", replies[p.question], p.zone_query, p.shown) for p in plan] + log
    if settings.fetch_txt:
        verdicts, txt_log = _add_txt(resolver, verdicts, plan)
        log += txt_log
    return Report(
        verdicts,
        health,
        list(zones),
        time.monotonic() - started,
        len(set(questions)),
        fault,
        tuple(log),
        tuple(target_errors),
    )


def _add_txt(
    resolver: StubResolver, verdicts: list[Verdict], plan: list[_Planned]
) -> tuple[list[Verdict], list[Exchange]]:
    """TXT records for listings only: they carry the list's reason and removal link."""
    wanted = {
        Question(v.query, dnswire.TYPE_TXT)
        for v in verdicts
        if v.status in (Status.LISTED, Status.POLICY)
    }
    if not wanted:
        return verdicts, []
    if resolver.deadline is not None and resolver.deadline - time.monotonic() < 0.05:
        return verdicts, []
    replies = resolver.ask_all(wanted)
    out = []
    log = []
    for v, p in zip(verdicts, plan, strict=True):
        reply = replies.get(Question(v.query, dnswire.TYPE_TXT))
        if reply is None:
            out.append(v)
            continue
        log.append(_exchange("TXT", reply, p.zone_query, p.shown))
        if reply.ok and reply.records:
            v = v._replace(txt=reply.records)
        out.append(v)
    return out, log


def lookup(
    items: Sequence[Item],
    zones: Sequence[Zone],
    settings: LookupSettings,
    target_errors: Sequence[str] = (),
) -> Report:
    """Look every item up on every zone that applies to it; see the module docstring.

    ``target_errors`` are failures met before any list was asked (a hostname whose AAAA
    lookup failed): they are part of the run's errors.
    """
    return _run(items, zones, settings, target_errors)
