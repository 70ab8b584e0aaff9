"""check_dnsbl never gives an all-clear it does not know (issue 11): DNS faults on loopback.

Each test runs the installed plugin as Nagios does, against the fake DNS server (for faults
no real server produces on demand), real rbldnsd (the daemon lists run) or real Unbound (the
resolver a user runs in front of them). Addresses come from the documentation ranges.
"""

from __future__ import annotations

from ipaddress import ip_address

import dns.rcode
import pytest
from mailrep.dns.addresses import query_name
from mailrep.dnsbl import catalogue

from tests.support.fakes.dns_server import (
    a_reply,
    by_type,
    cname_chain,
    cname_loop,
    nxdomain_for_everything,
    rcode_reply,
    self_pointing_owner,
    silent,
    table,
    truncated,
    wrong_owner,
)
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone

ZONE = "psbl.surriel.com"
CLEAN_IP = "192.0.2.1"
LISTED_IP = "192.0.2.7"
#: The list answers its RFC 5782 test entries like every real list does.
TEST_ENTRY = {(f"2.0.0.127.{ZONE}.", "A"): ["127.0.0.2"]}


def dnsbl(ns: str, *args: str, **kw):
    return run_plugin("check_dnsbl", "-n", ns, "--allow-nonglobal", *args, **kw)


def a_list_answering(ip: str, handler):
    """A zone that passes its self-tests (lists 127.0.0.2, not 127.0.0.1) and answers the
    query for ``ip`` with ``handler``."""
    return table(TEST_ENTRY, faults={(query_name(ip_address(ip), ZONE), "A"): handler})


# --- 1. a truncated answer whose TCP retry fails is an error ---------------------------------


@pytest.mark.parametrize("tcp", ["refuse", "close", "hang"])
def test_truncated_answer_whose_tcp_retry_fails_is_an_error_never_not_listed(fake, tcp):
    server = fake(a_list_answering(CLEAN_IP, truncated()), tcp=tcp)
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", CLEAN_IP, "--query-timeout", "1", "-t", "5")
    assert r.code == 3 and "not listed" not in r.status
    assert "truncated answer" in r.stdout and r.perfdata["checked"] == "0"


def test_partial_records_of_a_truncated_answer_are_not_a_verdict(fake):
    server = fake(a_list_answering(LISTED_IP, truncated("127.0.0.2")))
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", LISTED_IP)
    assert r.code == 3 and r.perfdata["listed"] == "0"


def test_truncated_answer_is_read_whole_over_tcp(fake):
    whole = table({**TEST_ENTRY, (f"7.2.0.192.{ZONE}.", "A"): ["127.0.0.2"]})
    server = fake(a_list_answering(LISTED_IP, truncated()), tcp="serve", tcp_handler=whole)
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", LISTED_IP)
    assert r.code == 2 and f"{LISTED_IP} listed on {ZONE}" in r.status


def _big_answer_records() -> dict[str, list[str]]:
    """58 A records: more than a 512-byte UDP answer holds, so Unbound sets TC."""
    return {
        "7.2.0.192.big.test": [f"A 127.0.0.{i}" for i in range(2, 60)],
        "2.0.0.127.big.test": ["A 127.0.0.2"],
    }


def test_unbound_truncated_answer_without_tcp_is_an_error(unbound):
    resolver = unbound(records=_big_answer_records(), tcp=False)
    r = dnsbl(resolver.nameserver, "-z", "big.test", "-H", LISTED_IP)
    assert r.code == 3 and "truncated answer, TCP retry failed: connection refused" in r.stdout


def test_unbound_truncated_answer_is_retried_over_tcp(unbound):
    resolver = unbound(records=_big_answer_records())
    r = dnsbl(resolver.nameserver, "-z", "big.test", "-H", LISTED_IP, "--format", "json")
    [result] = r.json["results"]
    assert r.code == 2 and len(result["codes"]) == 58


