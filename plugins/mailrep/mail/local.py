"""Messages from local storage: one file (or stdin), a directory of files, Maildir, mbox.

Everything here is read-only by construction: files are opened for reading, a Maildir is
walked rather than opened with ``mailbox.Maildir`` (whose public API cannot give a message's
mtime without parsing it, and whose helpers move ``new/`` to ``cur/`` when asked to change
anything), and an mbox is never locked (locking writes a ``.lock`` file next to it).
"""

from __future__ import annotations

import mailbox
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime

from mailrep.mail.message import Message, SourceError

_HEADER_PARSER = BytesHeaderParser()


def read_file(path: str) -> Iterator[Message]:
    """The message in ``path`` (``-``: standard input), or each message of an mbox.

    A file whose first line is an mbox ``From_`` line is read as the mbox it is, whatever its
    name (a saved folder, ``/var/mail/NAME`` piped in): a message itself cannot begin so, as a
    header field's name ends with a colon. Read as one message, all but the first report in
    it would go uncounted.
    """
    if path == "-":
        raw = sys.stdin.buffer.read()
        if raw.startswith(_FROM_LINE):
            yield from _split_mbox("stdin", raw)
        else:
            yield Message("stdin", date_header(raw), raw)
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_FROM_LINE))
            if head != _FROM_LINE:  # an mbox is left to read_mbox, unread here
                raw = head + handle.read()
                mtime = os.fstat(handle.fileno()).st_mtime
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head == _FROM_LINE:
        yield from read_mbox(path)
        return
    yield Message(os.path.basename(path), _from_timestamp(mtime), raw)


_FROM_LINE = b"From "
_NEXT_FROM_LINE = re.compile(rb"\nFrom ")


def _split_mbox(name: str, raw: bytes) -> Iterator[Message]:
    """The messages of an mbox held in memory (standard input), split as ``mailbox.mbox``
    splits a file: each line starting with ``From `` begins a message, and a message's
    closing blank line (the separator before the next) is not part of it."""
    starts = [0] + [m.start() + 1 for m in _NEXT_FROM_LINE.finditer(raw)]
    for index, (start, stop) in enumerate(zip(starts, [*starts[1:], len(raw)], strict=True)):
        from_line, _, body = raw[start:stop].partition(b"\n")
        if body.endswith(b"\n\n"):
            body = body[:-1]
        yield Message(f"{name}#{index}", from_line_date(from_line) or date_header(body), body)


def read_dir(path: str) -> Iterator[Message]:
    """Every regular, non-hidden file directly in ``path``, in name order (a Maildir is
    recognised and read as one, so pointing ``--dir`` at a Maildir does the right thing)."""
    if is_maildir(path):
        yield from read_maildir(path)
        return
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        raise SourceError(f"cannot read directory {path}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file():
            continue
        yield from read_file(entry.path)


def is_maildir(path: str) -> bool:
    return all(os.path.isdir(os.path.join(path, sub)) for sub in ("new", "cur"))


def read_maildir(path: str) -> Iterator[Message]:
    """Every message in ``new/`` and ``cur/`` of the Maildir at ``path``, oldest first.

    The source is the Maildir key (file name without the ``:2,flags`` info), which stays the
    same when another client marks the message read. Files that vanish while we read (an
    IMAP client expunged them) are skipped: that is a race, not an error.
    """
    if not is_maildir(path):
        raise SourceError(f"{path} is not a Maildir (no new/ and cur/ inside)")
    found: list[tuple[float, str, str]] = []
    for sub in ("new", "cur"):
        try:
            entries = list(os.scandir(os.path.join(path, sub)))
        except OSError as exc:
            raise SourceError(f"cannot read Maildir {path}: {exc.strerror or exc}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                found.append((entry.stat().st_mtime, entry.name, entry.path))
            except FileNotFoundError:
                continue
    found.sort()
    for mtime, name, file_path in found:
        try:
            with open(file_path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SourceError(f"cannot read {file_path}: {exc.strerror or exc}") from None
        yield Message(name.split(":", 1)[0], _from_timestamp(mtime), raw)


def read_mbox(path: str) -> Iterator[Message]:
    """Every message of the mbox file ``path``; ``arrived`` from its ``From_`` line."""
    try:
        box = mailbox.mbox(path, create=False)
    except (OSError, mailbox.Error) as exc:
        detail = getattr(exc, "strerror", None) or exc
        raise SourceError(f"cannot read mbox {path}: {detail}") from None
    name = os.path.basename(path)
    try:
        for index, key in enumerate(box.iterkeys()):
            with box.get_file(key, from_=True) as handle:
                from_line = handle.readline()
                raw = handle.read()
            arrived = from_line_date(from_line) or date_header(raw)
            yield Message(f"{name}#{index}", arrived, raw)
    except OSError as exc:
        raise SourceError(f"cannot read mbox {path}: {exc.strerror or exc}") from None
    finally:
        box.close()


def from_line_date(line: bytes) -> datetime | None:
    """The asctime date at the end of an mbox ``From_`` line (taken as UTC: it carries no
    zone, and UTC is what MTAs that write mbox mostly use)."""
    words = line.decode("ascii", "replace").split()
    if len(words) < 7 or words[0] != "From":
        return None
    try:
        stamp = datetime.strptime(" ".join(words[-5:]), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC)


def date_header(raw: bytes) -> datetime | None:
    """The ``Date:`` header as an aware datetime (naive ones taken as UTC), or None."""
    value = _HEADER_PARSER.parsebytes(raw).get("Date")
    if not value:
        return None
    try:
        stamp = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
