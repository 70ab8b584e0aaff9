"""The values every mailbox source hands out: messages, IMAP settings, fetch statistics.

Kept apart from the readers so the local readers, the IMAP reader and the probe share them
without importing each other (and without importing imapclient for a Maildir).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mailrep.errors import CannotJudge

Security = Literal["tls", "starttls", "none"]


class SourceError(CannotJudge):
    """A mailbox that cannot be read: missing file, dead server, failed login, bad TLS.

    A ``CannotJudge`` so every plugin already reports it as UNKNOWN with this one line.
    """


@dataclass(frozen=True)
class Message:
    """One raw message and where and when it arrived.

    ``arrived`` is when *our* side got it (IMAP INTERNALDATE, the file's mtime, the mbox
    ``From_`` line), which unlike ``Date:`` the sender cannot set; ``Date:`` is only the
    fallback. Always timezone-aware, or ``None`` when nothing tells.
    """

    source: str
    arrived: datetime | None
    raw: bytes


@dataclass(frozen=True)
class ImapSettings:
    """How to reach one IMAP folder. ``port=None`` means 993 (tls) or 143 (starttls/none)."""

    host: str
    port: int | None
    user: str
    password: str
    security: Security
    folder: str = "INBOX"
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 10.0  # one network step at most
    deadline: float | None = None  # time.monotonic() value: the whole conversation ends here

    def __repr__(self) -> str:  # never print the password in a traceback or -vvv dump
        return (
            f"ImapSettings(host={self.host!r}, port={self.port!r}, user={self.user!r}, "
            f"security={self.security!r}, folder={self.folder!r})"
        )

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.security == "tls" else 143


@dataclass
class FetchStats:
    """What a read cost: messages and bytes fetched (mutable: filled while iterating)."""

    messages: int = 0
    bytes: int = 0
