"""Hostile Received values: the parser never raises, stays linear, and never invents an IP.

Timing is not asserted (benchmarks live under bench/); Hypothesis' own per-example deadline
catches a pathological (backtracking) case as a failure.
"""

import ipaddress
import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.relay.headers import received_headers
from mailrep.relay.received import MAX_VALUE_CHARS, parse_chain, parse_received

FAST = settings(
    max_examples=300,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_INPUT = 4 * MAX_VALUE_CHARS
_RUN = re.compile(r"[0-9A-Fa-f:.]+")


def ip_is_in_text(ip: str, text: str) -> bool:
    """The address, or an IPv6 spelling of it, is a substring of the input."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return ip in text
    cleaned = re.sub(r"(?i)ipv6:", " ", text)
    for run in _RUN.findall(cleaned):
        try:
            if ipaddress.ip_address(run) == addr:
                return True
        except ValueError:
            continue
    return False


def check(value: str) -> None:
    hop = parse_received(value)
    if hop is not None and hop.ip is not None:
        assert ip_is_in_text(hop.ip, value), (hop.ip, value)
    if hop is not None and hop.timestamp is not None:
        assert hop.timestamp.tzinfo is not None


@FAST
@given(st.text(max_size=2000))
def test_arbitrary_text(value):
    check(value)


ATOMS = st.sampled_from(
    [
        "from",
        "by",
        "with",
        "id",
        "for",
        "via",
        ";",
        "(",
        ")",
        "[",
        "]",
        " ",
        "\r\n\t",
        ":",
        "HELO",
        "EHLO",
        "helo=",
        "IPv6:",
        "::ffff:",
        "%",
        "@",
        '"',
        "192.0.2.1",
        "2001:db8::1",
        "fe80::1%eth0",
        "198.51.100.7:25",
        "203.0.113.9.25",
        "(may be forged)",
        "unknown",
        "mx.example.net",
        "ESMTPSA",
        "Tue, 29 Aug 2023 16:20:12 +0000",
        "Authenticated sender:",
    ]
)


@FAST
@given(st.lists(ATOMS, max_size=400).map("".join))
def test_structured_soup(value):
    check(value)


@FAST
@given(st.integers(min_value=1, max_value=MAX_INPUT // 2), st.sampled_from(["(", "[", "(["]))
def test_deep_nesting_and_bracket_floods(n, opener):
    check("from x " + opener * n + "192.0.2.1" + " by y; Tue, 29 Aug 2023 16:20:12 +0000")


@FAST
@given(st.integers(min_value=1, max_value=2000))
def test_many_comments_and_brackets(n):
    check("from a " + "(b [192.0.2.1] (c)) [" * n + " by z")


@FAST
@given(st.text(alphabet="0123456789abcdef:.[]()% ", max_size=MAX_INPUT))
def test_address_like_noise(value):
    check(value)


@FAST
@given(st.binary(max_size=4000))
def test_received_headers_and_chain_never_raise_on_bytes(data):
    parse_chain(received_headers(b"Received: " + data))


def test_huge_value_is_capped():
    value = "from a (" + "b " * 1_000_000 + "[192.0.2.1]) by c"
    hop = parse_received(value)
    assert hop is None or hop.ip is None  # the address lies beyond the cap
