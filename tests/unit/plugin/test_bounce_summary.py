"""check_bounce_rate's first line and perfdata, judged in-process without a mailbox."""

from __future__ import annotations

from typing import NamedTuple

import nagiosplugin
from mailrep.bounce.analysis import analyse
from mailrep.bounce.measure import measure
from mailrep.dnsbl.recheck import Recheck
from mailrep.plugin.bounce_check import (
    BounceResource,
    BounceSummaryText,
    BounceThresholds,
    bounce_contexts,
)

from tests.support.fixtures import make_bounces as mk


class Msg(NamedTuple):
    source: str
    arrived: None
    raw: bytes


DEFAULT = BounceThresholds("5", "10")


def judged(raws, thresholds=DEFAULT, **kw):
    messages = [Msg(f"{i}.eml", None, raw) for i, raw in enumerate(raws)]
    resource = BounceResource(lambda: measure(messages, analyse, **kw), lambda: "")
    check = nagiosplugin.Check(
        resource, *bounce_contexts(thresholds), BounceSummaryText(resource, "in the last 1d", 0)
    )
    check()
    return check


def users(n):
    return [mk.unknown_user(f"u{i}@example.net") for i in range(n)]


def test_ok_line_says_how_many_of_how_many():
    check = judged(users(1), sent=(100, "--sent"))
    assert check.state == nagiosplugin.Ok
    assert check.summary_str == "1 of 100 sent bounced (1.0%), 1 hard"


def test_the_count_that_set_the_state_leads_the_line():
    check = judged(users(2), BounceThresholds("5", "10", hard_critical="1"), sent=(1000, "x"))
    assert check.state == nagiosplugin.Critical
    assert check.summary_str.startswith("2 hard bounces, critical above 1: 2 of 1000 sent")


def test_the_rate_that_set_the_state_is_noted_beside_it():
    check = judged(users(3), sent=(40, "--sent"))
    assert check.state == nagiosplugin.Warn
    assert check.summary_str.startswith("3 of 40 sent bounced (7.5%, warning above 5)")


def test_a_sent_count_below_the_bounces_gives_no_rate_and_judges_the_count():
    check = judged(users(6), sent=(2, "--sent"))
    assert check.state == nagiosplugin.Warn
    assert "but only 2 sent (no rate, warning above 5)" in check.summary_str
    assert "rate=U" in check.perfdata


def test_a_still_listed_citation_is_critical_and_named():
    check = judged(
        [mk.blocklisted(ip="192.0.2.11")],
        sent=(1000, "--sent"),
        recheck=lambda pairs: {p: Recheck("listed") for p in pairs},
    )
    assert check.state == nagiosplugin.Critical
    assert "still listed: 192.0.2.11 on psbl.surriel.com" in check.summary_str


def test_no_semicolon_on_the_first_line():
    check = judged(
        [mk.blocklisted(ip="192.0.2.11"), *users(3)],
        BounceThresholds("1", "2", hard_warning="0"),
        sent=(10, "--sent"),
    )
    assert ";" not in check.summary_str
