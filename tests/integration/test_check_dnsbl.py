"""check_dnsbl against the real thing: rbldnsd (and Unbound as the local resolver).

Each test writes the zone data it needs, runs the installed console script as a separate
process, and reads the status line, exit code, long output or JSON — what Nagios sees.
Addresses come from the documentation ranges, so every run passes --allow-nonglobal.
"""

from __future__ import annotations

import time

import dns.rcode
import pytest

from tests.support.fakes.dns_server import FakeDnsServer, a_reply, rcode_reply, silent
from tests.support.lab import LISTED_IP
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone, ip4set

CLEAN_IP = "192.0.2.1"


def dnsbl(ns: str, *args: str, **kw) -> object:
    return run_plugin("check_dnsbl", "-n", ns, "--allow-nonglobal", *args, **kw)


# --- listings and clean answers -------------------------------------------------------------


def test_listed_address_is_critical_and_the_first_line_names_address_and_list(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP)
    assert r.code == 2
    assert r.status == f"DNSBL CRITICAL - {LISTED_IP} listed on psbl.surriel.com (1 of 1 list)"


def test_clean_address_is_ok(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", CLEAN_IP)
    assert r.code == 0
    assert r.status == f"DNSBL OK - {CLEAN_IP} not listed on 1 list"


def test_perfdata_counts_listings_errors_and_checks(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP)
    assert {k: r.perfdata[k] for k in ("listed", "policy", "errors", "checked")} == {
        "listed": "1",
        "policy": "0",
        "errors": "0",
        "checked": "1",
    }
    assert r.perfdata["time"].endswith("s")


def test_long_output_gives_meaning_txt_and_lookup_url(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP)
    detail = r.lines[1]
    assert "PSBL: sent mail to spam traps" in detail
    assert f'TXT "Listed, see http://lookup.test/{LISTED_IP}"' in detail
    assert f"https://psbl.org/listing?ip={LISTED_IP}" in detail


def test_every_a_record_is_read_and_the_gravest_wins(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone("zen.spamhaus.org", "ip4set", ["127.0.0.2", f"{LISTED_IP} :127.0.0.2:"]),
            RbldnsdZone("zen.spamhaus.org", "ip4set", [f"{LISTED_IP} :127.0.0.10:"]),
        ]
    )
    r = dnsbl(server.nameserver, "-z", "zen.spamhaus.org", "-H", LISTED_IP)
    assert r.code == 2
    assert "127.0.0.2" in r.stdout and "127.0.0.10" in r.stdout


def test_policy_only_listing_is_warning_and_says_policy(rbldnsd):
    server = rbldnsd([ip4set("zen.spamhaus.org", f"{LISTED_IP} :127.0.0.10:")])
    r = dnsbl(server.nameserver, "-z", "zen.spamhaus.org", "-H", LISTED_IP)
    assert r.code == 1
    assert "policy-listed on zen.spamhaus.org" in r.status
    assert "PBL" in r.stdout


def test_thresholds_change_the_state_of_listings(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", LISTED_IP), ip4set("bl.spamcop.net", LISTED_IP)])
    args = ["-z", "psbl.surriel.com", "-z", "bl.spamcop.net", "-H", LISTED_IP]
    assert dnsbl(server.nameserver, *args, "-w", "0", "-c", "1").code == 2
    assert dnsbl(server.nameserver, *args, "-w", "0", "-c", "2").code == 1
    assert dnsbl(server.nameserver, *args, "-w", "2", "-c", "2").code == 0


# --- error answers are never listings -------------------------------------------------------


@pytest.mark.parametrize("code", ["127.255.255.252", "127.255.255.254", "127.255.255.255"])
def test_spamhaus_error_answers_are_errors_never_listings(rbldnsd, code):
    server = rbldnsd(
        [ip4set("zen.spamhaus.org", f"{LISTED_IP} :{code}:"), ip4set("psbl.surriel.com")]
    )
    r = dnsbl(
        server.nameserver, "-z", "zen.spamhaus.org", "-z", "psbl.surriel.com", "-H", LISTED_IP
    )
    assert r.code == 1
    assert r.perfdata["listed"] == "0" and r.perfdata["errors"] == "1"
    assert f"{LISTED_IP} not listed on 1 of 2 lists" in r.status and "zen.spamhaus.org" in r.status


def test_dbl_answer_for_an_ip_query_is_an_error(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(
                "dbl.spamhaus.org", "dnset", [":127.0.1.2:", "test", "example.test :127.0.1.255:"]
            ),
            RbldnsdZone("multi.uribl.com", "dnset", [":127.0.0.2:", "test"]),
        ]
    )
    r = dnsbl(
        server.nameserver, "-z", "dbl.spamhaus.org", "-z", "multi.uribl.com", "-d", "example.test"
    )
    assert r.code == 1 and r.perfdata["listed"] == "0"
    assert "IP address was queried" in r.stdout


