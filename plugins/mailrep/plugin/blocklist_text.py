"""The words of blocklist verdicts, shared by check_dnsbl and check_relay_chain.

Two rules shape every phrase here. The first line states what was found whatever the
state (a listing within the thresholds is still a listing, an error is named even beside a
listing): thresholds choose the state, never the facts. And output is bounded: a /24 against
a dead or failing list must not print a line per address and list, so errors and ignored
answers are grouped per zone, listings come first, and detail per address grows with
``-v`` (0: grouped, 1: more listings and the clean addresses, 2: every answer and the
configuration, 3: every query).

No ``;`` anywhere: Nagios rewrites it on the first line, so phrases are joined with commas.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from mailrep.dnsbl.judgement import Judgement, item_kind, zone_trusted
from mailrep.dnsbl.lookup import Exchange, Item, Report, Status, Verdict
from mailrep.plugin.text import counted

#: Listing lines in full per ``-v`` level (higher levels: all); the rest are counted per zone.
LISTING_LINES = {0: 10, 1: 50}
#: Clean targets shown one per line at ``-v`` 1 (at 2 and above: all).
CLEAN_LINES = 20
#: Targets named in a grouped line before "+N more".
NAMED = 3


def first_of(names: Sequence[str], limit: int = NAMED) -> str:
    """``a, b, c +2 more``: the first few of a list, and how many were left out."""
    unique = list(dict.fromkeys(names))
    text = ", ".join(unique[:limit])
    if len(unique) > limit:
        text += f" +{len(unique) - limit} more"
    return text


def zone_names(verdicts: Sequence[Verdict]) -> str:
    return first_of([v.zone_shown for v in verdicts])


def noun_for(items: Sequence[Item]) -> tuple[str, str]:
    """(singular, plural) naming these targets: addresses, domains, or targets when mixed."""
    kinds = {i.is_domain for i in items}
    if kinds == {True}:
        return "domain", "domains"
    if kinds == {False}:
        return "address", "addresses"
    return "target", "targets"


def count_of(items: Sequence[Item]) -> str:
    singular, plural = noun_for(items)
    return counted(len(items), singular, plural)


# --- the first line --------------------------------------------------------------------------


def untrusted_zones(report: Report) -> list[str]:
    """Zones whose self-test failed (the test query itself) while their real queries
    answered: those answers are not trusted, and that is a reason to look."""
    failed = {v.zone.name for v in report.by_status(Status.ERROR)}
    return [
        name
        for name, h in report.health.items()
        if h.error and not (h.broken or h.suspect) and name not in failed
    ]


def count_errors(report: Report) -> int:
    """Failed lookups plus one per broken, suspect or untested zone and per failed address
    lookup of a target (each is a reason to look)."""
    return (
        len(report.by_status(Status.ERROR, Status.BROKEN))
        + len(report.broken_zones)
        + len(report.suspect_zones)
        + len(untrusted_zones(report))
        + len(report.target_errors)
    )


def _short(error: str) -> str:
    return error.split(" (")[0]


def errors_phrase(report: Report) -> str:
    """``errors: a (timeout), b broken``: each failing zone once, the first few named.
    Empty for a resolver that fails every zone's self-test: its fault is the whole line."""
    if report.resolver_fault is not None:  # said instead of everything else
        return ""
    parts: list[str] = list(report.target_errors)
    failed: dict[str, list[str]] = defaultdict(list)
    for v in report.by_status(Status.ERROR):
        failed[v.zone_shown].append(_short(v.error))
    parts += [f"{zone} ({', '.join(dict.fromkeys(kinds))})" for zone, kinds in failed.items()]
    parts += [f"{h.zone_shown} broken" for h in report.broken_zones]
    parts += [f"{h.zone_shown} suspect" for h in report.suspect_zones]
    parts += [
        f"{report.health[name].zone_shown} self-test failed ({_short(report.health[name].error)})"
        for name in untrusted_zones(report)
    ]
    return "errors: " + first_of(parts) if parts else ""


def _kinds_checked(report: Report) -> str:
    kinds = {k for z in report.zones for k in z.kinds}
    names = [n for k, n in (("ip4", "IPv4"), ("ip6", "IPv6"), ("domain", "domains")) if k in kinds]
    return " and ".join(names) or "nothing"


