"""A tiny scripted DNS server on loopback, for failure modes rbldnsd will not produce.

Real blocklist behaviour is tested against rbldnsd; this fake exists for what a real list
(or the resolver in front of it) does when it is broken or hostile: SERVFAIL, REFUSED,
silence, garbage, answers to another question, truncated answers whose TCP retry fails,
CNAME loops and chains that end nowhere, answer records owned by another name (down to a
compression pointer that points at itself), failures of one record type while another works,
NXDOMAIN for everything. Responses are built with dnspython where dnspython can write them,
so our own wire codec is checked against an independent implementation; the few packets it
refuses to write are assembled by hand.

TCP (the retry after a truncated UDP answer) is one of: ``"refuse"`` (the port is held but
not listening: connection refused), ``"close"`` (accepted, then closed without a word),
``"hang"`` (accepted, never answered) or ``"serve"`` (answered by ``tcp_handler``, default
the UDP handler).
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from collections.abc import Callable, Mapping

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

Handler = Callable[[dns.message.Message], bytes | None]


class FakeDnsServer:
    """Answers each query with whatever ``handler`` returns (None: stay silent)."""

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        *,
        tcp: str = "refuse",
        tcp_handler: Handler | None = None,
    ) -> None:
        if tcp not in ("refuse", "close", "hang", "serve"):
            raise ValueError(f"unknown TCP behaviour {tcp!r}")
        self.handler = handler
        self.tcp_mode = tcp
        self.tcp_handler = tcp_handler or handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()
        self.queries: list[str] = []
        self.questions: list[tuple[str, str]] = []  # (name, type) of every UDP query
        self.tcp_queries: list[str] = []
        self.tcp_connections = 0
        self._stop = threading.Event()
        # The TCP port is always held, so "refuse" is a refusal, never someone else's server.
        self.tcp_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp_sock.bind((host, self.port))
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        if tcp != "refuse":
            self.tcp_sock.listen(16)
            self.tcp_sock.settimeout(0.1)
            self._threads.append(threading.Thread(target=self._serve_tcp, daemon=True))
        for thread in self._threads:
            thread.start()

    @property
    def nameserver(self) -> str:
        return f"{self.host}:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            q = query.question[0]
            self.queries.append(q.name.to_text())
            self.questions.append((q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)))
            reply = self.handler(query)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        held: list[socket.socket] = []
        while not self._stop.is_set():
            try:
                conn, _peer = self.tcp_sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.tcp_connections += 1
            if self.tcp_mode == "close":
                conn.close()
            elif self.tcp_mode == "hang":
                held.append(conn)
            else:
                with conn:
                    self._answer_tcp(conn)
        for conn in held:
            conn.close()

    def _answer_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            size = int.from_bytes(_recv_exact(conn, 2), "big")
            query = dns.message.from_wire(_recv_exact(conn, size))
            self.tcp_queries.append(query.question[0].name.to_text())
            reply = self.tcp_handler(query)
            if reply is not None:
                conn.sendall(len(reply).to_bytes(2, "big") + reply)
        except (OSError, dns.exception.DNSException):
            return

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1)
        self.sock.close()
        self.tcp_sock.close()


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def rcode_reply(rcode: int) -> Handler:
    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        response.set_rcode(rcode)
        return response.to_wire()

    return handler


def a_reply(*codes: str, txt: str | None = None) -> Handler:
    """Every A query answered with these codes; TXT with ``txt``."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        q = query.question[0]
        if q.rdtype == dns.rdatatype.A and codes:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", *codes))
        elif q.rdtype == dns.rdatatype.TXT and txt:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", "TXT", f'"{txt}"'))
        return response.to_wire()

    return handler


def silent(_query: dns.message.Message) -> None:
    return None


# --- handlers for the faults a real list or resolver shows --------------------------------


def _qname(query: dns.message.Message) -> str:
    return query.question[0].name.to_text()


