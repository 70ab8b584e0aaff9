"""The sender's path a bounce returned, and which machine of it a cited address is.

The incident: the bounce said "client [IP] blocked using psbl.surriel.com", the admin's own
server was clean, and the listed address was the provider's virus-scan relay between it
and the Internet. The bounce carried the answer in its returned headers.

*Your path* is the servers the message passed, as the returned Received chain names them
(each line's ``by`` host, oldest first; consecutive lines of one host, such as a content
filter's re-injection, are one server): hop 1 is the server the message was submitted to,
hop 2 the relay after it, and so on. (check_relay_chain counts Received lines instead, each
named by its client, so there the submitting client is hop 1.) A server's address is the
client address the next line recorded; the last server's address appears in no returned
line, because the refused delivery wrote none. It is known when that server handed the
bounce to us itself: the line our own server wrote about that client (the trusted hand-off,
:mod:`mailrep.relay.trust`) gives its address.

A cited address is placed:

1. on a server of the path whose address a returned line recorded (or on the client that
   submitted the message, the first line's client);
2. on the path's last server, when the bounce was handed to us from the cited address by a
   client calling itself by that server's name (or the DSN's Reporting-MTA);
3. nowhere: the cited address is not in the returned chain, which is said too.

Both chains are read with :func:`mailrep.relay.chain.build_chain`, the parser and trust
rules check_relay_chain uses; finding the returned header block in a bounce is
:mod:`mailrep.bounce.returned`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from mailrep.errors import CannotJudge
from mailrep.relay.chain import Chain, ChainHop, build_chain

#: A header block is read up to this size (real ones are a few KiB).
MAX_BLOCK_BYTES = 256 * 1024


class ReturnedPath(NamedTuple):
    """The returned chain of one bounce, and who handed the bounce itself to us."""

    chain: Chain | None  # the returned original's Received chain, None when it has none
    reporting_mta: str | None  # the DSN's Reporting-MTA name (lower case)
    handoff: ChainHop | None  # the trusted hand-off line of the bounce's own chain

    @property
    def hops(self) -> list[ChainHop]:
        return self.chain.hops if self.chain is not None else []

    def servers(self) -> list[PathHop]:
        return path(self)

    def locate(self, ip: str) -> Culprit:
        return locate(ip, self)

    def public_hops(self) -> list[str]:
        return public_hops(self)


def _chain(block: bytes, allow_nonglobal: bool) -> Chain | None:
    if b"received:" not in block[:MAX_BLOCK_BYTES].lower():
        return None
    try:
        return build_chain(block[:MAX_BLOCK_BYTES], allow_nonglobal=allow_nonglobal)
    except CannotJudge:
        return None


def read_path(
    returned: Iterable[bytes],
    bounce: bytes,
    reporting_mta: str | None = None,
    *,
    allow_nonglobal: bool = False,
) -> ReturnedPath:
    """The first returned header block that has a chain, and the hand-off of ``bounce``
    (the raw bounce, whose own header block says who delivered it). Never raises."""
    try:
        chain = next((c for c in (_chain(b, allow_nonglobal) for b in returned) if c), None)
        own = _chain(bounce, allow_nonglobal)
        handoff = own.entry_hop if own is not None else None
        return ReturnedPath(chain, reporting_mta, handoff)
    except Exception:  # hostile headers cost us the path, never the run
        return ReturnedPath(None, reporting_mta, None)


class PathHop(NamedTuple):
    """One server of the sender's path."""

    number: int  # 1 = the server the message was submitted to; 0 = the submitting client
    name: str
    ip: str | None  # as the next returned line recorded it (or the bounce's hand-off)
    role: str  # "the submission server", "the relay after mail.example.org", ...


class Culprit(NamedTuple):
    """Where a cited address is on the path of the message that bounced."""

    ip: str
    hop: PathHop | None  # None: not in the returned chain
    how: str  # "returned chain", "bounce hand-off", or why it was not found
    last: PathHop | None = None  # the path's last server, named when the address is not found

    @property
    def found(self) -> bool:
        return self.hop is not None

    def phrase(self) -> str:
        """For the status line: ``av-relay.example, hop 2 of your path``."""
        if self.hop is None:
            return "not in the returned chain" if self.how != "no returned headers" else ""
        if self.hop.number == 0:
            return f"{self.hop.name}, the client that submitted it"
        return f"{self.hop.name}, hop {self.hop.number} of your path"

    def sentence(self) -> str:
        """For the long output: the place, its role, and how it was found."""
        if self.hop is None:
            if self.how == "no returned headers":
                return f"{self.ip}: the bounce returned no Received headers"
            tail = ""
            if self.last is not None:
                tail = f" (its last server: {self.last.name}, hop {self.last.number})"
            return f"{self.ip} is not in the returned chain{tail}"
        where = (
            "the client that submitted the message"
            if self.hop.number == 0
            else f"hop {self.hop.number} of your path, {self.hop.role}"
        )
        source = (
            "the address that handed the bounce to you"
            if self.how == "bounce hand-off"
            else "recorded in the returned headers"
        )
        return f"{self.ip} is {self.hop.name}, {where} ({source})"


