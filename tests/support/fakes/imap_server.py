"""A small scripted IMAP4rev1 server on loopback, for the failures Dovecot will not produce.

Real mailbox behaviour is tested against Dovecot; this fake is for a server that is broken or
hostile: it stalls on one command, drips its answer a byte at a time, drops the connection in
the middle of a FETCH, announces a literal it never sends, or lists messages (SEARCH) that it
then does not hand out (FETCH). It speaks just enough IMAP for IMAPClient: the greeting,
CAPABILITY, LOGIN, AUTHENTICATE PLAIN, SELECT/EXAMINE, UID SEARCH, UID FETCH, NOOP, LOGOUT.

Every loop is bounded and stops by itself: a connection lives at most ``Script.life``
seconds, a stall waits in short steps for the client to hang up or the server to close, a
drip ends with its answer. ``close()`` stops the accept loop and joins every thread.
"""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
from dataclasses import dataclass, field

CAPABILITIES = "IMAP4rev1 AUTH=PLAIN UIDPLUS IDLE"
DATE = "04-Mar-2026 05:06:07 +0000"


@dataclass
class Script:
    """What the server holds and how it misbehaves.

    ``stall`` / ``drip``: the command (``GREETING``, ``LOGIN``, ``EXAMINE``, ``SEARCH``,
    ``FETCH``, ``LOGOUT``) at which the server stops answering, or answers one byte every
    ``drip_interval`` seconds. ``fetch_data=False``: FETCH answers OK with no data.
    ``drop_mid_fetch``: the connection is closed halfway through the first literal.
    ``literal_size``: the first FETCH announces a literal of this many bytes and sends none.
    """

    messages: dict[int, bytes] = field(default_factory=dict)
    stall: str | None = None
    drip: str | None = None
    drip_interval: float = 0.5
    fetch_data: bool = True
    drop_mid_fetch: bool = False
    literal_size: int | None = None
    plain_only: bool = False  # LOGIN refused: the client must use AUTHENTICATE PLAIN
    users: dict[str, str] = field(default_factory=lambda: {"alice": "pw"})
    life: float = 30.0


@dataclass
class Record:
    """What clients did: commands (without tags), and who logged in how."""

    commands: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (how, user, password)
    connections: int = 0
    closed_by_client: int = 0


class FakeImapServer:
    def __init__(self, script: Script, host: str = "127.0.0.1") -> None:
        self.script = script
        self.record = Record()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(8)
        self._listener.settimeout(0.1)
        self.host, self.port = self._listener.getsockname()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True, name="fake-imap")
        self._accepting.start()

    def __enter__(self) -> FakeImapServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._accepting.join(timeout=2)
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()

    # -- the connection ----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.record.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        session = _Session(self, conn, time.monotonic() + self.script.life)
        try:
            session.run()
        except (OSError, _Hangup):
            pass
        finally:
            conn.close()


class _Hangup(Exception):
    """The client went away, the server closed, or the connection's life ended."""


