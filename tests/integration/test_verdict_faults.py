"""Never an all-clear the check does not know: the verdict faults of issue 11, end to end.

check_dnsbl and check_relay_chain run as Nagios runs them, against a real rbldnsd where a
real list's behaviour matters and against the fake DNS server for what a real list does
when it is dead, failing or hostile (a wildcard that lists everything, silence, TXT records
with control characters). Each test is one row of the fault matrix.
"""

from __future__ import annotations

from pathlib import Path

import dns.rcode
import pytest

from tests.support.fakes.dns_server import rcode_reply, silent
from tests.support.fakes.dns_zones import by_zone, everything_listed, listing
from tests.support.lab import AV_RELAY, LISTED_IP
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone, ip4set

CLEAN_IP = "192.0.2.1"
FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "relay_chain"
PROVIDER = str(FIXTURES / "provider_relay.eml")
PRIVATE_ONLY = (
    b"Received: from int.example (int.example [10.0.0.5])\n"
    b"\tby mx.example.net (Postfix) with ESMTP id 1; Sat, 28 Nov 2026 14:00:00 +0000\n\n"
)


def dnsbl(ns: str, *args: str, **kw):
    return run_plugin("check_dnsbl", "-n", ns, "--allow-nonglobal", *args, **kw)


def relay_chain(ns: str, *args: str, **kw):
    return run_plugin("check_relay_chain", "-n", ns, *args, **kw)


@pytest.fixture
def lists(rbldnsd):
    """An IPv4 list listing the lab address, Spamhaus ZEN with a PBL entry, an IPv6 list
    and a domain list, on one rbldnsd."""
    return rbldnsd(
        [
            ip4set("psbl.surriel.com", LISTED_IP, AV_RELAY),
            ip4set("zen.spamhaus.org", f"{LISTED_IP} :127.0.0.10:"),
            RbldnsdZone(
                "bl.ipv6.spameatingmonkey.net", "ip6trie", [":127.0.0.2:", "::ffff:7f00:2"]
            ),
            RbldnsdZone("dbl.spamhaus.org", "dnset", [":127.0.1.2:spam domain", "test"]),
        ]
    )


# --- 7: a target no list applies to ----------------------------------------------------------


def test_an_ipv6_address_against_ipv4_only_lists_is_unknown_naming_it(lists):
    r = dnsbl(lists.nameserver, "-z", "psbl.surriel.com", "-H", "2001:db8::25")
    assert r.code == 3
    assert r.status == (
        "DNSBL UNKNOWN - no list covers IPv6 address 2001:db8::25 (the lists check IPv4 only)"
    )
    assert r.perfdata["unjudged"] == "1" and r.perfdata["checked"] == "0"


def test_a_domain_against_ip_lists_is_unknown_naming_it(lists):
    r = dnsbl(lists.nameserver, "-z", "psbl.surriel.com", "-d", "example.test")
    assert r.code == 3
    assert (
        r.status == "DNSBL UNKNOWN - no list covers domain example.test (the lists check IPv4 only)"
    )


def test_the_list_count_holds_only_the_lists_that_apply(lists):
    zones = [
        "-z",
        "psbl.surriel.com",
        "-z",
        "bl.ipv6.spameatingmonkey.net",
        "-z",
        "dbl.spamhaus.org",
    ]
    r = dnsbl(lists.nameserver, *zones, "-H", LISTED_IP)
    assert r.status == f"DNSBL CRITICAL - {LISTED_IP} listed on psbl.surriel.com (1 of 1 list)"


def test_an_ipv6_relay_against_ipv4_only_lists_is_unknown(lists):
    gmail = str(FIXTURES / "gmail_exim_ipv6.eml")
    r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--file", gmail, "--no-fcrdns")
    assert r.code == 3
    assert r.status == (
        "RELAY CHAIN UNKNOWN - 1 of 3 hops checked, no list covers hop 2 relay.example.org "
        "[2a01:4f8:c17:5c1::2] (IPv6, the lists check IPv4 only)"
    )


# --- 10: thresholds choose the state, never the words ----------------------------------------


def test_a_listing_within_c_1_is_ok_and_the_line_says_listed(lists):
    r = dnsbl(lists.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP, "-c", "1")
    assert r.code == 0
    assert r.status == (
        f"DNSBL OK - {LISTED_IP} listed on psbl.surriel.com (1 of 1 list), within thresholds"
    )
    assert r.perfdata["listed"] == "1"


