"""Forward-confirmed reverse DNS through the project's stub resolver, against a loopback fake.

The fake answers from a small table (built with dnspython, so the codec is checked against an
independent writer); anything not in the table is NXDOMAIN, or SERVFAIL where a test says so.
"""

from __future__ import annotations

import time

import dns.message
import dns.rcode
import dns.rrset
import pytest
from mailrep.dns import fcrdns
from mailrep.dns.resolver import StubResolver, parse_nameserver

from tests.support.fakes.dns_server import FakeDnsServer

RELAY = "185.56.87.12"
RELAY6 = "2001:67c:2e8::25"


def table_handler(records: dict[tuple[str, str], list[str]], servfail: set[str] = frozenset()):
    def handler(query: dns.message.Message) -> bytes:
        response = dns.message.make_response(query)
        q = query.question[0]
        name, rdtype = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
        if name in servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        values = records.get((name, rdtype))
        if values is None:
            if not any(n == name for n, _t in records):
                response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            response.answer.append(dns.rrset.from_text(q.name, 60, "IN", rdtype, *values))
        return response.to_wire()

    return handler


@pytest.fixture
def dns_table():
    servers = []

    def start(records, servfail=frozenset()):
        server = FakeDnsServer(table_handler(records, set(servfail)))
        servers.append(server)
        return StubResolver(
            [parse_nameserver(server.nameserver)],
            query_timeout=1.0,
            deadline=time.monotonic() + 5,
        )

    yield start
    for server in servers:
        server.close()


def ptr(ip: str) -> tuple[str, str]:
    return (fcrdns.reverse_name(ip), "PTR")


def test_reverse_name_of_ipv4_reverses_the_octets():
    assert fcrdns.reverse_name(RELAY) == "12.87.56.185.in-addr.arpa."


def test_reverse_name_of_ipv6_uses_nibbles():
    name = fcrdns.reverse_name(RELAY6)
    assert name.endswith(".8.e.2.0.c.7.6.0.1.0.0.2.ip6.arpa.")
    assert len(name.split(".")) == 32 + 3


def test_ptr_name_that_resolves_back_is_confirmed(dns_table):
    resolver = dns_table(
        {ptr(RELAY): ["av1.provider.example."], ("av1.provider.example.", "A"): [RELAY]}
    )
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert result.names == ("av1.provider.example",)
    assert result.confirmed == ("av1.provider.example",) and result.ok


def test_ptr_name_that_resolves_elsewhere_is_not_confirmed(dns_table):
    resolver = dns_table(
        {ptr(RELAY): ["av1.provider.example."], ("av1.provider.example.", "A"): ["192.0.2.1"]}
    )
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert result.names == ("av1.provider.example",) and not result.ok
    assert "does not resolve back" in result.describe()


def test_ptr_name_without_address_is_not_confirmed(dns_table):
    resolver = dns_table({ptr(RELAY): ["gone.provider.example."]})
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert result.names == ("gone.provider.example",) and not result.ok and not result.error


def test_address_without_ptr_has_no_names_and_no_error(dns_table):
    resolver = dns_table({})
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert (result.names, result.error, result.describe()) == ((), "", "no PTR")


def test_failed_ptr_lookup_is_an_error_not_a_missing_ptr(dns_table):
    resolver = dns_table({}, servfail={fcrdns.reverse_name(RELAY)})
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert result.error == "SERVFAIL" and result.describe().startswith("PTR lookup failed")


def test_ipv6_address_is_confirmed_by_aaaa(dns_table):
    resolver = dns_table({ptr(RELAY6): ["mx6.example."], ("mx6.example.", "AAAA"): [RELAY6]})
    assert fcrdns.check([RELAY6], resolver)[RELAY6].confirmed == ("mx6.example",)


def test_one_confirmed_name_among_several_is_enough(dns_table):
    resolver = dns_table(
        {
            ptr(RELAY): ["stale.example.", "av1.provider.example."],
            ("stale.example.", "A"): ["192.0.2.9"],
            ("av1.provider.example.", "A"): [RELAY],
        }
    )
    result = fcrdns.check([RELAY], resolver)[RELAY]
    assert result.ok and result.confirmed == ("av1.provider.example",)


def test_at_most_max_names_ptr_names_are_followed(dns_table):
    many = [f"n{i}.example." for i in range(fcrdns.MAX_NAMES + 3)]
    resolver = dns_table({ptr(RELAY): many})
    assert len(fcrdns.check([RELAY], resolver)[RELAY].names) == fcrdns.MAX_NAMES


def test_every_address_gets_a_result_in_the_order_given(dns_table):
    other = "198.51.100.20"
    resolver = dns_table({ptr(RELAY): ["a.example."], ("a.example.", "A"): [RELAY]})
    results = fcrdns.check([other, RELAY, other], resolver)
    assert list(results) == [other, RELAY]
    assert results[RELAY].ok and not results[other].ok


def test_helo_matching_a_ptr_name_is_recognised_case_insensitively():
    result = fcrdns.Fcrdns(RELAY, ("av1.provider.example",), ("av1.provider.example",))
    assert result.helo_matches("AV1.Provider.Example.") is True
    assert result.helo_matches("mail.other.example") is False


def test_helo_cannot_be_compared_without_ptr_names():
    assert fcrdns.Fcrdns(RELAY).helo_matches("av1.provider.example") is None
    assert fcrdns.Fcrdns(RELAY, error="timeout").helo_matches("x.example") is None
