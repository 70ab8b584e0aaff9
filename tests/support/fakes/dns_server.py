"""A tiny scripted UDP DNS server on loopback, for failure modes rbldnsd will not produce.

Real blocklist behaviour is tested against rbldnsd; this fake exists for what a real list
does when it is broken or hostile: SERVFAIL, REFUSED, silence, garbage, answers to another
question. Responses are built with dnspython so our own wire codec is checked against an
independent implementation.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import dns.message
import dns.rcode
import dns.rrset

Handler = Callable[[dns.message.Message], bytes | None]


class FakeDnsServer:
    """Answers each query with whatever ``handler`` returns (None: stay silent)."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()
        self.queries: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

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
            self.queries.append(query.question[0].name.to_text())
            reply = self.handler(query)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sock.close()


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