def test_a_policy_listing_within_policy_warning_1_is_ok_and_says_policy_listed(lists):
    r = dnsbl(lists.nameserver, "-z", "zen.spamhaus.org", "-H", LISTED_IP, "--policy-warning", "1")
    assert r.code == 0
    assert r.status == (
        f"DNSBL OK - {LISTED_IP} policy-listed on zen.spamhaus.org (1 of 1 list), within thresholds"
    )


def test_a_listed_relay_within_listed_critical_1_is_ok_and_named(lists):
    r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--file", PROVIDER,
                    "--listed-critical", "1", "--no-fcrdns")  # fmt: skip
    assert r.code == 0
    assert r.status == (
        f"RELAY CHAIN OK - hop 3 av1.provider.example [{AV_RELAY}] listed on psbl.surriel.com, "
        "within thresholds"
    )
    assert r.perfdata["listed_hops"] == "1"


# --- 14: errors are named beside a listing ----------------------------------------------------


def test_a_failing_list_is_named_beside_a_listing(lists):
    r = dnsbl(lists.nameserver, "-z", "psbl.surriel.com", "-z", "not-served.example.test",
              "-H", LISTED_IP)  # fmt: skip
    assert r.code == 2
    assert r.status == (
        f"DNSBL CRITICAL - {LISTED_IP} listed on psbl.surriel.com (1 of 2 lists), "
        "errors: not-served.example.test (REFUSED)"
    )


def test_a_failing_list_is_named_beside_a_listed_relay(lists):
    r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "-z", "not-served.example.test",
                    "--file", PROVIDER, "--no-fcrdns")  # fmt: skip
    assert r.code == 2
    assert r.status == (
        f"RELAY CHAIN CRITICAL - hop 3 av1.provider.example [{AV_RELAY}] listed on "
        "psbl.surriel.com, errors: not-served.example.test (REFUSED)"
    )


# --- 15: the same JSON keys in every state ----------------------------------------------------


DNSBL_KEYS = {"plugin", "version", "time", "state", "exit_code", "summary", "perfdata",
              "details", "results", "zones", "targets", "notes", "resolver_fault",
              "target_errors", "history"}  # fmt: skip


def test_check_dnsbl_json_has_the_same_keys_in_every_state(lists):
    runs = {
        "ok": ["-z", "psbl.surriel.com", "-H", CLEAN_IP],
        "critical": ["-z", "psbl.surriel.com", "-H", LISTED_IP],
        "no answer": ["-z", "not-served.example.test", "-H", CLEAN_IP],
        "uncovered": ["-z", "psbl.surriel.com", "-H", "2001:db8::25"],
        "usage": ["--bogus"],
        "bad input": ["-H", "999.1.1.1"],
    }
    docs = {k: dnsbl(lists.nameserver, *a, "--format", "json").json for k, a in runs.items()}
    assert [d["state"] for d in docs.values()] == ["OK", "CRITICAL", *["UNKNOWN"] * 4]
    for name, doc in docs.items():
        assert set(doc) == DNSBL_KEYS, name
        assert doc["time"].endswith("Z") and doc["version"]


def test_check_relay_chain_json_keeps_the_chain_when_no_hop_is_checkable(lists):
    r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--file", "-", "--format",
                    "json", stdin=PRIVATE_ONLY)  # fmt: skip
    doc = r.json
    assert r.code == 3 and "no hop to check" in doc["summary"]
    assert [(h["hop"], h["ip"], h["checked"]) for h in doc["hops"]] == [(1, "10.0.0.5", False)]
    assert doc["unchecked"].startswith("no hop to check among 1: non-global address")


def test_check_relay_chain_json_has_the_same_keys_in_every_state(lists):
    runs = {
        "critical": ["--file", PROVIDER],
        "no hop": ["--file", "-"],
        "no message": [],
        "unreadable": ["--file", "/nonexistent/probe.eml"],
    }
    keys = []
    for args in runs.values():
        stdin = PRIVATE_ONLY if args == ["--file", "-"] else None
        r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--no-fcrdns", *args,
                        "--format", "json", stdin=stdin)  # fmt: skip
        keys.append(set(r.json))
    assert all(k == keys[0] for k in keys) and {"hops", "version", "time"} <= keys[0]


