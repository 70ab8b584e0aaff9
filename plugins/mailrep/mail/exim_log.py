"""Exim main log lines -> delivery events (the same :class:`~mailrep.mail.maillog.Delivery`
the Postfix reader gives).

Exim writes one line per recipient and attempt, marked by a flag after the message id::

    2026-12-01 09:18:33 1rAbCd-000123-Xy => bob@example.net R=dnslookup T=remote_smtp
        H=mx.example.net [203.0.113.5] X=TLS1.3:... C="250 2.0.0 Ok"
    2026-12-01 09:18:33 1rAbCd-000123-Xy == bob@example.net R=dnslookup T=remote_smtp
        defer (-44) H=mx.example.net [203.0.113.5]: SMTP error from remote mail server
        after RCPT TO:<bob@example.net>: 451 4.7.1 Greylisted
    2026-12-01 09:18:33 1rAbCd-000123-Xy ** bob@example.net R=dnslookup T=remote_smtp
        H=mx.example.net [203.0.113.5]: SMTP error from remote mail server after RCPT
        TO:<bob@example.net>: 554 5.7.1 Client host [198.51.100.7] blocked using ...

``=>``, ``->`` (another recipient of the same delivery) and ``>>`` (cutthrough) are
deliveries, counted as sent when they went to a remote host (``H=``); ``==`` is a deferral,
``**`` a failure (a bounce); ``*>`` (suppressed by ``-N``) and arrivals (``<=``) are not
outcomes. ``log_selector`` may add ``[pid]`` before the id and ``log_timezone`` an offset
after the time; message ids of Exim 4.97 and later are longer (``1rAbCd-0000000123-XyZw``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone

from mailrep.mail.maillog import MAX_LINE, Delivery, Unparsed

_LINE = re.compile(
    r"(?P<date>\d{4})-(?P<mon>\d\d)-(?P<day>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:\.\d{3})?(?: (?P<tz>[-+]\d{4}))? (?:\[\d+\] )?"
    r"(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) (?P<flag>\*\*|==|=>|->|>>|\*>) "
    r"(?P<rcpt>[^\s<>]{1,320})(?: <[^\s<>]{0,320}>)?(?P<rest>.*)$"
)
_FLAGS = (" ** ", " == ", " => ", " -> ", " >> ")
_STATUS = {"**": "bounced", "==": "deferred", "=>": "sent", "->": "sent", ">>": "sent"}
_HOST = re.compile(
    r" H=(?P<host>[^\s\[]{1,255})?(?: \([^)\s]{0,255}\))? ?\[(?P<ip>[0-9A-Fa-f.:]{2,45})\]"
)
_SMTP_ERROR = re.compile(
    r"SMTP error from remote (?:mail server|mailer) after (?:pipelined )?"
    r"(?:[A-Z][A-Za-z ]{0,20}(?::<[^>]{0,320}>)?[^:]{0,80}|initial connection|end of data): "
    r"(?P<reply>[245]\d\d[ -].*)$"
)


def _stamp(m: re.Match[str], local: timezone) -> datetime | None:
    tz = local
    if m.group("tz"):
        sign = -1 if m.group("tz")[0] == "-" else 1
        hh, mm = int(m.group("tz")[1:3]), int(m.group("tz")[3:5])
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    try:
        return datetime(
            int(m.group("date")),
            int(m.group("mon")),
            int(m.group("day")),
            int(m.group("h")),
            int(m.group("m")),
            int(m.group("s")),
            tzinfo=tz,
        )
    except ValueError:
        return None


def _reply(rest: str) -> tuple[str | None, str]:
    """(remote host, the remote's own words or else Exim's) of a ``**``/``==`` line."""
    host = _HOST.search(rest)
    remote = (host.group("host") or host.group("ip")) if host else None
    _fields, sep, text = rest.partition(": ")
    if not sep:
        return remote, ""
    said = _SMTP_ERROR.search(text)
    return remote, said.group("reply") if said else text


def parse_line(line: str, local: timezone, number: int = 0) -> Delivery | Unparsed | None:
    """A delivery event, ``Unparsed`` for a flagged line that cannot be read, else None."""
    if not any(flag in line[:80] for flag in _FLAGS):
        return None
    if len(line) > MAX_LINE:
        return Unparsed(number)
    m = _LINE.match(line.rstrip("\r\n"))
    if m is None:
        return Unparsed(number)
    flag = m.group("flag")
    if flag == "*>":
        return None
    stamp = _stamp(m, local)
    if stamp is None:
        return Unparsed(number)
    rcpt, rest = m.group("rcpt"), m.group("rest")
    if rcpt.endswith(":"):  # "** bob@example.net: Unrouteable address"
        rcpt, rest = rcpt[:-1], ":" + rest
    status = _STATUS[flag]
    if status == "sent":
        host = _HOST.search(rest)
        return Delivery(stamp, m.group("id"), rcpt, status, local=host is None)
    remote, reply = _reply(rest)
    return Delivery(stamp, m.group("id"), rcpt, status, None, remote, reply)


def read_events(lines: Iterable[str], now: datetime | None = None) -> Iterator[Delivery | Unparsed]:
    """Every delivery event (and unreadable flagged line) of ``lines``, in order. Stamps
    without an offset are local time (``now``'s zone)."""
    local = (now or datetime.now(UTC).astimezone()).tzinfo
    assert isinstance(local, timezone)
    for number, line in enumerate(lines, 1):
        found = parse_line(line, local, number)
        if found is not None:
            yield found
