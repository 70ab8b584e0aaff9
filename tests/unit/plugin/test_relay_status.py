"""check_relay_chain's status line, case by case, without servers."""

from __future__ import annotations

from mailrep.relay.authresults import summarise
from mailrep.relay.chain import Examination, build_chain

from tests.unit.plugin.test_relay_verdict_property import message, run_relay
from tests.unit.plugin.verdict_space import address, report_of

#: hop 1 a user's submission (not checked), hop 2 the relay, hop 3 the entry hop.
CHAIN = build_chain(
    message([("192.0.2.1", True), ("192.0.2.2", False), ("192.0.2.3", False)]),
    allow_nonglobal=True,
)
ITEMS = [address(ip) for ip in CHAIN.checked_ips]


def exam(outcomes, **kw):
    return Examination(CHAIN, report_of(ITEMS, outcomes, **kw), {}, summarise([]), [])


def status(outcomes, argv=(), verbose=0, **kw):
    out = run_relay(exam(outcomes, **kw), list(argv), verbose)
    return out.code, out.first.split(" | ")[0], out


def test_a_listed_hop_is_named_with_its_list():
    code, line, out = status({("192.0.2.3", "v4a.example"): "listed"})
    assert (code, line) == (
        2,
        "RELAY CHAIN CRITICAL - hop 3 h3.example [192.0.2.3] listed on v4a.example",
    )
    assert (out.value("listed_hops"), out.value("checked_hops"), out.value("hops")) == (1, 2, 3)


def test_a_listed_hop_within_tolerant_thresholds_is_ok_and_still_named():
    code, line, _ = status({("192.0.2.3", "v4a.example"): "listed"}, ["--listed-critical", "1"])
    assert (code, line) == (
        0,
        "RELAY CHAIN OK - hop 3 h3.example [192.0.2.3] listed on v4a.example, within thresholds",
    )


def test_errors_are_named_beside_a_listed_hop():
    outcomes = {("192.0.2.3", "v4a.example"): "listed", ("192.0.2.2", "v4b.example"): "REFUSED"}
    code, line, _ = status(outcomes)
    assert (code, line) == (
        2,
        "RELAY CHAIN CRITICAL - hop 3 h3.example [192.0.2.3] listed on v4a.example, "
        "errors: v4b.example (REFUSED)",
    )


def test_a_clean_chain_says_how_many_hops_and_lists():
    code, line, _ = status({}, zones=["v4a.example", "v4b.example"])
    assert (code, line) == (0, "RELAY CHAIN OK - 2 of 3 hops checked, none listed on 2 lists")


def test_the_verbose_ok_line_has_no_semicolon():
    _, line, _ = status({}, verbose=1, zones=["v4a.example"])
    assert line == (
        "RELAY CHAIN OK - 2 of 3 hops checked, none listed on 1 list, no SPF/DKIM/DMARC results"
    )


def test_an_ipv4_chain_against_ipv6_lists_is_unknown_naming_the_hops():
    code, line, _ = status({}, zones=["v6.example"])
    assert code == 3
    assert line == (
        "RELAY CHAIN UNKNOWN - 2 of 3 hops checked, no list covers 2 IPv4 addresses "
        "(the lists check IPv6 only)"
    )


def test_a_listed_hop_beside_an_uncovered_ipv6_hop_stays_critical_and_names_both():
    chain = build_chain(
        message([("192.0.2.1", True), ("2001:db8::2", False), ("192.0.2.3", False)]),
        allow_nonglobal=True,
    )
    items = [address(ip) for ip in chain.checked_ips]
    report = report_of(items, {("192.0.2.3", "v4a.example"): "listed"})
    out = run_relay(Examination(chain, report, {}, summarise([]), []), [])
    assert out.code == 2
    assert out.summary == (
        "hop 3 h3.example [192.0.2.3] listed on v4a.example, no list covers hop 2 h2.example "
        "[2001:db8::2] (IPv6, the lists check IPv4 only)"
    )
