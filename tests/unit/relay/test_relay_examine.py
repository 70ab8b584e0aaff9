"""Examining a chain: FCrDNS runs beside the blocklist lookups, not after them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from mailrep.dns import fcrdns
from mailrep.dns.fcrdns import Fcrdns
from mailrep.dns.resolver import parse_nameserver
from mailrep.dnsbl.lookup import BlocklistConfig, LookupSettings, Report
from mailrep.relay import chain as relay_chain
from mailrep.relay.chain import examine

MESSAGE = (
    Path(__file__).resolve().parents[2]
    / "support"
    / "fixtures"
    / "relay_chain"
    / "provider_relay.eml"
).read_bytes()


def config(deadline: float | None = None) -> BlocklistConfig:
    # no zone and a nameserver nobody asks: lookup and FCrDNS are both played below
    settings = LookupSettings(nameservers=[parse_nameserver("127.0.0.1:1")], deadline=deadline)
    return BlocklistConfig([], settings, None)


def no_lookup(items, zones, settings):
    return Report([], {}, list(zones))


def test_fcrdns_runs_while_the_blocklist_lookups_run(monkeypatch):
    started = threading.Event()

    def reverse(ips, resolver):
        started.set()
        return {ip: Fcrdns(ip) for ip in ips}

    def lookup(items, zones, settings):
        # sequential code would call this first and wait here in vain
        assert started.wait(2), "FCrDNS had not started while the lookups ran"
        return no_lookup(items, zones, settings)

    monkeypatch.setattr(fcrdns, "check", reverse)
    monkeypatch.setattr(relay_chain, "lookup", lookup)
    exam = examine(MESSAGE, config())
    assert set(exam.fcrdns) == set(exam.chain.checked_ips)


def test_a_failure_inside_fcrdns_reaches_the_caller(monkeypatch):
    def reverse(ips, resolver):
        raise RuntimeError("bug in FCrDNS")

    monkeypatch.setattr(fcrdns, "check", reverse)
    monkeypatch.setattr(relay_chain, "lookup", no_lookup)
    with pytest.raises(RuntimeError, match="bug in FCrDNS"):
        examine(MESSAGE, config())


def test_fcrdns_still_running_past_the_deadline_is_a_timeout_per_address(monkeypatch):
    release = threading.Event()

    def reverse(ips, resolver):
        release.wait(10)
        return {}

    monkeypatch.setattr(fcrdns, "check", reverse)
    monkeypatch.setattr(relay_chain, "lookup", no_lookup)
    try:
        exam = examine(MESSAGE, config(deadline=time.monotonic() + 0.1))
    finally:
        release.set()
    assert {f.error for f in exam.fcrdns.values()} == {"timed out"}
