"""How many messages were sent in the window: the bounce rate's denominator.

Two sources besides a number given by hand: the sending MTA's log (final outcomes per
recipient, see :mod:`mailrep.mail.postfix_log`) and an IMAP Sent folder (its messages in the
same window, headers only).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from mailrep.mail.message import ImapSettings

if TYPE_CHECKING:
    from mailrep.mail.logs import Kind


class SentCount(NamedTuple):
    """A denominator and where it came from (said in the long output)."""

    n: int
    source: str


def from_postfix_log(path: str, since: datetime | None) -> SentCount:
    """Final sent, bounced and deferred outcomes: every recipient Postfix tried to reach."""
    return from_log("postfix", path, since)


def from_log(
    kind: Kind, path: str, since: datetime | None, deadline: float | None = None
) -> SentCount:
    """Final sent, bounced and deferred outcomes of an MTA log (``kind`` postfix or exim;
    a Postfix ``path`` of ``journal`` reads journalctl), rotations the window reaches too."""
    from mailrep.mail.logs import open_log
    from mailrep.mail.maillog import count_events

    log = open_log(kind, path, since, deadline=deadline)
    counts = count_events(log.events, since)
    what = "Postfix log" if kind == "postfix" else "Exim log"
    if log.name == "journal":
        what = "Postfix journal"
    return SentCount(
        counts.sent + counts.bounced + counts.deferred,
        f"{what} ({counts.sent} sent, {counts.bounced} bounced, {counts.deferred} deferred)",
    )


def from_imap_folder(settings: ImapSettings, folder: str, since: datetime | None) -> SentCount:
    """The messages of ``folder`` on the same IMAP account, read-only and headers only."""
    from mailrep.mail import sources

    in_folder = dataclasses.replace(settings, folder=folder)
    n = sum(1 for _ in sources.read_imap(in_folder, since, headers_only=True))
    return SentCount(n, f"IMAP folder {folder}")
