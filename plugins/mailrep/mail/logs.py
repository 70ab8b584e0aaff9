"""Which MTA log a run reads, as one stream of delivery events.

``--postfix-log FILE`` (with its rotations), ``--postfix-log journal`` (journalctl, the
Postfix units) and ``--exim-log FILE`` all become :class:`OpenedLog`: a label for the output
and the events, read lazily so nothing is held but the line being read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from mailrep.mail import exim_log, postfix_log
from mailrep.mail.maillog import Delivery, Unparsed, read_files, read_journal, rotations

Kind = Literal["postfix", "exim"]
JOURNAL = "journal"


class OpenedLog(NamedTuple):
    label: str  # "Postfix log /var/log/mail.log (and 2 rotations)", "Postfix journal"
    name: str  # short, for record sources: "mail.log", "journal"
    events: Iterator[Delivery | Unparsed]


def open_log(
    kind: Kind,
    path: str,
    since: datetime | None,
    *,
    deadline: float | None = None,
    now: datetime | None = None,
) -> OpenedLog:
    """The events of the log ``path`` of MTA ``kind`` from ``since`` on (rotations the window
    reaches included). Reading starts when the events are iterated; a file or journalctl
    that fails then is CannotJudge (UNKNOWN) with its path and the reason."""
    now = now or datetime.now(UTC).astimezone()
    if kind == "postfix" and path == JOURNAL:
        events = postfix_log.read_events(read_journal(since, deadline), now)
        return OpenedLog("Postfix journal (journalctl)", "journal", events)
    files = rotations(path, since)
    what = "Postfix log" if kind == "postfix" else "Exim log"
    more = len(files) - 1
    label = f"{what} {path}" + (f" (and {more} rotation{'s' if more > 1 else ''})" if more else "")
    lines = read_files(files, what)
    reader = postfix_log.read_events if kind == "postfix" else exim_log.read_events
    return OpenedLog(label, path.rsplit("/", 1)[-1], reader(lines, now))