def test_relay_chain_truncated_answer_whose_tcp_retry_fails_is_not_ok(fake):
    from pathlib import Path

    eml = Path(__file__).resolve().parents[1] / "support/fixtures/relay_chain/provider_relay.eml"
    never_listed = {(f"1.0.0.127.{ZONE}.", "A"): rcode_reply(dns.rcode.NXDOMAIN)}
    server = fake(table(TEST_ENTRY, faults=never_listed, default=truncated()))
    r = run_plugin(
        "check_relay_chain", "-n", server.nameserver, "-z", ZONE, "--no-fcrdns", "--file", str(eml)
    )
    assert r.code == 3 and "no list gave a usable answer" in r.status
    assert "truncated answer" in r.stdout


# --- 2. a failed A or AAAA lookup of -H hostname is an error of that target ------------------


HOST = "mail.example.test"
HOST_A = {(f"{HOST}.", "A"): [CLEAN_IP], **TEST_ENTRY}


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        (rcode_reply(dns.rcode.SERVFAIL), "SERVFAIL"),
        (rcode_reply(dns.rcode.REFUSED), "REFUSED"),
        (silent, "timeout"),
        (truncated(), "truncated answer"),
    ],
)
def test_failed_aaaa_lookup_of_a_hostname_is_an_error_never_dropped(fake, fault, shown):
    server = fake(table(HOST_A, faults={(f"{HOST}.", "AAAA"): fault}))
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", HOST, "--query-timeout", "0.6", "-t", "8")
    assert r.code == 1 and r.perfdata["errors"] == "1"
    assert f"{HOST}: AAAA lookup failed ({shown}" in r.stdout
    assert r.perfdata["checked"] == "1"  # the IPv4 address was still checked


def test_failed_a_lookup_beside_working_aaaa_is_an_error(fake):
    v6_test = query_name(ip_address("::ffff:7f00:2"), "bl.ipv6.spameatingmonkey.net")
    records = {(f"{HOST}.", "AAAA"): ["2001:db8::25"], (v6_test, "A"): ["127.0.0.2"], **TEST_ENTRY}
    server = fake(table(records, faults={(f"{HOST}.", "A"): rcode_reply(dns.rcode.SERVFAIL)}))
    r = dnsbl(server.nameserver, "-z", ZONE, "-z", "bl.ipv6.spameatingmonkey.net", "-H", HOST)
    assert r.code == 1 and r.perfdata["errors"] == "1"
    assert f"{HOST}: A lookup failed (SERVFAIL)" in r.stdout


def test_unbound_servfail_for_aaaa_is_an_error_of_the_hostname(fake, rbldnsd, unbound):
    hosts = fake(by_type({"A": a_reply(CLEAN_IP), "AAAA": rcode_reply(dns.rcode.SERVFAIL)}, silent))
    lists = rbldnsd([RbldnsdZone(ZONE, "ip4set", [":127.0.0.2:", "127.0.0.2"])])
    resolver = unbound(stubs={"host.example": hosts.nameserver, ZONE: lists.nameserver})
    r = dnsbl(resolver.nameserver, "-z", ZONE, "-H", "mail.host.example")
    assert r.code == 1 and r.perfdata["errors"] == "1"
    assert "mail.host.example: AAAA lookup failed (SERVFAIL)" in r.stdout


# --- 3. a CNAME loop or a chain without a final A is an error --------------------------------


@pytest.mark.parametrize(
    ("handler", "shown"),
    [
        (cname_loop(), "CNAME loop"),
        (cname_chain("a.example.test.", "b.example.test."), "CNAME chain without a final A"),
        (
            cname_chain("gone.example.test.", rcode=dns.rcode.NXDOMAIN),
            "CNAME chain without a final A",
        ),
    ],
)
def test_cname_loop_or_chain_without_an_a_record_is_an_error(fake, handler, shown):
    server = fake(a_list_answering(CLEAN_IP, handler))
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", CLEAN_IP)
    assert r.code == 3 and "not listed" not in r.status and shown in r.stdout


def test_unbound_local_cname_without_a_final_a_is_an_error(unbound):
    resolver = unbound(
        records={
            "1.2.0.192.alias.test": ["CNAME elsewhere.test."],
            "2.0.0.127.alias.test": ["A 127.0.0.2"],
        }
    )
    r = dnsbl(resolver.nameserver, "-z", "alias.test", "-H", CLEAN_IP)
    assert r.code == 3 and "CNAME chain without a final A record (-> elsewhere.test.)" in r.stdout


