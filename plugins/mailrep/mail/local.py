"""Messages from local storage: one file (or stdin), a directory of files, Maildir, mbox.

Everything here is read-only by construction: files are opened for reading only, a Maildir
is walked rather than opened with ``mailbox.Maildir`` (whose public API cannot give a
message's mtime without parsing it, and whose helpers move ``new/`` to ``cur/`` when asked to
change anything), and an mbox is split here rather than by ``mailbox.mbox``, which opens the
file read-write (``rb+``: as root that succeeds even on a mode 0444 file, and it fails on an
immutable one) and would lock it by writing a ``.lock`` file next to it.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import stat
import sys
from collections.abc import Iterable, Iterator
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
            yield from _mbox_messages("stdin", io.BytesIO(raw))
        else:
            yield Message("stdin", date_header(raw), raw)
        return
    name = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
            if first.startswith(_FROM_LINE):  # read on from here: a pipe cannot be reopened
                yield from _mbox_messages(name, itertools.chain([first], handle))
                return
            raw = first + handle.read()
            mtime = os.fstat(handle.fileno()).st_mtime
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    yield Message(name, _from_timestamp(mtime), raw)


_FROM_LINE = b"From "


def _mbox_messages(name: str, lines: Iterable[bytes]) -> Iterator[Message]:
    """The messages of an mbox given line by line, split as ``mailbox.mbox`` splits one:
    each line starting with ``From `` begins a message (lines before the first are not
    part of any), and an empty line just before the next ``From_`` line (or the end) is the
    separator, not part of the message. One message is held at a time."""
    index = 0
    from_line: bytes | None = None
    body: list[bytes] = []
    for line in lines:
        if line.startswith(_FROM_LINE):
            if from_line is not None:
                yield _mbox_message(name, index, from_line, body)
                index += 1
            from_line, body = line, []
        elif from_line is not None:
            body.append(line)
    if from_line is not None:
        yield _mbox_message(name, index, from_line, body)


def _mbox_message(name: str, index: int, from_line: bytes, body: list[bytes]) -> Message:
    if body and body[-1] == b"\n":
        body = body[:-1]
    raw = b"".join(body)
    return Message(f"{name}#{index}", from_line_date(from_line) or date_header(raw), raw)


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
    IMAP client expunged them) are skipped: that is a race, not an error. An entry that
    cannot be a message (a symlink loop, a device, a FIFO, a directory) is a SourceError
    naming it: the check could not read the whole mailbox, so it cannot judge it.
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
            except OSError as exc:
                raise SourceError(f"cannot read {entry.path}: {exc.strerror or exc}") from None
    found.sort()
    for mtime, name, file_path in found:
        try:
            raw = _read_regular(file_path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SourceError(f"cannot read {file_path}: {exc.strerror or exc}") from None
        yield Message(name.split(":", 1)[0], _from_timestamp(mtime), raw)


def _read_regular(path: str) -> bytes:
    """The bytes of a regular file; anything else is an OSError, found without blocking
    (``O_NONBLOCK``: opening a FIFO would wait for a writer) or reading (``/dev/zero``)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with open(fd, "rb", closefd=True) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or directory)")
        return handle.read()


def read_mbox(path: str) -> Iterator[Message]:
    """Every message of the mbox file ``path``, read-only; ``arrived`` from its ``From_``
    line (else its ``Date:``)."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            yield from _mbox_messages(name, handle)
    except OSError as exc:
        raise SourceError(f"cannot read mbox {path}: {exc.strerror or exc}") from None


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
