"""An asynchronous stub resolver built for many small DNSBL questions at once.

Every question of a run (real queries and RFC 5782 self-tests) is sent concurrently, capped
so free lists are not flooded, and bounded by two clocks: a per-question
timeout and one deadline for the whole run (so ``-t`` always wins and the plugin still has
time to print what it learnt). A failed question is an :class:`Reply` with ``error`` set —
never silently an empty answer. UDP sockets are *connected*: only the nameserver's own
packets are read, and an ICMP "port unreachable" fails the question at once instead of
waiting for a timeout.

It is a plain :mod:`selectors` loop rather than asyncio: importing asyncio alone costs
~17 ms and its per-datagram machinery more than the DNS work itself, and a plugin run is
one short burst of questions with nothing else to do meanwhile.
"""

from __future__ import annotations

import errno
import heapq
import random
import selectors
import socket
import time
from collections.abc import Iterable
from typing import NamedTuple

from mailrep.dns import wire as dnswire
from mailrep.dns.tcp import ask_over_tcp, os_error_text

#: How many UDP sockets (source ports) per nameserver: more ports make blind spoofing harder
#: and spread the 16-bit id space; a handful is enough for thousands of questions.
SOCKETS_PER_SERVER = 4


class Nameserver(NamedTuple):
    host: str
    port: int = 53

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """``HOST``, ``HOST:PORT``, ``[V6]:PORT`` or a bare IPv6 literal."""
    import ipaddress

    value = text.strip()
    host, port = value, 53
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket:
            raise ValueError(f"bad nameserver {text!r}")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad nameserver {text!r}")
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        port = int(p)
    if not host or not 0 < port < 65536:
        raise ValueError(f"bad nameserver {text!r}")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"nameserver must be an IP address: {text!r}") from None
    return Nameserver(host, port)


def system_nameservers(path: str = "/etc/resolv.conf") -> list[Nameserver]:
    """The ``nameserver`` lines of resolv.conf (what the C library would ask)."""
    servers: list[Nameserver] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    try:
                        servers.append(parse_nameserver(fields[1].split("%", 1)[0]))
                    except ValueError:
                        continue
    except OSError:
        return []
    return servers


class Question(NamedTuple):
    name: str  # absolute, with trailing dot
    rdtype: int


class Reply(NamedTuple):
    """The outcome of one question. ``error`` is None only for a usable answer."""

    question: Question
    rcode: str | None  # "NOERROR", "NXDOMAIN", ... or None when nothing came back
    records: tuple[str, ...]
    error: str | None  # "timeout", "SERVFAIL", "REFUSED", "malformed answer", ...
    elapsed: float
    nameserver: str | None  # the server that gave this answer (or was asked last)
    cnames: tuple[str, ...] = ()  # CNAME chain the answer followed from the question name

    @property
    def ok(self) -> bool:
        return self.error is None


class _Pending:
    """A question in flight: its attempts so far and when to act next."""

    __slots__ = ("attempts", "done", "last_error", "last_server", "question", "started", "wire_q")

    def __init__(self, question: Question, wire_q: bytes, started: float) -> None:
        self.question = question
        self.wire_q = wire_q
        self.started = started
        self.attempts = 0
        self.done = False
        self.last_error = "timeout"
        self.last_server: str | None = None


