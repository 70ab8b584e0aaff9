"""nagiosplugin objects for blocklist verdicts, shared by check_dnsbl and check_relay_chain.

Metrics: ``listed``, ``policy`` (address x list) and ``errors`` are judged by Nagios ranges
(defaults: any listing CRITICAL, any policy listing or error WARNING); ``unjudged`` counts
the targets the check cannot vouch for (no list applies, or no list gave a trusted answer),
which is UNKNOWN — a silent resolver or a list set that does not cover the target must never
read as "clean". The words are :mod:`mailrep.plugin.blocklist_text`'s.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import nagiosplugin

from mailrep.dnsbl.judgement import Judgement, judge
from mailrep.dnsbl.lookup import Item, Report, Status, Verdict
from mailrep.plugin import blocklist_text as words
from mailrep.plugin.blocklist_text import count_errors
from mailrep.plugin.runtime import Outcome


def blocklist_metrics(report: Report, judgement: Judgement) -> Iterator[nagiosplugin.Metric]:
    """The blocklist metrics both plugins report; only check_dnsbl judges ``listed`` and
    ``policy`` (address x list) with thresholds, check_relay_chain counts hops instead."""
    yield nagiosplugin.Metric("errors", count_errors(report), min=0)
    yield nagiosplugin.Metric("broken", len(report.broken_zones), min=0, context="info")
    yield nagiosplugin.Metric("suspect", len(report.suspect_zones), min=0, context="info")
    yield nagiosplugin.Metric("unjudged", len(judgement.unjudged), min=0, context="judged")


#: The hint of an UNKNOWN for some targets while others were judged (see verdict_state).
PARTLY_JUDGED = "some targets could not be judged"


class JudgedContext(nagiosplugin.Context):
    """UNKNOWN while any target has no trusted answer from a list that applies to it."""

    def __init__(self) -> None:
        super().__init__("judged")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        if not metric.value:
            return self.result_cls(nagiosplugin.Ok, None, metric)
        judgement = getattr(resource, "judgement", None)
        partly = judgement is not None and bool(judgement.judged)
        hint = PARTLY_JUDGED if partly else "no target could be judged"
        return self.result_cls(nagiosplugin.Unknown, hint, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0)


class InfoContext(nagiosplugin.Context):
    """Performance data only; never changes the state."""

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, metric.uom or "", min=0)


def blocklist_contexts(args: argparse.Namespace, listing_prefix: str = "") -> list[Any]:
    """Contexts ``listed``, ``policy``, ``errors``, ``judged`` and ``info``; the listing
    thresholds are the ones :func:`add_blocklist_options` made for ``listing_prefix``."""
    from mailrep.plugin.dnsbl_options import listing_dests

    warn, crit = listing_dests(listing_prefix)
    return [
        nagiosplugin.ScalarContext("listed", getattr(args, warn), getattr(args, crit)),
        nagiosplugin.ScalarContext("policy", args.policy_warning, args.policy_critical),
        nagiosplugin.ScalarContext("errors", args.errors_warning, args.errors_critical),
        JudgedContext(),
        InfoContext("info"),
    ]


def verdict_state(results: nagiosplugin.Results) -> Any:
    """The worst state of ``results``, except that UNKNOWN for *some* unjudged targets does
    not hide a CRITICAL.

    nagiosplugin ranks UNKNOWN above CRITICAL. When one target is listed and another cannot
    be judged (an AAAA against IPv4-only lists), the listing is a known emergency: the state
    stays CRITICAL (as the Monitoring Plugins' own state ordering has it) and the first line
    names both. When no target could be judged (every answer untrusted, a resolver that
    does not reach the lists), nothing is known and UNKNOWN stays.
    """
    worst = results.most_significant_state
    if worst != nagiosplugin.Unknown:
        return worst
    unknown = [r for r in results if r.state == nagiosplugin.Unknown]
    partly = all(r.metric is not None and r.hint == PARTLY_JUDGED for r in unknown)
    if partly and any(r.state == nagiosplugin.Critical for r in results):
        return nagiosplugin.Critical
    return worst


class VerdictCheck(nagiosplugin.Check):
    """A Check whose state is :func:`verdict_state`."""

    @property
    def state(self) -> Any:
        if not self.results:
            return super().state
        return verdict_state(self.results)


def tolerated(results: nagiosplugin.Results, *contexts: str) -> bool:
    """Were the listings found within their thresholds (their results OK)?"""
    return all(
        r.state == nagiosplugin.Ok
        for r in results
        if r.metric is not None and r.metric.context in contexts and r.metric.value
    )


class BlocklistResource(nagiosplugin.Resource):
    """Runs the lookups once and keeps the report for the summary and JSON output."""

    def __init__(self, name: str, run: Callable[[], Report], items: Sequence[Item]) -> None:
        self._name = name
        self._run = run
        self.items = list(items)
        self.report: Report | None = None
        self.judgement: Judgement | None = None

    @property
    def name(self) -> str:
        return self._name

    def probe(self) -> list[nagiosplugin.Metric]:
        self.report = report = self._run()
        self.judgement = judgement = judge(report, self.items)
        return [
            nagiosplugin.Metric("listed", len(report.by_status(Status.LISTED)), min=0),
            nagiosplugin.Metric("policy", len(report.by_status(Status.POLICY)), min=0),
            *blocklist_metrics(report, judgement),
            nagiosplugin.Metric("checked", report.usable, min=0, context="info"),
            nagiosplugin.Metric("time", round(report.elapsed, 4), "s", min=0, context="info"),
        ]


class BlocklistSummary(nagiosplugin.Summary):
    """The same first line in every state (the state is the thresholds' business); long
    output per listing, errors grouped per zone."""

    def __init__(
        self, resource: BlocklistResource, what: str, verbose: int, notes: list[str] | None = None
    ) -> None:
        self.resource = resource
        self.what = what
        self.verbose_level = verbose
        self.notes = notes or []

    def _line(self, results: nagiosplugin.Results) -> str:
        report, judgement = self.resource.report, self.resource.judgement
        if report is None or judgement is None:
            return results.first_significant.hint or "check failed"
        within = tolerated(results, "listed", "policy")
        return words.dnsbl_status(report, judgement, self.what, within, self.verbose_level)

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results)

    def problem(self, results: nagiosplugin.Results) -> str:
        return self._line(results)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines = list(self.notes)
        if self.resource.report is not None:
            lines += words.verdict_lines(
                self.resource.report, self.verbose_level, self.resource.judgement
            )
        return lines


def verdict_json(v: Verdict) -> dict[str, Any]:
    """One list's answer, as both check_dnsbl and check_relay_chain print it in JSON."""
    return {
        "zone": v.zone_shown,
        "status": v.status.value,
        "codes": list(v.codes),
        "meaning": v.meaning or None,
        "txt": list(v.txt),
        "error": v.error or None,
        "url": v.url or None,
    }


def verdicts_json(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "address": v.item.text,
            "source": v.item.label or None,
            **verdict_json(v),
            "elapsed": round(v.elapsed, 4),
        }
        for v in report.verdicts
    ]


def _self_test(report: Report, name: str) -> str:
    health = report.health.get(name)
    if health is None:
        return "not run"
    if health.broken:
        return "broken"
    if health.suspect:
        return "suspect"
    return "error" if health.error else "ok"


def zones_json(report: Report) -> list[dict[str, Any]]:
    out = []
    for z in report.zones:
        _q, shown = z.with_key(None)
        health = report.health.get(z.name)
        out.append(
            {
                "zone": health.zone_shown if health else shown,
                "self_test": _self_test(report, z.name),
                "detail": (health.detail or health.error) if health else None,
            }
        )
    return out


def targets_json(report: Report, judgement: Judgement) -> list[dict[str, Any]]:
    """Per target, what the run can say: listed, policy, clean, uncovered or unanswered."""
    uncovered = {i.text for i in judgement.uncovered}
    unanswered = {i.text for i in judgement.unanswered}
    found: dict[str, set[Status]] = defaultdict(set)
    for v in report.verdicts:
        found[v.item.text].add(v.status)
    out = []
    for item in judgement.items:
        statuses = found[item.text]
        if Status.LISTED in statuses:
            status = "listed"
        elif Status.POLICY in statuses:
            status = "policy"
        elif item.text in uncovered:
            status = "uncovered"
        elif item.text in unanswered:
            status = "unanswered"
        else:
            status = "clean"
        out.append({"target": item.text, "source": item.label or None, "status": status})
    return out


def blocklist_json(resource: BlocklistResource) -> dict[str, Any]:
    report, judgement = resource.report, resource.judgement
    if report is None or judgement is None:
        return {"results": [], "zones": [], "targets": [], "resolver_fault": None,
                "target_errors": []}  # fmt: skip
    return {
        "results": verdicts_json(report),
        "zones": zones_json(report),
        "targets": targets_json(report, judgement),
        "resolver_fault": report.resolver_fault.message if report.resolver_fault else None,
        "target_errors": list(report.target_errors),
    }


def dnsbl_outcome(
    args: argparse.Namespace,
    verbose: int,
    items: Sequence[Item],
    run: Callable[[], Report],
    notes: Sequence[str] = (),
) -> Outcome:
    """check_dnsbl's check: ``run`` gives the lookup report for ``items``; the rest is the
    wiring every run shares (and the property tests run with reports they build)."""
    resource = BlocklistResource("DNSBL", run, items)
    what = items[0].text if len(items) == 1 else words.count_of(list(items))
    check = VerdictCheck(
        resource,
        *blocklist_contexts(args),
        BlocklistSummary(resource, what, verbose, list(notes)),
    )
    from mailrep.plugin.facts import of_blocklist

    return Outcome(
        check,
        lambda: {**blocklist_json(resource), "notes": list(notes)},
        facts=lambda: of_blocklist(resource),
    )
