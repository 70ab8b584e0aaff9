"""An asynchronous stub resolver built for many small DNSBL questions at once.

Every question of a run (real queries and RFC 5782 self-tests) is sent concurrently, capped
by a semaphore so free lists are not flooded, and bounded by two clocks: a per-question
timeout and one deadline for the whole run (so ``-t`` always wins and the plugin still has
time to print what it learnt). A failed question is an :class:`Reply` with ``error`` set —
never silently an empty answer. UDP sockets are *connected*: only the nameserver's own
packets are read, and an ICMP "port unreachable" fails the question at once instead of
waiting for a timeout.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass

from . import dnswire

#: How many UDP sockets (source ports) per nameserver: more ports make blind spoofing harder
#: and spread the 16-bit id space; a handful is enough for thousands of questions.
SOCKETS_PER_SERVER = 4


@dataclass(frozen=True)
class Nameserver:
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


@dataclass(frozen=True)
class Question:
    name: str  # absolute, with trailing dot
    rdtype: int


@dataclass(frozen=True)
class Reply:
    """The outcome of one question. ``error`` is None only for a usable answer."""

    question: Question
    rcode: str | None  # "NOERROR", "NXDOMAIN", ... or None when nothing came back
    records: tuple[str, ...]
    error: str | None  # "timeout", "SERVFAIL", "REFUSED", "malformed answer", ...
    elapsed: float
    nameserver: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Channel(asyncio.DatagramProtocol):
    """One connected UDP socket and the questions waiting on it, keyed by message id."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[bytes, asyncio.Future[dnswire.Response]]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        qid = dnswire.response_id(data)
        entry = self.pending.get(qid) if qid is not None else None
        if entry is None:
            return  # late, duplicate or stray: ignore
        question, fut = entry
        try:
            response = dnswire.parse_response(data, question)
        except dnswire.WireError:
            return  # not an answer to our question: keep waiting for the real one
        if not fut.done():
            fut.set_result(response)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors are per socket, not per id: fail everything waiting here.
        for _question, fut in list(self.pending.values()):
            if not fut.done():
                fut.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionError("socket closed"))