# --- 4. a code the catalogue does not document is never a listing ----------------------------


@pytest.mark.parametrize(
    ("zone", "dataset", "entry", "target", "code"),
    [
        ("zen.spamhaus.org", "ip4set", LISTED_IP, LISTED_IP, "127.0.0.1"),
        ("zen.spamhaus.org", "ip4set", LISTED_IP, LISTED_IP, "127.0.0.8"),
        ("dnsbl-2.uceprotect.net", "ip4set", LISTED_IP, LISTED_IP, "127.0.0.1"),
        ("bl.ipv6.spameatingmonkey.net", "ip6trie", "2001:db8::25", "2001:db8::25", "127.0.0.1"),
        ("dbl.spamhaus.org", "dnset", "bad.example.test", "bad.example.test", "127.0.0.1"),
    ],
)
def test_undocumented_or_never_listed_code_is_an_error_with_the_raw_answer(
    rbldnsd, zone, dataset, entry, target, code
):
    test_entry = {"ip4set": "127.0.0.2", "ip6trie": "::ffff:7f00:2", "dnset": "test"}[dataset]
    listed = {"dnset": "127.0.1.2"}.get(dataset, "127.0.0.2")
    other = "uribl.spameatingmonkey.net" if dataset == "dnset" else "bl.spamcop.net"
    other_set = "dnset" if dataset == "dnset" else "ip4set"
    other_entry = "test" if dataset == "dnset" else "127.0.0.2"
    other_data = [":127.0.0.2:", other_entry, "::ffff:7f00:2"] if dataset == "ip6trie" else None
    server = rbldnsd(
        [
            RbldnsdZone(zone, dataset, [f":{listed}:", test_entry, f"{entry} :{code}:"]),
            RbldnsdZone(other, other_set, other_data or [":127.0.0.2:", other_entry]),
        ]
    )
    flag = "-d" if dataset == "dnset" else "-H"
    r = dnsbl(server.nameserver, "-z", zone, "-z", other, flag, target)
    assert r.perfdata["listed"] == "0" and r.perfdata["policy"] == "0", r.stdout
    assert r.code in (1, 3) and f"{target} listed on" not in r.status
    assert "policy-listed" not in r.status
    assert f"ERROR: {zone}: " in r.stdout and f"for {target}" in r.stdout and code in r.stdout


def test_documented_listing_beside_an_undocumented_code_stays_a_listing(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone("zen.spamhaus.org", "ip4set", ["127.0.0.2", f"{LISTED_IP} :127.0.0.2:"]),
            RbldnsdZone("zen.spamhaus.org", "ip4set", [f"{LISTED_IP} :127.0.0.8:"]),
        ]
    )
    r = dnsbl(server.nameserver, "-z", "zen.spamhaus.org", "-H", LISTED_IP)
    assert r.code == 2 and "127.0.0.8" in r.stdout and "undocumented code" in r.stdout


# --- 5. answers must match the question asked ------------------------------------------------


@pytest.mark.parametrize(
    "handler",
    [
        wrong_owner(f"9.9.9.9.{ZONE}.", "127.0.0.2"),
        wrong_owner("other.example.test.", "127.0.0.2"),
        self_pointing_owner("127.0.0.2"),
    ],
    ids=["other-address", "other-name", "self-pointing-pointer"],
)
def test_answer_not_owned_by_the_question_is_an_error_never_a_listing(fake, handler):
    server = fake(a_list_answering(CLEAN_IP, handler))
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", CLEAN_IP)
    assert r.code == 3 and r.perfdata["listed"] == "0"
    assert "malformed answer" in r.stdout


# --- 8. a range is classified address by address ---------------------------------------------


def test_range_with_a_documentation_range_inside_never_queries_it(fake):
    server = fake(table(TEST_ENTRY))
    r = run_plugin(
        "check_dnsbl", "-n", server.nameserver, "-z", ZONE, "-H", "203.0.112.0/22",
        "--max-addresses", "1024", "--format", "json",
    )  # fmt: skip
    asked = [name for name, _t in server.questions if name.endswith(f".{ZONE}.")]
    assert not [n for n in asked if n.split(".")[1:3] == ["113", "0"]]
    assert len(r.json["results"]) == 768 and r.code == 0
    assert any(
        "256 non-global addresses not checked (203.0.113.0/24)" in n for n in r.json["notes"]
    )