def unjudged_phrases(
    report: Report, judgement: Judgement, name: Callable[[Item], str] = lambda i: i.text
) -> list[str]:
    """``no list covers IPv6 address 2001:db8::25 (the lists check IPv4 only)`` and
    ``no usable answer for 192.0.2.9``: the targets an OK would have lied about."""
    parts = []
    by_kind: dict[str, list[Item]] = defaultdict(list)
    for item in judgement.uncovered:
        by_kind[item_kind(item)].append(item)
    checked = _kinds_checked(report)
    for kind, items in by_kind.items():
        named = name(items[0])
        if len(items) > 1:
            plural = kind + ("es" if kind.endswith("address") else "s")
            parts.append(f"no list covers {counted(len(items), kind, plural)} "
                         f"(the lists check {checked} only)")  # fmt: skip
        elif named == items[0].text:
            parts.append(f"no list covers {kind} {named} (the lists check {checked} only)")
        else:  # a relay hop, named by its label
            family = kind.split()[0]
            parts.append(f"no list covers {named} ({family}, the lists check {checked} only)")
    if judgement.unanswered and report.usable:
        items = judgement.unanswered
        what = name(items[0]) if len(items) == 1 else count_of(items)
        parts.append(f"no usable answer for {what}")
    return parts


def listing_phrase(report: Report, name: Callable[[Item], str] = lambda i: i.text) -> str:
    """``192.0.2.7 listed on a, b``, per target while few, else counted per kind of listing:
    ``250 of 256 addresses listed on psbl.surriel.com``. Empty when nothing is listed."""
    listed: dict[str, list[Verdict]] = defaultdict(list)
    policy: dict[str, list[Verdict]] = defaultdict(list)
    items: dict[str, Item] = {}
    for v in report.by_status(Status.LISTED, Status.POLICY):
        (listed if v.status is Status.LISTED else policy)[v.item.text].append(v)
        items.setdefault(v.item.text, v.item)
    if len(items) <= NAMED:
        parts = []
        for text, item in items.items():
            bits = []
            if listed.get(text):
                bits.append(f"listed on {zone_names(listed[text])}")
            if policy.get(text):
                bits.append(f"policy-listed on {zone_names(policy[text])}")
            parts.append(f"{name(item)} {' and '.join(bits)}")
        return ", ".join(parts)
    total = {v.item.text: v.item for v in report.verdicts}
    singular, plural = noun_for(list(total.values()))
    parts = []
    for verb, group in (("listed", listed), ("policy-listed", policy)):
        if group:
            hit = [v for vs in group.values() for v in vs]
            parts.append(
                f"{len(group)} of {counted(len(total), singular, plural)} {verb} on "
                f"{zone_names(hit)}"
            )
    return ", ".join(parts)


def lists_hit(report: Report, judgement: Judgement) -> str:
    """``1 of 12 lists``: lists that list something, of the lists that apply to the targets."""
    hit = {v.zone.name for v in report.by_status(Status.LISTED, Status.POLICY)}
    return f"{len(hit)} of {counted(len(judgement.applicable), 'list')}"


def lists_answered(judgement: Judgement) -> str:
    """``16 lists``, or ``15 of 16 lists`` when some applicable lists gave no trusted answer."""
    n, of = len(judgement.answering), len(judgement.applicable)
    return counted(of, "list") if n == of else f"{n} of {counted(of, 'list')}"


def dnsbl_status(
    report: Report, judgement: Judgement, what: str, tolerated: bool, verbose: int = 0
) -> str:
    """check_dnsbl's first line, the same words in every state.

    ``what`` names the targets (one address, or "256 items"); ``tolerated``: the listings
    found are within the thresholds (the state is not theirs).
    """
    if report.resolver_fault is not None:  # the truth once, not one line per list
        return report.resolver_fault.message
    listing = listing_phrase(report)
    parts: list[str] = []
    if listing:
        parts.append(f"{listing} ({lists_hit(report, judgement)})")
        if tolerated:
            parts.append("within thresholds")
    elif report.verdicts and not report.usable:
        parts.append("no list gave a usable answer")
    elif judgement.judged:
        judged = judgement.judged
        who = what if len(judged) == len(judgement.items) else f"{len(judged)} of {what}"
        parts.append(f"{who} not listed on {lists_answered(judgement)}")
    parts += unjudged_phrases(report, judgement)
    errors = errors_phrase(report)
    if errors:
        parts.append(errors)
    if verbose >= 1:
        parts.append(f"{report.queries} queries in {report.elapsed:.2f}s")
    return ", ".join(parts)


# --- the long output ---------------------------------------------------------------------------


def _listing_line(v: Verdict) -> str:
    kind = "LISTED" if v.status is Status.LISTED else "POLICY-LISTED"
    origin = f" ({v.item.label})" if v.item.label else ""
    line = f"{kind}: {v.item.text}{origin} on {v.zone_shown}: {', '.join(v.codes)} {v.meaning}"
    if v.txt:
        line += f'; TXT "{" ".join(v.txt)}"'
    if v.url:
        line += f"; see {v.url}"
    return line


