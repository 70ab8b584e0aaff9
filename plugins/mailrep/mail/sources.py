"""Where messages come from: one file or stdin, a directory, Maildir, mbox, or IMAP(S).

The plugins see one small API; the readers live in ``source_local`` and ``source_imap``
(imported lazily for IMAP, so a Maildir run never loads imapclient).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from mailrep.mail.local import read_dir, read_file, read_maildir, read_mbox
from mailrep.mail.message import FetchStats, ImapSettings, Message, SourceError

__all__ = [
    "FetchStats",
    "ImapSettings",
    "Message",
    "SourceError",
    "parse_since",
    "read_dir",
    "read_file",
    "read_imap",
    "read_maildir",
    "read_mbox",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SINCE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_since(text: str, now: datetime | None = None) -> datetime | None:
    """``24h``, ``7d``, ``30m``, ``90s``, ``2w`` -> that long before now (aware, UTC);
    ``all`` -> None (no window). Anything else, or a zero length, is a ValueError."""
    value = text.strip().lower()
    if value == "all":
        return None
    match = _SINCE.fullmatch(value)
    if not match:
        raise ValueError(f"not a duration like 24h, 7d, 30m or 'all': {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"the window must be longer than zero: {text!r}")
    try:
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    except OverflowError:  # reaches back before year 1 (or is not finite at all)
        raise ValueError(f"the window reaches back before any date: {text!r} (use 'all')") from None


def read_imap(
    settings: ImapSettings,
    since: datetime | None,
    *,
    headers_only: bool = False,
    subject_token: str | None = None,
    newest: bool | int = False,
    stats: FetchStats | None = None,
) -> Iterator[Message]:
    """See :func:`mailrep.mail.imap.read_imap` (read-only: EXAMINE, SEARCH, BODY.PEEK)."""
    from mailrep.mail.imap import read_imap as _read_imap

    return _read_imap(
        settings,
        since,
        headers_only=headers_only,
        subject_token=subject_token,
        newest=newest,
        stats=stats,
    )
