"""How many messages were sent in the window: the bounce rate's denominator.

Two sources besides a number given by hand: the sending MTA's log (final outcomes per
recipient, see :mod:`mailrep.mail.postfix_log`) and an IMAP Sent folder (its messages in the
same window, headers only).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import NamedTuple

from mailrep.mail.message import ImapSettings


class SentCount(NamedTuple):
    """A denominator and where it came from (said in the long output)."""

    n: int
    source: str


def from_postfix_log(path: str, since: datetime | None) -> SentCount:
    """Final sent, bounced and deferred outcomes: every recipient Postfix tried to reach."""
    from mailrep.mail.postfix_log import count_file

    counts = count_file(path, since)
    return SentCount(
        counts.sent + counts.bounced + counts.deferred,
        f"Postfix log ({counts.sent} sent, {counts.bounced} bounced, {counts.deferred} deferred)",
    )


def from_imap_folder(settings: ImapSettings, folder: str, since: datetime | None) -> SentCount:
    """The messages of ``folder`` on the same IMAP account, read-only and headers only."""
    from mailrep.mail import sources

    in_folder = dataclasses.replace(settings, folder=folder)
    n = sum(1 for _ in sources.read_imap(in_folder, since, headers_only=True))
    return SentCount(n, f"IMAP folder {folder}")