class _Channel:
    """One connected UDP socket to one nameserver and the ids waiting on it."""

    __slots__ = ("server", "sock", "waiting")

    def __init__(self, server: Nameserver, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.waiting: dict[int, _Pending] = {}


class StubResolver:
    """Ask a fixed list of nameservers many questions concurrently.

    ``query_timeout`` bounds one question (retransmitted every third of it, rotating through
    the nameservers); ``deadline`` (a :func:`time.monotonic` value) bounds them all.
    """

    def __init__(
        self,
        nameservers: list[Nameserver],
        *,
        query_timeout: float = 4.0,
        concurrency: int = 100,
        deadline: float | None = None,
        recursion: bool = True,
    ) -> None:
        if not nameservers:
            raise ValueError("no nameserver to ask")
        self.nameservers = list(nameservers)
        self.query_timeout = query_timeout
        self.concurrency = max(1, concurrency)
        self.deadline = deadline
        self.recursion = recursion
        self._rng = random.SystemRandom()
        self._offset = self._rng.randrange(len(self.nameservers))  # spread load over servers
        self._timers: list[tuple[float, int, _Pending]] = []
        self._seq = 0

    def _schedule(self, when: float, pending: _Pending) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, pending))

    # -- the loop ---------------------------------------------------------------------------

    def ask_all(self, questions: Iterable[Question]) -> dict[Question, Reply]:
        """Every question, at most ``concurrency`` in flight; exactly one reply each."""
        todo = list(dict.fromkeys(questions))
        replies: dict[Question, Reply] = {}
        selector = selectors.DefaultSelector()
        channels: dict[Nameserver, list[_Channel]] = {}
        timers: list[tuple[float, int, _Pending]] = []
        self._timers = timers
        active = 0
        nxt = 0
        try:
            while nxt < len(todo) or active:
                now = time.monotonic()
                while nxt < len(todo) and active < self.concurrency:
                    question = todo[nxt]
                    nxt += 1
                    pending = self._start(question, now, replies)
                    if pending is not None:
                        active += 1
                        self._schedule(now, pending)
                if not active:
                    break
                wake = timers[0][0] if timers else now + 0.1
                for key, _events in selector.select(max(0.0, wake - time.monotonic())):
                    active -= self._receive(key.data, replies)
                now = time.monotonic()
                while timers and timers[0][0] <= now:
                    _when, _s, pending = heapq.heappop(timers)
                    if pending.done:
                        continue
                    again = self._tick(pending, now, selector, channels, replies)
                    if again is None:
                        active -= 1
                    else:
                        self._schedule(again, pending)
        finally:
            for chans in channels.values():
                for ch in chans:
                    selector.unregister(ch.sock)
                    ch.sock.close()
            selector.close()
        return replies

    def _start(
        self, question: Question, now: float, replies: dict[Question, Reply]
    ) -> _Pending | None:
        if self.deadline is not None and now >= self.deadline:
            replies[question] = Reply(question, None, (), "timeout (run deadline)", 0.0, None)
            return None
        try:
            wire_q = dnswire.question_bytes(dnswire.build_query(0, question.name, question.rdtype))
        except dnswire.WireError as exc:
            replies[question] = Reply(question, None, (), f"bad query name: {exc}", 0.0, None)
            return None
        return _Pending(question, wire_q, now)

    def _limit(self, pending: _Pending) -> float:
        limit = pending.started + self.query_timeout
        return min(limit, self.deadline) if self.deadline is not None else limit

    def _tick(
        self,
        pending: _Pending,
        now: float,
        selector: selectors.BaseSelector,
        channels: dict[Nameserver, list[_Channel]],
        replies: dict[Question, Reply],
    ) -> float | None:
        """Send the next attempt or give up; returns when to look at this question again."""
        limit = self._limit(pending)
        if now >= limit or pending.attempts >= 3 * len(self.nameservers):
            if now < limit and pending.attempts:
                return limit  # all attempts sent: wait for late answers until the limit
            self._finish(pending, replies, None)
            return None
        server = self.nameservers[(self._offset + pending.attempts) % len(self.nameservers)]
        pending.attempts += 1
        pending.last_server = str(server)
        try:
            channel = self._channel(server, selector, channels)
            qid = self._free_id(channel)
            channel.waiting[qid] = pending
            channel.sock.send(
                dnswire.build_query(
                    qid, pending.question.name, pending.question.rdtype, self.recursion
                )
            )
        except OSError as exc:
            pending.last_error = os_error_text(exc)
            return now  # try the next server at once
        return min(limit, now + self.query_timeout / 3)

    def _channel(
        self,
        server: Nameserver,
        selector: selectors.BaseSelector,
        channels: dict[Nameserver, list[_Channel]],
    ) -> _Channel:
        chans = channels.setdefault(server, [])
        if len(chans) < SOCKETS_PER_SERVER:
            family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                sock.connect((server.host, server.port))
            except OSError:
                sock.close()
                raise
            channel = _Channel(server, sock)
            selector.register(sock, selectors.EVENT_READ, channel)
            chans.append(channel)
            return channel
        return min(chans, key=lambda c: len(c.waiting))

    def _free_id(self, channel: _Channel) -> int:
        for _ in range(16):
            qid = self._rng.randrange(65536)
            if qid not in channel.waiting:
                return qid
        raise OSError(errno.EAGAIN, "no free message id")

    def _receive(self, channel: _Channel, replies: dict[Question, Reply]) -> int:
        """Read every datagram waiting on a socket; returns how many questions finished."""
        finished = 0
        for _ in range(1024):
            try:
                data = channel.sock.recv(65535)
            except BlockingIOError:
                break
            except OSError as exc:
                # ICMP errors are per socket, not per id: every question waiting here failed
                # on this server.
                failed = list(channel.waiting.values())
                channel.waiting.clear()
                for failing in failed:
                    failing.last_error = os_error_text(exc)
                    finished += self._server_failed(failing, replies)
                break
            qid = dnswire.response_id(data)
            if qid is None:
                continue  # too short to be an answer
            waiting = channel.waiting.get(qid)
            if waiting is None or waiting.done:
                continue  # late, duplicate or stray
            pending = waiting
            try:
                response: dnswire.Response | None = dnswire.parse_response(data, pending.wire_q)
            except dnswire.MalformedAnswer as exc:
                response, pending.last_error = None, f"malformed answer ({exc})"
            except dnswire.WireError:
                continue  # not an answer to our question: keep waiting for the real one
            del channel.waiting[qid]
            pending.last_server = str(channel.server)
            if response is not None and response.truncated:
                response = self._over_tcp(pending, channel.server)
            if response is None or response.rcode not in (0, 3):
                if response is not None:
                    pending.last_error = response.rcode_name
                finished += self._server_failed(pending, replies)
                continue
            self._finish(pending, replies, response)
            finished += 1
        return finished

    def _server_failed(self, pending: _Pending, replies: dict[Question, Reply]) -> int:
        """A server said no (SERVFAIL, REFUSED, ICMP): try a server not yet asked, else fail.

        Asking the same server again would only repeat its answer. Returns 1 when the question
        is finished.
        """
        if pending.done:
            return 0
        if pending.attempts < len(self.nameservers):
            self._schedule(time.monotonic(), pending)
            return 0
        self._finish(pending, replies, None)
        return 1

    def _finish(
        self, pending: _Pending, replies: dict[Question, Reply], response: dnswire.Response | None
    ) -> None:
        pending.done = True
        elapsed = time.monotonic() - pending.started
        q = pending.question
        if response is None:
            replies[q] = Reply(q, None, (), pending.last_error, elapsed, pending.last_server)
        elif response.rcode not in (0, 3):
            replies[q] = Reply(
                q, response.rcode_name, (), response.rcode_name, elapsed, pending.last_server
            )
        else:
            replies[q] = Reply(
                q,
                response.rcode_name,
                response.records,
                None,
                elapsed,
                pending.last_server,
                response.cnames,
            )

    def _over_tcp(self, pending: _Pending, server: Nameserver) -> dnswire.Response | None:
        """A truncated UDP answer, asked again over TCP at the server that sent it; None
        (with ``last_error`` saying why) when that gives no whole answer."""
        q = pending.question
        remaining = self._limit(pending) - time.monotonic()
        got = ask_over_tcp(server.host, server.port, (q.name, q.rdtype), self.recursion, remaining)
        if isinstance(got, str):
            pending.last_error = got
            return None
        return got
