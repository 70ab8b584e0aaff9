"""check_dnsbl's status line and long output, case by case, without servers.

Each report is built by hand and run through the real check objects and the runtime's
output path; the expected text is what an admin reads.
"""

from __future__ import annotations

from mailrep.dnsbl.lookup import Item

from tests.unit.plugin.test_dnsbl_verdict_property import run_dnsbl
from tests.unit.plugin.verdict_space import address, report_of

LISTED = "192.0.2.7"
CLEAN = "192.0.2.1"


def status(items, outcomes, argv=(), **kw):
    out = run_dnsbl(items, report_of(items, outcomes, **kw), list(argv))
    return out.code, out.first.split(" | ")[0], out


def test_a_listing_names_address_and_list_and_counts_the_lists():
    code, line, _ = status([address(LISTED)], {(LISTED, "v4a.example"): "listed"})
    assert (code, line) == (2, f"DNSBL CRITICAL - {LISTED} listed on v4a.example (1 of 1 list)")


def test_the_list_count_holds_only_the_lists_that_apply_to_the_target():
    outcomes = {(LISTED, "v4a.example"): "listed", (LISTED, "v4b.example"): "nxdomain"}
    zones = ["v4a.example", "v4b.example", "v6.example", "dom.example"]
    _, line, _ = status([address(LISTED)], outcomes, zones=zones)
    assert line.endswith("listed on v4a.example (1 of 2 lists)")


def test_an_ipv6_address_no_list_covers_is_unknown_and_named():
    code, line, out = status([address("2001:db8::25")], {}, zones=["v4a.example"])
    assert (code, line) == (
        3,
        "DNSBL UNKNOWN - no list covers IPv6 address 2001:db8::25 (the lists check IPv4 only)",
    )
    assert out.value("unjudged") == 1 and out.doc["targets"][0]["status"] == "uncovered"


def test_a_domain_against_ip_lists_is_unknown_and_named():
    code, line, _ = status(
        [Item.for_domain("example.test")], {}, zones=["v4a.example", "v6.example"]
    )
    assert code == 3
    assert line.endswith("no list covers domain example.test (the lists check IPv4 and IPv6 only)")


def test_a_listing_beside_an_uncovered_address_stays_critical_and_names_both():
    items = [address(LISTED, "mail.example.test"), address("2001:db8::25", "mail.example.test")]
    code, line, _ = status(items, {(LISTED, "v4a.example"): "listed"})
    assert code == 2
    assert line == (
        f"DNSBL CRITICAL - {LISTED} listed on v4a.example (1 of 1 list), "
        "no list covers IPv6 address 2001:db8::25 (the lists check IPv4 only)"
    )


def test_a_listing_within_tolerant_thresholds_is_ok_and_still_says_listed():
    outcomes = {(LISTED, "v4a.example"): "listed", (LISTED, "v4b.example"): "nxdomain"}
    code, line, _ = status([address(LISTED)], outcomes, ["-c", "1"])
    assert (code, line) == (
        0,
        f"DNSBL OK - {LISTED} listed on v4a.example (1 of 2 lists), within thresholds",
    )


def test_a_policy_listing_within_tolerant_thresholds_says_policy_listed():
    code, line, _ = status([address(LISTED)], {(LISTED, "v4a.example"): "policy"},
                           ["--policy-warning", "1"])  # fmt: skip
    assert (code, line) == (
        0,
        f"DNSBL OK - {LISTED} policy-listed on v4a.example (1 of 1 list), within thresholds",
    )


def test_errors_are_named_beside_a_listing():
    outcomes = {(LISTED, "v4a.example"): "listed", (LISTED, "v4b.example"): "timeout"}
    code, line, _ = status([address(LISTED)], outcomes)
    assert (code, line) == (
        2,
        f"DNSBL CRITICAL - {LISTED} listed on v4a.example (1 of 2 lists), "
        "errors: v4b.example (timeout)",
    )


