"""Result types of bounce analysis: what check_bounce_rate counts and reports."""

from __future__ import annotations

from dataclasses import dataclass

from mailrep.bounce.reasons import Cause, Reason


@dataclass(frozen=True)
class Citation:
    """A blocklist named by a rejection text, and the blocked IP it names (if any)."""

    zone: str
    ip: str | None


@dataclass(frozen=True)
class FailedRecipient:
    """One recipient of a bounce, with the cause the remote side gave."""

    recipient: str
    action: str | None
    status: str | None
    replycode: str | None
    diagnostic: str
    remote_host: str | None
    reason: Reason
    cause: Cause
    hardbounce: bool
    citation: Citation | None


@dataclass(frozen=True)
class Analysis:
    """What one message is, and for bounces, who failed and why."""

    # bounce | delay | feedback | success | autoreply | challenge | mdn | not-bounce; only
    # "bounce" is counted (tally.summarise)
    kind: str
    recipients: tuple[FailedRecipient, ...]
    original_message_id: str | None
    subject: str = ""
