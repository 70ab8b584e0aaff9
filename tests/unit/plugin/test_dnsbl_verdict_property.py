"""check_dnsbl over the whole verdict space: never an all-clear the check does not know.

Reports are generated (listed, policy, each error code, timeout, truncation, NXDOMAIN,
self-test failures; v4, v6, domain and hostname targets; tolerant and strict thresholds) and
run through the real Resource/Context/Summary and the runtime's output path.
"""

from __future__ import annotations

import check_dnsbl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.dnsbl.judgement import trusted
from mailrep.dnsbl.lookup import Status, applies
from mailrep.plugin.dnsbl_check import dnsbl_outcome

from tests.unit.plugin.verdict_space import (
    check_output,
    option,
    reports,
    run_both,
    targets,
    thresholds,
    within,
)

KEYS = ("results", "zones", "targets", "notes")


@st.composite
def runs(draw):
    items = draw(targets())
    return items, draw(reports(items)), draw(thresholds()), draw(st.integers(0, 3))


def run_dnsbl(items, report, argv, verbose=0):
    def build(args, ctx):
        return dnsbl_outcome(args, ctx.verbose, items, lambda: report)

    return run_both(
        "DNSBL", check_dnsbl.build_parser, build, argv, check_dnsbl.json_defaults, verbose
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_dnsbl_verdicts_hold_whatever_the_lists_say(case):
    items, report, argv, verbose = case
    out = run_dnsbl(items, report, argv, verbose)
    check_output(out, "DNSBL", KEYS, verbose)
    listed = len(report.by_status(Status.LISTED))
    policy = len(report.by_status(Status.POLICY))
    assert (out.value("listed"), out.value("policy")) == (listed, policy)
    covered = [i for i in items if any(applies(z, i) for z in report.zones)]
    judged = {v.item.text for v in report.verdicts if trusted(report, v)}

    # OK only if every target got a usable, self-tested answer from an applicable list and
    # no count exceeds its thresholds.
    if out.code == 0:
        assert len(covered) == len(items) and all(i.text in judged for i in items)
        assert within(option(argv, "-c"), listed) and within(option(argv, "-w"), listed)
        assert within(option(argv, "--policy-critical"), policy)
        assert within(option(argv, "--policy-warning"), policy)
        errors = out.value("errors")
        assert within(option(argv, "--errors-warning"), errors)

    assert out.value("unjudged") == len([i for i in items if i.text not in judged])
    if report.resolver_fault is not None:  # said once: no answer of the run is believed
        assert out.code == 3 and out.summary == report.resolver_fault.message
        return

    # The first line states what was found, whatever the state.
    if listed or policy:
        assert "not listed" not in out.summary and "listed on" in out.summary
        if out.code == 0:
            assert "within thresholds" in out.summary
    if out.value("errors"):
        assert "errors: " in out.summary
    if len(covered) < len(items):
        assert "no list covers" in out.summary and out.code != 0
    if listed and not within(option(argv, "-c"), listed) and judged:
        assert out.code == 2  # a listing past -c is CRITICAL, unjudged targets or not


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_one_listing_within_tolerant_thresholds_is_ok_and_says_listed(data):
    items = data.draw(targets(kinds=("v4",)))
    report = data.draw(reports(items))
    listed = len(report.by_status(Status.LISTED))
    out = run_dnsbl(items, report, ["-c", "1000", "--policy-warning", "1000",
                                    "--errors-warning", "1000"])  # fmt: skip
    if listed and out.code == 0:
        assert "listed on" in out.summary and "within thresholds" in out.summary
