"""-H/-d values to lookup items: ranges classified per address, failed lookups kept."""

import time

import dns.rcode
import pytest
from mailrep.dns.addresses import InputError
from mailrep.dns.resolver import parse_nameserver
from mailrep.dnsbl.lookup import LookupSettings
from mailrep.dnsbl.targets import build_targets

from tests.support.fakes.dns_server import FakeDnsServer, rcode_reply, silent, table, truncated

NO_DNS = LookupSettings([parse_nameserver("127.0.0.1:9")])


def texts(targets):
    return [i.text for i in targets.items]


def test_non_global_addresses_inside_a_range_are_left_out_and_named():
    targets = build_targets(["203.0.112.0/22"], [], NO_DNS, max_addresses=1024)
    assert len(targets.items) == 768
    assert not [t for t in texts(targets) if t.startswith("203.0.113.")]
    assert targets.notes == [
        "203.0.112.0/22: 256 non-global addresses not checked (203.0.113.0/24); "
        "use --allow-nonglobal for labs and tests"
    ]


def test_range_whose_ends_are_global_but_middle_is_not_is_split_exactly():
    # 192.0.0.0/22: 192.0.0.0/24 (IETF protocol assignments) and 192.0.2.0/24 (documentation)
    targets = build_targets(["192.0.0.0/22"], [], NO_DNS, max_addresses=1024)
    assert len(targets.items) == 512
    assert "(192.0.0.0/24, 192.0.2.0/24)" in targets.notes[0]


def test_range_that_ends_in_a_non_global_block_keeps_its_global_part():
    targets = build_targets(["203.0.112.0/23"], [], NO_DNS, max_addresses=512)
    assert len(targets.items) == 256 and texts(targets)[-1] == "203.0.112.255"


def test_allow_nonglobal_keeps_the_whole_range():
    targets = build_targets(
        ["203.0.112.0/22"], [], NO_DNS, max_addresses=1024, allow_nonglobal=True
    )
    assert len(targets.items) == 1024 and not targets.notes


def test_range_of_only_non_global_addresses_is_refused():
    with pytest.raises(InputError, match="--allow-nonglobal"):
        build_targets(["203.0.113.0/24"], [], NO_DNS)


HOST = "mail.example.test."


@pytest.fixture
def resolver_for():
    servers = []

    def start(handler):
        server = FakeDnsServer(handler)
        servers.append(server)
        return LookupSettings(
            [parse_nameserver(server.nameserver)],
            query_timeout=0.5,
            deadline=time.monotonic() + 5,
        )

    yield start
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (rcode_reply(dns.rcode.SERVFAIL), "SERVFAIL"),
        (rcode_reply(dns.rcode.REFUSED), "REFUSED"),
        (silent, "timeout"),
        (truncated(), "truncated answer, TCP retry failed: connection refused"),
    ],
)
def test_failed_aaaa_lookup_is_an_error_of_the_target(resolver_for, fault, why):
    settings = resolver_for(table({(HOST, "A"): ["198.51.100.25"]}, {(HOST, "AAAA"): fault}))
    targets = build_targets(["mail.example.test"], [], settings, allow_nonglobal=True)
    assert texts(targets) == ["198.51.100.25"]
    assert targets.errors == [f"mail.example.test: AAAA lookup failed ({why})"]


def test_host_without_aaaa_is_no_error(resolver_for):
    settings = resolver_for(table({(HOST, "A"): ["198.51.100.25"]}))
    targets = build_targets(["mail.example.test"], [], settings, allow_nonglobal=True)
    assert texts(targets) == ["198.51.100.25"] and targets.errors == []


def test_host_whose_every_lookup_failed_is_unknown_naming_both(resolver_for):
    settings = resolver_for(rcode_reply(dns.rcode.SERVFAIL))
    with pytest.raises(InputError, match="A: SERVFAIL; AAAA: SERVFAIL"):
        build_targets(["mail.example.test"], [], settings)
