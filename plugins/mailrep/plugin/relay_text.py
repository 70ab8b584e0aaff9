"""The words of check_relay_chain: hops named on the first line, the numbered chain as long
output, and the ``--format json`` document (the chain hop by hop, also when no hop could be
checked: the parsed chain is exactly what a user needs then).

Kept apart from the nagiosplugin objects of :mod:`mailrep.plugin.relay_check`, which decide
the states; the blocklist words are :mod:`mailrep.plugin.blocklist_text`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mailrep.dnsbl.judgement import Judgement
from mailrep.dnsbl.lookup import Item, Status
from mailrep.plugin import blocklist_text as words
from mailrep.plugin.dnsbl_check import verdict_json, zones_json
from mailrep.plugin.text import counted
from mailrep.relay.chain import ENTRY, RECEIVER, SENDER, ChainHop, Examination


def auth_where(exam: Examination) -> str:
    return ", ".join(exam.auth_by) or "the receiver"


def hops_listing_phrase(exam: Examination) -> str:
    """``hop 3 av1.provider.example [185.56.87.12] listed on psbl.surriel.com``, per listed
    or policy-listed hop (the first few; then how many more)."""
    parts = []
    for hop in exam.chain.hops:
        if not hop.checked or hop.ip is None:
            continue
        verdicts = exam.verdicts_for(hop.ip)
        bits = []
        for status, verb in ((Status.LISTED, "listed on"), (Status.POLICY, "policy-listed on")):
            hit = [v for v in verdicts if v.status is status]
            if hit:
                bits.append(f"{verb} {words.zone_names(hit)}")
        if bits:
            parts.append(f"{hop.label()} {' and '.join(bits)}")
    return words.first_of(parts)


def hop_namer(exam: Examination) -> Callable[[Item], str]:
    def name(item: Item) -> str:
        hops = exam.chain.hops_with_ip(item.text)
        return hops[0].label() if hops else item.text

    return name


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
        checks[0] += f" on {words.zone_names(listed)}"
    ptr = exam.fcrdns.get(hop.ip or "")
    if ptr is not None:
        checks.append(ptr.describe())
        match = ptr.helo_matches(h.helo)
        if match is False:
            checks.append("HELO is not a PTR name")
    return f"{text}: {'; '.join(checks)}"


def chain_lines(exam: Examination, verbose: int, judgement: Judgement | None = None) -> list[str]:
    chain = exam.chain
    lines = [
        f"chain of {counted(len(chain.hops), 'hop')} (hop 1 = origin), "
        f"receiver {', '.join(chain.receiver)}"
        + (f", from {exam.source}" if exam.source else "")
        + ":"
    ]
    lines += [hop_line(exam, h) for h in chain.hops]
    lines.append(f"authentication at {auth_where(exam)}: {exam.auth.describe()}")
    if exam.delivery is not None:
        lines.append(f"delivery (round trip): {exam.delivery:.2f}s")
    lines += chain.notes
    if exam.unchecked:
        lines.append(exam.unchecked)
    if exam.report is not None:
        lines += words.verdict_lines(exam.report, verbose, judgement)
    return lines


def exam_json(exam: Examination | None) -> dict[str, Any]:
    """What ``--format json`` adds: the chain hop by hop, with each hop's checks (also when
    no hop could be checked: the parsed chain is what a user needs then). Without an
    examination, nothing: the plugin's defaults give every key."""
    if exam is None:
        return {}
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
        "unchecked": exam.unchecked or None,
    }