def test_answer_outside_loopback_range_is_an_error(rbldnsd):
    server = rbldnsd(
        [ip4set("psbl.surriel.com", f"{LISTED_IP} :198.51.100.80:"), ip4set("bl.spamcop.net")]
    )
    r = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-z", "bl.spamcop.net", "-H", LISTED_IP)
    assert r.code == 1 and r.perfdata["listed"] == "0"
    assert "outside 127.0.0.0/8" in r.stdout


def test_wildcard_dead_zone_is_broken_not_a_listing(rbldnsd):
    server = rbldnsd(
        [ip4set("dead.example.test", "0.0.0.0/1", "128.0.0.0/1"), ip4set("psbl.surriel.com")]
    )
    r = dnsbl(
        server.nameserver, "-z", "dead.example.test", "-z", "psbl.surriel.com", "-H", CLEAN_IP
    )
    assert r.code == 1
    assert r.perfdata["listed"] == "0" and r.perfdata["broken"] == "1"
    assert "dead.example.test broken" in r.status
    assert "BROKEN ZONE" in r.stdout


def test_wildcard_dead_zone_alone_gives_no_usable_answer(rbldnsd):
    server = rbldnsd([ip4set("dead.example.test", "0.0.0.0/1", "128.0.0.0/1")])
    r = dnsbl(server.nameserver, "-z", "dead.example.test", "-H", CLEAN_IP)
    assert r.code == 3 and "no list gave a usable answer" in r.status


def test_zone_that_lists_not_even_its_test_entry_is_suspect(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone("typo.example.test", "ip4set", [":127.0.0.2:", "203.0.113.9"]),
            ip4set("psbl.surriel.com"),
        ]
    )
    r = dnsbl(
        server.nameserver, "-z", "typo.example.test", "-z", "psbl.surriel.com", "-H", CLEAN_IP
    )
    assert r.code == 1
    assert "typo.example.test suspect" in r.status


def test_a_suspect_zone_alone_cannot_vouch_for_an_address(rbldnsd):
    server = rbldnsd([RbldnsdZone("typo.example.test", "ip4set", [":127.0.0.2:", "203.0.113.9"])])
    r = dnsbl(server.nameserver, "-z", "typo.example.test", "-H", CLEAN_IP)
    assert r.code == 3
    assert r.status == (
        f"DNSBL UNKNOWN - no usable answer for {CLEAN_IP}, errors: typo.example.test suspect"
    )


# --- failed queries are errors, never "not listed" ------------------------------------------


def test_refused_zone_is_an_error_and_alone_makes_unknown(psbl):
    r = dnsbl(psbl.nameserver, "-z", "not-served.example.test", "-H", CLEAN_IP)
    assert r.code == 3
    assert "no list gave a usable answer" in r.status and "REFUSED" in r.status


def test_refused_zone_beside_a_working_one_is_a_named_warning(psbl):
    r = dnsbl(
        psbl.nameserver, "-z", "psbl.surriel.com", "-z", "not-served.example.test", "-H", CLEAN_IP
    )
    assert r.code == 1
    assert "not-served.example.test (REFUSED)" in r.status


def test_listing_stays_critical_when_another_list_fails(psbl):
    r = dnsbl(
        psbl.nameserver, "-z", "psbl.surriel.com", "-z", "not-served.example.test", "-H", LISTED_IP
    )
    assert r.code == 2 and r.perfdata["errors"] == "1"


def test_servfail_is_an_error_never_clean():
    server = FakeDnsServer(rcode_reply(dns.rcode.SERVFAIL))
    try:
        r = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-H", CLEAN_IP)
    finally:
        server.close()
    assert r.code == 3 and "SERVFAIL" in r.status


def test_server_that_never_answers_is_unknown_within_the_timeout():
    server = FakeDnsServer(silent)
    try:
        started = time.monotonic()
        r = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-H", CLEAN_IP, "-t", "2")
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert r.code == 3 and "timeout" in r.status
    assert elapsed < 4


def test_garbage_answer_outside_loopback_from_a_hijacked_zone_is_an_error():
    server = FakeDnsServer(a_reply("203.0.113.80"))
    try:
        r = dnsbl(server.nameserver, "-z", "psbl.surriel.com", "-H", CLEAN_IP)
    finally:
        server.close()
    assert r.perfdata["listed"] == "0" and r.code == 3


# --- kinds of input -------------------------------------------------------------------------