def _client_name(hop: ChainHop) -> str:
    """The client's name as the line gives it; its address when it gave only a literal."""
    h = hop.hop
    name = h.rdns or h.helo or h.from_name
    if not name or name.startswith("["):
        return hop.ip or "unknown"
    return name


def _servers(hops: list[ChainHop]) -> tuple[list[PathHop], list[int | None]]:
    """The path's servers and, for each returned line, the server its client was: the one
    before the line's writer for the first line a server wrote, the writer itself for its
    later lines (a content filter's re-injection), -1 for the submitting client, None when
    the line names no writer."""
    names: list[str] = []
    writer: list[int] = []
    for ch in hops:
        by = (ch.hop.by or "").strip().rstrip(".")
        if by and (not names or names[-1].lower() != by.lower()):
            names.append(by)
        writer.append(len(names) - 1 if by else -2)
    client_of: list[int | None] = []
    seen: set[int] = set()
    for k in writer:
        if k == -2:
            client_of.append(None)
        elif k in seen:
            client_of.append(k)
        else:
            seen.add(k)
            client_of.append(k - 1)
    ips: list[str | None] = [None] * len(names)
    for i, (ch, client) in enumerate(zip(hops, client_of, strict=True)):
        # only a server's first line records the server before it as its client
        if client is not None and 0 <= client != writer[i] and ch.ip and ips[client] is None:
            ips[client] = ch.ip
    servers = []
    for i, name in enumerate(names):
        role = "the submission server" if i == 0 else f"the relay after {names[i - 1]}"
        servers.append(PathHop(i + 1, name, ips[i], role))
    return servers, client_of


def path(returned: ReturnedPath) -> list[PathHop]:
    """The servers of the path, with the last one's address when the bounce's hand-off
    gives it (see :func:`locate`, case 2)."""
    servers, _ = _servers(returned.hops)
    if servers and servers[-1].ip is None and _handoff_is_last(returned, servers[-1]):
        assert returned.handoff is not None
        servers[-1] = servers[-1]._replace(ip=returned.handoff.ip)
    return servers


def _handoff_is_last(returned: ReturnedPath, last: PathHop) -> bool:
    hop = returned.handoff
    if hop is None or hop.ip is None:
        return False
    claimed = {n.lower().rstrip(".") for n in (hop.hop.rdns, hop.hop.helo, hop.hop.from_name) if n}
    known = {last.name.lower(), returned.reporting_mta or ""} - {""}
    return bool(claimed & known)


def locate(ip: str, returned: ReturnedPath) -> Culprit:
    """Place ``ip`` (a cited address, canonical form) on the path of ``returned``."""
    hops = returned.hops
    if not hops:
        return Culprit(ip, None, "no returned headers")
    servers, client_of = _servers(hops)
    for ch, k in zip(hops, client_of, strict=True):
        if ch.ip != ip or k is None:
            continue
        if k < 0:
            client = PathHop(0, _client_name(ch), ip, "the client that submitted the message")
            return Culprit(ip, client, "returned chain")
        return Culprit(ip, servers[k]._replace(ip=ip), "returned chain")
    last = path(returned)[-1] if servers else None
    if last is not None and last.ip == ip and _handoff_is_last(returned, last):
        return Culprit(ip, last, "bounce hand-off")
    return Culprit(ip, None, "not in the returned chain", last)


def public_hops(returned: ReturnedPath) -> list[str]:
    """The addresses of the path that --verify looks up: the returned chain's checked hops
    (public sender-side clients, no authenticated submission client; see
    :func:`mailrep.relay.chain.build_chain`) and the last server's hand-off address."""
    found = [ch.ip for ch in returned.hops if ch.checked and ch.ip]
    servers = path(returned)
    if servers and servers[-1].ip and returned.handoff is not None and returned.handoff.checked:
        found.append(servers[-1].ip)
    return list(dict.fromkeys(found))
