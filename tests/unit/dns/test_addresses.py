"""Parsing targets, building query names and deciding what is global."""

import ipaddress

import dns.reversename
import pytest
from mailrep.dns.addresses import (
    InputError,
    classify_domain,
    classify_host,
    expand_cidr,
    is_global,
    parse_ip,
    query_name,
)


@pytest.mark.parametrize(
    "text",
    [
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "172.16.0.1",
        "192.168.1.1",
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",
        "198.18.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "2001:db8::1",
        "64:ff9b::808:808",
        "2002:c000:0201::1",
        "0.0.0.0",
    ],
)
def test_non_global_addresses_are_recognised(text):
    assert not is_global(parse_ip(text))


@pytest.mark.parametrize("text", ["8.8.8.8", "185.56.87.12", "2a00:1450:4001:80b::200e"])
def test_public_addresses_are_global(text):
    assert is_global(parse_ip(text))


def test_ipv4_mapped_ipv6_is_checked_as_its_ipv4_address():
    assert parse_ip("::ffff:185.56.87.12") == ipaddress.IPv4Address("185.56.87.12")


def test_zone_id_and_brackets_are_stripped():
    assert parse_ip("[fe80::1%eth0]") == ipaddress.IPv6Address("fe80::1")


@pytest.mark.parametrize("text", ["185.56.87.12", "2001:db8::25", "203.0.113.0/29"])
def test_query_names_match_dnspython_reverse_names(text):
    addr = ipaddress.ip_network(text, strict=False)[0]
    expected = dns.reversename.from_address(
        str(addr), v4_origin=dns.name.from_text("bl.test"), v6_origin=dns.name.from_text("bl.test")
    )
    assert query_name(addr, "bl.test") == expected.to_text()


def test_query_names_are_absolute_so_no_search_domain_is_appended():
    assert query_name(parse_ip("192.0.2.1"), "bl.test").endswith(".")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("192.0.2.1", "ip"),
        ("2001:db8::1", "ip"),
        ("192.0.2.0/30", "cidr"),
        ("mail.example.com", "hostname"),
    ],
)
def test_host_values_are_classified(text, kind):
    assert classify_host(text).kind == kind


@pytest.mark.parametrize("text", ["", "not a host", "1.2.3.4.5/99", "-bad-.example", "a..b"])
def test_garbage_host_values_are_input_errors(text):
    with pytest.raises(InputError):
        classify_host(text)


def test_an_ip_is_not_a_domain():
    with pytest.raises(InputError):
        classify_domain("192.0.2.1")


def test_cidr_expansion_includes_every_address():
    assert [str(a) for a in expand_cidr("192.0.2.4/30", 256)] == [
        "192.0.2.4",
        "192.0.2.5",
        "192.0.2.6",
        "192.0.2.7",
    ]


def test_cidr_over_the_cap_is_refused_with_the_option_named():
    with pytest.raises(InputError, match="--max-addresses"):
        expand_cidr("10.0.0.0/16", 256)
