"""From analysed messages to the numbers check_bounce_rate judges.

One record per failed recipient of each original message: a bounce that the MTA sent twice
(a delayed report, then the final one; or two copies in two folders) counts once. Delay
notices count as *deferred*, ARF feedback reports as *feedback*, and neither is a bounce.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from mailrep.bounce.reasons import BLOCKLIST, Cause


class BounceRecord(NamedTuple):
    source: str  # file name, Maildir key or IMAP UID
    arrived: Any  # datetime | None
    recipient: Any  # bounces.FailedRecipient

    @property
    def zone(self) -> str | None:
        c = self.recipient.citation
        return c.zone if c is not None else None

    @property
    def blocked_ip(self) -> str | None:
        c = self.recipient.citation
        return c.ip if c is not None else None

    @property
    def domain(self) -> str:
        return self.recipient.recipient.rpartition("@")[2].lower() or "(none)"


class BounceSummary(NamedTuple):
    records: list[BounceRecord]
    messages: int  # messages read in the window
    deferred: int  # delay notices (not bounces)
    feedback: int  # ARF reports (not bounces)
    skipped: int  # duplicates dropped

    def count(self, cause: str) -> int:
        return sum(1 for r in self.records if r.recipient.cause == cause)

    @property
    def hard(self) -> int:
        return sum(1 for r in self.records if r.recipient.cause == Cause.HARD)

    @property
    def blocked(self) -> int:
        """Blocklist bounces: the rejection cites a blocklist, or refuses the sending address
        itself (reason ``blocked``) or its reputation (``badreputation``). Other refusals of
        the "block" cause (spam content, policy, SPF/DKIM, a refused sender address, a
        missing PTR) are judged by the rate, not by the any-blocklist-bounce threshold: one
        spam-flagged message is not an emergency, one listed relay is."""
        return sum(1 for r in self.records if r.zone or r.recipient.reason in BLOCKLIST)

    def by(self, key: Callable[[BounceRecord], Any]) -> Counter[Any]:
        return Counter(key(r) for r in self.records)

    def citations(self) -> Counter[tuple[str, str | None]]:
        """(zone, IP) pairs the rejections name, most cited first."""
        return Counter((r.zone, r.blocked_ip) for r in self.records if r.zone)


def summarise(messages: Iterable[Any], analyse: Callable[[bytes], Any]) -> BounceSummary:
    """Analyse every message (a ``sources.Message``) and de-duplicate per original+recipient."""
    records: list[BounceRecord] = []
    seen: set[tuple[str, str]] = set()
    n = deferred = feedback = skipped = 0
    for message in messages:
        n += 1
        analysis = analyse(message.raw)
        if analysis.kind == "delay":
            deferred += 1
            continue
        if analysis.kind == "feedback":
            feedback += 1
            continue
        if analysis.kind != "bounce":
            continue
        original = analysis.original_message_id or f"source:{message.source}"
        for rcpt in analysis.recipients:
            if rcpt.cause == Cause.IGNORE or rcpt.action == "delayed":
                continue  # a delivered or a still-queued recipient inside a mixed report
            key = (original, rcpt.recipient.lower())
            if key in seen:
                skipped += 1
                continue
            seen.add(key)
            records.append(BounceRecord(message.source, message.arrived, rcpt))
    return BounceSummary(records, n, deferred, feedback, skipped)