def test_a_clean_address_with_a_failed_list_says_how_many_lists_answered():
    outcomes = {(CLEAN, "v4a.example"): "nxdomain", (CLEAN, "v4b.example"): "SERVFAIL"}
    code, line, _ = status([address(CLEAN)], outcomes)
    assert (code, line) == (
        1,
        f"DNSBL WARNING - {CLEAN} not listed on 1 of 2 lists, errors: v4b.example (SERVFAIL)",
    )


def test_an_address_whose_every_list_failed_its_self_test_is_unknown():
    code, line, _ = status([address(CLEAN)], {(CLEAN, "v4a.example"): "nxdomain"},
                           health={"v4a.example": "error"})  # fmt: skip
    assert (code, line) == (
        3,
        f"DNSBL UNKNOWN - no usable answer for {CLEAN}, errors: v4a.example self-test "
        "failed (timeout)",
    )


def test_no_semicolon_joins_several_listed_addresses():
    items = [address("192.0.2.7"), address("192.0.2.8")]
    outcomes = {("192.0.2.7", "v4a.example"): "listed", ("192.0.2.8", "v4b.example"): "listed"}
    _, line, _ = status(items, outcomes)
    assert line == (
        "DNSBL CRITICAL - 192.0.2.7 listed on v4a.example, 192.0.2.8 listed on v4b.example "
        "(2 of 2 lists)"
    )


RANGE = [address(f"192.0.2.{n}", "192.0.2.0/24") for n in range(256)]


def test_a_range_with_a_failing_list_is_grouped_per_zone_and_stays_small():
    outcomes = {(i.text, "v4b.example"): "timeout" for i in RANGE}
    outcomes |= {(f"192.0.2.{n}", "v4a.example"): "listed" for n in range(20)}
    code, line, out = status(RANGE, outcomes, zones=["v4a.example", "v4b.example"])
    assert code == 2
    assert line == (
        "DNSBL CRITICAL - 20 of 256 addresses listed on v4a.example (1 of 2 lists), "
        "errors: v4b.example (timeout)"
    )
    lines = out.text.splitlines()
    assert sum(x.startswith("LISTED: ") for x in lines) == 10
    assert "+10 more listings: v4a.example 10 (-v shows each)" in lines
    assert (
        "ERROR: v4b.example: timeout for 256 addresses (192.0.2.0, 192.0.2.1, 192.0.2.2 +253 more)"
        in lines
    )
    assert len(lines) < 20 and len(out.text.encode()) < 8 * 1024
    assert lines.index("+10 more listings: v4a.example 10 (-v shows each)") < len(lines) - 1


def test_a_broken_zones_answers_for_a_range_are_one_line():
    outcomes = {(i.text, "v4a.example"): "listed" for i in RANGE}
    outcomes |= {(i.text, "v4b.example"): "nxdomain" for i in RANGE}
    _, line, out = status(RANGE, outcomes, health={"v4a.example": "broken"})
    assert line == (
        "DNSBL WARNING - 256 addresses not listed on 1 of 2 lists, errors: v4a.example broken"
    )
    ignored = [x for x in out.text.splitlines() if x.startswith("IGNORED: ")]
    assert ignored == [
        "IGNORED: v4a.example: zone is broken (lists its never-listed test entry) for 256 "
        "addresses (192.0.2.0, 192.0.2.1, 192.0.2.2 +253 more)"
    ]


def test_every_answer_is_a_line_of_its_own_at_vv():
    outcomes = {(i.text, "v4b.example"): "timeout" for i in RANGE[:5]}
    out = run_dnsbl(RANGE[:5], report_of(RANGE[:5], outcomes, zones=["v4a.example", "v4b.example"]),
                    [], verbose=2)  # fmt: skip
    errors = [x for x in out.text.splitlines() if x.startswith("ERROR: ")]
    assert errors == [f"ERROR: 192.0.2.{n} on v4b.example: timeout" for n in range(5)]
