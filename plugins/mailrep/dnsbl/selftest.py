"""RFC 5782 self-tests: is a zone answering sensibly, and is the resolver reaching the lists?

Every zone is asked about its always-listed entry (127.0.0.2, ``test``) and its never-listed
one (127.0.0.1, ``invalid``) in the same round trip as the real queries. A zone that lists
the never-listed entry is *broken* (it lists everything: its answers are ignored); one that
does not list the always-listed entry is *suspect* (a typo'd or dead zone looks like that).

When *every* zone's always-listed entry fails the same way — NXDOMAIN everywhere, the same
timeout, the same 0.0.0.0 — the fault is not the lists' but the resolver's: one without
Internet access, or a filtering one. That is said once, as a :class:`ResolverFault`,
instead of one "suspect zone" per list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mailrep.dns.resolver import Reply
from mailrep.dns.wire import RCODE_NAMES
from mailrep.dnsbl.catalogue import Zone
from mailrep.dnsbl.decode import Decoded, Status, decode, hard_errors

#: Fewer zones than this prove nothing about the resolver: one zone may be typo'd itself.
MIN_ZONES_FOR_RESOLVER_FAULT = 2


class ZoneHealth(NamedTuple):
    """The RFC 5782 self-test of one zone."""

    zone: Zone
    zone_shown: str
    broken: bool = False  # lists the never-listed entry: answers are meaningless
    suspect: bool = False  # does not list the always-listed entry
    error: str = ""  # the self-test itself failed (timeout, error code, ...)
    detail: str = ""


class ResolverFault(NamedTuple):
    """Every zone's always-listed test entry failed the same way: the resolver's fault."""

    nameservers: tuple[str, ...]
    how: str  # "answers NXDOMAIN for", "times out on", ...
    zones: int

    @property
    def message(self) -> str:
        who = ", ".join(self.nameservers) or "in use"
        return f"resolver {who} {self.how} every list's test entry: it does not reach the lists"


def lists_entry(found: Decoded) -> bool:
    """The zone lists the entry asked about: a listing or policy code, or codes the
    catalogue does not document (but no documented error answer)."""
    if found.status in (Status.LISTED, Status.POLICY):
        return True
    return found.status is Status.ERROR and bool(found.answers) and not hard_errors(found.answers)


def zone_health(zone: Zone, shown: str, listed: Reply | None, clean: Reply | None) -> ZoneHealth:
    broken = suspect = False
    problems: list[str] = []
    error = ""
    if clean is not None:
        found = decode(zone, clean)
        if lists_entry(found):
            broken = True
            problems.append(
                f"answers {', '.join(a.code for a in found.answers)} for the never-listed "
                f"test entry {zone.test_clean}: it lists everything, so its answers are ignored"
            )
        elif found.status is Status.ERROR and found.answers:
            error = found.error
    if listed is not None:
        found = decode(zone, listed)
        if found.status is Status.CLEAN:
            suspect = True
            problems.append(
                f"does not list its test entry {zone.test_listed}: a typo'd or dead zone "
                "would look like this"
            )
        elif found.status is Status.ERROR and not lists_entry(found) and not error:
            error = found.error
    return ZoneHealth(zone, shown, broken, suspect, error, "; ".join(problems))


def _failure(zone: Zone, reply: Reply) -> str | None:
    """How the always-listed entry failed, worded for "resolver X ... every list's test
    entry"; None when it did not fail, or failed in a way that says nothing of the resolver."""
    if lists_entry(decode(zone, reply)):
        return None
    if reply.error is not None:
        if "run deadline" in reply.error:
            return None  # never sent: the run ran out of time, not the resolver
        if reply.error == "timeout":
            return "times out on"
        if reply.error in RCODE_NAMES.values():
            return f"answers {reply.error} for"
        return f"fails ({reply.error}) for"
    if reply.rcode == "NXDOMAIN":
        return "answers NXDOMAIN for"
    if not reply.records:
        return "answers no record for"
    return f"answers {', '.join(sorted(reply.records))} for"


def _host(nameserver: str) -> str:
    """``127.0.0.54`` for ``127.0.0.54:53``; other ports stay (``127.0.0.1:5353``)."""
    if nameserver.endswith(":53"):
        return nameserver[:-3].strip("[]")
    return nameserver


def resolver_fault(tests: Sequence[tuple[Zone, Reply]]) -> ResolverFault | None:
    """The fault every always-listed test of ``tests`` shares, if they all fail alike."""
    if len(tests) < MIN_ZONES_FOR_RESOLVER_FAULT:
        return None
    kinds = {_failure(zone, reply) for zone, reply in tests}
    if len(kinds) != 1:
        return None
    (how,) = kinds
    if how is None:
        return None
    servers = sorted({_host(r.nameserver) for _z, r in tests if r.nameserver})
    return ResolverFault(tuple(servers), how, len(tests))
