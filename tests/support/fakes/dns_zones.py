"""Several fake blocklist zones behind one :class:`~tests.support.fakes.dns_server.FakeDnsServer`.

A fault matrix needs lists that behave differently in the same run: a dead list that
answers "listed" for everything, one that times out, one that works and lists a few
addresses. :func:`by_zone` routes each query to the handler of the zone it falls in.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from tests.support.fakes.dns_server import Handler


def by_zone(handlers: dict[str, Handler], default: Handler | None = None) -> Handler:
    """Answer each query with the handler of the (longest) zone its name is in."""
    zones = sorted(
        ((dns.name.from_text(z), h) for z, h in handlers.items()), key=lambda x: -len(x[0])
    )

    def handler(query: dns.message.Message) -> bytes | None:
        name = query.question[0].name
        for zone, h in zones:
            if name.is_subdomain(zone):
                return h(query)
        if default is not None:
            return default(query)
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.REFUSED)
        return response.to_wire()

    return handler


def _reversed_v4(name: dns.name.Name, zone: str) -> str | None:
    labels = name.relativize(dns.name.from_text(zone)).to_text().split(".")
    return ".".join(reversed(labels)) if len(labels) == 4 else None


def listing(
    zone: str, listed: Iterable[str], code: str = "127.0.0.2", txt: bytes | None = None
) -> Handler:
    """An IPv4 list that lists ``listed`` and its RFC 5782 test entry 127.0.0.2 (A ``code``),
    TXT ``txt`` (raw bytes, control characters and all) for each listing."""
    wanted = {*listed, "127.0.0.2"}

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        q = query.question[0]
        if _reversed_v4(q.name, zone) not in wanted:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif q.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", code))
        elif q.rdtype == dns.rdatatype.TXT and txt is not None:
            rdata = dns.rdata.from_wire(
                dns.rdataclass.IN, dns.rdatatype.TXT, bytes([len(txt)]) + txt, 0, len(txt) + 1
            )
            response.answer.append(dns.rrset.from_rdata(q.name, 60, rdata))
        return response.to_wire()

    return handler


def everything_listed(_zone: str) -> Handler:
    """A dead list: 127.0.0.2 for every name, the never-listed 127.0.0.1 too."""

    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        q = query.question[0]
        if q.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", "127.0.0.2"))
        return response.to_wire()

    return handler