def listing_lines(report: Report, verbose: int) -> list[str]:
    """Listings first, in full up to the level's limit, then counted per zone."""
    found = report.by_status(Status.LISTED, Status.POLICY)
    limit = LISTING_LINES.get(verbose, len(found))
    lines = [_listing_line(v) for v in found[:limit]]
    rest = found[limit:]
    if rest:
        per_zone: dict[str, int] = defaultdict(int)
        for v in rest:
            per_zone[v.zone_shown] += 1
        counts = ", ".join(f"{zone} {n}" for zone, n in per_zone.items())
        more = "-vv" if verbose else "-v"
        lines.append(f"+{len(rest)} more listings: {counts} ({more} shows each)")
    return lines


def _grouped(tag: str, verdicts: Sequence[Verdict], verbose: int) -> list[str]:
    """One line per (zone, error) naming the first targets; every verdict at ``-vv``."""
    if verbose >= 2:
        return [f"{tag}: {v.item.text} on {v.zone_shown}: {v.error}" for v in verdicts]
    groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for v in verdicts:
        groups[(v.zone_shown, v.error)].append(v.item)
    lines = []
    for (zone, error), items in groups.items():
        if len(items) == 1:
            lines.append(f"{tag}: {zone}: {error} for {items[0].text}")
        else:
            names = first_of([i.text for i in items])
            lines.append(f"{tag}: {zone}: {error} for {count_of(items)} ({names})")
    return lines


def health_lines(report: Report) -> list[str]:
    """Zone health, and what no zone is to blame for: the resolver, a target's own lookup."""
    lines = []
    if report.resolver_fault is not None:
        lines.append(f"RESOLVER: {report.resolver_fault.message}")
    lines += [
        f"ERROR: {e}: the addresses it would give are not checked" for e in report.target_errors
    ]
    lines += [f"BROKEN ZONE: {h.zone_shown} {h.detail}" for h in report.broken_zones]
    if report.resolver_fault is None:
        lines += [f"SUSPECT ZONE: {h.zone_shown} {h.detail}" for h in report.suspect_zones]
    lines += [
        f"SELF-TEST FAILED: {report.health[name].zone_shown}: {report.health[name].error} "
        "(its answers are not trusted)"
        for name in untrusted_zones(report)
    ]
    return lines


def unjudged_lines(report: Report, judgement: Judgement) -> list[str]:
    lines = []
    if judgement.uncovered:
        names = first_of([f"{i.text} ({item_kind(i)})" for i in judgement.uncovered])
        lines.append(
            f"NOT CHECKED: {names}: no configured list covers it "
            f"(the lists check {_kinds_checked(report)} only)"
        )
    if judgement.unanswered:
        names = first_of([i.text for i in judgement.unanswered])
        lines.append(f"NO ANSWER: {names}: every list that applies failed or is not trusted")
    return lines


def _clean_lines(report: Report, verbose: int) -> list[str]:
    clean: dict[str, list[str]] = defaultdict(list)
    for v in report.by_status(Status.CLEAN):
        if zone_trusted(report, v.zone):
            clean[v.item.text].append(v.zone_shown)
    items = list(clean.items())
    shown = items if verbose >= 2 else items[:CLEAN_LINES]
    lines = [f"clean: {item} on {', '.join(zones)}" for item, zones in shown]
    if len(items) > len(shown):
        lines.append(f"+{len(items) - len(shown)} more clean (-vv shows each)")
    return lines


def verdict_lines(report: Report, verbose: int, judgement: Judgement | None = None) -> list[str]:
    """Long output: listings (meaning, TXT, URL), then errors and zone health, grouped."""
    lines = listing_lines(report, verbose)
    if judgement is not None:
        lines += unjudged_lines(report, judgement)
    lines += _grouped("ERROR", report.by_status(Status.ERROR), verbose)
    lines += _grouped("IGNORED", report.by_status(Status.BROKEN), verbose)
    lines += health_lines(report)
    if verbose >= 1:
        lines += _clean_lines(report, verbose)
    if verbose >= 2:
        for z in report.zones:
            notes = f" - {z.notes}" if z.notes else ""
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
        answer = f"CNAME {' -> '.join(x.cnames)}, {answer}"
    error = f", error: {x.error}" if x.error else ""
    return (
        f"dns {x.purpose} {x.name} {x.rdtype} @{x.nameserver}: rcode {x.rcode}, answer "
        f"{answer}{error} ({x.elapsed * 1000:.1f} ms)"
    )
