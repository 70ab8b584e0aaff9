"""nagiosplugin objects for check_relay_chain: judge an examined chain and present it.

An :class:`~mailrep.relay.chain.Examination` is what one run learnt about a message's path;
this module turns it into metrics (listed and policy-listed hops, lookup errors, failed
SPF/DKIM/DMARC at the receiver, delivery time), states and a first line that names the hop
(``hop 2 av1.provider.example [185.56.87.12] listed on psbl.surriel.com``). The numbered
chain as long output and the ``--format json`` document are :mod:`mailrep.plugin.relay_text`'s;
the blocklist parts are shared with check_dnsbl through :mod:`mailrep.plugin.dnsbl_check`.

Kept apart from the chain analysis so that one stays free of nagiosplugin; the plugin module
stays thin and imports this only when a check really runs, so ``-V`` and ``-h`` load none
of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nagiosplugin

from mailrep.dns.addresses import parse_ip
from mailrep.dnsbl.judgement import Judgement, judge
from mailrep.dnsbl.lookup import Item, Status
from mailrep.plugin import blocklist_text as words
from mailrep.plugin import relay_text as rt
from mailrep.plugin.dnsbl_check import (
    VerdictCheck,
    blocklist_contexts,
    blocklist_metrics,
    tolerated,
    verdict_state,
)
from mailrep.plugin.runtime import Outcome
from mailrep.plugin.text import counted
from mailrep.relay.chain import Examination
from mailrep.relay.obtain import NotDelivered

AUTH_STATES = {"ok": 0, "warning": 1, "critical": 2}


class RelayChainResource(nagiosplugin.Resource):
    """Gets the message (file, IMAP or round trip), examines it, reports the metrics.

    A round trip whose message never arrived is CRITICAL (metric ``delivered`` = 0): the path
    is broken, which is worse than any listing, even though no chain can be shown. A chain
    with no hop to check is UNKNOWN (metric ``checked_hops`` = 0), and still shown.

    Perfdata counts hops where it says so (``hops``, ``checked_hops``, ``listed_hops``,
    ``policy_hops``); the blocklist metrics shared with check_dnsbl (``errors``, ``broken``,
    ``suspect``, ``unjudged``, ``answers``) mean what they mean there.
    """

    def __init__(self, run: Callable[[], Examination]) -> None:
        self._run = run
        self.exam: Examination | None = None
        self.judgement: Judgement | None = None
        self.not_delivered: NotDelivered | None = None

    @property
    def name(self) -> str:
        return "RELAY CHAIN"

    def probe(self) -> list[nagiosplugin.Metric]:
        try:
            self.exam = exam = self._run()
        except NotDelivered as exc:
            self.not_delivered = exc
            return [nagiosplugin.Metric("delivered", 0, min=0, context="delivered")]
        chain, report = exam.chain, exam.report
        metrics = [
            nagiosplugin.Metric("hops", len(chain.hops), min=0, context="info"),
            nagiosplugin.Metric("checked_hops", len(chain.checked), min=0, context="checkable"),
            nagiosplugin.Metric(
                "listed_hops", len(exam.hops_with(Status.LISTED)), min=0, context="listed"
            ),
            nagiosplugin.Metric(
                "policy_hops", len(exam.hops_with(Status.POLICY)), min=0, context="policy"
            ),
            nagiosplugin.Metric("auth_fail", len(exam.auth.failures), min=0, context="auth"),
        ]
        if report is not None:
            items = [Item.for_address(parse_ip(ip)) for ip in chain.checked_ips]
            self.judgement = judgement = judge(report, items)
            metrics += list(blocklist_metrics(report, judgement))
            metrics.append(nagiosplugin.Metric("answers", report.usable, min=0, context="info"))
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
            return self.result_cls(self._state, f"{failed} at {rt.auth_where(exam)}", metric)
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0)


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


class CheckableContext(nagiosplugin.Context):
    """UNKNOWN when no hop of the chain can be sent to a blocklist (with the reason)."""

    def __init__(self, resource: RelayChainResource) -> None:
        super().__init__("checkable")
        self._resource = resource

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        exam = self._resource.exam
        if metric.value == 0 and exam is not None:
            return self.result_cls(nagiosplugin.Unknown, exam.unchecked, metric)
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", min=0)


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
        *blocklist_contexts(args, "listed"),
        AuthContext(auth_fail_state, lambda: resource.exam),
        DeliveryContext("delivery", args.warning, args.critical),
        DeliveredContext(resource),
        CheckableContext(resource),
    ]


#: Contexts whose hint the first line gives when they set the state, in this order.
_HINTED = ("delivered", "delivery", "auth")


def _hints(results: nagiosplugin.Results, state: Any) -> list[str]:
    if state == nagiosplugin.Ok:
        return []
    hints = []
    for name in _HINTED:
        hints += [
            r.hint
            for r in results
            if r.metric is not None and r.metric.context == name and r.state == state and r.hint
        ]
    return hints


class RelayChainSummary(nagiosplugin.Summary):
    """First line names the hop (the same words in every state); the long output is the
    numbered chain with its checks."""

    def __init__(self, resource: RelayChainResource, verbose: int) -> None:
        self.resource = resource
        self.verbose_level = verbose

    def _lead(self, exam: Examination, judgement: Judgement | None) -> str:
        """What the blocklists say when no hop is listed."""
        report, chain = exam.report, exam.chain
        if report is None or judgement is None:
            return exam.unchecked
        if report.verdicts and not report.usable:
            return "no list gave a usable answer"
        if not judgement.answering:
            return f"{len(chain.checked)} of {counted(len(chain.hops), 'hop')} checked"
        return (
            f"{len(chain.checked)} of {counted(len(chain.hops), 'hop')} checked, none listed on "
            f"{words.lists_answered(judgement)}"
        )

    def _line(self, results: nagiosplugin.Results, state: Any) -> str:
        exam, judgement = self.resource.exam, self.resource.judgement
        if exam is None:
            return results.first_significant.hint or "check failed"
        if exam.report is not None and exam.report.resolver_fault is not None:
            # No answer of the run is believed, listings included: the truth once.
            return ", ".join([exam.report.resolver_fault.message, *_hints(results, state)])
        parts = []
        listing = rt.hops_listing_phrase(exam)
        if listing:
            parts.append(listing)
            if tolerated(results, "listed", "policy"):
                parts.append("within thresholds")
        hints = _hints(results, state)
        if not listing and not hints:
            parts.append(self._lead(exam, judgement))
        parts += hints
        if state == nagiosplugin.Ok and exam.delivery is not None:
            parts.append(f"delivered in {exam.delivery:.1f}s")
        if exam.report is not None and judgement is not None:
            parts += words.unjudged_phrases(exam.report, judgement, rt.hop_namer(exam))
            errors = words.errors_phrase(exam.report)
            if errors:
                parts.append(errors)
        if self.verbose_level >= 1:
            parts.append(exam.auth.describe())
        return ", ".join(p for p in parts if p)

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results, nagiosplugin.Ok)

    def problem(self, results: nagiosplugin.Results) -> str:
        return self._line(results, verdict_state(results))

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        exam = self.resource.exam
        missing = self.resource.not_delivered
        if missing is not None:
            return [
                f"probe token {missing.token}: look for it in the mail queues and logs, if it "
                "arrives later it stays in the mailbox"
            ]
        if exam is None:
            return []
        return rt.chain_lines(exam, self.verbose_level, self.resource.judgement)


def relay_outcome(args: Any, verbose: int, acquire: Callable[[], Examination]) -> Outcome:
    """check_relay_chain's check: ``acquire`` gets and examines the message; the rest is the
    wiring every run shares (and the property tests run with examinations they build)."""
    resource = RelayChainResource(acquire)
    check = VerdictCheck(
        resource,
        *relay_contexts(args, resource, args.auth_fail_state),
        RelayChainSummary(resource, verbose),
    )
    from mailrep.plugin.facts import of_relay_chain

    return Outcome(
        check, lambda: rt.exam_json(resource.exam), facts=lambda: of_relay_chain(resource)
    )
