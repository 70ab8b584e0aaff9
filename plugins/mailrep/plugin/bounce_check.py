"""nagiosplugin objects for check_bounce_rate: measure, judge, and say it in one line.

The first line leads to the problem: how many bounced of how many sent, and which blocklist
the bounces cite for which address (``2 cite psbl.surriel.com for 185.56.87.12``) — the fact
that sends the admin to a removal form instead of a day of guessing.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import nagiosplugin

from mailrep.bounce.tally import BounceRecord, BounceSummary, summarise
from mailrep.errors import CannotJudge
from mailrep.plugin.dnsbl_check import InfoContext
from mailrep.plugin.runtime import RunContext
from mailrep.plugin.text import counted


class Verification(dict):  # (zone, ip) -> "listed" | "not listed" | "error: ..." | "skipped: ..."
    pass


class BounceResource(nagiosplugin.Resource):
    """Reads the source once; keeps the summary, denominator and verification for output."""

    def __init__(
        self,
        args: argparse.Namespace,
        ctx: RunContext,
        since: Any,
        messages: Any,
        imap: Any,
        stats: Any,
    ) -> None:
        self.args = args
        self.ctx = ctx
        self.since = since
        self._messages = messages
        self.imap = imap
        self.stats = stats
        self.summary: BounceSummary | None = None
        self.sent: int | None = None
        self.sent_source = ""
        self.verification = Verification()

    @property
    def name(self) -> str:
        return "BOUNCES"

    def _window(self) -> Any:
        limit = self.args.max_messages
        for n, message in enumerate(self._messages):
            if n >= limit:
                break
            arrived = message.arrived
            if self.since is not None and arrived is not None and arrived < self.since:
                continue
            yield message

    def _denominator(self) -> None:
        args = self.args
        if args.sent is not None:
            if args.sent < 0:
                raise CannotJudge("--sent must not be negative")
            self.sent, self.sent_source = args.sent, "--sent"
        elif args.postfix_log:
            from mailrep.mail.postfix_log import count_file

            counts = count_file(args.postfix_log, self.since)
            self.sent = counts.sent + counts.bounced + counts.deferred
            self.sent_source = (
                f"Postfix log ({counts.sent} sent, {counts.bounced} bounced, "
                f"{counts.deferred} deferred)"
            )
        elif args.sent_folder:
            from mailrep.mail import sources

            folder = _with_folder(self.imap, args.sent_folder)
            self.sent = sum(1 for _ in sources.read_imap(folder, self.since, headers_only=True))
            self.sent_source = f"IMAP folder {args.sent_folder}"

    def _verify(self) -> None:
        from mailrep.bounce.citation import PROVIDER_LISTS
        from mailrep.dns.addresses import is_global, parse_ip
        from mailrep.dns.resolver import system_nameservers
        from mailrep.dnsbl import catalogue as zonecat
        from mailrep.dnsbl.lookup import Item, LookupSettings, Status, lookup

        assert self.summary is not None
        pairs = [(z, ip) for (z, ip) in self.summary.citations() if ip]
        if not pairs:
            return
        nameservers = list(self.args.nameserver) or system_nameservers()
        if not nameservers:
            raise CannotJudge("--verify: no nameserver (give -n or fix /etc/resolv.conf)")
        catalogue = zonecat.load_default()
        settings = LookupSettings(
            nameservers,
            query_timeout=self.args.query_timeout,
            deadline=self.ctx.deadline,
            self_test=False,
            fetch_txt=False,
        )
        for zone_name, ip in pairs:
            if zone_name in PROVIDER_LISTS:
                self.verification[(zone_name, ip)] = "skipped: provider block, no DNS list"
                continue
            addr = parse_ip(ip)
            if not self.args.allow_nonglobal and not is_global(addr):
                self.verification[(zone_name, ip)] = "skipped: not a global address"
                continue
            zone = catalogue.get(zone_name)
            if zone.dead:
                self.verification[(zone_name, ip)] = f"skipped: dead list ({zone.dead})"
                continue
            report = lookup([Item.for_address(addr)], [zone], settings)
            [verdict] = report.verdicts or [None]
            if verdict is None:
                self.verification[(zone_name, ip)] = "skipped: list does not take this kind"
            elif verdict.status in (Status.LISTED, Status.POLICY):
                self.verification[(zone_name, ip)] = "still listed"
            elif verdict.status is Status.CLEAN:
                self.verification[(zone_name, ip)] = "no longer listed"
            else:
                self.verification[(zone_name, ip)] = f"error: {verdict.error}"

    def probe(self) -> list[nagiosplugin.Metric]:
        from mailrep.bounce.analysis import analyse

        self._denominator()
        self.summary = s = summarise(self._window(), analyse)
        if self.args.verify:
            self._verify()
        bounces = len(s.records)
        resolved = self.resolved
        metrics = [
            nagiosplugin.Metric(
                "bounces", bounces, min=0, context="bounces" if self.sent is None else "info"
            ),
            nagiosplugin.Metric("hard", s.hard, min=0),
            nagiosplugin.Metric("blocked", s.blocked - resolved, min=0),
            nagiosplugin.Metric("soft", s.count("soft"), min=0, context="info"),
            nagiosplugin.Metric("throttle", s.count("throttle"), min=0, context="info"),
            nagiosplugin.Metric("deferred", s.deferred, min=0, context="info"),
            nagiosplugin.Metric("feedback", s.feedback, min=0, context="info"),
        ]
        if self.sent is not None:
            metrics.append(nagiosplugin.Metric("sent", self.sent, min=0, context="info"))
            metrics.append(nagiosplugin.Metric("rate", round(self.rate or 0.0, 3), "%", min=0))
        if self.args.verify:
            still = sum(1 for v in self.verification.values() if v == "still listed")
            errors = sum(1 for v in self.verification.values() if v.startswith("error"))
            metrics.append(nagiosplugin.Metric("still_listed", still, min=0))
            metrics.append(nagiosplugin.Metric("verify_errors", errors, min=0))
            metrics.append(nagiosplugin.Metric("resolved", resolved, min=0, context="info"))
        return metrics

    @property
    def resolved(self) -> int:
        """Blocklist bounces whose cited address ``--verify`` found delisted since.

        They happened, and are still counted as bounces, but the cause is gone: the
        ``blocked`` count (and its WARNING) is for blocks that may still be biting.
        """
        if self.summary is None:
            return 0
        return sum(
            1
            for r in self.summary.records
            if r.zone and self.verification.get((r.zone, r.blocked_ip)) == "no longer listed"
        )

    @property
    def rate(self) -> float | None:
        if self.sent is None or self.summary is None:
            return None
        bounces = len(self.summary.records)
        if self.sent == 0:
            return 100.0 if bounces else 0.0
        return 100.0 * bounces / self.sent


def _with_folder(imap: Any, folder: str) -> Any:
    if hasattr(imap, "_replace"):
        return imap._replace(folder=folder)
    import dataclasses

    return dataclasses.replace(imap, folder=folder)


def bounce_contexts(args: argparse.Namespace, resource: BounceResource) -> list[Any]:
    return [
        nagiosplugin.ScalarContext("rate", args.warning, args.critical),
        nagiosplugin.ScalarContext("bounces", args.warning, args.critical),
        nagiosplugin.ScalarContext("hard", args.hard_warning, args.hard_critical),
        nagiosplugin.ScalarContext("blocked", args.blocked_warning, args.blocked_critical),
        nagiosplugin.ScalarContext("still_listed", None, "0"),
        nagiosplugin.ScalarContext("verify_errors", "0", None),
        InfoContext("info"),
    ]


def _window_text(args: argparse.Namespace) -> str:
    return "in all mail" if args.since == "all" else f"in the last {args.since}"


def citation_phrase(summary: BounceSummary, limit: int = 2) -> str:
    parts = []
    for (zone, ip), n in summary.citations().most_common(limit):
        # "1 cites psbl.surriel.com", "2 cite ...": the verb agrees with the count
        parts.append(f"{counted(n, 'cites', 'cite')} {zone}" + (f" for {ip}" if ip else ""))
    return "; ".join(parts)


class BounceSummaryText(nagiosplugin.Summary):
    def __init__(self, resource: BounceResource, ctx: RunContext) -> None:
        self.r = resource
        self.verbose_level = ctx.verbose

    def _line(self) -> str:
        s = self.r.summary
        assert s is not None
        n = len(s.records)
        if self.r.sent is not None:
            text = f"{n} of {self.r.sent} sent bounced ({self.r.rate:.1f}%)"
        else:
            text = f"{counted(n, 'bounce')} {_window_text(self.r.args)} (no sent count)"
        cited = citation_phrase(s)
        if cited:
            text += f"; {cited}"
        still = [k for k, v in self.r.verification.items() if v == "still listed"]
        if still:
            text += f"; still listed: {', '.join(f'{ip} on {z}' for z, ip in still)}"
        elif not cited and s.hard:
            text += f"; {s.hard} hard"
        return text

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line()

    def problem(self, results: nagiosplugin.Results) -> str:
        if self.r.summary is None:
            return results.first_significant.hint or "check failed"
        return self._line()

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        s = self.r.summary
        if s is None:
            return []
        lines: list[str] = []
        for (zone, ip), n in s.citations().most_common():
            state = self.r.verification.get((zone, ip))
            extra = f" — now {state}" if state else ""
            who = ip or "an unnamed address"
            lines.append(f"blocklist {zone}: {counted(n, 'bounce')} for {who}{extra}")
        lines.append("by cause: " + _counts(s.by(lambda r: r.recipient.cause)))
        lines.append("by reason: " + _counts(s.by(lambda r: r.recipient.reason)))
        lines.append("by recipient domain: " + _counts(s.by(lambda r: r.domain), 10))
        lines.append(
            f"read {s.messages} messages: {len(s.records)} bounced recipients, "
            f"{s.deferred} delay notices, {s.feedback} feedback reports, "
            f"{s.skipped} duplicates dropped"
        )
        if self.r.sent_source:
            lines.append(f"sent count from {self.r.sent_source}")
        if self.r.stats is not None:
            lines.append(
                f"IMAP: fetched {self.r.stats.messages} messages, {self.r.stats.bytes} bytes"
            )
        if self.verbose_level >= 1:
            for rec in s.records:
                lines.append(_record_line(rec))
        return lines


def _counts(counter: Counter[Any], limit: int = 20) -> str:
    if not counter:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in counter.most_common(limit))


def _record_line(rec: BounceRecord) -> str:
    r = rec.recipient
    parts = [rec.source, r.recipient, r.reason, r.cause, r.status or "-", r.replycode or "-"]
    if rec.zone:
        parts.append(f"{rec.zone} {rec.blocked_ip or ''}".strip())
    return "bounce: " + " ".join(parts) + (f" — {r.diagnostic[:160]}" if r.diagnostic else "")


def bounce_json(resource: BounceResource) -> dict[str, Any]:
    s = resource.summary
    if s is None:
        return {"bounces": []}
    return {
        "sent": resource.sent,
        "rate": None if resource.rate is None else round(resource.rate, 3),
        "messages": s.messages,
        "deferred": s.deferred,
        "feedback": s.feedback,
        "bounces": [
            {
                "source": rec.source,
                "recipient": rec.recipient.recipient,
                "reason": rec.recipient.reason,
                "cause": rec.recipient.cause,
                "status": rec.recipient.status,
                "replycode": rec.recipient.replycode,
                "hardbounce": rec.recipient.hardbounce,
                "zone": rec.zone,
                "blocked_ip": rec.blocked_ip,
                "remote_host": rec.recipient.remote_host,
                "diagnostic": rec.recipient.diagnostic,
            }
            for rec in s.records
        ],
        "citations": [
            {"zone": z, "ip": ip, "bounces": n, "now": resource.verification.get((z, ip))}
            for (z, ip), n in s.citations().most_common()
        ],
    }
