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
from typing import NamedTuple

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
_MAX_ADDRESS = 320
_EXPIRED = re.compile(r"from=<[^<>]{0,320}>, status=expired, returned to sender\s*$")
_DSN = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
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


class _Fields(NamedTuple):
    rcpt: str
    status: str  # Postfix's word, as written
    dsn: str | None
    text: str  # inside the parentheses after the status word


def _address_end(rest: str, start: int) -> int:
    """Index just past the ``>`` closing the address that starts at ``start``, or -1."""
    end = rest.find(">", start, start + _MAX_ADDRESS + 1)
    if end < 0 or "<" in rest[start:end]:
        return -1
    return end + 1


def _fields(rest: str) -> _Fields | None:
    """``to=<..>[, orig_to=<..>], relay=.., k=v.., status=WORD (text)``, read left to right
    with string searches (a regular expression was most of the cost on a large log): the
    line's own ``status=`` is the first one after the addresses, since no field value
    holds a comma or a space."""
    if not rest.startswith("to=<"):
        return None
    pos = _address_end(rest, 4)
    if pos < 0 or " " in rest[4 : pos - 1]:
        return None
    rcpt = rest[4 : pos - 1]
    if rest.startswith(", orig_to=<", pos):
        pos = _address_end(rest, pos + 11)
        if pos < 0:
            return None
    if not rest.startswith(", relay=", pos):
        return None
    at = rest.find(", status=", pos)
    fields = rest[pos:at]
    if at < 0 or fields.count(" ") != fields.count(", "):
        return None
    word, _sep, tail = rest[at + 9 :].rstrip().partition(" ")
    if not word.isalpha() or (tail and not (tail.startswith("(") and tail.endswith(")"))):
        return None
    dsn = None
    d = fields.find(", dsn=")
    if d >= 0:
        value = fields[d + 6 :].split(",", 1)[0]
        dsn = value if _DSN.fullmatch(value) else None
    return _Fields(rcpt, word, dsn, tail[1:-1])


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
    f = _fields(rest)
    if f is None or stamp is None:
        return Unparsed(number)
    status = _STATUS.get(f.status.lower())
    if status is None:
        return None  # deliverable/undeliverable: address verification, not mail
    local = prefix.group("agent") in LOCAL_AGENTS
    if status == "sent":  # nobody reads a delivery's reply: spare the search
        return Delivery(stamp, prefix.group("qid"), f.rcpt, status, f.dsn, None, "", local)
    remote, reply = remote_reply(f.text)
    return Delivery(stamp, prefix.group("qid"), f.rcpt, status, f.dsn, remote, reply, local)


def read_events(lines: Iterable[str], now: datetime | None = None) -> Iterator[Delivery | Unparsed]:
    """Every delivery event (and unreadable status line) of ``lines``, in order."""
    clock = SyslogClock(now or datetime.now(UTC).astimezone())
    for number, line in enumerate(lines, 1):
        if "status=" not in line:  # most lines: decided here, without a call
            continue
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
