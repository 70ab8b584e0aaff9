"""Which cited pairs a recheck asks, and what it says of the ones it does not."""

from __future__ import annotations

import pytest
from mailrep.dnsbl import catalogue
from mailrep.dnsbl.lookup import LookupSettings
from mailrep.dnsbl.recheck import Recheck, recheck


@pytest.fixture(scope="module")
def known() -> catalogue.Catalogue:
    return catalogue.load_default()


def no_dns(*_args, **_kw):
    raise AssertionError("nothing here may be looked up")


NOWHERE = LookupSettings([("127.0.0.1", 9)], query_timeout=0.01)


@pytest.mark.parametrize(
    ("pair", "why"),
    [
        (("psbl.surriel.com", "not-an-ip"), "not an IP address"),
        (("microsoft", "203.0.113.9"), "provider block"),
        (("psbl.surriel.com", "10.1.2.3"), "not a global address"),
        (("bl.chosen-by-a-stranger.example", "8.8.8.8"), "catalogue does not know"),
        (("dnsbl.sorbs.net", "8.8.8.8"), "dead list"),
        (("psbl.surriel.com", "2001:4860::8888"), "does not take this kind"),
    ],
)
def test_pairs_that_are_not_asked_say_why(monkeypatch, known, pair, why):
    monkeypatch.setattr("mailrep.dnsbl.recheck.lookup", no_dns)
    [(found_pair, found)] = recheck([pair], known, NOWHERE, not_dns={"microsoft"}).items()
    assert found_pair == pair and found.state == "skipped" and why in found.detail


def test_a_configured_zone_is_asked_though_the_catalogue_does_not_know_it(monkeypatch, known):
    seen = []

    def fake_lookup(items, zones, settings):
        seen.append(([i.text for i in items], [z.name for z in zones], settings.self_test))
        from mailrep.dnsbl.lookup import Report

        return Report([], {}, list(zones))

    monkeypatch.setattr("mailrep.dnsbl.recheck.lookup", fake_lookup)
    out = recheck(
        [("bl.local.example", "8.8.8.8")],
        known,
        NOWHERE._replace(self_test=False),
        configured=["bl.local.example."],
    )
    assert seen == [(["8.8.8.8"], ["bl.local.example"], True)]  # self-tests forced on
    assert out[("bl.local.example", "8.8.8.8")] == Recheck("error", "no answer")


def test_texts_read_as_the_long_output_says_them():
    assert Recheck("listed").text == "still listed"
    assert Recheck("clean").text == "no longer listed"
    assert Recheck("error", "timeout").text == "error: timeout"
