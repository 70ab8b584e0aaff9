"""Messages from an IMAP folder, strictly read-only.

The folder is opened with EXAMINE (read-only: the server itself refuses flag changes), the
window is narrowed server-side with ``SEARCH SINCE``, then exactly by INTERNALDATE (SINCE
has day granularity), and bodies are fetched with ``BODY.PEEK`` so no message gains
``\\Seen``. Only the messages inside the window are fetched, in batches, so a 24 h window
over a large folder costs a fraction of a full download.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mailrep.mail.message import FetchStats, ImapSettings, Message, SourceError

BATCH = 200  # messages per FETCH: few round trips, bounded memory


def tls_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    """Verified against the system CAs (or ``ca_file``); ``insecure`` only stops verifying."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"cannot load CA file {ca_file}: {exc}") from None
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe_error(exc: BaseException) -> str:
    """One line for a connection-level failure (no traceback ever reaches the user)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failure: {exc.reason or exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    first = exc.args[0] if exc.args else ""
    text = first.decode("utf-8", "replace") if isinstance(first, bytes) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def connect(settings: ImapSettings, timeout: float | None = None) -> Any:
    """A logged-in IMAPClient (not yet in a folder); every failure is a SourceError."""
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError, LoginError

    where = f"IMAP {settings.host}:{settings.effective_port}"
    timeout = settings.timeout if timeout is None else timeout
    context = (
        None if settings.security == "none" else tls_context(settings.ca_file, settings.insecure)
    )
    try:
        client = IMAPClient(
            settings.host,
            port=settings.effective_port,
            ssl=settings.security == "tls",
            ssl_context=context,
            timeout=timeout,
        )
    except (OSError, IMAPClientError) as exc:
        raise SourceError(f"{where}: cannot connect: {describe_error(exc)}") from None
    try:
        client.normalise_times = False  # aware INTERNALDATEs, not naive local time
        if settings.security == "starttls":
            client.starttls(context)
        client.login(settings.user, settings.password)
    except LoginError:
        close(client)
        raise SourceError(f"{where}: login failed for {settings.user}") from None
    except (OSError, IMAPClientError) as exc:
        close(client)
        step = "STARTTLS" if settings.security == "starttls" else "login"
        raise SourceError(f"{where}: {step} failed: {describe_error(exc)}") from None
    return client


def close(client: Any) -> None:
    # Best effort: we are done (or already failing); the socket goes either way.
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()


def search_criteria(since: datetime | None, subject_token: str | None) -> list[Any]:
    """SEARCH criteria: SINCE one day early (SINCE ignores time and zone), SUBJECT token."""
    criteria: list[Any] = []
    if since is not None:
        criteria += ["SINCE", (since.astimezone(UTC) - timedelta(days=1)).date()]
    if subject_token:
        criteria += ["SUBJECT", subject_token]
    return criteria or ["ALL"]


def read_imap(
    settings: ImapSettings,
    since: datetime | None,
    *,
    headers_only: bool = False,
    subject_token: str | None = None,
    newest: bool | int = False,
    stats: FetchStats | None = None,
) -> Iterator[Message]:
    """Messages of ``settings.folder`` that arrived at or after ``since``, oldest first.

    ``headers_only`` fetches ``BODY.PEEK[HEADER]`` (enough to count or to read Received
    lines). ``subject_token`` keeps only messages whose Subject contains it. ``newest``
    (True or a count N) keeps only the newest one (N) of those. ``stats`` is filled as
    messages are fetched.

    A generator: the connection is made, and any SourceError raised, when iteration starts;
    it is closed (LOGOUT) when iteration ends or the generator is closed.
    """
    from imapclient.exceptions import IMAPClientError

    where = f"IMAP {settings.host}:{settings.effective_port}"
    client = connect(settings)
    try:
        try:
            client.select_folder(settings.folder, readonly=True)
        except IMAPClientError as exc:
            raise SourceError(
                f"{where}: cannot open folder {settings.folder}: {describe_error(exc)}"
            ) from None
        try:
            charset = None if (subject_token or "").isascii() else "UTF-8"
            uids = sorted(client.search(search_criteria(since, subject_token), charset))
            uids = _in_window(client, uids, since)
            if newest:
                uids = uids[-int(newest) :]
            yield from _fetch(client, uids, settings.folder, headers_only, stats)
        except (OSError, IMAPClientError) as exc:
            raise SourceError(f"{where}: {describe_error(exc)}") from None
    finally:
        close(client)


def _in_window(client: Any, uids: list[int], since: datetime | None) -> list[int]:
    """Exact window: keep UIDs whose INTERNALDATE is at or after ``since`` (cheap: a date
    per message, fetched only for the day-granular SEARCH hits)."""
    if since is None or not uids:
        return uids
    kept = []
    for start in range(0, len(uids), BATCH * 10):
        chunk = uids[start : start + BATCH * 10]
        for uid, data in client.fetch(chunk, ["INTERNALDATE"]).items():
            arrived = _aware(data.get(b"INTERNALDATE"))
            if arrived is None or arrived >= since:
                kept.append(uid)
    return sorted(kept)


def _fetch(
    client: Any, uids: list[int], folder: str, headers_only: bool, stats: FetchStats | None
) -> Iterator[Message]:
    section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
    answer_key = b"BODY[HEADER]" if headers_only else b"BODY[]"
    for start in range(0, len(uids), BATCH):
        chunk = uids[start : start + BATCH]
        answers = client.fetch(chunk, [section, "INTERNALDATE"])
        for uid in chunk:
            data = answers.get(uid)
            if data is None:  # expunged by someone else meanwhile
                continue
            raw = data.get(answer_key) or b""
            if stats is not None:
                stats.messages += 1
                stats.bytes += len(raw)
            yield Message(f"imap:{folder}:{uid}", _aware(data.get(b"INTERNALDATE")), raw)


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
