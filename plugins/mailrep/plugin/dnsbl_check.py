"""nagiosplugin objects for blocklist verdicts, shared by check_dnsbl and check_relay_chain.

Metrics: ``listed``, ``policy`` and ``errors`` are judged by Nagios ranges (defaults: any
listing CRITICAL, any policy listing or error WARNING); ``usable`` turns a run in which no
zone answered into UNKNOWN — a silent resolver must never read as "clean".
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import nagiosplugin

from mailrep.dnsbl.lookup import Exchange, Report, Status, Verdict
from mailrep.plugin.text import counted


def count_errors(report: Report) -> int:
    """Failed lookups plus one per broken or suspect zone and per failed address lookup of
    a target (each is a reason to look)."""
    return (
        len(report.by_status(Status.ERROR, Status.BROKEN))
        + len(report.broken_zones)
        + len(report.suspect_zones)
        + len(report.target_errors)
    )


def error_count_phrase(report: Report) -> str:
    """ " (N lookup errors)" for a status line, or "" when every lookup answered: an OK that
    rests on fewer answers than asked for says so."""
    errors = count_errors(report)
    return f" ({counted(errors, 'lookup error')})" if errors else ""


def blocklist_metrics(report: Report) -> Iterator[nagiosplugin.Metric]:
    yield nagiosplugin.Metric("listed", len(report.by_status(Status.LISTED)), min=0)
    yield nagiosplugin.Metric("policy", len(report.by_status(Status.POLICY)), min=0)
    yield nagiosplugin.Metric("errors", count_errors(report), min=0)
    yield nagiosplugin.Metric("broken", len(report.broken_zones), min=0, context="info")
    yield nagiosplugin.Metric("suspect", len(report.suspect_zones), min=0, context="info")
    yield nagiosplugin.Metric("checked", report.usable, min=0, context="usable")
    yield nagiosplugin.Metric("time", round(report.elapsed, 4), "s", min=0, context="info")


class UsableContext(nagiosplugin.Context):
    """UNKNOWN when lookups were made and none gave a usable answer."""

    def __init__(self, lookups: Callable[[], int]) -> None:
        super().__init__("usable")
        self._lookups = lookups

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        if metric.value == 0 and self._lookups() > 0:
            return self.result_cls(nagiosplugin.Unknown, "no list gave a usable answer", metric)
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0)


class InfoContext(nagiosplugin.Context):
    """Performance data only; never changes the state."""

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, metric.uom or "", min=0)


def blocklist_contexts(
    args: argparse.Namespace, lookups: Callable[[], int], listing_prefix: str = ""
) -> list[nagiosplugin.Context]:
    """Contexts ``listed``, ``policy``, ``errors``, ``usable`` and ``info``; the listing
    thresholds are the ones :func:`add_blocklist_options` made for ``listing_prefix``."""
    from mailrep.plugin.dnsbl_options import listing_dests

    warn, crit = listing_dests(listing_prefix)
    return [
        nagiosplugin.ScalarContext("listed", getattr(args, warn), getattr(args, crit)),
        nagiosplugin.ScalarContext("policy", args.policy_warning, args.policy_critical),
        nagiosplugin.ScalarContext("errors", args.errors_warning, args.errors_critical),
        UsableContext(lookups),
        InfoContext("info"),
    ]


def zone_names(verdicts: list[Verdict]) -> str:
    return ", ".join(dict.fromkeys(v.zone_shown for v in verdicts))


def listing_phrases(report: Report, status: Status, verb: str) -> list[str]:
    """``192.0.2.7 listed on a, b`` per item, in input order."""
    per_item: dict[str, list[Verdict]] = defaultdict(list)
    for v in report.by_status(status):
        per_item[v.item.text].append(v)
    return [f"{item} {verb} {zone_names(vs)}" for item, vs in per_item.items()]


def error_phrase(report: Report) -> str:
    if report.resolver_fault is not None:
        return f"errors: {report.resolver_fault.message}"
    parts = list(report.target_errors)
    failed: dict[str, list[Verdict]] = defaultdict(list)
    for v in report.by_status(Status.ERROR):
        failed[v.zone_shown].append(v)
    for zone, vs in failed.items():
        kinds = ", ".join(dict.fromkeys(v.error.split(" (")[0] for v in vs))
        parts.append(f"{zone} ({kinds})")
    for h in report.broken_zones:
        parts.append(f"{h.zone_shown} broken")
    for h in report.suspect_zones:
        parts.append(f"{h.zone_shown} suspect")
    return "errors: " + "; ".join(parts) if parts else ""


def verdict_lines(report: Report, verbose: int) -> list[str]:
    """Long output: every listing with meaning, TXT and URL; every error; zone health."""
    lines: list[str] = []
    for v in report.by_status(Status.LISTED, Status.POLICY):
        kind = "LISTED" if v.status is Status.LISTED else "POLICY-LISTED"
        origin = f" ({v.item.label})" if v.item.label else ""
        line = f"{kind}: {v.item.text}{origin} on {v.zone_shown}: {', '.join(v.codes)} {v.meaning}"
        if v.txt:
            line += f'; TXT "{" ".join(v.txt)}"'
        if v.url:
            line += f"; see {v.url}"
        lines.append(line)
    if report.resolver_fault is not None:
        lines.append(f"RESOLVER: {report.resolver_fault.message}")
    lines += [
        f"ERROR: {e}: the addresses it would give are not checked" for e in report.target_errors
    ]
    for v in report.by_status(Status.ERROR):
        lines.append(f"ERROR: {v.item.text} on {v.zone_shown}: {v.error}")
    for v in report.by_status(Status.BROKEN):
        lines.append(f"IGNORED: {v.item.text} on {v.zone_shown}: {v.error}")
    for h in report.broken_zones:
        lines.append(f"BROKEN ZONE: {h.zone_shown} {h.detail}")
    for h in report.suspect_zones if report.resolver_fault is None else ():
        lines.append(f"SUSPECT ZONE: {h.zone_shown} {h.detail}")
    if verbose >= 1:
        clean: dict[str, list[str]] = defaultdict(list)
        for v in report.by_status(Status.CLEAN):
            clean[v.item.text].append(v.zone_shown)
        for item, zones in clean.items():
            lines.append(f"clean: {item} on {', '.join(zones)}")
    if verbose >= 2:
        for z in report.zones:
            notes = f" — {z.notes}" if z.notes else ""
            lines.append(f"zone {z.name}: {z.description or 'generic decoding'}{notes}")
        for h in report.health.values():
            state = "broken" if h.broken else "suspect" if h.suspect else "ok"
            extra = f" ({h.error})" if h.error else ""
            lines.append(f"self-test {h.zone_shown}: {state}{extra}")
    if verbose >= 3:
        lines += [exchange_line(x) for x in report.exchanges]
    return lines


def exchange_line(x: Exchange) -> str:
    """One DNS question at -vvv: who was asked, the rcode and the answer as received."""
    answer = ", ".join(x.records) or "-"
    if x.cnames:
        answer = f"CNAME {' -> '.join(x.cnames)}; {answer}"
    error = f"; error: {x.error}" if x.error else ""
    return (
        f"dns {x.purpose} {x.name} {x.rdtype} @{x.nameserver}: rcode {x.rcode}, answer "
        f"{answer}{error} ({x.elapsed * 1000:.1f} ms)"
    )


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


def zones_json(report: Report) -> list[dict[str, Any]]:
    out = []
    for z in report.zones:
        _q, shown = z.with_key(None)
        health = report.health.get(z.name)
        out.append(
            {
                "zone": health.zone_shown if health else shown,
                "self_test": (
                    "broken"
                    if health and health.broken
                    else "suspect"
                    if health and health.suspect
                    else "error"
                    if health and health.error
                    else "ok"
                    if health
                    else "not run"
                ),
                "detail": (health.detail or health.error) if health else None,
            }
        )
    return out


class BlocklistResource(nagiosplugin.Resource):
    """Runs the lookups once and keeps the report for the summary and JSON output."""

    def __init__(self, name: str, run: Callable[[], Report]) -> None:
        self._name = name
        self._run = run
        self.report: Report | None = None

    @property
    def name(self) -> str:
        return self._name

    def probe(self) -> list[nagiosplugin.Metric]:
        self.report = self._run()
        return list(blocklist_metrics(self.report))

    def lookups(self) -> int:
        return len(self.report.verdicts) if self.report is not None else 0


def lists_phrase(report: Report, of: bool = False) -> str:
    """``12 lists`` or ``1 of 12 lists`` (lists that list something)."""
    n = len(report.zones)
    if not of:
        return counted(n, "list")
    hit = {v.zone.name for v in report.by_status(Status.LISTED, Status.POLICY)}
    return f"{len(hit)} of {counted(n, 'list')}"


class BlocklistSummary(nagiosplugin.Summary):
    """First line leads to the problem: which item, on which lists; long output per listing."""

    def __init__(
        self, resource: BlocklistResource, what: str, verbose: int, notes: list[str] | None = None
    ) -> None:
        self.resource = resource
        self.what = what
        self.verbose_level = verbose
        self.notes = notes or []

    def ok(self, results: nagiosplugin.Results) -> str:
        report = self.resource.report
        assert report is not None
        text = f"{self.what} not listed on {lists_phrase(report)}"
        text += error_count_phrase(report)
        if self.verbose_level >= 1:
            text += f", {report.queries} queries in {report.elapsed:.2f}s"
        return text

    def problem(self, results: nagiosplugin.Results) -> str:
        report = self.resource.report
        if report is None:
            return results.first_significant.hint or "check failed"
        if report.resolver_fault is not None:
            return report.resolver_fault.message  # the truth once, not one line per list
        parts = listing_phrases(report, Status.LISTED, "listed on")
        parts += listing_phrases(report, Status.POLICY, "policy-listed on")
        if parts:
            text = "; ".join(parts[:3])
            if len(parts) > 3:
                text += f"; +{len(parts) - 3} more"
            return f"{text} ({lists_phrase(report, of=True)})"
        if report.usable == 0:
            return f"no list gave a usable answer; {error_phrase(report)}"
        return error_phrase(report) or str(results.first_significant)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines = list(self.notes)
        if self.resource.report is not None:
            lines += verdict_lines(self.resource.report, self.verbose_level)
        return lines


def blocklist_json(resource: BlocklistResource) -> dict[str, Any]:
    if resource.report is None:
        return {"results": [], "zones": [], "resolver_fault": None, "target_errors": []}
    report = resource.report
    return {
        "results": verdicts_json(report),
        "zones": zones_json(report),
        "resolver_fault": report.resolver_fault.message if report.resolver_fault else None,
        "target_errors": list(report.target_errors),
    }
