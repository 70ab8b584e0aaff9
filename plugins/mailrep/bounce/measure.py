"""One run of check_bounce_rate as a value: the bounces read in the window, the denominator
they are judged against, where on the sender's path each cited address is (the culprit hop,
:mod:`mailrep.bounce.culprit`), and what a recheck of the cited listings and of the path's
public hops found.

The plugin layer only turns a :class:`Measurement` into metrics and words; everything that
decides a number is here, testable without nagiosplugin or a mailbox.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from mailrep.bounce.logsource import LogOutcome
from mailrep.bounce.tally import BounceRecord, BounceSummary, summarise


class _Recheck(Protocol):  # dnsbl.recheck.Recheck, without importing the DNS side here
    @property
    def state(self) -> str: ...
    @property
    def text(self) -> str: ...


class _Place(Protocol):  # relay.path.Culprit: where a cited address is on the path
    @property
    def ip(self) -> str: ...
    @property
    def hop(self) -> Any: ...
    @property
    def found(self) -> bool: ...


class _Path(Protocol):  # relay.path.ReturnedPath: the path one bounce returned
    def servers(self) -> list[Any]: ...
    def locate(self, ip: str) -> Any: ...
    def public_hops(self) -> list[str]: ...


Pair = tuple[str, str]  # (cited zone, cited address)
Recheck = Callable[[list[Pair]], Mapping[Pair, _Recheck]]
Returned = Callable[[bytes], _Path]  # a raw bounce -> its returned path


class LogStats(NamedTuple):
    """What reading an MTA log found besides the bounces (see mailrep.bounce.logsource)."""

    source: str  # "Postfix log /var/log/mail.log (2 files)", ...
    lines: int  # lines read
    unparsed: int  # lines that look like delivery records but could not be read
    sent: int
    deferred: int  # recipients still deferred at the end of the window


class Measurement(NamedTuple):
    summary: BounceSummary
    sent: int | None  # the denominator, None when there is none
    sent_source: str  # where it came from ("--sent", "Postfix log (...)", ...)
    rechecks: Mapping[Pair, _Recheck]  # empty unless --verify
    verified: bool
    #: per record of ``summary.records`` (same order): where its cited address is
    culprits: tuple[Any, ...] = ()  # relay.path.Culprit or None
    #: --verify's lookups of the public hops of the returned chains, per (zone, address)
    hop_checks: Mapping[Pair, _Recheck] = {}
    hops: Mapping[str, Any] = {}  # address -> the relay.path.PathHop it is
    #: deferrals that cite a blocklist (MTA log sources), one per queued recipient
    deferrals: tuple[BounceRecord, ...] = ()
    log: LogStats | None = None

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
        """Failed lookups among the cited pairs and the hop lookups (each pair once)."""
        both = {**self.hop_checks, **self.rechecks}
        return sum(1 for found in both.values() if found.state == "error")

    def _state(self, zone: str, ip: str) -> str | None:
        found = self.rechecks.get((zone, ip))
        return found.state if found is not None else None

    def culprit(self, zone: str, ip: str | None) -> Any:
        """The place (a relay.path.Culprit) the bounces citing (zone, ip) give most often:
        one found on the path wins over "not in the returned chain"; None when no bounce
        returned headers."""
        places: Counter[Any] = Counter()
        for rec, found in zip(self.summary.records, self.culprits, strict=False):
            if found is not None and (rec.zone, rec.blocked_ip) == (zone, ip):
                places[found] += 1
        ranked = sorted(places.items(), key=lambda kv: (not kv[0].found, -kv[1]))
        return ranked[0][0] if ranked else None

    @property
    def hops_listed(self) -> list[Pair]:
        """(zone, address) listings of path hops, beyond the cited pairs still listed."""
        cited = set(self.still_listed)
        return [
            pair
            for pair, found in self.hop_checks.items()
            if found.state == "listed" and pair not in cited
        ]

    @property
    def deferred_blocked(self) -> int:
        """Deferrals citing a blocklist whose cited address a recheck did not find delisted."""
        return sum(
            1
            for r in self.deferrals
            if not (r.blocked_ip and self._state(r.zone or "", r.blocked_ip) == "clean")
        )


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


def _keeping_paths(
    messages: Iterable[Any],
    analyse: Callable[[bytes], Any],
    returned: Returned,
    paths: dict[str, _Path],
    every: bool,
) -> tuple[Iterator[Any], Callable[[bytes], Any]]:
    """``messages`` and ``analyse`` wrapped so that the returned path of every bounce that
    cites a blocklist (``every``: of every bounce) is kept by message source, read from the
    same bytes as its analysis (the tally stays unaware of it)."""
    current: list[Any] = [None]

    def feed() -> Iterator[Any]:
        for message in messages:
            current[0] = message
            yield message

    def analysed(raw: bytes) -> Any:
        result = analyse(raw)
        message = current[0]
        if result.kind != "bounce" or message is None or message.raw is not raw:
            return result
        if every or any(r.citation is not None for r in result.recipients):
            paths[message.source] = returned(raw)
        return result

    return feed(), analysed


class _Paths(NamedTuple):
    culprits: tuple[Any, ...]
    hops: dict[str, Any]
    public: list[str]


def _place(records: list[BounceRecord], paths: Mapping[str, _Path]) -> _Paths:
    culprits: list[_Place | None] = []
    hops: dict[str, Any] = {}
    public: list[str] = []
    for each in paths.values():
        for hop in each.servers():
            if hop.ip:
                hops.setdefault(hop.ip, hop)
        public.extend(each.public_hops())
    for rec in records:
        found = paths.get(rec.source)
        place = found.locate(rec.blocked_ip) if found is not None and rec.blocked_ip else None
        culprits.append(place)
        if place is not None and place.hop is not None:
            hops.setdefault(place.ip, place.hop)
    return _Paths(tuple(culprits), hops, list(dict.fromkeys(public)))


def measure(
    messages: Iterable[Any],
    analyse: Callable[[bytes], Any],
    *,
    sent: tuple[int, str] | None = None,
    recheck: Recheck | None = None,
    returned: Returned | None = None,
    hop_zones: Iterable[str] = (),
) -> Measurement:
    """Analyse and tally ``messages``; place each cited address on its bounce's returned
    path (``returned`` reads it); recheck the cited (list, address) pairs and look every
    public hop up on ``hop_zones`` and the cited lists, if asked."""
    paths: dict[str, _Path] = {}
    if returned is not None:
        every = recheck is not None  # --verify looks up every bounce's public hops
        messages, analyse = _keeping_paths(messages, analyse, returned, paths, every)
    summary = summarise(messages, analyse)
    placed = _place(summary.records, paths)
    n, source = sent if sent is not None else (None, "")
    m = Measurement(summary, n, source, {}, recheck is not None, placed.culprits, hops=placed.hops)
    return verify(m, recheck, placed.public, hop_zones) if recheck is not None else m


def from_log(outcome: LogOutcome, label: str, recheck: Recheck | None = None) -> Measurement:
    """A run whose source is an MTA log: its bounces, its own sent count (every recipient
    it tried: sent, bounced or still deferred) and the deferrals that cite a blocklist."""
    bounced = len(outcome.summary.records)
    log = LogStats(label, outcome.lines, outcome.unparsed, outcome.sent, outcome.deferred)
    m = Measurement(
        outcome.summary,
        outcome.sent + bounced + outcome.deferred,
        f"the same log ({outcome.sent} sent, {bounced} bounced, {outcome.deferred} deferred)",
        {},
        False,
        deferrals=tuple(outcome.deferrals),
        log=log,
    )
    return verify(m, recheck) if recheck is not None else m


def verify(
    m: Measurement,
    recheck: Recheck,
    public: Iterable[str] = (),
    hop_zones: Iterable[str] = (),
) -> Measurement:
    """One recheck run for the cited pairs (bounces and deferrals) and the hop pairs: each
    distinct address is asked once per list, however many bounces name it."""
    cited = [(zone, ip) for (zone, ip) in m.summary.citations() if ip]
    cited += [(r.zone, r.blocked_ip) for r in m.deferrals if r.zone and r.blocked_ip]
    cited = list(dict.fromkeys(cited))
    zones = list(dict.fromkeys([*hop_zones, *(zone for zone, _ in cited)]))
    hop_pairs = [(zone, ip) for ip in dict.fromkeys(public) for zone in zones]
    asked = list(dict.fromkeys(cited + hop_pairs))
    found = recheck(asked) if asked else {}
    return m._replace(
        rechecks={p: found[p] for p in cited if p in found},
        hop_checks={p: found[p] for p in hop_pairs if p in found and found[p].state != "skipped"},
        verified=True,
    )
