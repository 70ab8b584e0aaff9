"""Forward-confirmed reverse DNS of the hops, through a real local resolver (Unbound).

Unbound answers the hops' PTR and A records from local-data (names under .test, reverse names
of exactly the hop addresses, so nothing is ever asked of the Internet) and forwards the
blocklist zone to rbldnsd, as the README's recommended set-up does.
"""

from __future__ import annotations

import pytest

from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone

ENTRY_IP = "185.56.87.12"  # av1.provider.test: PTR points to a name that resolves elsewhere
SENDER_IP = "185.56.87.25"  # PTR mailout.sender.test, confirmed; HELO smtp.sender.test

MESSAGE = (
    f"Received: from av1.provider.test (av1.provider.test [{ENTRY_IP}])\n"
    "\tby mx1.recipient.test (Postfix) with ESMTPS id 4MkW3Y6vJ1z9sWp\n"
    "\tfor <probe@recipient.test>; Sat, 28 Nov 2026 14:00:05 +0000 (UTC)\n"
    f"Received: from smtp.sender.test (mailout.sender.test [{SENDER_IP}])\n"
    "\tby av1.provider.test (Postfix) with ESMTPS id 3A1B2C3D4E\n"
    "\tfor <probe@recipient.test>; Sat, 28 Nov 2026 14:00:03 +0000 (UTC)\n"
    "Subject: fcrdns\n\nx\n"
).encode()


def reverse(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


@pytest.fixture
def resolver(rbldnsd, unbound):
    bl = rbldnsd([RbldnsdZone("psbl.surriel.com", "ip4set", [":127.0.0.2:x", "127.0.0.2"])])
    return unbound(
        records={
            reverse(SENDER_IP): ["PTR mailout.sender.test."],
            "mailout.sender.test": [f"A {SENDER_IP}"],
            reverse(ENTRY_IP): ["PTR av1.provider.test."],
            "av1.provider.test": ["A 185.56.87.99"],
        },
        stubs={"psbl.surriel.com": bl.nameserver},
    )


def run(resolver, *args: str):
    return run_plugin(
        "check_relay_chain", "-n", resolver.nameserver, "-z", "psbl.surriel.com",
        "--file", "-", *args, stdin=MESSAGE,
    )  # fmt: skip


def test_confirmed_ptr_is_reported_with_its_name(resolver):
    hop = run(resolver, "--format", "json").json["hops"][0]
    assert hop["fcrdns"] == {
        "ptr": ["mailout.sender.test"],
        "confirmed": ["mailout.sender.test"],
        "ok": True,
        "error": None,
        "helo_matches_ptr": False,
    }


def test_ptr_that_resolves_elsewhere_is_not_confirmed(resolver):
    hop = run(resolver, "--format", "json").json["hops"][1]
    assert (hop["fcrdns"]["ptr"], hop["fcrdns"]["ok"]) == (["av1.provider.test"], False)
    assert hop["fcrdns"]["helo_matches_ptr"] is True


def test_long_output_gives_fcrdns_and_helo_per_hop(resolver):
    r = run(resolver)
    hop1, hop2 = (line for line in r.lines if line.startswith("hop "))
    assert "FCrDNS ok (mailout.sender.test); HELO is not a PTR name" in hop1
    assert f"PTR av1.provider.test does not resolve back to {ENTRY_IP}" in hop2


def test_fcrdns_failures_do_not_change_the_state(resolver):
    r = run(resolver)
    assert r.code == 0
    assert r.status == "RELAY CHAIN OK - 2 of 2 hops checked, none listed on 1 list"
