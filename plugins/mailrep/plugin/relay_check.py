"""nagiosplugin objects for check_relay_chain: judge an examined chain and present it.

An :class:`~mailrep.relay.chain.Examination` is what one run learnt about a message's path;
this module turns it into metrics (listed and policy-listed hops, lookup errors, failed
SPF/DKIM/DMARC at the receiver, delivery time), states, a first line that names the hop
(``hop 2 av1.provider.example [185.56.87.12] listed on psbl.surriel.com``), the numbered
chain as long output, and the ``--format json`` document. The blocklist parts are shared with
check_dnsbl through :mod:`mailrep.plugin.dnsbl_check`.

Kept apart from the chain analysis so that one stays free of nagiosplugin; the plugin module
stays thin and imports this only when a check really runs, so ``-V`` and ``-h`` load none
of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nagiosplugin

from mailrep.dnsbl.lookup import Status
from mailrep.plugin.dnsbl_check import (
    blocklist_contexts,
    count_errors,
    error_count_phrase,
    error_phrase,
    lists_phrase,
    verdict_json,
    verdict_lines,
    zone_names,
    zones_json,
)
from mailrep.plugin.text import counted
from mailrep.relay.chain import ENTRY, RECEIVER, SENDER, ChainHop, Examination
from mailrep.relay.obtain import NotDelivered

AUTH_STATES = {"ok": 0, "warning": 1, "critical": 2}


class RelayChainResource(nagiosplugin.Resource):
    """Gets the message (file, IMAP or round trip), examines it, reports the metrics.

    A round trip whose message never arrived is CRITICAL (metric ``delivered`` = 0): the path
    is broken, which is worse than any listing, even though no chain can be shown.
    """

    def __init__(self, run: Callable[[], Examination]) -> None:
        self._run = run
        self.exam: Examination | None = None
        self.not_delivered: NotDelivered | None = None

    @property
    def name(self) -> str:
        return "RELAY CHAIN"

    def lookups(self) -> int:
        report = self.exam.report if self.exam else None
        return len(report.verdicts) if report is not None else 0

    def probe(self) -> list[nagiosplugin.Metric]:
        try:
            self.exam = exam = self._run()
        except NotDelivered as exc:
            self.not_delivered = exc
            return [nagiosplugin.Metric("delivered", 0, min=0, context="delivered")]
        chain, report = exam.chain, exam.report
        metrics = [
            nagiosplugin.Metric("hops", len(chain.hops), min=0, context="info"),
            nagiosplugin.Metric("checked", len(chain.checked), min=0, context="info"),
            nagiosplugin.Metric("listed", len(exam.hops_with(Status.LISTED)), min=0),
            nagiosplugin.Metric("policy", len(exam.hops_with(Status.POLICY)), min=0),
            nagiosplugin.Metric("auth_fail", len(exam.auth.failures), min=0, context="auth"),
        ]
        if report is not None:
            metrics += [
                nagiosplugin.Metric("errors", count_errors(report), min=0),
                nagiosplugin.Metric("broken", len(report.broken_zones), min=0, context="info"),
                nagiosplugin.Metric("suspect", len(report.suspect_zones), min=0, context="info"),
                nagiosplugin.Metric("answers", report.usable, min=0, context="usable"),
            ]
        if exam.delivery is not None:
            metrics.append(nagiosplugin.Metric("delivery", round(exam.delivery, 3), "s", min=0))
        if chain.relay_delay is not None:
            metrics.append(
                nagiosplugin.Metric("relay_delay", chain.relay_delay, "s", context="info")
            )
        return metrics


class AuthContext(nagiosplugin.Context):
    """Failed SPF/DKIM/DMARC at the receiver: the state ``--auth-fail-state`` names."""

    def __init__(self, state: str, exam: Callable[[], Examination | None]) -> None:
        super().__init__("auth")
        self._state = [nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical][
            AUTH_STATES[state]
        ]
        self._exam = exam

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        exam = self._exam()
        if metric.value and exam is not None:
            failed = ", ".join(r.describe() for r in exam.auth.failures)
            return self.result_cls(self._state, f"{failed} at {_auth_where(exam)}", metric)
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0)


def _auth_where(exam: Examination) -> str:
    return ", ".join(exam.auth_by) or "the receiver"


class DeliveredContext(nagiosplugin.Context):
    """CRITICAL when the round trip's message did not arrive."""

    def __init__(self, resource: RelayChainResource) -> None:
        super().__init__("delivered")
        self._resource = resource

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        missing = self._resource.not_delivered
        if missing is not None:
            return self.result_cls(nagiosplugin.Critical, str(missing), metric)
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0, max=1)


