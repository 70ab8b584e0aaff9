"""What a lookup report lets a check say about each target it was asked about.

A run may look up many targets (a hostname's A and AAAA, a range, domains) on many lists,
and an OK is only honest when *every* target got an answer the check can stand behind:

* a target no configured list applies to (an IPv6 address against IPv4-only lists, a
  domain against IP lists) was never asked about: it is *uncovered*;
* a target whose every applicable list failed (timeout, error answer, a zone that failed its
  RFC 5782 self-test) has no trusted answer: it is *unanswered*.

A trusted answer is listed, policy-listed or clean, from a zone whose self-test passed (or
was not run: ``--no-self-test`` is the user's explicit choice), through a resolver that does
not fail every zone's self-test alike. This module only sorts
facts; the plugins decide states and wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mailrep.dnsbl.catalogue import Zone
from mailrep.dnsbl.lookup import Item, Report, Status, Verdict, applies

_USABLE = (Status.LISTED, Status.POLICY, Status.CLEAN)


def item_kind(item: Item) -> str:
    """``IPv4 address``, ``IPv6 address`` or ``domain``: what kind of list a target needs."""
    if item.address is None:
        return "domain"
    return f"IPv{item.address.version} address"


def zone_trusted(report: Report, zone: Zone) -> bool:
    """Did the zone pass its self-test (or was none run)?"""
    health = report.health.get(zone.name)
    return health is None or not (health.broken or health.suspect or health.error)


def trusted(report: Report, verdict: Verdict) -> bool:
    """A usable answer from a zone whose self-test passed, through a resolver that reaches
    the lists (no :attr:`~mailrep.dnsbl.lookup.Report.resolver_fault`)."""
    return (
        report.resolver_fault is None
        and verdict.status in _USABLE
        and zone_trusted(report, verdict.zone)
    )


class Judgement(NamedTuple):
    """Per run: which lists applied, and which targets the check cannot vouch for."""

    items: list[Item]
    applicable: list[Zone]  # configured zones that apply to at least one target
    answering: list[Zone]  # applicable zones that gave at least one trusted answer
    uncovered: list[Item]  # no configured zone applies
    unanswered: list[Item]  # covered, but no trusted answer from any zone

    @property
    def unjudged(self) -> list[Item]:
        return self.uncovered + self.unanswered

    @property
    def judged(self) -> list[Item]:
        missing = {i.text for i in self.unjudged}
        return [i for i in self.items if i.text not in missing]


def judge(report: Report, items: Sequence[Item]) -> Judgement:
    """Sort ``items`` (the targets the report was asked about) by what the report says."""
    targets = list(dict.fromkeys(items))
    # Which zones apply depends only on the kind of target: ask once per kind, not per target.
    kinds = {item_kind(i): i for i in targets}
    covering = {k: [z for z in report.zones if applies(z, i)] for k, i in kinds.items()}
    applicable = [z for z in report.zones if any(z in zs for zs in covering.values())]
    uncovered = [i for i in targets if not covering[item_kind(i)]]
    missing = {i.text for i in uncovered}
    answered = {v.item.text for v in report.verdicts if trusted(report, v)}
    unanswered = [i for i in targets if i.text not in missing and i.text not in answered]
    answering_names = {v.zone.name for v in report.verdicts if trusted(report, v)}
    answering = [z for z in applicable if z.name in answering_names]
    return Judgement(targets, applicable, answering, uncovered, unanswered)
