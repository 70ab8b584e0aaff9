"""A message's Received lines -> the numbered chain of hops, and which of them to check.

The incident behind check_relay_chain: the company's own server was clean, but its mail also
passed the provider's virus-scan relay, and that relay was listed. The address the recipient's
MX judged is the client address written in the *receiver's* first Received line (the entry
hop): that one cannot be forged, and it is the most important to check. Lines below it were
written by the sender side (the provider's relay, the company's submission server); for a
test message sent from your own system they are true, so their public client addresses are
checked too. Lines above it are the receiver's internal hand-offs (content filter, LMTP).

Numbering follows the path: hop 1 is the origin (the oldest Received line), the entry hop is
the highest sender-side number. A hop is named by its *client*: the host that connected and
whose address the line records.

Which addresses are sent to blocklists: public (global) client addresses of sender-side hops
and the entry hop, once each. Not sent: non-global addresses (unless the caller allows them,
for labs), the client of an authenticated submission (a mail user's own, often dynamic,
address — a policy listing there says nothing about your relays), and receiver-side hops.

Three parts, in this order: the chain itself (pure: text in, hops out), :func:`examine`
(blocklists, FCrDNS and Authentication-Results for a chain), and the nagiosplugin objects
that judge and present an examination. check_relay_chain imports this module only when a
check really runs, so its ``-V`` and ``-h`` load none of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import nagiosplugin

from . import authresults, fcrdns
from .addresses import is_global, parse_ip
from .authresults import AuthSummary
from .blocklist_check import (
    blocklist_contexts,
    count_errors,
    error_phrase,
    lists_phrase,
    verdict_lines,
    zone_names,
    zones_json,
)
from .dnsbl import Item, Report, Status, Verdict, lookup
from .errors import CannotJudge
from .fcrdns import Fcrdns
from .received import (
    Hop,
    hop_delays,
    matches_receiver,
    normalise_ip,
    parse_received,
    received_headers,
    sender_side,
)

if TYPE_CHECKING:
    from .blocklist_options import BlocklistConfig

SENDER = "sender"
ENTRY = "entry"
RECEIVER = "receiver"


class ChainHop(NamedTuple):
    """One Received line, placed in the chain."""

    number: int  # 1 = origin
    hop: Hop
    side: str  # SENDER, ENTRY or RECEIVER
    public: bool  # the client address is global
    checked: bool  # its address is sent to the blocklists
    skip_reason: str  # why not, when it is not
    delay: float | None  # seconds since the previous hop (None: a timestamp is missing)

    @property
    def ip(self) -> str | None:
        return self.hop.ip

    @property
    def trusted(self) -> bool:
        """Written by the receiving system (the entry hop and the receiver's own lines)."""
        return self.side != SENDER

    @property
    def name(self) -> str:
        """The client's best name: verified reverse name, else what it called itself."""
        return self.hop.rdns or self.hop.helo or self.hop.from_name or "unknown"

    def label(self) -> str:
        """``hop 2 av1.provider.example [185.56.87.12]``, as the first line names a hop."""
        ip = f" [{self.ip}]" if self.ip else ""
        return f"hop {self.number} {self.name}{ip}"


class Chain(NamedTuple):
    hops: list[ChainHop]  # origin first
    receiver: list[str]  # the receiver specification in force
    entry: int  # index (0-based) of the entry hop in ``hops``
    notes: list[str]
    #: Position, among the message's Received fields counted from the top (0-based), of the
    #: first line the sender side wrote; None when the entry hop is the origin. Headers below
    #: it (Authentication-Results too) are the sender's claims.
    first_sender_field: int | None = None

    @property
    def entry_hop(self) -> ChainHop:
        return self.hops[self.entry]

    @property
    def checked(self) -> list[ChainHop]:
        return [h for h in self.hops if h.checked]

    @property
    def checked_ips(self) -> list[str]:
        """Addresses to look up, once each, in chain order."""
        return list(dict.fromkeys(h.ip for h in self.checked if h.ip))

    @property
    def relay_delay(self) -> float | None:
        """Seconds from the oldest to the newest timestamp in the chain (None: fewer than 2)."""
        stamps = [h.hop.timestamp for h in self.hops if h.hop.timestamp is not None]
        if len(stamps) < 2:
            return None
        return (stamps[-1] - stamps[0]).total_seconds()

    def hops_with_ip(self, ip: str) -> list[ChainHop]:
        return [h for h in self.hops if h.ip == ip]


def _domain_of(host: str) -> str | None:
    """``mx.recipient.example`` -> ``.recipient.example``; a two-label name is its own domain."""
    labels = host.strip(".").lower().split(".")
    if len(labels) >= 3:
        return "." + ".".join(labels[1:])
    if len(labels) == 2:
        return "." + ".".join(labels)
    return None


def _spec_for(host: str) -> list[str]:
    if normalise_ip(host) is not None:
        return [normalise_ip(host) or host]
    domain = _domain_of(host)
    return [host.lower().rstrip(".")] + ([domain] if domain else [])


def _internal_handoff(hop: Hop, spec: list[str]) -> bool:
    """Was this line a step inside the receiving system (its client is the receiver)?"""
    if _is_internal_stamp(hop):
        return True
    client = hop.rdns or hop.from_name
    if hop.ip is not None:
        # 127.0.0.1/::1 or a client calling itself localhost: a hand-off inside one machine.
        # Other loopback addresses are not assumed to be the same system (loopback labs).
        if not ipaddress.ip_address(hop.ip).is_loopback:
            return False
        if hop.ip in ("127.0.0.1", "::1") or (client or "").lower() == "localhost":
            return True
    if (hop.protocol or "").upper().startswith(("LMTP", "LOCAL")):
        return True
    return bool(client) and matches_receiver(spec)(replace(hop, by=client))


def default_receiver(hops: Sequence[Hop]) -> list[str]:
    """The receiving system when the user did not name it.

    The newest line's ``by`` host and its domain; then, while that line is a hand-off inside
    one system (no client at all, a loopback client, LMTP or local delivery, a client that is
    already known to be the receiver: amavis, Dovecot LMTP, Gmail's internal stamps), the
    ``by`` host of the line below joins it (with its domain).
    """
    spec: list[str] = []
    i = len(hops) - 1
    while i >= 0 and not hops[i].by:
        i -= 1
    while i >= 0:
        by = hops[i].by
        if by:
            spec += [s for s in _spec_for(by) if s not in spec]
        if i == 0 or not _internal_handoff(hops[i], spec):
            break
        i -= 1
    return spec


def _skip_reason(hop: Hop, side: str, allow_nonglobal: bool) -> tuple[bool, str]:
    """(public, reason it is not checked or "")."""
    if hop.ip is None:
        return False, "no client address"
    public = is_global(parse_ip(hop.ip))
    if side == RECEIVER:
        return public, "receiver side"
    if hop.authenticated:
        return public, "authenticated submission client (a user, not a relay)"
    if not public and not allow_nonglobal:
        return public, "non-global address"
    return public, ""


def _is_internal_stamp(hop: Hop) -> bool:
    """A line with no ``from`` part at all (Gmail's ``by 2002:a05:... with SMTP id``): a
    step inside the system that wrote it, never a hand-off from a client."""
    return hop.ip is None and hop.from_name is None and hop.helo is None


def _entry_index(hops: list[Hop], spec: Sequence[str]) -> int | None:
    """Index of the receiver's entry line, or None when the newest line is not the receiver's.

    Lines with no client at all at the top are skipped first (see :func:`_is_internal_stamp`),
    then :func:`mailrep.received.sender_side` finds the hand-off.
    """
    receiver = matches_receiver(list(spec))
    top = len(hops)
    while top > 1 and _is_internal_stamp(hops[top - 1]) and receiver(hops[top - 1]):
        top -= 1
    side = sender_side(hops[:top], receiver)
    if side:
        return len(side) - 1
    return None


def build_chain(
    message: bytes | str, receiver: Sequence[str] | None = None, *, allow_nonglobal: bool = False
) -> Chain:
    """Chain of a raw message (or just its headers); raises CannotJudge when there is none.

    ``receiver`` items are host names, ``.domain`` suffixes or CIDR ranges
    (:func:`mailrep.received.matches_receiver`); empty or None: :func:`default_receiver`.
    """
    values = received_headers(message)
    if not values:
        raise CannotJudge("no Received header in the message: nothing to follow")
    parsed = [(i, parse_received(v)) for i, v in enumerate(values)]
    readable = [(i, hop) for i, hop in reversed(parsed) if hop is not None]  # origin first
    hops = [hop for _i, hop in readable]
    if not hops:
        raise CannotJudge(f"none of the {len(values)} Received headers could be read")
    notes: list[str] = []
    spec = list(receiver or []) or default_receiver(hops)
    if len(hops) < len(values):
        notes.append(f"{len(values) - len(hops)} unreadable Received header(s) left out")
    entry = _entry_index(hops, spec)
    if entry is None:
        newest = hops[-1].by or "an unnamed host"
        raise CannotJudge(
            f"the newest Received line was written by {newest}, not by the receiving system "
            f"({', '.join(spec) or 'none'}): give --receiver NAME|.DOMAIN|CIDR"
        )
    delays: list[float | None] = [None, *hop_delays(hops)]
    out: list[ChainHop] = []
    for i, hop in enumerate(hops):
        where = SENDER if i < entry else ENTRY if i == entry else RECEIVER
        public, reason = _skip_reason(hop, where, allow_nonglobal)
        out.append(ChainHop(i + 1, hop, where, public, not reason, reason, delays[i]))
    entry_hop = out[entry]
    if entry_hop.ip is None:
        notes.append(f"the entry hop (hop {entry_hop.number}) records no client address")
    first_sender = readable[entry - 1][0] if entry > 0 else None
    return Chain(out, spec, entry, notes, first_sender)


# --- examining a chain: blocklists, FCrDNS, the receiver's authentication verdicts ----------


class Examination(NamedTuple):
    """Everything one run learnt about one message's path."""

    chain: Chain
    report: Report | None  # None when no hop address was looked up
    fcrdns: dict[str, Fcrdns]
    auth: AuthSummary
    auth_by: list[str]  # authserv-ids of the receiver's Authentication-Results headers
    delivery: float | None = None  # seconds, round trip only
    source: str = ""  # where the message came from, for the long output

    def verdicts_for(self, ip: str) -> list[Verdict]:
        if self.report is None:
            return []
        return [v for v in self.report.verdicts if v.item.text == ip]

    def hop_status(self, hop: ChainHop) -> str:
        """The gravest blocklist status of a hop's address ("" when not looked up)."""
        if not hop.checked or hop.ip is None:
            return ""
        statuses = {v.status for v in self.verdicts_for(hop.ip)}
        for status in (Status.LISTED, Status.POLICY, Status.ERROR, Status.BROKEN, Status.CLEAN):
            if status in statuses:
                return status.value
        return ""

    def hops_with(self, status: Status) -> list[ChainHop]:
        return [h for h in self.chain.hops if self.hop_status(h) == status.value]


def examine(
    message: bytes | str,
    config: BlocklistConfig,
    *,
    receiver: Sequence[str] | None = None,
    allow_nonglobal: bool = False,
    fcrdns_on: bool = True,
    delivery: float | None = None,
    source: str = "",
) -> Examination:
    """Build the chain, look every checked hop up on every zone, read FCrDNS and the
    receiver's Authentication-Results. Raises CannotJudge when no hop can be checked."""
    from .resolver import StubResolver

    chain = build_chain(message, receiver, allow_nonglobal=allow_nonglobal)
    ips = chain.checked_ips
    if not ips:
        reasons = sorted({h.skip_reason for h in chain.hops if h.side != RECEIVER} - {""})
        raise CannotJudge(
            f"no hop to check among {len(chain.hops)}: {'; '.join(reasons) or 'none'}"
            + (" (use --allow-nonglobal for labs)" if "non-global address" in reasons else "")
        )
    items = [
        Item.for_address(parse_ip(ip), ", ".join(f"hop {h.number}" for h in chain.hops_with_ip(ip)))
        for ip in ips
    ]
    settings = config.settings
    report = lookup(items, config.zones, settings)
    ptr: dict[str, Fcrdns] = {}
    if fcrdns_on:
        resolver = StubResolver(
            list(settings.nameservers),
            query_timeout=settings.query_timeout,
            concurrency=settings.concurrency,
            deadline=settings.deadline,
        )
        ptr = fcrdns.check(ips, resolver)
    fields = authresults.header_fields(message)
    headers = authresults.receiver_results(fields, chain.first_sender_field)
    return Examination(
        chain,
        report,
        ptr,
        authresults.summarise(headers),
        list(dict.fromkeys(h.authserv_id for h in headers)),
        delivery,
        source,
    )


# --- nagiosplugin objects ------------------------------------------------------------------
#
# Kept beside the chain they present (the plugin module stays thin, and imports this module
# only when a check really runs, so -V and -h load none of it).

AUTH_STATES = {"ok": 0, "warning": 1, "critical": 2}


class NotDelivered(Exception):
    """The round trip's message did not arrive within the wait: the mail path is broken."""

    def __init__(self, wait: float, recipient: str, token: str) -> None:
        super().__init__(f"test message not delivered to {recipient} within {wait:g}s")
        self.wait = wait
        self.token = token


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
            f"{len(chain.checked)} of {len(chain.hops)} hops checked, none listed on "
            f"{lists_phrase(exam.report)}"
        )
        if exam.delivery is not None:
            text += f", delivered in {exam.delivery:.1f}s"
        errors = count_errors(exam.report)
        if errors:
            text += f" ({errors} lookup errors)"
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
        f"chain of {len(chain.hops)} hops (hop 1 = origin), receiver {', '.join(chain.receiver)}"
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
                "blocklists": [
                    {
                        "zone": v.zone_shown,
                        "status": v.status.value,
                        "codes": list(v.codes),
                        "meaning": v.meaning or None,
                        "txt": list(v.txt),
                        "error": v.error or None,
                        "url": v.url or None,
                    }
                    for v in verdicts
                ],
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
