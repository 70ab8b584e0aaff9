"""Mail logs as a stream of delivery events: the files (rotated ones too) and the journal.

The sending MTA sees every refusal first: Postfix retries a 4xx for up to five days, and
each attempt is a log line with the remote's reply, long before a bounce is written. The
MTA-specific readers (:mod:`mailrep.mail.postfix_log`, :mod:`mailrep.mail.exim_log`) turn
lines into :class:`Delivery` events; this module says where the lines come from:

- a file and, when the window reaches back into them, its rotations (``FILE.1``,
  ``FILE.2.gz``, ... as logrotate and savelog name them; ``.gz``, ``.bz2`` and ``.xz``
  are read as they stream), oldest first, so a deferral is seen before its bounce;
- ``journalctl`` output for the Postfix units, for a Debian 12 without rsyslog.

Lines are read one at a time (memory does not grow with the log). A file that cannot be
read is :class:`~mailrep.errors.CannotJudge` (UNKNOWN) with its path and the reason: a
check that silently read nothing would say "no bounces".
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import IO, NamedTuple

from mailrep.errors import CannotJudge

#: A log line longer than this is not a delivery record (those stay under a few KiB).
MAX_LINE = 32 * 1024
#: Rotations looked at: FILE.1 .. FILE.N (compressed or not).
MAX_ROTATIONS = 60
#: The units whose journal ``--postfix-log journal`` reads: Debian's postfix.service and
#: its instances (postfix@-.service, postfix@postfix-out.service, ...).
POSTFIX_UNITS = ("postfix.service", "postfix@*.service")
_JOURNALCTL = ("journalctl", "/usr/bin/journalctl", "/bin/journalctl")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SUFFIXES = ("", ".gz", ".bz2", ".xz")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


class Delivery(NamedTuple):
    """One delivery attempt's outcome as the MTA logged it.

    ``status`` is ``sent``, ``bounced``, ``deferred`` or ``expired`` (Postfix gave up on
    the whole queue file: ``recipient`` is empty, every still-deferred recipient of
    ``queue_id`` bounced). ``reply`` is the remote server's own words when the line holds
    them ("554 5.7.1 ..."), else the MTA's ("connect to ...: Connection timed out").
    """

    stamp: datetime | None
    queue_id: str
    recipient: str
    status: str
    dsn: str | None = None
    remote: str | None = None
    reply: str = ""
    local: bool = False  # delivered inside the host (local, virtual, LMTP, pipe)


class Unparsed(NamedTuple):
    """A line that looks like a delivery record but could not be read (counted, not fatal)."""

    line_number: int
    status: str = "unparsed"  # so a stream of events is told apart by ``status`` alone


class SyslogClock:
    """Syslog stamps (``Dec  1 09:18:33``, no year) and RFC 3339 ones, read fast.

    The year is the current one, or the one before when the stamp would lie in the future
    (a log that spans New Year). Lines of one second share a stamp: the last is cached.
    """

    _SYSLOG = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)$")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._last: tuple[str, datetime | None] = ("", None)

    def read(self, text: str) -> datetime | None:
        if text == self._last[0]:
            return self._last[1]
        stamp = self._parse(text)
        self._last = (text, stamp)
        return stamp

    def _parse(self, text: str) -> datetime | None:
        m = self._SYSLOG.match(text)
        if m is None:
            try:
                stamp = datetime.fromisoformat(text)
            except ValueError:
                return None
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=self.now.tzinfo)
        month = _MONTHS.get(m.group(1))
        if month is None:
            return None
        try:
            stamp = datetime(
                self.now.year,
                month,
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
                tzinfo=self.now.tzinfo,
            )
        except ValueError:
            return None
        if stamp > self.now + timedelta(days=1):
            stamp = stamp.replace(year=self.now.year - 1)
        return stamp


class LogCounts(NamedTuple):
    sent: int
    bounced: int
    deferred: int
    lines: int  # status lines read in the window


def count_events(
    events: Iterable[Delivery | Unparsed],
    since: datetime | None,
    include_local: bool = False,
) -> LogCounts:
    """Final outcome per (queue id, recipient) of the events at or after ``since``.

    Local deliveries (``local``, ``virtual``, ``lmtp``, ``pipe``) are left out unless
    ``include_local``: the rate is about mail leaving the organisation. Memory holds only
    the recipients still deferred (a sent or bounced line is final).
    """
    pending: dict[str, set[str]] = {}  # queue id -> recipients still deferred
    sent = bounced = read = 0
    for ev in events:
        if isinstance(ev, Unparsed) or (ev.local and not include_local):
            continue
        if since is not None and (ev.stamp is None or ev.stamp < since):
            continue
        read += 1
        if ev.status == "expired":
            bounced += len(pending.pop(ev.queue_id, ()))
            continue
        rcpt = ev.recipient.lower()
        if ev.status == "deferred":
            pending.setdefault(ev.queue_id, set()).add(rcpt)
            continue
        waiting = pending.get(ev.queue_id)
        if waiting is not None:
            waiting.discard(rcpt)
            if not waiting:
                del pending[ev.queue_id]
        sent += ev.status == "sent"
        bounced += ev.status == "bounced"
    return LogCounts(sent, bounced, sum(len(r) for r in pending.values()), read)


# --- files ------------------------------------------------------------------------------


def rotations(path: str, since: datetime | None) -> list[str]:
    """``path`` and the rotations of it the window reaches, oldest first.

    A rotation whose last change is before ``since`` holds only older lines: it and every
    older one are left out. Without a window (``--since all``) every rotation is read.
    """
    older: list[str] = []
    cutoff = since.timestamp() if since is not None else None
    for n in range(1, MAX_ROTATIONS + 1):
        names = (f"{path}.{n}{ext}" for ext in _SUFFIXES)
        found = next((name for name in names if os.path.lexists(name)), None)
        if found is None:
            break
        if cutoff is not None and os.stat(found).st_mtime < cutoff:
            break
        older.append(found)
    return [*reversed(older), path]


def _open(path: str) -> IO[str]:
    opener = _OPENERS.get(os.path.splitext(path)[1])
    if opener is not None:
        return opener(path, "rt", encoding="utf-8", errors="replace")  # type: ignore[operator]
    return open(path, encoding="utf-8", errors="replace")  # closed by read_files' with


def read_files(paths: Iterable[str], what: str = "log") -> Iterator[str]:
    """Every line of ``paths`` in order, streamed; a file that fails is CannotJudge."""
    for path in paths:
        try:
            with _open(path) as fh:
                yield from fh
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise CannotJudge(f"cannot read the {what} {path}: {reason}") from None


# --- the journal ------------------------------------------------------------------------


def journalctl() -> str:
    """The journalctl binary (Icinga runs plugins with a minimal PATH: look in the usual
    places too)."""
    for name in _JOURNALCTL:
        found = shutil.which(name)
        if found:
            return found
    raise CannotJudge("--postfix-log journal: journalctl not found (is this a systemd host?)")


def journal_command(since: datetime | None, units: Iterable[str] = POSTFIX_UNITS) -> list[str]:
    """The journalctl command line: the units' messages in the window, one line each with
    an RFC 3339 stamp (``short-iso-precise``), no pager, no hints."""
    cmd = [journalctl(), "--no-pager", "--quiet", "--output", "short-iso-precise"]
    for unit in units:
        cmd += ["--unit", unit]
    if since is not None:
        cmd += ["--since", f"@{int(since.timestamp())}"]
    return cmd


def read_journal(since: datetime | None, deadline: float | None = None) -> Iterator[str]:
    """journalctl's lines, streamed. A journalctl that fails or outlives ``deadline``
    (``time.monotonic()``) is CannotJudge with what it said."""
    cmd = journal_command(since)
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        raise CannotJudge(f"cannot run {cmd[0]}: {exc.strerror or exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for line in proc.stdout:
            if deadline is not None and time.monotonic() > deadline:
                raise CannotJudge("journalctl did not finish within the run's time (-t)")
            yield line
        code = proc.wait(timeout=max(0.1, (deadline or time.monotonic() + 10) - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise CannotJudge("journalctl did not finish within the run's time (-t)") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if code != 0:
        said = proc.stderr.read().strip().splitlines()
        proc.stderr.close()
        raise CannotJudge(f"journalctl failed ({code}): {said[0] if said else 'no message'}")
    proc.stderr.close()
