"""Metric families built from lookup reports and bounce measurements: bounded, and honest."""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.analysis import analyse
from mailrep.bounce.measure import measure
from mailrep.dnsbl.catalogue import Zone
from mailrep.dnsbl.lookup import Item, Report, Status, Verdict
from mailrep.plugin import exposition
from mailrep.plugin.history import Entry, key
from mailrep.plugin.openmetrics import render

from tests.support.fixtures import make_bounces as mk
from tests.support.metrics import valid_exposition, value

ZONES = [Zone("psbl.surriel.com"), Zone("bl.spamcop.net")]


def item(i: int) -> Item:
    return Item.for_address(ipaddress.ip_address(f"198.51.100.{i % 250}") + 65536 * (i // 250))


def report(statuses: list[Status], zones: list[Zone] = ZONES[:1]) -> Report:
    verdicts = [
        Verdict(item(i), zone, zone.name, status, elapsed=0.01 * (i + 1))
        for i, status in enumerate(statuses)
        for zone in zones
    ]
    return Report(verdicts, {}, list(zones), elapsed=0.5, queries=len(verdicts))


def families(r: Report, since=None) -> dict:
    return valid_exposition(render(exposition.blocklist(r, since or {})))


def test_each_target_and_zone_says_listed_policy_and_error():
    r = report([Status.LISTED, Status.POLICY, Status.ERROR, Status.CLEAN])
    fams = families(r)
    targets = [v.item.text for v in r.verdicts]
    expect = {
        "mailrep_dnsbl_listed": [1, 0, 0, 0],
        "mailrep_dnsbl_policy_listed": [0, 1, 0, 0],
        "mailrep_dnsbl_lookup_error": [0, 0, 1, 0],
    }
    for name, values in expect.items():
        assert [value(fams, name, target=t) for t in targets] == values, name


def test_a_broken_zones_answer_is_an_error_not_a_listing():
    fams = families(report([Status.BROKEN]))
    assert value(fams, "mailrep_dnsbl_lookup_error") == 1
    assert value(fams, "mailrep_dnsbl_listed") == 0


def test_per_pair_series_are_bounded_and_the_rest_counted():
    statuses = [Status.CLEAN] * 250 + [Status.LISTED] * 3
    fams = families(report(statuses, ZONES))
    per_pair = fams["mailrep_dnsbl_listed"]
    assert len(per_pair) == exposition.MAX_SERIES
    assert sum(s.value for s in per_pair) == 6  # every listing kept, ahead of clean answers
    left = value(fams, "mailrep_omitted_series", family="mailrep_dnsbl_listed")
    assert left == 253 * 2 - exposition.MAX_SERIES
    assert value(fams, "mailrep_dnsbl_results", status="clean") == 500  # totals: everything


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list(exposition._RANK)), max_size=300))
def test_kept_and_left_out_add_up_and_graver_answers_win(statuses):
    fams = families(report(statuses))
    kept = fams.get("mailrep_dnsbl_listed", [])
    left = value(fams, "mailrep_omitted_series", family="mailrep_dnsbl_listed")
    assert len(kept) + left == len(statuses)
    assert len(kept) <= exposition.MAX_SERIES
    listed = sum(s.value for s in kept)
    assert listed == min(statuses.count(Status.LISTED), exposition.MAX_SERIES)


def test_listed_since_comes_from_the_history():
    r = report([Status.LISTED])
    target = r.verdicts[0].item.text
    since = {key(target, "psbl.surriel.com"): Entry(target, "psbl.surriel.com", "listed", 1e9, 2e9)}
    fams = families(r, since)
    assert value(fams, "mailrep_dnsbl_listed_since_timestamp_seconds", target=target) == 1e9


def test_zone_times_are_the_slowest_lookup():
    fams = families(report([Status.CLEAN, Status.CLEAN, Status.CLEAN]))
    assert value(fams, "mailrep_dnsbl_zone_lookup_max_seconds", zone="psbl.surriel.com") == 0.03
    assert value(fams, "mailrep_dnsbl_lookup_duration_seconds") == 0.5


class Msg(NamedTuple):
    source: str
    arrived: None
    raw: bytes


def bounce_families(raws, **kw) -> dict:
    messages = [Msg(f"{i}.eml", None, raw) for i, raw in enumerate(raws)]
    return valid_exposition(render(exposition.bounces(measure(messages, analyse, **kw), {})))


def test_bounces_by_cause_reason_and_cited_zone():
    raws = [mk.blocklisted(f"b{i}@example.net", ip="192.0.2.11") for i in range(3)]
    raws += [mk.unknown_user("nobody@example.net")]
    fams = bounce_families(raws, sent=(200, "--sent"))
    assert value(fams, "mailrep_bounce_recipients", cause="hard") == 1
    assert value(fams, "mailrep_bounce_recipients", cause="throttle") == 0  # stable series
    assert value(fams, "mailrep_bounce_reason_recipients", reason="userunknown") == 1
    cited = {"zone": "psbl.surriel.com", "address": "192.0.2.11"}
    assert value(fams, "mailrep_bounce_citations", **cited) == 3
    assert value(fams, "mailrep_bounce_zone_citations", zone="psbl.surriel.com") == 3
    assert value(fams, "mailrep_bounce_rate_ratio") == 0.02
    assert value(fams, "mailrep_bounce_sent") == 200


def test_forged_citations_cannot_grow_the_exposition_without_bound():
    raws = [
        mk.blocklisted(f"b{i}@example.net", ip="192.0.2.11", zone=f"z{i}.forged.example")
        for i in range(150)
    ]
    fams = bounce_families(raws)
    assert len(fams["mailrep_bounce_citations"]) == exposition.MAX_SERIES
    assert value(fams, "mailrep_omitted_series", family="mailrep_bounce_citations") == 50
    assert value(fams, "mailrep_omitted_series", family="mailrep_bounce_zone_citations") == 50
    assert value(fams, "mailrep_bounce_blocklist_recipients") == 150  # the total is whole


def test_common_families_carry_the_state():
    fams = valid_exposition(render(exposition.common(2, 1.5e9, True)))
    assert value(fams, "mailrep_check_state") == 2
    assert value(fams, "mailrep_state_saved") == 1
