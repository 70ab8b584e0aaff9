"""check_bounce_rate's JSON document (``--format json``): every bounce with its culprit hop,
every citation with its recheck, the path hops --verify looked up, and for an MTA log source
its counts and the deferrals that cite a blocklist.
"""

from __future__ import annotations

from typing import Any

from mailrep.bounce.measure import Measurement
from mailrep.bounce.tally import BounceRecord
from mailrep.plugin.bounce_check import BounceResource
from mailrep.relay.path import Culprit


def _culprit_json(place: Culprit | None) -> dict[str, Any] | None:
    if place is None:
        return None
    hop = place.hop
    return {
        "ip": place.ip,
        "on_path": place.found,
        "found_by": place.how,
        "hop": hop.number if hop else None,
        "host": hop.name if hop else None,
        "role": hop.role if hop else None,
        "text": place.sentence(),
    }


def _record_json(rec: BounceRecord) -> dict[str, Any]:
    return {
        "source": rec.source,
        "recipient": rec.recipient.recipient,
        "reason": rec.recipient.reason,
        "cause": rec.recipient.cause,
        "status": rec.recipient.status,
        "replycode": rec.recipient.replycode,
        "hardbounce": rec.recipient.hardbounce,
        "zone": rec.zone,
        "blocked_ip": rec.blocked_ip,
        "remote_host": rec.recipient.remote_host,
        "diagnostic": rec.recipient.diagnostic,
    }


def _hops_json(m: Measurement) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for (zone, ip), found in m.hop_checks.items():
        hop = m.hops.get(ip)
        entry = out.setdefault(
            ip,
            {
                "ip": ip,
                "host": hop.name if hop else None,
                "hop": hop.number if hop else None,
                "listed_on": [],
                "errors": [],
            },
        )
        if found.state == "listed":
            entry["listed_on"].append(zone)
        elif found.state == "error":
            entry["errors"].append(f"{zone}: {found.text}")
    return list(out.values())


def bounce_json(resource: BounceResource) -> dict[str, Any]:
    m = resource.measurement
    if m is None:
        return {"bounces": []}
    s = m.summary
    culprits = list(m.culprits) + [None] * (len(s.records) - len(m.culprits))
    doc: dict[str, Any] = {
        "sent": m.sent,
        "rate": None if m.rate is None else round(m.rate, 3),
        "messages": s.messages,
        "deferred": s.deferred,
        "feedback": s.feedback,
        "bounces": [
            {**_record_json(rec), "culprit": _culprit_json(place)}
            for rec, place in zip(s.records, culprits, strict=True)
        ],
        "citations": [
            {
                "zone": z,
                "ip": ip,
                "bounces": n,
                "now": m.recheck_text(z, ip),
                "culprit": _culprit_json(m.culprit(z, ip)),
            }
            for (z, ip), n in s.citations().most_common()
        ],
    }
    if m.verified:
        doc["path_hops"] = _hops_json(m)
    if m.log is not None:
        doc["log"] = {
            "source": m.log.source,
            "lines": m.log.lines,
            "unparsed": m.log.unparsed,
            "sent": m.log.sent,
            "still_deferred": m.log.deferred,
        }
        doc["deferrals"] = [
            {**_record_json(rec), "now": m.recheck_text(rec.zone or "", rec.blocked_ip)}
            for rec in m.deferrals
        ]
    return doc
