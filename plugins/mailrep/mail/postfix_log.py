"""Sent/bounced/deferred counts from a Postfix mail log: the bounce rate's denominator.

Postfix logs one ``status=`` line per recipient and delivery attempt from its delivery agents
(``postfix/smtp``, ``postfix/lmtp``, ``postfix/local``, ``postfix/virtual``, ...)::

    Nov 28 14:00:01 mx postfix/smtp[123]: 4F1A2B3C4D: to=<bob@example.net>,
        relay=mx.example.net[203.0.113.5]:25, delay=0.4, ..., status=sent (250 2.0.0 Ok)

A recipient deferred three times and then bounced appears four times: we count *final*
outcomes per (queue id, recipient) — the last status seen — so a retry storm does not
inflate the denominator. Both the classic syslog stamp (no year: the current year is
assumed, and a date in the future moves back a year) and RFC 3339 stamps are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from mailrep.errors import CannotJudge

_LINE = re.compile(
    r"^(?P<stamp>\S+(?: +\d+ \d\d:\d\d:\d\d)?)\s+\S+\s+postfix[^\s\[:]*/(?P<agent>[\w-]+)"
    r"(?:\[\d+\])?:\s+(?P<qid>[0-9A-Za-z]+):\s+to=<(?P<rcpt>[^>]{0,320})>.{0,2000}?"
    r"\bstatus=(?P<status>sent|bounced|deferred|expired)\b"
)
_SYSLOG_STAMP = re.compile(r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d)$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}
_RELAY_ONLY = {"local", "virtual", "pipe", "lmtp"}  # deliveries inside the host, not sending


class LogCounts(NamedTuple):
    sent: int
    bounced: int
    deferred: int
    lines: int  # status lines read in the window


def _stamp(text: str, now: datetime) -> datetime | None:
    m = _SYSLOG_STAMP.match(text)
    if m:
        hh, mm, ss = (int(x) for x in m.group("time").split(":"))
        try:
            stamp = datetime(
                now.year,
                _MONTHS[m.group("mon")],
                int(m.group("day")),
                hh,
                mm,
                ss,
                tzinfo=now.tzinfo,
            )
        except (KeyError, ValueError):
            return None
        if stamp > now:
            stamp = stamp.replace(year=now.year - 1)
        return stamp
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=now.tzinfo)


def count_lines(
    lines: Iterable[str],
    since: datetime | None,
    now: datetime | None = None,
    include_local: bool = False,
) -> LogCounts:
    """Final outcome per (queue id, recipient) of the status lines at or after ``since``.

    Local deliveries (``local``, ``virtual``, ``lmtp``, ``pipe``) are left out unless
    ``include_local``: the rate is about mail leaving the organisation.
    """
    now = now or datetime.now(UTC).astimezone()
    final: dict[tuple[str, str], str] = {}
    read = 0
    for line in lines:
        if "status=" not in line:
            continue
        m = _LINE.match(line)
        if not m:
            continue
        if not include_local and m.group("agent") in _RELAY_ONLY:
            continue
        stamp = _stamp(m.group("stamp"), now)
        if since is not None and (stamp is None or stamp < since):
            continue
        read += 1
        status = "bounced" if m.group("status") == "expired" else m.group("status")
        final[(m.group("qid"), m.group("rcpt").lower())] = status
    outcomes = list(final.values())
    return LogCounts(
        outcomes.count("sent"), outcomes.count("bounced"), outcomes.count("deferred"), read
    )


def count_file(path: str, since: datetime | None, now: datetime | None = None) -> LogCounts:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return count_lines(fh, since, now)
    except OSError as exc:
        raise CannotJudge(f"cannot read the Postfix log {path}: {exc.strerror or exc}") from None
