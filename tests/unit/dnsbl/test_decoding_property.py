"""A property of the whole lookup core, from the bytes a server sends to the per-zone outcome.

For generated answers — any A records, in or out of 127/8, documented by the zone or not,
owned by the question, by it in other letter case, by another name or by a compression
pointer to itself, after a CNAME, in a CNAME loop, truncated (TCP refused), with any rcode —
sent by a loopback server and read by the real resolver and decoder:

* the outcome is LISTED or POLICY only when the answer is valid and matches the question
  and a code the zone documents as a listing (policy listing) is present;
* it is never CLEAN (nor LISTED) when the query failed: an error rcode, a truncated answer
  whose TCP retry failed, a record that does not match the question, a CNAME loop or a
  chain that ends without an A record.
"""

from __future__ import annotations

import ipaddress
import struct
import time
from typing import NamedTuple

import dns.message
import dns.name
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.dns.resolver import parse_nameserver
from mailrep.dnsbl import catalogue
from mailrep.dnsbl.catalogue import Meaning
from mailrep.dnsbl.lookup import Item, LookupSettings, Status, lookup

from tests.support.fakes.dns_server import FakeDnsServer, silent

CATALOGUE = catalogue.load_default()
ZONES = [
    CATALOGUE.get(name)
    for name in (
        "zen.spamhaus.org",
        "psbl.surriel.com",
        "bl.mailspike.net",
        "dnsbl.dronebl.org",
        "hostkarma.junkemailfilter.com",
        "dnsbl-2.uceprotect.net",
        "all.spamrats.com",
        "unknown.example.test",  # generic RFC 5782 decoding
    )
]
ITEM = Item.for_address(ipaddress.ip_address("192.0.2.7"))
TARGET = dns.name.from_text("t.example.test.").to_wire()
OTHER = dns.name.from_text("other.example.test.").to_wire()


class Spec(NamedTuple):
    rcode: int
    truncated: bool
    chain: str  # "none", "cname" (question -> t.example.test.), "loop"
    records: tuple[tuple[str, str], ...]  # (owner: exact|upper|other|self, code)


def _documented_codes(zone: catalogue.Zone) -> list[str]:
    return [str(r.first) for r in zone.rules if r.first is not None] + [
        str(r.last) for r in zone.rules if r.last is not None
    ]


def codes(zone: catalogue.Zone) -> st.SearchStrategy[str]:
    loopback = st.integers(0, 2**24 - 1).map(lambda n: str(ipaddress.IPv4Address(127 << 24 | n)))
    anywhere = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
    return st.one_of(st.sampled_from(_documented_codes(zone)), loopback, anywhere)


@st.composite
def cases(draw: st.DrawFn) -> tuple[catalogue.Zone, Spec]:
    zone = draw(st.sampled_from(ZONES))
    owner = st.sampled_from(["exact", "exact", "exact", "upper", "other", "self"])
    records = draw(st.lists(st.tuples(owner, codes(zone)), max_size=4))
    spec = Spec(
        rcode=draw(st.sampled_from([0, 0, 0, 3, 3, 1, 2, 4, 5])),
        truncated=draw(st.booleans().map(lambda b: b and draw(st.booleans()))),
        chain=draw(st.sampled_from(["none", "none", "cname", "loop"])),
        records=tuple(records),
    )
    return zone, spec


def _name_wire(final: str, qname: bytes, owner: str, here: int) -> bytes:
    name = qname if final == "question" else TARGET
    if owner == "exact":
        return b"\xc0\x0c" if final == "question" else name
    if owner == "upper":
        return name.upper()
    if owner == "other":
        return OTHER
    return bytes([0xC0 | (here >> 8), here & 0xFF])  # a pointer to itself


def _rr(owner: bytes, rtype: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata


def build(query: dns.message.Message, spec: Spec) -> bytes:
    """The response the spec describes, assembled byte by byte."""
    qname = query.question[0].name.to_wire()
    flags = 0x8180 | spec.rcode | (0x0200 if spec.truncated else 0)
    rrs: list[bytes] = []
    if spec.chain in ("cname", "loop"):
        rrs.append(_rr(b"\xc0\x0c", 5, TARGET))
    if spec.chain == "loop":
        rrs.append(_rr(TARGET, 5, b"\xc0\x0c"))
    final = "target" if spec.chain == "cname" else "question"
    body = b""
    head_len = 12 + len(qname) + 4
    for rr in rrs:
        body += rr
    for owner, code in spec.records:
        name = _name_wire(final, qname, owner, head_len + len(body))
        body += _rr(name, 1, ipaddress.IPv4Address(code).packed)
    header = struct.pack("!HHHHHH", query.id, flags, 1, len(rrs) + len(spec.records), 0, 0)
    return header + qname + struct.pack("!HH", 1, 1) + body


def failed(spec: Spec) -> bool:
    """The question failed: nothing in the answer may be believed."""
    return (
        spec.rcode not in (0, 3)
        or spec.truncated
        or spec.chain == "loop"
        or any(owner in ("other", "self") for owner, _ in spec.records)
        or (spec.rcode == 3 and bool(spec.records))
        or (spec.chain == "cname" and not spec.records)
    )


def documented(zone: catalogue.Zone, spec: Spec, meaning: Meaning) -> bool:
    answers = [zone.decode(code) for _, code in spec.records]
    return any(a.meaning is meaning and a.documented for a in answers)


@pytest.fixture(scope="module")
def server():
    fake = FakeDnsServer(silent)  # TCP refused: every truncated answer fails its retry
    yield fake
    fake.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases())
def test_listed_only_on_a_documented_code_in_a_valid_answer_and_never_clean_on_failure(
    server, case
):
    zone, spec = case
    server.handler = lambda query: build(query, spec)
    report = lookup(
        [ITEM],
        [zone],
        LookupSettings(
            [parse_nameserver(server.nameserver)],
            query_timeout=2,
            deadline=time.monotonic() + 5,
            self_test=False,
            fetch_txt=False,
        ),
    )
    [verdict] = report.verdicts
    if failed(spec):
        assert verdict.status is Status.ERROR, (spec, verdict)
    if verdict.status is Status.LISTED:
        assert not failed(spec) and documented(zone, spec, Meaning.LISTING), (spec, verdict)
    if verdict.status is Status.POLICY:
        assert not failed(spec) and documented(zone, spec, Meaning.POLICY), (spec, verdict)
    if verdict.status is Status.CLEAN:
        assert not failed(spec) and not any(
            zone.decode(c).meaning in (Meaning.LISTING, Meaning.POLICY, Meaning.ERROR)
            for _, c in spec.records
        ), (spec, verdict)