class DeliveryContext(nagiosplugin.ScalarContext):
    """Round-trip time against ``-w/-c`` (seconds), with a hint a human reads at once."""

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        result = super().evaluate(metric, resource)
        if result.state == nagiosplugin.Ok:
            return result
        limit = self.critical if result.state == nagiosplugin.Critical else self.warning
        hint = f"delivery took {metric.value:.1f}s (threshold {limit})"
        return self.result_cls(result.state, hint, metric)


def relay_contexts(
    args: Any, resource: RelayChainResource, auth_fail_state: str
) -> list[nagiosplugin.Context]:
    return [
        *blocklist_contexts(args, resource.lookups, "listed"),
        AuthContext(auth_fail_state, lambda: resource.exam),
        DeliveryContext("delivery", args.warning, args.critical),
        DeliveredContext(resource),
    ]


def hop_phrase(exam: Examination, hop: ChainHop, status: Status) -> str:
    verdicts = [v for v in exam.verdicts_for(hop.ip or "") if v.status is status]
    verb = "listed on" if status is Status.LISTED else "policy-listed on"
    return f"{hop.label()} {verb} {zone_names(verdicts)}"


#: The order in which problems of the same state are named on the first line.
_PRIORITY = ("listed", "policy", "usable", "delivery", "auth", "errors")


class RelayChainSummary(nagiosplugin.Summary):
    """First line names the hop; the long output is the numbered chain with its checks."""

    def __init__(self, resource: RelayChainResource, verbose: int) -> None:
        self.resource = resource
        self.verbose_level = verbose

    def ok(self, results: nagiosplugin.Results) -> str:
        exam = self.resource.exam
        assert exam is not None and exam.report is not None
        chain = exam.chain
        text = (
            f"{len(chain.checked)} of {counted(len(chain.hops), 'hop')} checked, none listed on "
            f"{lists_phrase(exam.report)}"
        )
        if exam.delivery is not None:
            text += f", delivered in {exam.delivery:.1f}s"
        text += error_count_phrase(exam.report)
        if self.verbose_level >= 1:
            text += f"; {exam.auth.describe()}"
        return text

    def problem(self, results: nagiosplugin.Results) -> str:
        exam = self.resource.exam
        if exam is None or exam.report is None:
            return results.first_significant.hint or "check failed"
        worst = results.most_significant
        names = sorted(
            {r.metric.context if r.metric else "" for r in worst},
            key=lambda n: _PRIORITY.index(n) if n in _PRIORITY else len(_PRIORITY),
        )
        parts: list[str] = []
        for name in names:
            if name in ("listed", "policy"):
                status = Status.LISTED if name == "listed" else Status.POLICY
                parts += [hop_phrase(exam, h, status) for h in exam.hops_with(status)]
            elif name == "usable":
                parts.append(f"no list gave a usable answer; {error_phrase(exam.report)}")
            elif name == "errors":
                parts.append(error_phrase(exam.report))
            else:
                parts += [r.hint for r in worst if r.metric and r.metric.context == name and r.hint]
        text = "; ".join(p for p in parts[:3] if p)
        if len(parts) > 3:
            text += f"; +{len(parts) - 3} more"
        return text or str(results.first_significant)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        exam = self.resource.exam
        missing = self.resource.not_delivered
        if missing is not None:
            return [
                f"probe token {missing.token}: look for it in the mail queues and logs; if it "
                "arrives later it stays in the mailbox"
            ]
        if exam is None:
            return []
        return chain_lines(exam, self.verbose_level)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"+{value:g}s" if value >= 0 else f"{value:g}s (clock skew)"


