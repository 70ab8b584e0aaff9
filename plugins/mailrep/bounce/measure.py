"""One run of check_bounce_rate as a value: the bounces read in the window, the denominator
they are judged against, and what a recheck of their cited listings found.

The plugin layer only turns a :class:`Measurement` into metrics and words; everything that
decides a number is here, testable without nagiosplugin or a mailbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from mailrep.bounce.tally import BounceSummary, summarise


class _Recheck(Protocol):  # dnsbl.recheck.Recheck, without importing the DNS side here
    @property
    def state(self) -> str: ...
    @property
    def text(self) -> str: ...


Pair = tuple[str, str]  # (cited zone, cited address)
Recheck = Callable[[list[Pair]], Mapping[Pair, _Recheck]]


class Measurement(NamedTuple):
    summary: BounceSummary
    sent: int | None  # the denominator, None when there is none
    sent_source: str  # where it came from ("--sent", "Postfix log (...)", ...)
    rechecks: Mapping[Pair, _Recheck]  # empty unless --verify
    verified: bool

    @property
    def bounces(self) -> int:
        return len(self.summary.records)

    @property
    def sent_too_small(self) -> bool:
        """A denominator below the bounces read cannot be one: a rate of 200% (or of 100%
        for ``--sent 0``) would be a number nobody can act on. Counts are judged instead."""
        return self.sent is not None and self.sent < self.bounces

    @property
    def rate(self) -> float | None:
        """Bounced recipients in percent of those sent, when that is a meaningful number."""
        if self.sent is None or self.sent_too_small:
            return None
        if self.sent == 0:
            return 0.0
        return 100.0 * self.bounces / self.sent

    def recheck_text(self, zone: str, ip: str | None) -> str | None:
        found = self.rechecks.get((zone, ip)) if ip else None
        return found.text if found is not None else None

    @property
    def resolved(self) -> int:
        """Blocklist bounces whose cited address a recheck found delisted since.

        They happened, and are still counted as bounces, but the cause is gone: the
        ``blocked`` count (and its WARNING) is for blocks that may still be biting.
        """
        return sum(
            1
            for r in self.summary.records
            if r.zone and r.blocked_ip and self._state(r.zone, r.blocked_ip) == "clean"
        )

    @property
    def blocked(self) -> int:
        return self.summary.blocked - self.resolved

    @property
    def still_listed(self) -> list[Pair]:
        return [pair for pair, found in self.rechecks.items() if found.state == "listed"]

    @property
    def recheck_errors(self) -> int:
        return sum(1 for found in self.rechecks.values() if found.state == "error")

    def _state(self, zone: str, ip: str) -> str | None:
        found = self.rechecks.get((zone, ip))
        return found.state if found is not None else None


def in_window(messages: Iterable[Any], since: datetime | None, limit: int) -> Iterator[Any]:
    """At most ``limit`` messages read, those that arrived before ``since`` left out (a
    message whose arrival is unknown is kept: dropping it would hide a bounce)."""
    for n, message in enumerate(messages):
        if n >= limit:
            break
        arrived = message.arrived
        if since is not None and arrived is not None and arrived < since:
            continue
        yield message


def measure(
    messages: Iterable[Any],
    analyse: Callable[[bytes], Any],
    *,
    sent: tuple[int, str] | None = None,
    recheck: Recheck | None = None,
) -> Measurement:
    """Analyse and tally ``messages``; recheck the cited (list, address) pairs if asked."""
    summary = summarise(messages, analyse)
    rechecks: Mapping[Pair, _Recheck] = {}
    if recheck is not None:
        pairs = [(zone, ip) for (zone, ip) in summary.citations() if ip]
        rechecks = recheck(pairs) if pairs else {}
    n, source = sent if sent is not None else (None, "")
    return Measurement(summary, n, source, rechecks, recheck is not None)