class StubResolver:
    """Ask a fixed list of nameservers many questions concurrently.

    ``query_timeout`` bounds one question (with retransmissions at a third of it, rotating
    through the nameservers); ``deadline`` (a :func:`time.monotonic` value) bounds them all.
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
        self.nameservers = nameservers
        self.query_timeout = query_timeout
        self.concurrency = max(1, concurrency)
        self.deadline = deadline
        self.recursion = recursion
        self._channels: dict[Nameserver, list[_Channel]] = {}
        self._rng = random.SystemRandom()

    async def _channel(self, server: Nameserver) -> _Channel:
        channels = self._channels.setdefault(server, [])
        if len(channels) < SOCKETS_PER_SERVER:
            loop = asyncio.get_running_loop()
            _transport, proto = await loop.create_datagram_endpoint(
                _Channel, remote_addr=(server.host, server.port)
            )
            channels.append(proto)
            return proto
        return min(channels, key=lambda c: len(c.pending))

    def close(self) -> None:
        for channels in self._channels.values():
            for ch in channels:
                if ch.transport is not None:
                    ch.transport.close()
        self._channels.clear()

    def _remaining(self, started: float) -> float:
        limit = started + self.query_timeout
        if self.deadline is not None:
            limit = min(limit, self.deadline)
        return limit - time.monotonic()

    async def _attempt(
        self, server: Nameserver, wire_question: bytes, name: str, rdtype: int
    ) -> asyncio.Future[dnswire.Response]:
        channel = await self._channel(server)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dnswire.Response] = loop.create_future()
        for _ in range(8):
            qid = self._rng.randrange(65536)
            if qid not in channel.pending:
                break
        else:
            raise RuntimeError("no free message id")
        channel.pending[qid] = (wire_question, fut)
        fut.add_done_callback(lambda _f, c=channel, q=qid: c.pending.pop(q, None))
        assert channel.transport is not None
        channel.transport.sendto(dnswire.build_query(qid, name, rdtype, self.recursion))
        return fut

    async def ask(self, question: Question) -> Reply:
        """One question, answered or failed within the per-question and run bounds.

        The first attempt goes to one nameserver; a lost packet is retransmitted every third
        of the question's timeout and a failing server (SERVFAIL, REFUSED, ICMP) hands over
        to the next at once. The first usable response wins.
        """
        started = time.monotonic()
        try:
            wire_question = dnswire.question_bytes(
                dnswire.build_query(0, question.name, question.rdtype)
            )
        except dnswire.WireError as exc:
            return Reply(question, None, (), f"bad query name: {exc}", 0.0, None)
        offset = self._rng.randrange(len(self.nameservers))
        servers = self.nameservers[offset:] + self.nameservers[:offset]
        max_attempts = 3 * len(servers)
        live: list[asyncio.Future[dnswire.Response]] = []
        last_error, last_server, tried = "timeout", None, 0
        try:
            while self._remaining(started) > 0:
                if tried < max_attempts:
                    server = servers[tried % len(servers)]
                    tried += 1
                    last_server = str(server)
                    try:
                        fut = await self._attempt(
                            server, wire_question, question.name, question.rdtype
                        )
                        live.append(fut)
                    except OSError as exc:
                        last_error = f"network error: {exc.strerror or exc}"
                        continue
                elif not live:
                    break
                step = min(self._remaining(started), self.query_timeout / 3)
                if step <= 0:
                    break
                await asyncio.wait(live, timeout=step, return_when=asyncio.FIRST_COMPLETED)
                for fut in [f for f in live if f.done()]:
                    live.remove(fut)
                    outcome = self._judge(fut)
                    if isinstance(outcome, str):
                        last_error = outcome
                        continue
                    if outcome.truncated:
                        return await self._over_tcp(question, started, last_server)
                    return self._reply(question, outcome, started, last_server)
        finally:
            for fut in live:
                fut.cancel()
        return Reply(question, None, (), last_error, time.monotonic() - started, last_server)

    @staticmethod
    def _judge(fut: asyncio.Future[dnswire.Response]) -> dnswire.Response | str:
        """A usable response, or the error text for this attempt."""
        if fut.cancelled():
            return "cancelled"
        exc = fut.exception()
        if exc is not None:
            if isinstance(exc, ConnectionRefusedError):
                return "connection refused"
            return f"network error: {exc}"
        response = fut.result()
        if response.rcode in (0, 3):
            return response
        return response.rcode_name

    def _reply(
        self, question: Question, response: dnswire.Response, started: float, server: str | None
    ) -> Reply:
        return Reply(
            question,
            response.rcode_name,
            response.records,
            None,
            time.monotonic() - started,
            server,
        )

    async def _over_tcp(self, question: Question, started: float, server: str | None) -> Reply:
        """A truncated UDP answer: ask again over TCP (rare for DNSBLs, so plain code)."""
        ns = self.nameservers[0]
        remaining = self._remaining(started)
        if remaining <= 0:
            return Reply(question, None, (), "timeout", time.monotonic() - started, server)
        qid = self._rng.randrange(65536)
        wire = dnswire.build_query(qid, question.name, question.rdtype, self.recursion)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(ns.host, ns.port), remaining
            )
            try:
                writer.write(len(wire).to_bytes(2, "big") + wire)
                size = int.from_bytes(
                    await asyncio.wait_for(reader.readexactly(2), self._remaining(started)), "big"
                )
                data = await asyncio.wait_for(reader.readexactly(size), self._remaining(started))
            finally:
                writer.close()
            response = dnswire.parse_response(data, dnswire.question_bytes(wire))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, dnswire.WireError) as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else f"TCP retry failed: {exc}"
            return Reply(question, None, (), kind, time.monotonic() - started, str(ns))
        if response.rcode not in (0, 3):
            return Reply(
                question,
                response.rcode_name,
                (),
                response.rcode_name,
                time.monotonic() - started,
                str(ns),
            )
        return self._reply(question, response, started, str(ns))

    async def ask_all(self, questions: Iterable[Question]) -> dict[Question, Reply]:
        """Every question concurrently (at most ``concurrency`` in flight); one reply each."""
        unique = list(dict.fromkeys(questions))
        gate = asyncio.Semaphore(self.concurrency)

        async def bounded(q: Question) -> Reply:
            async with gate:
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    return Reply(q, None, (), "timeout (run deadline)", 0.0, None)
                return await self.ask(q)

        try:
            replies = await asyncio.gather(*(bounded(q) for q in unique))
        finally:
            self.close()
        return {r.question: r for r in replies}
