"""An IMAP connection that cannot outlive the run: every read and write has a deadline.

A socket timeout bounds one ``recv``, not a conversation: a server that sends one byte every
half second never trips it, and after ``-t`` a polite LOGOUT waited a whole socket timeout
more. So the connection's reads go through :class:`_Bounded`, which sets the socket's
timeout before each ``recv`` to what is left until the deadline (a ``time.monotonic()``
value) and raises ``TimeoutError`` once it has passed; LOGOUT gets a few seconds at most.
The overrides are ``imaplib.IMAP4``'s documented ``read``/``readline``/``send`` methods, so
the greeting, every response and every literal are covered; the TLS handshake is bounded
per step by the socket timeout and, as a whole, by the run's alarm.

A literal is read only up to :data:`MAX_LITERAL` bytes: a server that announces
``{99999999999}`` gets an error, not the process's memory. A non-ASCII user name or
password is sent with ``AUTHENTICATE PLAIN`` (RFC 4616: UTF-8), since LOGIN's strings are
ASCII only (imaplib cannot even encode one).
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
import time
from typing import Any

from mailrep.mail.message import ImapSettings, SourceError

#: The largest literal (one message, or one header block) accepted from a server.
MAX_LITERAL = 100 * 1024 * 1024
#: What LOGOUT may take once the work is done (or the run is ending): it only says goodbye.
CLOSE_SECONDS = 2.0
_CHUNK = 65536
_MAXLINE = 1_000_000  # as imaplib: no response line (outside literals) is longer


class _Bounded:
    """Mixin for ``imaplib.IMAP4`` classes: read, readline and send within a deadline."""

    sock: Any

    def _bound(self, deadline: float | None, cap: float) -> None:
        self._deadline = deadline
        self._cap = cap
        self._buffer = bytearray()
        self._buffer_sock: Any = None

    def limit(self, seconds: float) -> None:
        """From now on, at most ``seconds`` more (never later than the deadline)."""
        until = time.monotonic() + seconds
        self._deadline = until if self._deadline is None else min(self._deadline, until)

    def _left(self) -> float:
        return _left(self._deadline, self._cap)

    def _fill(self) -> None:
        if self.sock is not self._buffer_sock:  # STARTTLS: nothing read in clear survives
            self._buffer, self._buffer_sock = bytearray(), self.sock
        self.sock.settimeout(self._left())
        chunk = self.sock.recv(_CHUNK)
        if not chunk:
            raise imaplib.IMAP4.abort("the server closed the connection")
        self._buffer += chunk

    def read(self, size: int) -> bytes:
        if size > MAX_LITERAL:
            raise imaplib.IMAP4.abort(
                f"the server announced a literal of {size} bytes (at most {MAX_LITERAL} are read)"
            )
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self) -> bytes:
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > _MAXLINE:
                raise imaplib.IMAP4.error(f"got more than {_MAXLINE} bytes in one line")
            start = len(self._buffer)
            self._fill()

    def send(self, data: bytes) -> None:
        self.sock.settimeout(self._left())
        self.sock.sendall(data)


def _client_class() -> Any:
    """IMAPClient whose imaplib connection is bounded (imported lazily: start-up cost)."""
    from imapclient import IMAPClient
    from imapclient.imap4 import IMAP4WithTimeout
    from imapclient.tls import IMAP4_TLS

    class Plain(_Bounded, IMAP4WithTimeout):
        def __init__(self, host: str, port: int, timeout: Any, bounds: tuple[Any, float]):
            self._bound(*bounds)
            super().__init__(host, port, timeout)

    class Tls(_Bounded, IMAP4_TLS):
        def __init__(self, host: str, port: int, context: Any, timeout: Any, bounds: Any):
            self._bound(*bounds)
            super().__init__(host, port, context, timeout)

    class Client(IMAPClient):
        def __init__(self, *args: Any, bounds: tuple[float | None, float], **kw: Any) -> None:
            self._mailrep_bounds = bounds
            super().__init__(*args, **kw)

        def _create_IMAP4(self) -> Any:  # IMAPClient's hook that builds the imaplib object
            connect = getattr(self._timeout, "connect", None)
            if self.ssl:
                return Tls(self.host, self.port, self.ssl_context, connect, self._mailrep_bounds)
            return Plain(self.host, self.port, connect, self._mailrep_bounds)

    return Client


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
    text = text.removeprefix("socket error: ")  # imaplib's wrapping of an OSError
    return " ".join(text.split()) or type(exc).__name__


def _left(deadline: float | None, cap: float) -> float:
    """Seconds the next step may take: ``cap``, never past ``deadline`` (then TimeoutError)."""
    if deadline is None:
        return cap
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out at the run's deadline")
    return min(cap, left)


def connect(
    settings: ImapSettings, timeout: float | None = None, deadline: float | None = None
) -> Any:
    """A logged-in IMAPClient (not yet in a folder); every failure is a SourceError.

    ``timeout`` caps one network step (default ``settings.timeout``); ``deadline`` (default
    ``settings.deadline``) ends the whole conversation.
    """
    from imapclient.exceptions import IMAPClientError

    where = f"IMAP {settings.host}:{settings.effective_port}"
    cap = settings.timeout if timeout is None else timeout
    deadline = settings.deadline if deadline is None else deadline
    context = (
        None if settings.security == "none" else tls_context(settings.ca_file, settings.insecure)
    )
    try:
        client = _client_class()(
            settings.host,
            port=settings.effective_port,
            ssl=settings.security == "tls",
            ssl_context=context,
            timeout=_left(deadline, cap),
            bounds=(deadline, cap),
        )
    except (OSError, IMAPClientError) as exc:
        raise SourceError(f"{where}: cannot connect: {describe_error(exc)}") from None
    try:
        client.normalise_times = False  # aware INTERNALDATEs, not naive local time
        _start(client, settings, context, where)
    except BaseException:
        close(client)
        raise
    return client


def _start(client: Any, settings: ImapSettings, context: Any, where: str) -> None:
    """STARTTLS when asked, then LOGIN, or AUTHENTICATE PLAIN for a non-ASCII login."""
    from imapclient.exceptions import IMAPClientError, LoginError

    step = "STARTTLS"
    try:
        if settings.security == "starttls":
            client.starttls(context)
        step = "login"
        if (settings.user + settings.password).isascii():
            client.login(settings.user, settings.password)
            return
        if not client.has_capability("AUTH=PLAIN"):
            raise SourceError(
                f"{where}: the user name or password is not ASCII, and the server offers no "
                "AUTHENTICATE PLAIN to send it in UTF-8"
            )
        client.plain_login(settings.user, settings.password)
    except LoginError:
        raise SourceError(f"{where}: login failed for {settings.user}") from None
    except (OSError, IMAPClientError) as exc:
        raise SourceError(f"{where}: {step} failed: {describe_error(exc)}") from None


def close(client: Any) -> None:
    """LOGOUT within :data:`CLOSE_SECONDS` (none at all past the deadline), else drop the
    connection. Best effort: we are done, or already failing; the socket goes either way."""
    imap = getattr(client, "_imap", None)
    if isinstance(imap, _Bounded):
        imap.limit(CLOSE_SECONDS)
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