def truncated(*codes: str) -> Handler:
    """UDP answers with the TC bit set and (at most) part of the answer: ``codes`` are the
    records that "fit" (a client that keeps them reads a partial answer as the whole)."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.TC
        if codes and query.question[0].rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(_qname(query), 60, "IN", "A", *codes))
        return response.to_wire()

    return handler


def cname_chain(*targets: str, rcode: int = dns.rcode.NOERROR) -> Handler:
    """The question name is a CNAME to ``targets[0]``, which is a CNAME to ``targets[1]``, ...;
    the last target has no record of the asked type. A target equal to an earlier name (or
    the question's) makes a loop."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        response.set_rcode(rcode)
        names = [_qname(query), *targets]
        for owner, target in itertools.pairwise(names):
            response.answer.append(dns.rrset.from_text(owner, 60, "IN", "CNAME", target))
        return response.to_wire()

    return handler


def cname_loop() -> Handler:
    """The question name is a CNAME to ``loop.invalid.``, a CNAME back to the question."""

    def handler(query: dns.message.Message) -> bytes:
        return cname_chain("loop.invalid.", _qname(query))(query)

    return handler


def wrong_owner(owner: str, *codes: str) -> Handler:
    """A records for another name than the one asked (what a confused or spoofing server
    sends); the question itself is echoed correctly."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(owner, 60, "IN", "A", *codes))
        return response.to_wire()

    return handler


def self_pointing_owner(code: str) -> Handler:
    """One A record whose owner name is a compression pointer to itself: a name that cannot
    be decoded (a loop), hand-assembled because no DNS library writes it."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        wire = bytearray(response.to_wire())
        wire[6:8] = (1).to_bytes(2, "big")  # ANCOUNT = 1
        here = len(wire)
        wire += bytes([0xC0 | (here >> 8), here & 0xFF])
        wire += struct.pack("!HHIH", 1, 1, 60, 4) + bytes(int(x) for x in code.split("."))
        return bytes(wire)

    return handler


def by_type(handlers: Mapping[str, Handler], default: Handler | None = None) -> Handler:
    """Dispatch on the asked type ("A", "AAAA", "TXT"): one type can fail while another
    works. Types not given go to ``default`` (NXDOMAIN when None)."""
    fallback = default or rcode_reply(dns.rcode.NXDOMAIN)

    def handler(query: dns.message.Message) -> bytes | None:
        rdtype = dns.rdatatype.to_text(query.question[0].rdtype)
        return handlers.get(rdtype, fallback)(query)

    return handler


def table(
    records: Mapping[tuple[str, str], list[str]],
    faults: Mapping[tuple[str, str], Handler] | None = None,
    default: Handler | None = None,
) -> Handler:
    """Answers from ``{(name, type): [values]}`` (names absolute, lower case); ``faults``
    maps a (name, type) to a handler of its own (a failure for that question only). Other
    questions for a known name are NODATA; for unknown names ``default`` answers
    (NXDOMAIN when None) — e.g. a list that answers its test entry and fails the rest."""
    special = dict(faults or {})

    def handler(query: dns.message.Message) -> bytes | None:
        q = query.question[0]
        key = (q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype))
        if key in special:
            return special[key](query)
        if default is not None and not any(name == key[0] for name, _t in records):
            return default(query)
        response = dns.message.make_response(query)
        values = records.get(key)
        if values:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", key[1], *values))
        elif not any(name == key[0] for name, _t in records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    return handler


def nxdomain_for_everything() -> Handler:
    """What a resolver without Internet access, or a filtering one, says to every list."""
    return rcode_reply(dns.rcode.NXDOMAIN)


@pytest.fixture
def fake():
    """Start FakeDnsServers for one test (``fake(handler, **kw)``); all closed after it."""
    servers: list[FakeDnsServer] = []

    def start(handler: Handler, **kw) -> FakeDnsServer:
        servers.append(FakeDnsServer(handler, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