def hop_line(exam: Examination, hop: ChainHop) -> str:
    h = hop.hop
    parts = [hop.label()]
    if h.helo and h.helo != hop.name:
        parts.append(f"helo={h.helo}")
    parts.append(f"-> {h.by or '?'}")
    if h.protocol:
        parts.append(h.protocol)
    if hop.delay is not None:
        parts.append(_seconds(hop.delay))
    where = {SENDER: "sender side", ENTRY: "entry, written by the receiver", RECEIVER: "receiver"}
    text = " ".join(parts) + f" [{where[hop.side]}]"
    if not hop.checked:
        return f"{text}: not checked ({hop.skip_reason})"
    status = exam.hop_status(hop)
    checks = [status.upper() if status in ("listed", "policy") else status or "not looked up"]
    verdicts = exam.verdicts_for(hop.ip or "")
    listed = [v for v in verdicts if v.status in (Status.LISTED, Status.POLICY)]
    if listed:
        checks[0] += f" on {zone_names(listed)}"
    ptr = exam.fcrdns.get(hop.ip or "")
    if ptr is not None:
        checks.append(ptr.describe())
        match = ptr.helo_matches(h.helo)
        if match is False:
            checks.append("HELO is not a PTR name")
    return f"{text}: {'; '.join(checks)}"


def chain_lines(exam: Examination, verbose: int) -> list[str]:
    chain = exam.chain
    lines = [
        f"chain of {counted(len(chain.hops), 'hop')} (hop 1 = origin), "
        f"receiver {', '.join(chain.receiver)}"
        + (f", from {exam.source}" if exam.source else "")
        + ":"
    ]
    lines += [hop_line(exam, h) for h in chain.hops]
    lines.append(f"authentication at {_auth_where(exam)}: {exam.auth.describe()}")
    if exam.delivery is not None:
        lines.append(f"delivery (round trip): {exam.delivery:.2f}s")
    lines += chain.notes
    if exam.report is not None:
        lines += verdict_lines(exam.report, verbose)
    return lines


def exam_json(exam: Examination | None) -> dict[str, Any]:
    """What ``--format json`` adds: the chain hop by hop, with each hop's checks."""
    if exam is None:
        return {"hops": []}
    hops = []
    for hop in exam.chain.hops:
        h = hop.hop
        ptr = exam.fcrdns.get(hop.ip or "")
        verdicts = exam.verdicts_for(hop.ip or "") if hop.checked else []
        hops.append(
            {
                "hop": hop.number,
                "ip": h.ip,
                "helo": h.helo,
                "rdns": h.rdns,
                "from": h.from_name,
                "by": h.by,
                "protocol": h.protocol,
                "authenticated": h.authenticated,
                "id": h.id,
                "timestamp": h.timestamp.isoformat() if h.timestamp else None,
                "delay": hop.delay,
                "side": hop.side,
                "trusted": hop.trusted,
                "public": hop.public,
                "checked": hop.checked,
                "skip_reason": hop.skip_reason or None,
                "status": exam.hop_status(hop) or None,
                "fcrdns": None
                if ptr is None
                else {
                    "ptr": list(ptr.names),
                    "confirmed": list(ptr.confirmed),
                    "ok": ptr.ok,
                    "error": ptr.error or None,
                    "helo_matches_ptr": ptr.helo_matches(h.helo),
                },
                "blocklists": [verdict_json(v) for v in verdicts],
            }
        )
    entry = exam.chain.entry_hop
    return {
        "hops": hops,
        "entry_hop": entry.number,
        "receiver": exam.chain.receiver,
        "relay_delay": exam.chain.relay_delay,
        "delivery": exam.delivery,
        "source": exam.source or None,
        "authentication": {
            "authserv_ids": exam.auth_by,
            **{m: r.result for m, r in exam.auth.verdicts.items()},
            "failures": [r.method for r in exam.auth.failures],
        },
        "notes": exam.chain.notes,
        "zones": zones_json(exam.report) if exam.report is not None else [],
    }
