"""check_relay_chain on saved messages (--file, stdin) against a real rbldnsd.

Each test runs the installed console script as Nagios would and reads the status line, exit
code, long output or JSON. The fixtures are realistic header blocks written for these tests
(tests/support/fixtures/relay_chain); their relay addresses are global, so no --allow-nonglobal is
needed except where a test says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lab import AV_RELAY
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone, ip4set

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "relay_chain"
PROVIDER = str(FIXTURES / "provider_relay.eml")
HEADERS_ONLY = str(FIXTURES / "provider_relay_headers.txt")
GMAIL = str(FIXTURES / "gmail_exim_ipv6.eml")
FORGED = str(FIXTURES / "forged_below.eml")
SUBMISSION = "185.56.87.25"  # hop 2, the company's own server


def relay_chain(ns: str, *args: str, **kw):
    return run_plugin("check_relay_chain", "-n", ns, "-z", "psbl.surriel.com", *args, **kw)


@pytest.fixture
def clean(rbldnsd):
    return rbldnsd([ip4set("psbl.surriel.com")])


# --- the incident: a listed relay -----------------------------------------------------------


def test_listed_relay_is_critical_and_the_first_line_names_the_hop(psbl):
    r = relay_chain(psbl.nameserver, "--file", PROVIDER)
    assert r.code == 2
    assert r.status == (
        f"RELAY CHAIN CRITICAL - hop 3 av1.provider.example [{AV_RELAY}] listed on psbl.surriel.com"
    )


def test_clean_chain_is_ok_and_says_how_many_hops_were_checked(clean):
    r = relay_chain(clean.nameserver, "--file", PROVIDER)
    assert r.code == 0
    assert r.status == "RELAY CHAIN OK - 2 of 5 hops checked, none listed on 1 list"


def test_listed_sender_side_hop_below_the_entry_is_critical_too(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", SUBMISSION)])
    r = relay_chain(server.nameserver, "--file", PROVIDER)
    assert r.code == 2
    assert f"hop 2 smtp.example.com [{SUBMISSION}] listed on psbl.surriel.com" in r.status


def test_every_listed_hop_is_named(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", SUBMISSION, AV_RELAY)])
    r = relay_chain(server.nameserver, "--file", PROVIDER)
    assert "hop 2 smtp.example.com" in r.status and "hop 3 av1.provider.example" in r.status
    assert r.perfdata["listed_hops"] == "2"


def test_perfdata_counts_hops_checked_hops_listed_hops_and_relay_delay(psbl):
    r = relay_chain(psbl.nameserver, "--file", PROVIDER)
    assert {k: r.perfdata[k] for k in ("hops", "checked_hops", "listed_hops", "relay_delay")} == {
        "hops": "5",
        "checked_hops": "2",
        "listed_hops": "1",
        "relay_delay": "6.0s",
    }
    # check_dnsbl's "listed" counts address x list: here the hops have their own names.
    assert "listed" not in r.perfdata and "checked" not in r.perfdata
    assert "delivery" not in r.perfdata  # no round trip, no delivery time


def test_long_output_is_the_numbered_chain_with_each_hops_checks(psbl):
    r = relay_chain(psbl.nameserver, "--file", PROVIDER)
    hop_lines = [line for line in r.lines[1:] if line.startswith("hop ")]
    assert [line.split()[1] for line in hop_lines] == ["1", "2", "3", "4", "5"]
    assert "not checked (authenticated submission client" in hop_lines[0]
    assert "[entry, written by the receiver]: LISTED on psbl.surriel.com" in hop_lines[2]
    assert "+2s" in hop_lines[2]
    assert "not checked (receiver side)" in hop_lines[3]


def test_long_output_gives_the_listing_txt_and_lookup_url(psbl):
    r = relay_chain(psbl.nameserver, "--file", PROVIDER)
    assert f'TXT "Listed, see http://lookup.test/{AV_RELAY}"' in r.stdout
    assert f"https://psbl.org/listing?ip={AV_RELAY}" in r.stdout


def test_listing_thresholds_are_the_listed_options_not_w_and_c(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", SUBMISSION, AV_RELAY)])
    args = ["--file", PROVIDER]
    assert (
        relay_chain(
            server.nameserver, *args, "--listed-warning", "0", "--listed-critical", "1"
        ).code
        == 2
    )
    assert (
        relay_chain(
            server.nameserver, *args, "--listed-warning", "0", "--listed-critical", "2"
        ).code
        == 1
    )
    assert relay_chain(server.nameserver, *args, "-w", "5", "-c", "10").code == 2


def test_policy_listed_hop_is_a_warning(rbldnsd):
    server = rbldnsd([ip4set("zen.spamhaus.org", f"{AV_RELAY} :127.0.0.10:")])
    r = run_plugin(
        "check_relay_chain", "-n", server.nameserver, "-z", "zen.spamhaus.org", "--file", PROVIDER
    )
    assert r.code == 1
    assert f"hop 3 av1.provider.example [{AV_RELAY}] policy-listed on zen.spamhaus.org" in r.status


# --- inputs ----------------------------------------------------------------------------------


def test_message_on_stdin_gives_the_same_result_as_the_file(psbl):
    from_file = relay_chain(psbl.nameserver, "--file", PROVIDER)
    from_stdin = relay_chain(psbl.nameserver, "--file", "-", stdin=Path(PROVIDER).read_bytes())
    assert (from_stdin.code, from_stdin.status) == (from_file.code, from_file.status)
    assert "from stdin" in from_stdin.stdout


def test_header_block_alone_is_enough(psbl):
    r = relay_chain(psbl.nameserver, "--file", HEADERS_ONLY)
    assert r.code == 2 and "hop 3 av1.provider.example" in r.status


def test_ipv6_relay_is_checked_on_an_ipv6_list(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(
                "bl.example.test",
                "ip6trie",
                [":127.0.0.2:v6 listed", "::FFFF:7F00:2", "2a01:4f8:c17:5c1::2"],
            ),
            # An ad-hoc zone is asked for both test entries, the IPv4 one too: serve both.
            RbldnsdZone("bl.example.test", "ip4set", [":127.0.0.2:x", "127.0.0.2"]),
        ]
    )
    r = run_plugin(
        "check_relay_chain", "-n", server.nameserver, "-z", "bl.example.test", "--file", GMAIL
    )
    assert r.code == 2
    assert "hop 2 relay.example.org [2a01:4f8:c17:5c1::2] listed on bl.example.test" in r.status


def test_unreadable_file_is_unknown(clean):
    r = relay_chain(clean.nameserver, "--file", "/nonexistent/probe.eml")
    assert r.code == 3 and "cannot read /nonexistent/probe.eml" in r.status


def test_message_without_received_lines_is_unknown(clean):
    r = relay_chain(clean.nameserver, "--file", "-", stdin=b"From: a@example.com\n\nbody\n")
    assert r.code == 3 and "no Received header" in r.status


def test_no_message_source_is_a_usage_error():
    r = run_plugin("check_relay_chain", "-n", "127.0.0.1:9")
    assert r.code == 3 and "usage error: no message" in r.status


def test_file_and_imap_together_are_a_usage_error():
    r = run_plugin("check_relay_chain", "--file", PROVIDER, "--imap-host", "localhost")
    assert r.code == 3 and "usage error" in r.status


def test_round_trip_without_recipient_is_a_usage_error():
    r = run_plugin(
        "check_relay_chain",
        "--smtp-host",
        "localhost",
        "--imap-host",
        "localhost",
        "--from",
        "a@example.com",
    )
    assert r.code == 3 and "--from and --to" in r.status


# --- trust boundary --------------------------------------------------------------------------


def test_receiver_that_did_not_write_the_newest_line_is_unknown_with_the_fix(clean):
    r = relay_chain(clean.nameserver, "--file", PROVIDER, "--receiver", "mx.elsewhere.example")
    assert r.code == 3 and "--receiver" in r.status


def test_private_only_chain_is_unknown_without_allow_nonglobal(clean):
    message = (
        b"Received: from int.example (int.example [10.0.0.5])\n"
        b"\tby mx.example.net (Postfix) with ESMTP id 1; Sat, 28 Nov 2026 14:00:00 +0000\n"
        b"\n"
    )
    r = relay_chain(clean.nameserver, "--file", "-", stdin=message)
    assert r.code == 3 and "no hop to check" in r.status and "--allow-nonglobal" in r.status


def test_private_hop_is_checked_with_allow_nonglobal(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", "192.168.1.20")])
    r = relay_chain(server.nameserver, "--file", FORGED, "--allow-nonglobal")
    assert r.code == 2 and "hop 1 workstation [192.168.1.20] listed" in r.status


def test_non_global_hop_is_not_sent_to_the_list_by_default(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", "192.168.1.20")])
    r = relay_chain(server.nameserver, "--file", FORGED)
    assert r.code != 2
    assert "hop 1 workstation [192.168.1.20]" in r.stdout and "non-global address" in r.stdout


# --- the receiver's authentication verdicts --------------------------------------------------


def test_spf_and_dmarc_failing_at_the_receiver_is_a_warning_naming_them(clean):
    r = relay_chain(clean.nameserver, "--file", FORGED)
    assert r.code == 1
    assert r.status == (
        "RELAY CHAIN WARNING - spf=fail (sender.example), dmarc=fail (sender.example) at "
        "mx1.recipient.example"
    )
    assert r.perfdata["auth_fail"] == "2"


def test_authentication_results_below_the_entry_hop_are_not_believed(clean):
    r = relay_chain(clean.nameserver, "--file", FORGED, "--format", "json")
    assert r.json["authentication"]["spf"] == "fail"  # not the forged "pass" further down


def test_auth_fail_state_can_be_ok_or_critical(clean):
    assert relay_chain(clean.nameserver, "--file", FORGED, "--auth-fail-state", "ok").code == 0
    assert (
        relay_chain(clean.nameserver, "--file", FORGED, "--auth-fail-state", "critical").code == 2
    )


def test_passing_authentication_is_reported_in_the_long_output(clean):
    r = relay_chain(clean.nameserver, "--file", PROVIDER)
    assert (
        "authentication at mx1.recipient.example: spf=pass (monitor@example.com), "
        "dkim=pass (example.com), dmarc=pass (example.com)"
    ) in r.lines


def test_softfail_at_gmail_is_a_warning(rbldnsd):
    # An ad-hoc zone is asked for both test entries, the IPv4 one too: serve both.
    server = rbldnsd(
        [
            RbldnsdZone("bl.example.test", "ip6trie", [":127.0.0.2:x", "::FFFF:7F00:2"]),
            RbldnsdZone("bl.example.test", "ip4set", [":127.0.0.2:x", "127.0.0.2"]),
        ]
    )
    r = run_plugin(
        "check_relay_chain", "-n", server.nameserver, "-z", "bl.example.test", "--file", GMAIL
    )
    assert r.code == 1 and "spf=softfail" in r.status and "mx.google.com" in r.status


# --- JSON ------------------------------------------------------------------------------------


def test_json_lists_hops_with_addresses_names_and_blocklist_results(psbl):
    r = relay_chain(psbl.nameserver, "--file", PROVIDER, "--format", "json")
    doc = r.json
    assert r.code == 2 and doc["state"] == "CRITICAL" and doc["entry_hop"] == 3
    hops = doc["hops"]
    assert [h["hop"] for h in hops] == [1, 2, 3, 4, 5]
    entry = hops[2]
    assert {k: entry[k] for k in ("ip", "helo", "rdns", "by", "public", "checked", "side")} == {
        "ip": AV_RELAY,
        "helo": "av1.provider.example",
        "rdns": "av1.provider.example",
        "by": "mx1.recipient.example",
        "public": True,
        "checked": True,
        "side": "entry",
    }
    assert [(b["zone"], b["status"], b["codes"]) for b in entry["blocklists"]] == [
        ("psbl.surriel.com", "listed", ["127.0.0.2"])
    ]
    assert hops[0]["checked"] is False and hops[0]["blocklists"] == []


def test_json_perfdata_matches_the_text_perfdata(psbl):
    doc = relay_chain(psbl.nameserver, "--file", PROVIDER, "--format", "json").json
    perf = {p["label"]: p["value"] for p in doc["perfdata"]}
    assert (perf["hops"], perf["checked_hops"], perf["listed_hops"]) == (5, 2, 1)


def test_fcrdns_failure_is_information_only(psbl):
    # rbldnsd serves no reverse zone: the PTR lookups fail, and that changes nothing.
    r = relay_chain(psbl.nameserver, "--file", PROVIDER, "--format", "json")
    entry = r.json["hops"][2]
    assert entry["fcrdns"]["error"] == "REFUSED" and r.code == 2
    assert (
        relay_chain(psbl.nameserver, "--file", PROVIDER, "--no-fcrdns", "--format", "json").json[
            "hops"
        ][2]["fcrdns"]
        is None
    )


def test_bad_since_window_is_a_usage_error():
    r = run_plugin("check_relay_chain", "--imap-host", "localhost", "--since", "yesterday")
    assert r.code == 3 and "usage error: --since" in r.status


def test_verbose_ok_line_adds_the_receivers_authentication_verdicts(clean):
    r = relay_chain(clean.nameserver, "--file", PROVIDER, "-v")
    assert r.code == 0
    assert r.status.endswith(", spf=pass (monitor@example.com), dkim=pass (example.com), "
                             "dmarc=pass (example.com)")  # fmt: skip


def test_silent_nameserver_is_unknown_within_the_timeout():
    from tests.support.fakes.dns_server import FakeDnsServer, silent

    server = FakeDnsServer(silent)
    try:
        r = relay_chain(server.nameserver, "--file", PROVIDER, "-t", "2")
    finally:
        server.close()
    assert r.code == 3 and "no list gave a usable answer" in r.status
    assert r.elapsed < 4


def test_delivery_thresholds_without_a_round_trip_are_noted_not_applied(clean):
    r = relay_chain(clean.nameserver, "--file", PROVIDER, "-w", "1", "-c", "2")
    assert r.code == 0
    assert "-w/-c judge the round trip's delivery time: not used without one" in r.lines


def test_a_listing_outranks_an_authentication_failure_on_the_first_line(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com", "185.56.87.40")])
    r = relay_chain(server.nameserver, "--file", FORGED)
    assert r.code == 2
    assert r.status == (
        "RELAY CHAIN CRITICAL - hop 3 mail.sender.example [185.56.87.40] listed on psbl.surriel.com"
    )
    assert any(
        line.startswith("authentication at mx1.recipient.example: spf=fail") for line in r.lines
    )
