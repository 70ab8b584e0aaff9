"""nagiosplugin objects for check_bounce_rate: measure, judge, and say it in one line.

The first line leads to the problem: what set the state (``1 hard bounce, critical above
0``), how many bounced of how many sent, and which blocklist the bounces cite for which
address (``2 cite psbl.surriel.com for 185.56.87.12``) — the fact that sends the admin to a
removal form instead of a day of guessing. The measuring itself is
:func:`mailrep.bounce.measure.measure`; this module only judges and words it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import nagiosplugin

from mailrep.bounce.measure import Measurement
from mailrep.bounce.returned import returned_headers
from mailrep.bounce.tally import BounceRecord
from mailrep.plugin.dnsbl_check import InfoContext
from mailrep.plugin.ranges import describe
from mailrep.plugin.text import counted
from mailrep.relay.path import ReturnedPath, read_path


def read_returned(raw: bytes, *, allow_nonglobal: bool = False) -> ReturnedPath:
    """The sender's path a bounce returned: found by the bounce core
    (:mod:`mailrep.bounce.returned`), read and placed by the relay core
    (:mod:`mailrep.relay.path`)."""
    found = returned_headers(raw)
    return read_path(found.headers, raw, found.reporting_mta, allow_nonglobal=allow_nonglobal)


class BounceThresholds(NamedTuple):
    """Nagios ranges (strings, or None for "never") for each judged count."""

    warning: str | None
    critical: str | None
    hard_warning: str | None = None
    hard_critical: str | None = None
    blocked_warning: str | None = "0"
    blocked_critical: str | None = None
    deferred_blocked_warning: str | None = "0"


class BounceResource(nagiosplugin.Resource):
    """Runs the measurement once and keeps it for the summary and the JSON document."""

    def __init__(self, measure: Callable[[], Measurement], fetched: Callable[[], str]) -> None:
        self._measure = measure
        self._fetched = fetched
        self.measurement: Measurement | None = None

    @property
    def name(self) -> str:
        return "BOUNCES"

    @property
    def fetched(self) -> str:
        """What reading the source cost (``IMAP: fetched ...``), or ""."""
        return self._fetched()

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        self.measurement = m = self._measure()
        yield from measurement_metrics(m)


def measurement_metrics(m: Measurement) -> Iterator[nagiosplugin.Metric]:
    """The same labels on every run of one configuration, so graphs never break: ``blocked``
    is there at 0, and with a sent count ``rate`` is there too (``U`` when the sent count is
    smaller than the bounces and no rate can be given)."""
    s = m.summary
    judged_by_count = m.rate is None
    yield nagiosplugin.Metric(
        "bounces", m.bounces, min=0, context="bounces" if judged_by_count else "info"
    )
    yield nagiosplugin.Metric("hard", s.hard, min=0)
    yield nagiosplugin.Metric("blocked", m.blocked, min=0)
    yield nagiosplugin.Metric("soft", s.count("soft"), min=0, context="info")
    yield nagiosplugin.Metric("throttle", s.count("throttle"), min=0, context="info")
    yield nagiosplugin.Metric("deferred", s.deferred, min=0, context="info")
    yield nagiosplugin.Metric("feedback", s.feedback, min=0, context="info")
    if m.sent is not None:
        yield nagiosplugin.Metric("sent", m.sent, min=0, context="info")
        if m.rate is None:
            yield nagiosplugin.Metric("rate", "U", context="undefined")
        else:
            yield nagiosplugin.Metric("rate", round(m.rate, 3), "%", min=0)
    if m.log is not None:
        yield nagiosplugin.Metric("deferred_blocked", m.deferred_blocked, min=0)
        yield nagiosplugin.Metric("unparsed", m.log.unparsed, min=0, context="info")
    if m.verified:
        yield nagiosplugin.Metric("still_listed", len(m.still_listed), min=0)
        listed_hops = {ip for _zone, ip in m.hops_listed}
        yield nagiosplugin.Metric("hops_listed", len(listed_hops), min=0)
        yield nagiosplugin.Metric("verify_errors", m.recheck_errors, min=0)
        yield nagiosplugin.Metric("resolved", m.resolved, min=0, context="info")


class UndefinedContext(nagiosplugin.Context):
    """A value that cannot be given this run: perfdata ``U`` (the plugin guidelines' unknown
    value), no effect on the state — the first line says why."""

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, "U")


def bounce_contexts(t: BounceThresholds) -> list[nagiosplugin.Context]:
    return [
        nagiosplugin.ScalarContext("rate", t.warning, t.critical),
        nagiosplugin.ScalarContext("bounces", t.warning, t.critical),
        nagiosplugin.ScalarContext("hard", t.hard_warning, t.hard_critical),
        nagiosplugin.ScalarContext("blocked", t.blocked_warning, t.blocked_critical),
        nagiosplugin.ScalarContext("deferred_blocked", t.deferred_blocked_warning, None),
        nagiosplugin.ScalarContext("still_listed", None, "0"),
        nagiosplugin.ScalarContext("hops_listed", None, "0"),
        nagiosplugin.ScalarContext("verify_errors", "0", None),
        UndefinedContext("undefined"),
        InfoContext("info"),
    ]


def citation_phrase(m: Measurement, limit: int = 2) -> str:
    """``1 cites psbl.surriel.com for 192.0.2.7 (av1.example, hop 2 of your path)``."""
    parts = []
    for (zone, ip), n in m.summary.citations().most_common(limit):
        # "1 cites psbl.surriel.com", "2 cite ...": the verb agrees with the count
        text = f"{counted(n, 'cites', 'cite')} {zone}" + (f" for {ip}" if ip else "")
        place = m.culprit(zone, ip)
        if place is not None and place.phrase():
            text += f" ({place.phrase()})"
        parts.append(text)
    return ", ".join(parts)


def deferral_phrase(m: Measurement, limit: int = 2) -> str:
    """``1 deferral cites psbl.surriel.com for 192.0.2.7``: refused now, bouncing later."""
    cited: Counter[tuple[str, str | None]] = Counter(
        (r.zone, r.blocked_ip) for r in m.deferrals if r.zone
    )
    parts = []
    for (zone, ip), n in cited.most_common(limit):
        verb = "deferral cites" if n == 1 else "deferrals cite"
        parts.append(f"{n} {verb} {zone}" + (f" for {ip}" if ip else ""))
    return ", ".join(parts)


def _hop_name(m: Measurement, ip: str) -> str:
    hop = m.hops.get(ip)
    if hop is None:
        return ip
    where = "submitting client" if hop.number == 0 else f"hop {hop.number}"
    return f"{ip} ({hop.name}, {where})"


_SETTER_NOUNS = {
    "hard": ("hard bounce", "hard bounces"),
    "blocked": ("blocklist bounce", "blocklist bounces"),
    "still_listed": ("cited address still listed", "cited addresses still listed"),
    "hops_listed": ("listed path hop", "listed path hops"),
    "deferred_blocked": ("blocklist deferral", "blocklist deferrals"),
    "verify_errors": ("recheck error", "recheck errors"),
}


def _threshold(result: nagiosplugin.Result) -> str:
    """``critical above 2``: the state word and the range that the value fell outside."""
    ctx = result.context
    state = result.state
    spec = ctx.critical if state == nagiosplugin.Critical else ctx.warning
    return f"{state.text} {describe(spec)}"


def state_setters(results: nagiosplugin.Results) -> tuple[str, list[str]]:
    """What set a non-OK state: the note for the rate/count head, and phrases for the rest."""
    head = ""
    others: list[str] = []
    if results.most_significant_state == nagiosplugin.Ok:
        return head, others
    for result in results.most_significant:
        if result.metric is None or not isinstance(result.context, nagiosplugin.ScalarContext):
            continue
        name = result.metric.name
        if name in ("rate", "bounces"):
            head = _threshold(result)
        elif name in _SETTER_NOUNS:
            one, many = _SETTER_NOUNS[name]
            others.append(f"{counted(int(result.metric.value), one, many)}, {_threshold(result)}")
    return head, others


class BounceSummaryText(nagiosplugin.Summary):
    def __init__(self, resource: BounceResource, window: str, verbose: int) -> None:
        self.r = resource
        self.window = window
        self.verbose_level = verbose

    def _head(self, m: Measurement, note: str) -> str:
        n = m.bounces
        if m.sent is None:
            text = f"{counted(n, 'bounce')} {self.window} (no sent count"
        elif m.rate is None:
            text = f"{counted(n, 'bounce')} {self.window} but only {m.sent} sent (no rate"
        else:
            text = f"{n} of {m.sent} sent bounced ({m.rate:.1f}%"
        return text + (f", {note})" if note else ")")

    def _line(self, results: nagiosplugin.Results | None) -> str:
        m = self.r.measurement
        assert m is not None
        note, setters = state_setters(results) if results is not None else ("", [])
        text = self._head(m, note)
        if setters:
            text = ", ".join(setters) + ": " + text
        cited = citation_phrase(m)
        if cited:
            text += f", {cited}"
        deferred = deferral_phrase(m)
        if deferred:
            text += f", {deferred}"
        if m.still_listed:
            text += ", still listed: " + ", ".join(f"{ip} on {z}" for z, ip in m.still_listed)
        if m.hops_listed:
            zones: dict[str, list[str]] = {}
            for zone, ip in m.hops_listed:
                zones.setdefault(ip, []).append(zone)
            text += ", path hop listed: " + ", ".join(
                f"{_hop_name(m, ip)} on {' and '.join(z)}" for ip, z in zones.items()
            )
        elif not cited and m.summary.hard and not any("hard" in s for s in setters):
            text += f", {m.summary.hard} hard"
        return text

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results)

    def problem(self, results: nagiosplugin.Results) -> str:
        if self.r.measurement is None:
            return results.first_significant.hint or "check failed"
        return self._line(results)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        m = self.r.measurement
        if m is None:
            return []
        s = m.summary
        lines: list[str] = []
        for (zone, ip), n in s.citations().most_common():
            state = m.recheck_text(zone, ip)
            extra = f" — now {state}" if state else ""
            who = ip or "an unnamed address"
            lines.append(f"blocklist {zone}: {counted(n, 'bounce')} for {who}{extra}")
            place = m.culprit(zone, ip)
            if place is not None:
                lines.append(f"culprit: {place.sentence()}")
        lines.extend(_deferral_lines(m))
        lines.extend(_hop_lines(m))
        lines.append("by cause: " + _counts(s.by(lambda r: r.recipient.cause)))
        lines.append("by reason: " + _counts(s.by(lambda r: r.recipient.reason)))
        lines.append("by recipient domain: " + _counts(s.by(lambda r: r.domain), 10))
        lines.append(_read_line(m))
        if m.sent_source:
            lines.append(f"sent count from {m.sent_source}")
        if m.sent_too_small:
            lines.append(
                f"the sent count ({m.sent}) is smaller than the bounces read ({m.bounces}): "
                "no rate is given and -w/-c judge the number of bounces"
            )
        if self.r.fetched:
            lines.append(self.r.fetched)
        if self.verbose_level >= 1:
            lines.extend(_record_line(rec) for rec in s.records)
            lines.extend(_record_line(rec, "deferral") for rec in m.deferrals)
        return lines


def _read_line(m: Measurement) -> str:
    s = m.summary
    if m.log is not None:
        log = m.log
        return (
            f"read {log.source}: {counted(log.lines, 'delivery record')} ({log.sent} sent, "
            f"{counted(len(s.records), 'recipient')} bounced, {log.deferred} still deferred), "
            f"{counted(log.unparsed, 'delivery line')} that could not be read"
        )
    return (
        f"read {s.messages} messages: {len(s.records)} bounced recipients, "
        f"{s.deferred} delay notices, {s.feedback} feedback reports, "
        f"{s.skipped} duplicates dropped"
    )


def _deferral_lines(m: Measurement) -> list[str]:
    cited: Counter[tuple[str | None, str | None]] = Counter(
        (r.zone, r.blocked_ip) for r in m.deferrals
    )
    lines = []
    for (zone, ip), n in cited.most_common():
        state = m.recheck_text(zone or "", ip)
        extra = f" — now {state}" if state else ""
        lines.append(
            f"deferred by blocklist {zone}: {counted(n, 'queued recipient')} for "
            f"{ip or 'an unnamed address'}{extra} (mail is refused now; bounces follow)"
        )
    return lines


def _hop_lines(m: Measurement) -> list[str]:
    """--verify's look at every public hop of the returned chains."""
    if not m.verified or not m.hop_checks:
        return []
    by_ip: dict[str, list[str]] = {}
    for (zone, ip), found in m.hop_checks.items():
        by_ip.setdefault(ip, [])
        if found.state == "listed":
            by_ip[ip].append(zone)
    zones = {zone for zone, _ in m.hop_checks}
    lines = [
        f"path hops: {counted(len(by_ip), 'address', 'addresses')} of the returned chains looked "
        f"up on {counted(len(zones), 'list')}"
    ]
    for ip, listed in by_ip.items():
        if listed:
            lines.append(f"path hop {_hop_name(m, ip)} listed on {', '.join(listed)}")
    return lines


def _counts(counter: Counter[Any], limit: int = 20) -> str:
    if not counter:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in counter.most_common(limit))


def _record_line(rec: BounceRecord, kind: str = "bounce") -> str:
    r = rec.recipient
    parts = [rec.source, r.recipient, r.reason, r.cause, r.status or "-", r.replycode or "-"]
    if rec.zone:
        parts.append(f"{rec.zone} {rec.blocked_ip or ''}".strip())
    return f"{kind}: " + " ".join(parts) + (f" — {r.diagnostic[:160]}" if r.diagnostic else "")