# --- 16, 18: first lines Nagios keeps, no text from outside that forges output ----------------


def test_a_txt_record_with_control_characters_cannot_forge_output(fake):
    txt = b"Listed\r\nDNSBL OK - forged\x1b[2J\x07 see http://lookup.test/"
    server = fake(by_zone({"psbl.surriel.com": listing("psbl.surriel.com", [LISTED_IP], txt=txt)}))
    r = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP)
    history = ("state: ", f"{LISTED_IP} listed on ")  # the run's history lines (README)
    assert r.code == 2 and len([x for x in r.lines if not x.startswith(history)]) == 2, r.stdout
    assert r.lines[1].endswith('TXT "Listed  DNSBL OK - forged[2J see http://lookup.test/"; '
                               f"see https://psbl.org/listing?ip={LISTED_IP}")  # fmt: skip
    doc = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP, "--format", "json")
    assert doc.json["results"][0]["txt"] == ["Listed  DNSBL OK - forged[2J see http://lookup.test/"]


def test_a_received_line_with_control_characters_cannot_forge_output(lists, tmp_path):
    message = (
        Path(PROVIDER)
        .read_bytes()
        .replace(b"from smtp.example.com (smtp", b"from smtp\x1b[31m.example.com\r (smtp", 1)
    )
    path = tmp_path / "nasty.eml"
    path.write_bytes(message)
    r = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--file", str(path),
                    "--no-fcrdns", "-v")  # fmt: skip
    assert "\x1b" not in r.stdout and "\r" not in r.stdout
    assert any("helo=smtp[31m.example.com" in line for line in r.lines)
    doc = relay_chain(lists.nameserver, "-z", "psbl.surriel.com", "--file", str(path),
                      "--no-fcrdns", "--format", "json").json  # fmt: skip
    assert doc["hops"][1]["helo"] == "smtp[31m.example.com"


def test_several_listings_and_errors_leave_no_semicolon_on_the_first_line(lists):
    r = dnsbl(lists.nameserver, "-z", "psbl.surriel.com", "-z", "zen.spamhaus.org",
              "-z", "not-served.example.test", "-z", "other.example.test",
              "-H", LISTED_IP, "-H", AV_RELAY, "-v")  # fmt: skip
    assert r.code == 2 and ";" not in r.status
    assert r.status.startswith(
        f"DNSBL CRITICAL - {LISTED_IP} listed on psbl.surriel.com and policy-listed on "
        f"zen.spamhaus.org, {AV_RELAY} listed on psbl.surriel.com (2 of 4 lists), errors: "
    )


# --- 17: a /24 against a dead and a failing list stays small -----------------------------------


def test_a_slash_24_with_a_dead_and_a_failing_list_stays_under_8_kib(fake):
    listed = [f"198.51.100.{n}" for n in range(0, 256, 16)]
    server = fake(
        by_zone(
            {
                "psbl.surriel.com": listing("psbl.surriel.com", listed),
                "dead.example.test": everything_listed("dead.example.test"),
                "bl.mailspike.net": silent,
                "bl.spamcop.net": rcode_reply(dns.rcode.SERVFAIL),
            }
        )
    )
    zones = ["psbl.surriel.com", "dead.example.test", "bl.mailspike.net", "bl.spamcop.net"]
    args = [x for z in zones for x in ("-z", z)]
    r = dnsbl(server.nameserver, *args, "-H", "198.51.100.0/24", "--query-timeout", "1",
              "-t", "8", timeout=30)  # fmt: skip
    size = len(r.stdout.encode())
    assert r.code == 2 and size < 8 * 1024, (size, len(r.lines))
    assert r.status == (
        "DNSBL CRITICAL - 16 of 256 addresses listed on psbl.surriel.com (1 of 4 lists), "
        "errors: bl.mailspike.net (timeout), bl.spamcop.net (SERVFAIL), dead.example.test "
        "broken"
    )
    assert r.lines[1].startswith("LISTED: 198.51.100.0 (198.51.100.0/24) on psbl.surriel.com")
    assert "+6 more listings: psbl.surriel.com 6 (-v shows each)" in r.lines
    grouped = [line for line in r.lines if line.startswith(("ERROR: ", "IGNORED: "))]
    assert len(grouped) == 3 and all("for 256 addresses (198.51.100.0, " in g for g in grouped)
    assert "left out" not in r.stdout  # grouped, not cut
