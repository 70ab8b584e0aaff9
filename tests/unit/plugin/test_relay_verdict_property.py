"""check_relay_chain over the verdict space: never an all-clear the check does not know.

A chain is built from generated Received lines (IPv4 and IPv6 hops, authenticated
submissions that are not checked), the lookup report for its checked hops is generated as
for check_dnsbl, and the real Resource/Context/Summary run through the runtime's output path.
"""

from __future__ import annotations

import ipaddress

import check_relay_chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.dnsbl.judgement import trusted
from mailrep.dnsbl.lookup import Item, Status, applies
from mailrep.plugin.relay_check import relay_outcome
from mailrep.relay.authresults import summarise
from mailrep.relay.chain import Examination, build_chain

from tests.unit.plugin.verdict_space import (
    check_output,
    option,
    reports,
    run_both,
    thresholds,
    within,
)

KEYS = ("hops", "entry_hop", "receiver", "zones", "authentication", "notes", "unchecked")


def message(hops: list[tuple[str, bool]]) -> str:
    """Received lines (newest first) for hops given origin first as (address, authenticated)."""
    lines = []
    for n, (ip, auth) in enumerate(hops, 1):
        by = "mx.recipient.example" if n == len(hops) else f"h{n + 1}.example"
        proto = "ESMTPSA" if auth else "ESMTPS"
        lines.append(
            f"Received: from h{n}.example (h{n}.example [{ip}]) by {by} with {proto} id A{n};"
            f" Sat, 28 Nov 2026 14:00:{n:02d} +0000"
        )
    return "\n".join(reversed(lines)) + "\n\nbody\n"


ADDRESSES = st.one_of(
    st.integers(1, 30).map(lambda n: f"192.0.2.{n}"),
    st.integers(1, 30).map(lambda n: f"2001:db8::{n:x}"),
)


@st.composite
def examinations(draw):
    hops = draw(st.lists(st.tuples(ADDRESSES, st.booleans()), min_size=1, max_size=4))
    hops[-1] = (hops[-1][0], False)  # the entry hop is a relay, as the receiver saw it
    chain = build_chain(message(hops), allow_nonglobal=True)
    items = [Item.for_address(ipaddress.ip_address(ip)) for ip in chain.checked_ips]
    report = draw(reports(items))
    return Examination(chain, report, {}, summarise([]), [])


def run_relay(exam, argv, verbose=0):
    def build(args, ctx):
        return relay_outcome(args, ctx.verbose, lambda: exam)

    return run_both(
        "RELAY CHAIN",
        check_relay_chain.build_parser,
        build,
        argv,
        check_relay_chain.json_defaults,
        verbose,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(examinations(), thresholds(("--listed-warning", "--listed-critical")), st.integers(0, 3))
def test_relay_verdicts_hold_whatever_the_lists_say(exam, argv, verbose):
    out = run_relay(exam, argv, verbose)
    check_output(out, "RELAY CHAIN", KEYS, verbose)
    report, chain = exam.report, exam.chain
    listed_hops = len(exam.hops_with(Status.LISTED))
    policy_hops = len(exam.hops_with(Status.POLICY))
    assert (out.value("listed_hops"), out.value("policy_hops")) == (listed_hops, policy_hops)
    assert "listed" not in out.perfdata and "policy" not in out.perfdata  # hops have own names
    assert [h["hop"] for h in out.doc["hops"]] == [h.number for h in chain.hops]
    ips = chain.checked_ips
    judged = {v.item.text for v in report.verdicts if trusted(report, v)}
    items = [Item.for_address(ipaddress.ip_address(ip)) for ip in ips]
    covered = [i for i in items if any(applies(z, i) for z in report.zones)]

    if out.code == 0:
        assert len(covered) == len(ips) and all(ip in judged for ip in ips)
        assert within(option(argv, "--listed-critical"), listed_hops)
        assert within(option(argv, "--listed-warning"), listed_hops)
        assert within(option(argv, "--policy-warning"), policy_hops)
        assert within(option(argv, "--errors-warning"), out.value("errors"))

    if report.resolver_fault is not None:  # said once: no answer of the run is believed
        assert out.code == 3 and report.resolver_fault.message in out.summary
        return
    if listed_hops or policy_hops:
        assert "none listed" not in out.summary and "not listed" not in out.summary
        assert "listed on" in out.summary
        if out.code == 0:
            assert "within thresholds" in out.summary
    if out.value("errors"):
        assert "errors: " in out.summary
    if len(covered) < len(ips):
        assert "no list covers" in out.summary and out.code != 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=3))
def test_a_chain_with_no_checkable_hop_is_unknown_and_still_shown(numbers):
    hops = [(f"192.0.2.{n}", True) for n in numbers]  # every client a user: nothing to check
    chain = build_chain(message(hops), allow_nonglobal=True)
    exam = Examination(chain, None, {}, summarise([]), [], unchecked="no hop to check among 1")
    out = run_relay(exam, [])
    check_output(out, "RELAY CHAIN", KEYS)
    assert out.code == 3 and out.summary == "no hop to check among 1"
    assert len(out.doc["hops"]) == len(numbers) and out.value("checked_hops") == 0