def test_ipv6_address_is_checked_on_an_ipv6_list(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(
                "bl.ipv6.spameatingmonkey.net",
                "ip6trie",
                [":127.0.0.2:", "::ffff:7f00:2", "2001:db8::25"],
            )
        ]
    )
    r = dnsbl(server.nameserver, "-z", "bl.ipv6.spameatingmonkey.net", "-H", "2001:db8::25")
    assert r.code == 2 and "2001:db8::25 listed on bl.ipv6.spameatingmonkey.net" in r.status


def test_ipv4_lists_are_not_asked_about_ipv6_addresses(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", "2001:db8::25", "--format", "json")
    assert r.json["results"] == [] and r.code == 3
    assert r.json["targets"] == [{"target": "2001:db8::25", "source": None, "status": "uncovered"}]


def test_domain_is_checked_on_a_domain_list(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(
                "dbl.spamhaus.org", "dnset", [":127.0.1.2:spam domain", "test", "bad.example.test"]
            )
        ]
    )
    r = dnsbl(server.nameserver, "-z", "dbl.spamhaus.org", "-d", "bad.example.test")
    assert r.code == 2 and "bad.example.test listed on dbl.spamhaus.org" in r.status
    assert "DBL: spam domain" in r.stdout


def test_cidr_range_checks_every_address(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", "192.0.2.4/30", "--format", "json")
    assert sorted(x["address"] for x in r.json["results"]) == [
        "192.0.2.4",
        "192.0.2.5",
        "192.0.2.6",
        "192.0.2.7",
    ]
    assert r.code == 2


def test_cidr_range_over_the_cap_is_unknown(psbl):
    r = dnsbl(
        psbl.nameserver, "-z", "psbl.surriel.com", "-H", "192.0.2.0/24", "--max-addresses", "16"
    )
    assert r.code == 3 and "--max-addresses" in r.status


def test_hostname_is_resolved_and_every_a_and_aaaa_checked(rbldnsd, unbound):
    bl = rbldnsd(
        [
            ip4set("psbl.surriel.com", LISTED_IP),
            RbldnsdZone(
                "bl.ipv6.spameatingmonkey.net", "ip6trie", [":127.0.0.2:", "::ffff:7f00:2"]
            ),
        ]
    )
    resolver = unbound(
        records={
            "mail.example.test": [
                "A 192.0.2.1",
                f"A {LISTED_IP}",
                "AAAA 2001:db8::25",
                "AAAA 2001:db8::26",
            ]
        },
        stubs={"psbl.surriel.com": bl.nameserver, "bl.ipv6.spameatingmonkey.net": bl.nameserver},
    )
    r = dnsbl(
        resolver.nameserver,
        "-z",
        "psbl.surriel.com",
        "-z",
        "bl.ipv6.spameatingmonkey.net",
        "-H",
        "mail.example.test",
        "--format",
        "json",
    )
    checked = {x["address"] for x in r.json["results"]}
    assert checked == {"192.0.2.1", LISTED_IP, "2001:db8::25", "2001:db8::26"}
    assert r.code == 2 and LISTED_IP in r.json["summary"]


def test_unresolvable_hostname_is_unknown(rbldnsd, unbound):
    resolver = unbound(records={"mail.example.test": ["A 192.0.2.1"]})
    r = dnsbl(resolver.nameserver, "-z", "psbl.surriel.com", "-H", "nowhere.example.test")
    assert r.code == 3 and "nowhere.example.test" in r.status


@pytest.mark.parametrize(
    "args",
    [
        ["-H", "999.1.1.1"],
        ["-H", "not a host"],
        ["-H", "192.0.2.0/33"],
        ["-d", "192.0.2.1"],
        ["-H", ""],
        ["-w", "x:y:z", "-H", CLEAN_IP],
        ["--bogus"],
        ["-H", CLEAN_IP, "-t", "-1"],
        ["-H", CLEAN_IP, "-n", "nameserver.example"],
        [],
    ],
)
def test_bad_input_is_unknown_with_one_clear_line_and_no_traceback(psbl, args):
    r = run_plugin("check_dnsbl", "-z", "psbl.surriel.com", "-n", psbl.nameserver, *args)
    assert r.code == 3 and r.first_line.startswith("DNSBL UNKNOWN - ")


def test_non_global_address_without_the_option_is_unknown_and_says_why(psbl):
    r = run_plugin("check_dnsbl", "-n", psbl.nameserver, "-z", "psbl.surriel.com", "-H", "10.1.2.3")
    assert r.code == 3 and "--allow-nonglobal" in r.status


# --- zone catalogues ------------------------------------------------------------------------


def test_toml_catalogue_file_defines_decoding(rbldnsd, tmp_path):
    server = rbldnsd([ip4set("own.example.test", f"{LISTED_IP} :127.0.0.5:")])
    catalogue = tmp_path / "zones.toml"
    catalogue.write_text(
        '[[zone]]\nname = "own.example.test"\ndefault = true\n'
        'answers = [{ match = "127.0.0.5", means = "policy", label = "own policy list" }]\n'
    )
    r = dnsbl(
        server.nameserver, "--zones-file", str(catalogue), "-z", "own.example.test", "-H", LISTED_IP
    )
    assert r.code == 1 and "own policy list" in r.stdout


def test_check_rbl_ini_file_selects_the_zones(rbldnsd, tmp_path):
    server = rbldnsd([ip4set("psbl.surriel.com", LISTED_IP), ip4set("bl.spamcop.net")])
    ini = tmp_path / "check_rbl.ini"
    ini.write_text("[rbl]\nserver=psbl.surriel.com\nserver=bl.spamcop.net\n")
    r = dnsbl(server.nameserver, "--zones-file", str(ini), "-H", LISTED_IP, "--format", "json")
    assert {x["zone"] for x in r.json["results"]} == {"psbl.surriel.com", "bl.spamcop.net"}
    assert r.code == 2


def test_dead_zone_is_refused_with_a_clear_message(psbl):
    r = dnsbl(psbl.nameserver, "-z", "dnsbl.sorbs.net", "-H", CLEAN_IP)
    assert r.code == 3 and "dead list" in r.status and "SORBS" in r.status


def test_dqs_key_is_used_in_queries_and_never_shown(rbldnsd):
    key = "abcdefghijklmnopqrstuvwxyz"
    server = rbldnsd([ip4set(f"{key}.zen.dq.spamhaus.net", LISTED_IP)])
    r = dnsbl(
        server.nameserver,
        "-z",
        "zen.spamhaus.org",
        "-H",
        LISTED_IP,
        "-vvv",
        env={"MAILREP_DQS_KEY": key},
    )
    assert r.code == 2
    assert key not in r.stdout + r.stderr
    assert "<key>.zen.dq.spamhaus.net" in r.status


def test_list_zones_prints_the_catalogue():
    r = run_plugin("check_dnsbl", "--list-zones")
    assert r.code == 0 and "zen.spamhaus.org" in r.stdout and "dead" in r.stdout


# --- output formats and the plugin contract -------------------------------------------------


def test_json_format_has_state_summary_perfdata_and_results(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP, "--format", "json")
    doc = r.json
    assert doc["state"] == "CRITICAL" and doc["exit_code"] == r.code == 2
    assert doc["summary"].startswith(f"{LISTED_IP} listed on psbl.surriel.com")
    assert {p["label"] for p in doc["perfdata"]} >= {
        "listed",
        "policy",
        "errors",
        "checked",
        "time",
    }
    [result] = doc["results"]
    assert result["address"] == LISTED_IP and result["zone"] == "psbl.surriel.com"
    assert result["status"] == "listed" and result["codes"] == ["127.0.0.2"]
    assert result["txt"] == [f"Listed, see http://lookup.test/{LISTED_IP}"]


def test_json_format_keeps_unknown_for_bad_input():
    r = run_plugin("check_dnsbl", "-H", "nonsense value", "--format", "json")
    assert r.code == 3 and r.json["state"] == "UNKNOWN"


def test_help_is_complete_and_exits_unknown():
    r = run_plugin("check_dnsbl", "-h")
    assert r.code == 3
    for option in (
        "--host",
        "--domain",
        "--zone",
        "--server",
        "--zones-file",
        "--exclude-zone",
        "--list-zones",
        "--nameserver",
        "--warning",
        "--critical",
        "--query-timeout",
        "--timeout",
        "--concurrency",
        "--dqs-key",
        "--allow-nonglobal",
        "--format",
        "--verbose",
        "--version",
    ):
        assert option in r.stdout


def test_version_exits_unknown_and_prints_the_version():
    r = run_plugin("check_dnsbl", "-V")
    assert r.code == 3 and r.stdout.startswith("check_dnsbl ")


def test_verbose_lists_clean_results_and_self_tests(psbl):
    r = dnsbl(psbl.nameserver, "-z", "psbl.surriel.com", "-H", CLEAN_IP, "-vv")
    assert f"clean: {CLEAN_IP} on psbl.surriel.com" in r.stdout
    assert "self-test psbl.surriel.com: ok" in r.stdout


def test_runs_straight_from_a_checkout(psbl):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "plugins" / "check_dnsbl.py"
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "-n",
            psbl.nameserver,
            "--allow-nonglobal",
            "-z",
            "psbl.surriel.com",
            "-H",
            LISTED_IP,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout.startswith("DNSBL CRITICAL")
