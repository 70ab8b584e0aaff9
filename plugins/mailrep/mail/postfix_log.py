"""Postfix log lines -> delivery events, and the sent count (the bounce rate's denominator).

Postfix logs one ``status=`` line per recipient and delivery attempt from its delivery agents
(``postfix/smtp``, ``postfix/lmtp``, ``postfix/local``, ``postfix/virtual``, ...)::

    Nov 28 14:00:01 mx postfix/smtp[123]: 4F1A2B3C4D: to=<bob@example.net>,
        relay=mx.example.net[203.0.113.5]:25, delay=0.4, ..., dsn=5.7.1, status=bounced
        (host mx.example.net[203.0.113.5] said: 554 5.7.1 ... (in reply to RCPT TO command))

and, when a message stays queued too long, ``QID: from=<...>, status=expired, returned to
sender``. The fields are read in the order Postfix writes them, so a ``status=`` inside an
address or inside the remote's reply is never taken for the line's own. A recipient
deferred three times and then bounced appears four times: counts are of *final* outcomes
per (queue id, recipient). Syslog stamps (no year), Postfix's own ``maillog_file`` stamps
and RFC 3339 stamps (rsyslog, ``journalctl -o short-iso``) are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from mailrep.mail.maillog import (
    MAX_LINE,
    Delivery,
    LogCounts,
    SyslogClock,
    Unparsed,
    count_events,
    read_files,
    rotations,
)

_PREFIX = re.compile(
    r"(?P<stamp>[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[-+][\d:]+)?)"
    r" \S+ [^\s\[:/]*postfix[^\s\[:/]*/(?P<agent>[\w-]+)(?:\[\d+\])?: "
    r"(?P<qid>[0-9A-Za-z]{5,20}): "
)
_TO = re.compile(
    r"to=<(?P<rcpt>[^<>\s]{0,320})>(?:, orig_to=<[^<>]{0,320}>)?, relay=(?P<relay>[^,\s]{0,300})"
    r"(?P<fields>(?:, [a-z_]{1,12}=[^,\s]{0,64}){0,12}?), status=(?P<status>[A-Za-z]+)"
    r"(?: \((?P<text>.*)\))?\s*$"
)
_EXPIRED = re.compile(r"from=<[^<>]{0,320}>, status=expired, returned to sender\s*$")
_DSN = re.compile(r", dsn=([245]\.\d{1,3}\.\d{1,3})")
_SAID = re.compile(
    r"^(?:.{0,300}?: )?host (?P<host>[^\s\[]{1,255})\[[^\]]{0,64}\](?::\d+)? "
    r"(?:said|refused to talk to me): (?P<reply>.*?)(?: \(in reply to [A-Za-z ]{1,40}\))?$"
)
# Postfix's status words: SOFTBOUNCE is a bounce that soft_bounce=yes keeps queued
_STATUS = {
    "sent": "sent",
    "bounced": "bounced",
    "deferred": "deferred",
    "softbounce": "deferred",
    "expired": "bounced",
}
LOCAL_AGENTS = frozenset({"local", "virtual", "pipe", "lmtp"})  # inside the host, not sending


def remote_reply(text: str) -> tuple[str | None, str]:
    """(remote host, its own words) of a status text; (None, text) when no host spoke."""
    m = _SAID.match(text)
    if m is None:
        return None, text
    return m.group("host"), m.group("reply")


def parse_line(line: str, clock: SyslogClock, number: int = 0) -> Delivery | Unparsed | None:
    """A delivery event, ``Unparsed`` for a status line that cannot be read, else None."""
    if "status=" not in line:
        return None
    if len(line) > MAX_LINE:
        return Unparsed(number)
    prefix = _PREFIX.match(line)
    if prefix is None:
        return Unparsed(number) if "postfix" in line else None
    stamp = clock.read(prefix.group("stamp"))
    rest = line[prefix.end() :]
    if rest.startswith("from=<"):
        if _EXPIRED.match(rest):
            return Delivery(stamp, prefix.group("qid"), "", "expired")
        return None  # e.g. "status=undeliverable" of a verification probe's sender
    m = _TO.match(rest)
    if m is None or stamp is None:
        return Unparsed(number)
    status = _STATUS.get(m.group("status").lower())
    if status is None:
        return None  # deliverable/undeliverable: address verification, not mail
    dsn = _DSN.search(m.group("fields"))
    remote, reply = remote_reply(m.group("text") or "")
    return Delivery(
        stamp,
        prefix.group("qid"),
        m.group("rcpt"),
        status,
        dsn.group(1) if dsn else None,
        remote,
        reply,
        prefix.group("agent") in LOCAL_AGENTS,
    )


def read_events(lines: Iterable[str], now: datetime | None = None) -> Iterator[Delivery | Unparsed]:
    """Every delivery event (and unreadable status line) of ``lines``, in order."""
    clock = SyslogClock(now or datetime.now(UTC).astimezone())
    for number, line in enumerate(lines, 1):
        found = parse_line(line, clock, number)
        if found is not None:
            yield found


def count_lines(
    lines: Iterable[str],
    since: datetime | None,
    now: datetime | None = None,
    include_local: bool = False,
) -> LogCounts:
    """:func:`count_events` over the events of ``lines``."""
    return count_events(read_events(lines, now), since, include_local)


def count_file(path: str, since: datetime | None, now: datetime | None = None) -> LogCounts:
    """The counts of a Postfix log file and of its rotations the window reaches."""
    return count_lines(read_files(rotations(path, since), "Postfix log"), since, now)