def test_range_of_only_non_global_addresses_is_refused(fake):
    server = fake(table(TEST_ENTRY))
    r = run_plugin("check_dnsbl", "-n", server.nameserver, "-z", ZONE, "-H", "203.0.113.0/25")
    assert r.code == 3 and "--allow-nonglobal" in r.status and not server.questions


# --- 11. a resolver that does not reach the lists is said once --------------------------------


def test_nxdomain_for_every_test_entry_is_one_unknown_resolver_line(fake):
    server = fake(nxdomain_for_everything())
    r = dnsbl(server.nameserver, "-H", "198.51.100.25")
    assert r.code == 3
    assert r.status == (
        f"DNSBL UNKNOWN - resolver {server.nameserver} answers NXDOMAIN for every list's "
        "test entry: it does not reach the lists"
    )
    assert "SUSPECT ZONE" not in r.stdout and r.perfdata["checked"] == "0"


def test_unbound_filtering_every_list_is_one_unknown_resolver_line(unbound):
    zones = [z.name for z in catalogue.load_default().defaults() if not z.is_domain_list]
    resolver = unbound(local_zones={z: "always_nxdomain" for z in zones})
    r = dnsbl(resolver.nameserver, "-H", "198.51.100.25")
    assert r.code == 3
    assert "answers NXDOMAIN for every list's test entry: it does not reach the lists" in r.status
    assert r.stdout.count("does not reach the lists") == 2  # status line and one detail line


def test_one_working_list_means_the_others_are_suspect_not_the_resolver(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(ZONE, "ip4set", [":127.0.0.2:", "127.0.0.2"]),
            RbldnsdZone("typo.example.test", "ip4set", [":127.0.0.2:", "203.0.113.9"]),
            RbldnsdZone("typo2.example.test", "ip4set", [":127.0.0.2:", "203.0.113.9"]),
        ]
    )
    r = dnsbl(
        server.nameserver, "-z", ZONE, "-z", "typo.example.test", "-z", "typo2.example.test",
        "-H", CLEAN_IP,
    )  # fmt: skip
    assert r.code == 1 and "typo.example.test suspect" in r.status
    assert "does not reach the lists" not in r.stdout


def test_vvv_shows_nameserver_rcode_and_answer_of_every_question(rbldnsd):
    server = rbldnsd([RbldnsdZone(ZONE, "ip4set", [":127.0.0.2:", "127.0.0.2", LISTED_IP])])
    r = dnsbl(server.nameserver, "-z", ZONE, "-H", LISTED_IP, "-vvv")
    ns = server.nameserver
    assert f"dns query 7.2.0.192.{ZONE}. A @{ns}: rcode NOERROR, answer 127.0.0.2" in r.stdout
    assert f"dns self-test 1.0.0.127.{ZONE}. A @{ns}: rcode NXDOMAIN, answer -" in r.stdout
    assert f"dns TXT 7.2.0.192.{ZONE}. TXT @{ns}: rcode NOERROR" in r.stdout
    plain = dnsbl(server.nameserver, "-z", ZONE, "-H", LISTED_IP, "-vv")
    assert "dns query" not in plain.stdout


# --- 13. a broken zones file says where ---------------------------------------------------------


def test_broken_zones_toml_names_the_file_and_line(tmp_path, fake):
    path = tmp_path / "zones.toml"
    path.write_text('[[zone]]\nname = "own.example.test"\nanswers = [ { match = } ]\n')
    r = dnsbl(fake(table(TEST_ENTRY)).nameserver, "--zones-file", str(path), "-H", CLEAN_IP)
    assert r.code == 3 and f"{path}: TOML error at line 3" in r.status


def test_bad_value_in_zones_toml_names_the_zone_and_key(tmp_path, fake):
    path = tmp_path / "zones.toml"
    path.write_text('[[zone]]\nname = "own.example.test"\nkinds = "ip4"\n')
    r = dnsbl(fake(table(TEST_ENTRY)).nameserver, "--zones-file", str(path), "-H", CLEAN_IP)
    assert r.code == 3 and "zone own.example.test: key 'kinds' must be" in r.status
