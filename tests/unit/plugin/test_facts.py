"""What each plugin's Resource tells the history and the exposition."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

from mailrep.dnsbl.catalogue import Zone
from mailrep.dnsbl.lookup import Item, Report, Status, Verdict
from mailrep.plugin import facts
from mailrep.plugin.history import CLEAN, LISTED, POLICY, Sighting
from mailrep.plugin.openmetrics import render

from tests.support.metrics import valid_exposition, value

ZONE = Zone("psbl.surriel.com")


def report(*statuses: Status) -> Report:
    verdicts = [
        Verdict(Item.for_address(ipaddress.ip_address(f"192.0.2.{i + 1}")), ZONE, ZONE.name, s)
        for i, s in enumerate(statuses)
    ]
    return Report(verdicts, {}, [ZONE])


def test_failed_and_broken_answers_are_not_sightings():
    r = report(Status.LISTED, Status.POLICY, Status.CLEAN, Status.ERROR, Status.BROKEN)
    assert facts.report_sightings(r) == [
        Sighting("192.0.2.1", ZONE.name, LISTED),
        Sighting("192.0.2.2", ZONE.name, POLICY),
        Sighting("192.0.2.3", ZONE.name, CLEAN),
    ]


def test_a_blocklist_run_that_never_probed_has_no_facts():
    assert facts.of_blocklist(SimpleNamespace(report=None)) is facts.NOTHING


def test_a_round_trip_whose_message_never_came_exposes_delivered_0():
    resource = SimpleNamespace(exam=None, not_delivered=RuntimeError("no message"))
    found = facts.of_relay_chain(resource)
    assert found.sightings == [] and not found.complete
    fams = valid_exposition(render(found.families({})))
    assert value(fams, "mailrep_relay_delivered") == 0


def test_a_saved_message_has_no_delivered_metric():
    found = facts.of_relay_chain(SimpleNamespace(exam=None, not_delivered=None))
    assert found.families({}) == []


def test_bounce_citations_are_complete_sightings():
    summary = SimpleNamespace(citations=lambda: {("psbl.surriel.com", "192.0.2.11"): 2})
    found = facts.of_bounces(SimpleNamespace(measurement=SimpleNamespace(summary=summary)))
    assert found.complete
    assert found.sightings == [Sighting("192.0.2.11", "psbl.surriel.com", "cited")]