class _Session:
    def __init__(self, server: FakeImapServer, conn: socket.socket, ends: float) -> None:
        self.server, self.script, self.record = server, server.script, server.record
        self.conn, self.ends = conn, ends
        self.buffer = b""
        conn.settimeout(0.1)

    # -- bounded waiting and writing ---------------------------------------------------

    def alive(self) -> bool:
        return not self.server._stop.is_set() and time.monotonic() < self.ends

    def stall(self) -> None:
        """Say nothing until the client hangs up (or the server closes)."""
        while self.alive():
            try:
                if self.conn.recv(4096) == b"":
                    self.record.closed_by_client += 1
                    break
            except TimeoutError:
                continue
        raise _Hangup()

    def send(self, data: bytes, command: str) -> None:
        if self.script.stall == command:
            self.stall()
        if self.script.drip != command:
            self.conn.sendall(data)
            return
        for i in range(len(data)):
            if not self.alive():
                raise _Hangup()
            self.conn.sendall(data[i : i + 1])
            time.sleep(self.script.drip_interval)

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            if not self.alive():
                raise _Hangup()
            try:
                chunk = self.conn.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                self.record.closed_by_client += 1
                raise _Hangup()
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    # -- the protocol ------------------------------------------------------------------

    def run(self) -> None:
        self.send(f"* OK [CAPABILITY {CAPABILITIES}] fake ready\r\n".encode(), "GREETING")
        while self.alive():
            raw = self.line()
            tag, _, rest = raw.decode("utf-8", "replace").partition(" ")
            word, _, args = rest.partition(" ")
            command = word.upper()
            if command == "UID":
                word, _, args = args.partition(" ")
                command = word.upper()
            self.record.commands.append(f"{command} {args}".strip())
            if not self.dispatch(tag, command, args):
                return

    def dispatch(self, tag: str, command: str, args: str) -> bool:
        ok = f"{tag} OK done\r\n".encode()
        if command == "CAPABILITY":
            self.send(f"* CAPABILITY {CAPABILITIES}\r\n".encode() + ok, command)
        elif command == "LOGIN":
            self.login(tag, args)
        elif command == "AUTHENTICATE":
            self.authenticate(tag)
        elif command in ("SELECT", "EXAMINE"):
            self.select(tag, command)
        elif command == "SEARCH":
            uids = " ".join(str(uid) for uid in sorted(self.script.messages))
            self.send(f"* SEARCH {uids}\r\n".encode() + ok, command)
        elif command == "FETCH":
            self.fetch(tag, args)
        elif command == "LOGOUT":
            self.send(b"* BYE fake says goodbye\r\n" + ok, command)
            return False
        else:  # NOOP, ENABLE, ID, ...
            self.send(ok, command)
        return True

    def login(self, tag: str, args: str) -> None:
        user, password = (a.strip('"') for a in args.split(" ", 1))
        self.record.logins.append(("LOGIN", user, password))
        if self.script.plain_only or self.script.users.get(user) != password:
            self.send(f"{tag} NO [AUTHENTICATIONFAILED] no\r\n".encode(), "LOGIN")
        else:
            self.send(f"{tag} OK logged in\r\n".encode(), "LOGIN")

    def authenticate(self, tag: str) -> None:
        self.send(b"+ \r\n", "AUTHENTICATE")
        response = base64.b64decode(self.line())
        _authz, user, password = (p.decode("utf-8") for p in response.split(b"\0"))
        self.record.logins.append(("PLAIN", user, password))
        good = self.script.users.get(user) == password
        answer = "OK logged in" if good else "NO [AUTHENTICATIONFAILED] no"
        self.send(f"{tag} {answer}\r\n".encode(), "LOGIN")

    def select(self, tag: str, command: str) -> None:
        n = len(self.script.messages)
        nxt = max(self.script.messages, default=0) + 1
        mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
        text = (
            f"* {n} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT {nxt}] ok\r\n"
            f"* FLAGS (\\Seen \\Deleted)\r\n{tag} OK [{mode}] done\r\n"
        )
        self.send(text.encode(), command)

    def fetch(self, tag: str, args: str) -> None:
        wanted, _, items = args.partition(" ")
        uids = [uid for uid in _uids(wanted) if uid in self.script.messages]
        if not self.script.fetch_data:
            self.send(f"{tag} OK fetched nothing\r\n".encode(), "FETCH")
            return
        key = "BODY[HEADER]" if "HEADER" in items.upper() else "BODY[]"
        seqs = {uid: i + 1 for i, uid in enumerate(sorted(self.script.messages))}
        out = b""
        for uid in uids:
            head = f'* {seqs[uid]} FETCH (UID {uid} INTERNALDATE "{DATE}"'
            if "BODY" not in items.upper():
                out += f"{head})\r\n".encode()
                continue
            body = self.script.messages[uid]
            if key == "BODY[HEADER]":
                body = body.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            if self.script.literal_size is not None:
                self.send(f"{head} {key} {{{self.script.literal_size}}}\r\n".encode(), "FETCH")
                self.stall()
            if self.script.drop_mid_fetch:
                self.send(
                    f"{head} {key} {{{len(body)}}}\r\n".encode() + body[: len(body) // 2], "FETCH"
                )
                raise _Hangup()
            out += f"{head} {key} {{{len(body)}}}\r\n".encode() + body + b")\r\n"
        self.send(out + f"{tag} OK fetched\r\n".encode(), "FETCH")


def _uids(sequence_set: str) -> list[int]:
    out: list[int] = []
    for part in sequence_set.split(","):
        low, _, high = part.partition(":")
        if high == "*":
            high = "4294967295"
        if not re.fullmatch(r"\d+", low) or (high and not re.fullmatch(r"\d+", high)):
            continue
        a, b = int(low), int(high or low)
        out.extend(range(min(a, b), min(max(a, b), a + 100_000) + 1))
    return out


def message(n: int, subject: str = "") -> bytes:
    """An ordinary message with CRLF line ends, as IMAP hands them out."""
    return (
        f"From: sender{n}@example.org\r\nTo: alice@example.org\r\n"
        f"Subject: {subject or f'message {n}'}\r\nMessage-ID: <m{n}@example.org>\r\n"
        f"\r\nbody {n}\r\n"
    ).encode()
