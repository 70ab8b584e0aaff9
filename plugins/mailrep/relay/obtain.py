"""Where check_relay_chain's message comes from: a file or stdin, IMAP, or a round trip.

Getting the message is its own job, apart from reading its chain (:mod:`mailrep.relay.chain`)
and from judging it (:mod:`mailrep.plugin.relay_check`): the plugin module turns its options into
settings and calls one function here, and every function answers with an :class:`Obtained`
(the raw message and what the run learnt on the way). Nothing here reads options, so the
ways to get a message can be used and tested without a command line.

Expected failures are ``CannotJudge`` (UNKNOWN with one line); a round trip whose message
did not arrive is :class:`NotDelivered`, which is not a failure to judge but the worst
finding of all (the mail path is broken), so the check makes it CRITICAL. The mailbox
modules are imported inside the functions that need them: a ``--file`` run loads no IMAP or
SMTP code.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NamedTuple

from mailrep.errors import CannotJudge

if TYPE_CHECKING:
    from datetime import datetime

    from mailrep.mail.message import ImapSettings
    from mailrep.mail.roundtrip import SmtpSettings

#: How much of a message file is read: the header block is all the check needs.
MAX_MESSAGE_BYTES = 1024 * 1024


class NotDelivered(Exception):
    """The round trip's message did not arrive within the wait: the mail path is broken."""

    def __init__(self, wait: float, recipient: str, token: str) -> None:
        super().__init__(f"test message not delivered to {recipient} within {wait:g}s")
        self.wait = wait
        self.token = token


class Obtained(NamedTuple):
    """A message to examine, with what getting it taught."""

    raw: bytes
    source: str  # where it came from, for the long output
    delivery: float | None = None  # seconds, round trip only
    notes: tuple[str, ...] = ()  # for the long output, after the chain's own notes


def read_message_file(path: str) -> bytes:
    """The first :data:`MAX_MESSAGE_BYTES` of a file, or of stdin for ``-``."""
    try:
        if path == "-":
            return sys.stdin.buffer.read(MAX_MESSAGE_BYTES)
        with open(path, "rb") as fh:
            return fh.read(MAX_MESSAGE_BYTES)
    except OSError as exc:
        raise CannotJudge(f"cannot read {path}: {exc.strerror or exc}") from None


def from_file(path: str) -> Obtained:
    """A saved message or its header block (``-``: stdin)."""
    return Obtained(read_message_file(path), "stdin" if path == "-" else path)


def from_imap(
    settings: ImapSettings, since: datetime | None, since_text: str, subject_token: str | None
) -> Obtained:
    """The newest message of the folder in the window (``since``; None: no window), or the
    newest whose Subject carries ``subject_token``. Headers only: the chain is all we read.

    ``since_text`` is the window as the user wrote it, for the message when nothing is found.
    """
    from mailrep.mail import sources

    # SourceError (dead server, failed login, bad TLS) is a CannotJudge: UNKNOWN as it is.
    messages = list(
        sources.read_imap(settings, since, headers_only=True, subject_token=subject_token, newest=1)
    )
    if not messages:
        which = f"with {subject_token!r} in the Subject" if subject_token else "at all"
        window = "" if since is None else f" in the last {since_text}"
        raise CannotJudge(f"no message {which} in {settings.folder}{window}")
    return Obtained(messages[-1].raw, f"IMAP {settings.host} {settings.folder}")


def from_round_trip(
    smtp: SmtpSettings,
    imap: ImapSettings,
    mail_from: str,
    mail_to: str,
    wait: float,
    deadline: float,
) -> Obtained:
    """Send the probe, wait for it, delete it; raises NotDelivered when it did not arrive.

    ``wait`` is already bounded by the run's time left; ``deadline`` (a ``time.monotonic()``
    value) bounds every step of the trip.
    """
    from mailrep.mail import roundtrip as probe

    trip = probe.round_trip(smtp, imap, mail_from, mail_to, wait, deadline)
    if not trip.found or trip.delivery_seconds is None:
        raise NotDelivered(wait, mail_to, trip.token)
    if not trip.raw:
        raise CannotJudge(f"the test message arrived but could not be fetched from {imap.host}")
    notes = []
    if not trip.deleted:
        why = trip.kept_because or "the server refused"
        notes.append(
            f"the test message (token {trip.token}) was left in {imap.folder}: {why}; "
            "delete it by hand"
        )
    elif trip.kept_because:
        notes.append(trip.kept_because)
    source = f"round trip {smtp.host} -> {imap.host} {imap.folder}"
    return Obtained(trip.raw, source, trip.delivery_seconds, tuple(notes))
