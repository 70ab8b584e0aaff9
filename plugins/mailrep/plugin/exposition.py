"""Metric families for ``--format openmetrics``, built from the same result objects as the
Nagios lines and the JSON document (a lookup :class:`Report`, an :class:`Examination`, a
bounce :class:`Measurement`).

Cardinality is bounded: a family labelled per target and zone (or per cited zone and
address, which come from mail anyone can send) holds at most :data:`MAX_SERIES` label sets.
The pairs that matter come first (listed, policy-listed, failed, then clean; the most cited
first), the rest are left out and counted in ``mailrep_omitted_series{family=...}``, and the
per-status totals (``mailrep_dnsbl_results``, ``mailrep_bounce_recipients``) always count
everything. The help texts do not depend on the plugin: node_exporter's textfile collector
merges the files of several checks and refuses one family with two help texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from mailrep import __version__
from mailrep.dnsbl.lookup import Report, Status, Verdict
from mailrep.plugin.history import Entry, key
from mailrep.plugin.openmetrics import Family, Sample, gauge

if TYPE_CHECKING:
    from mailrep.bounce.measure import Measurement
    from mailrep.relay.chain import Examination

#: At most this many label sets in a family labelled per target and zone (or per cited zone
#: and address); the rest are counted in ``mailrep_omitted_series``.
MAX_SERIES = 100

_RANK = {Status.LISTED: 0, Status.POLICY: 1, Status.ERROR: 2, Status.BROKEN: 2, Status.CLEAN: 3}
_CAUSES = ("hard", "block", "throttle", "soft")

T = TypeVar("T")


def bounded(items: Sequence[T], limit: int = MAX_SERIES) -> tuple[list[T], int]:
    """The first ``limit`` items and how many were left out."""
    return list(items[:limit]), max(0, len(items) - limit)


def omitted(counts: Mapping[str, int]) -> Family:
    return Family(
        "mailrep_omitted_series",
        f"Label sets left out of a family to bound cardinality (at most {MAX_SERIES} "
        "per family); the totals still count them.",
        [Sample((("family", name),), n) for name, n in counts.items()],
    )


def common(state: int, now: float, saved: bool | None) -> list[Family]:
    """What every plugin exposes: its state, when it ran, whether its history was kept."""
    families = [
        gauge(
            "mailrep_check_state",
            "The check's state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            state,
        ),
        gauge(
            "mailrep_check_run_timestamp_seconds",
            "When the check ran, in seconds since the Unix epoch.",
            round(now, 3),
            "seconds",
        ),
        gauge(
            "mailrep_build_info", "The mailrep version that ran the check.", 1, version=__version__
        ),
    ]
    if saved is not None:
        families.append(
            gauge(
                "mailrep_state_saved",
                "1 when the check's state file was updated by this run, 0 when it could not be.",
                int(saved),
            )
        )
    return families


def _pair(v: Verdict) -> tuple[tuple[str, str], ...]:
    return (("target", v.item.text), ("zone", v.zone_shown))


def blocklist(report: Report, since: Mapping[str, Entry]) -> list[Family]:
    """Per (target, zone): listed, policy-listed, lookup error (0/1), within the bound;
    totals by status; per zone: the slowest lookup and the self-test."""
    verdicts = [v for v in report.verdicts if v.status in _RANK]
    ranked = sorted(verdicts, key=lambda v: _RANK[v.status])  # stable: input order within
    kept, left_out = bounded(ranked)
    totals: dict[str, int] = {s.value: 0 for s in _RANK}
    for v in report.verdicts:
        totals[v.status.value] = totals.get(v.status.value, 0) + 1
    listed_since = [
        Sample(_pair(v), round(since[k].since, 3))
        for v in kept
        if (k := key(v.item.text, v.zone_shown)) in since
    ]
    zones = list(dict.fromkeys(v.zone_shown for v in report.verdicts))
    kept_zones, zones_left = bounded(zones)
    slowest: dict[str, float] = {}
    for v in report.verdicts:
        slowest[v.zone_shown] = max(slowest.get(v.zone_shown, 0.0), v.elapsed)
    health = {h.zone_shown: h for h in report.health.values()}
    tested = [z for z in kept_zones if z in health]

    def flag(name: str, help: str, test: Iterable[Status]) -> Family:
        wanted = set(test)
        return Family(name, help, [Sample(_pair(v), int(v.status in wanted)) for v in kept])

    return [
        flag(
            "mailrep_dnsbl_listed",
            "1 when the zone lists the target (an abuse listing), else 0.",
            [Status.LISTED],
        ),
        flag(
            "mailrep_dnsbl_policy_listed",
            "1 when the zone policy-lists the target (a scope listing such as Spamhaus PBL).",
            [Status.POLICY],
        ),
        flag(
            "mailrep_dnsbl_lookup_error",
            "1 when the lookup failed, answered an error code or the zone is broken: "
            "never read as not listed.",
            [Status.ERROR, Status.BROKEN],
        ),
        Family(
            "mailrep_dnsbl_listed_since_timestamp_seconds",
            "When this check first saw the listing (from its state file), Unix time.",
            listed_since,
            "seconds",
        ),
        Family(
            "mailrep_dnsbl_results",
            "Lookups by result over every target and zone, never bounded.",
            [Sample((("status", s),), n) for s, n in totals.items()],
        ),
        Family(
            "mailrep_dnsbl_zone_lookup_max_seconds",
            "The slowest lookup on the zone in this run.",
            [Sample((("zone", z),), round(slowest[z], 4)) for z in kept_zones],
            "seconds",
        ),
        Family(
            "mailrep_dnsbl_zone_selftest_failed",
            "1 when the zone failed its RFC 5782 self-test (broken: lists 127.0.0.1; "
            "suspect: does not list 127.0.0.2).",
            [Sample((("zone", z),), int(health[z].broken or health[z].suspect)) for z in tested],
        ),
        gauge(
            "mailrep_dnsbl_lookup_duration_seconds",
            "Time all blocklist lookups of the run took together.",
            round(report.elapsed, 4),
            "seconds",
        ),
        gauge("mailrep_dnsbl_queries", "DNS questions the run asked.", report.queries),
        gauge("mailrep_dnsbl_zones", "Blocklist zones checked.", len(report.zones)),
        omitted(
            {
                "mailrep_dnsbl_listed": left_out,
                "mailrep_dnsbl_policy_listed": left_out,
                "mailrep_dnsbl_lookup_error": left_out,
                "mailrep_dnsbl_zone_lookup_max_seconds": zones_left,
            }
        ),
    ]


def relay(exam: Examination | None, delivered: bool | None) -> list[Family]:
    """The chain's counts and times; the hops' lookups are :func:`blocklist` families."""
    families: list[Family] = []
    if delivered is not None:
        families.append(
            gauge(
                "mailrep_relay_delivered",
                "Round trip: 1 when the test message arrived, 0 when it did not.",
                int(delivered),
            )
        )
    if exam is None:
        return families
    chain = exam.chain
    families += [
        gauge("mailrep_relay_hops", "Hops in the message's Received chain.", len(chain.hops)),
        gauge(
            "mailrep_relay_checked_hops", "Hops whose address was looked up.", len(chain.checked)
        ),
        gauge(
            "mailrep_relay_listed_hops",
            "Checked hops on a blocklist.",
            len(exam.hops_with(Status.LISTED)),
        ),
        gauge(
            "mailrep_relay_policy_listed_hops",
            "Checked hops on a policy list.",
            len(exam.hops_with(Status.POLICY)),
        ),
        gauge(
            "mailrep_relay_auth_failures",
            "SPF, DKIM and DMARC results that failed at the receiver.",
            len(exam.auth.failures),
        ),
    ]
    if exam.delivery is not None:
        families.append(
            gauge(
                "mailrep_relay_delivery_seconds",
                "Round trip: seconds from sending the test message to finding it.",
                round(exam.delivery, 3),
                "seconds",
            )
        )
    if chain.relay_delay is not None:
        families.append(
            gauge(
                "mailrep_relay_delay_seconds",
                "Seconds the message spent between its first and last Received line.",
                float(chain.relay_delay),
                "seconds",
            )
        )
    return families


def bounces(m: Measurement, since: Mapping[str, Entry]) -> list[Family]:
    """Bounces by cause and by reason, the denominator and rate, and citations by zone."""
    s = m.summary
    causes = {c: 0 for c in _CAUSES} | dict(s.by(lambda r: r.recipient.cause))
    reasons, reasons_left = bounded(s.by(lambda r: r.recipient.reason).most_common())
    citations = s.citations()
    cited, cited_left = bounded(citations.most_common())
    zone_counts: dict[str, int] = {}
    for (zone, _ip), n in citations.items():
        zone_counts[zone] = zone_counts.get(zone, 0) + n
    per_zone, zones_left = bounded(sorted(zone_counts.items(), key=lambda zn: -zn[1]))

    def pair(zone: str, ip: str | None) -> tuple[tuple[str, str], ...]:
        return (("zone", zone), ("address", ip or ""))

    families = [
        Family(
            "mailrep_bounce_recipients",
            "Bounced recipients in the window by cause (hard, block, throttle, soft).",
            [Sample((("cause", c),), n) for c, n in causes.items()],
        ),
        Family(
            "mailrep_bounce_reason_recipients",
            "Bounced recipients in the window by reason (Sisimai's reason names).",
            [Sample((("reason", r),), n) for r, n in reasons],
        ),
        gauge(
            "mailrep_bounce_blocklist_recipients",
            "Blocklist bounces: citing a blocklist or refusing the sending address.",
            m.blocked,
        ),
        Family(
            "mailrep_bounce_citations",
            "Bounces in the window that cite the blocklist zone for the address.",
            [Sample(pair(z, ip), n) for (z, ip), n in cited],
        ),
        Family(
            "mailrep_bounce_zone_citations",
            "Bounces in the window that cite the blocklist zone, any address.",
            [Sample((("zone", z),), n) for z, n in per_zone],
        ),
        Family(
            "mailrep_bounce_citation_since_timestamp_seconds",
            "When this check first saw bounces cite the zone for the address, Unix time.",
            [
                Sample(pair(z, ip), round(since[k].since, 3))
                for (z, ip), _n in cited
                if (k := key(ip or "", z)) in since
            ],
            "seconds",
        ),
        gauge("mailrep_bounce_messages", "Messages read in the window.", s.messages),
        gauge("mailrep_bounce_delay_notices", "Delay notices read (not bounces).", s.deferred),
        gauge("mailrep_bounce_feedback_reports", "ARF feedback reports read.", s.feedback),
        omitted(
            {
                "mailrep_bounce_reason_recipients": reasons_left,
                "mailrep_bounce_citations": cited_left,
                "mailrep_bounce_zone_citations": zones_left,
            }
        ),
    ]
    if m.sent is not None:
        families.append(gauge("mailrep_bounce_sent", "Messages sent in the window.", m.sent))
    if m.rate is not None:
        families.append(
            gauge(
                "mailrep_bounce_rate_ratio",
                "Bounced recipients per message sent in the window (0.05 is 5 percent).",
                round(m.rate / 100.0, 6),
                "ratio",
            )
        )
    if m.verified:
        families.append(
            gauge(
                "mailrep_bounce_cited_still_listed",
                "Cited (zone, address) pairs that a recheck found still listed.",
                len(m.still_listed),
            )
        )
    return families
