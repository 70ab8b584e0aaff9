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
    read_returned,
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


def relay_bounce(recipient: str = "bob@example.net") -> bytes:
    return mk.blocklisted(
        recipient,
        ip="198.51.100.7",
        returned_received=[
            "from mail.company.example (mail.company.example [198.51.100.10]) by "
            "av1.provider.example (Postfix) with ESMTP id A1; Tue, 1 Dec 2026 09:18:33 +0000",
            "from [192.0.2.50] (unknown [192.0.2.50]) by mail.company.example (Postfix) with "
            "ESMTPSA id B2; Tue, 1 Dec 2026 09:18:33 +0000",
        ],
        own_received=[
            "from av1.provider.example (av1.provider.example [198.51.100.7]) by "
            "mail.company.example (Postfix) with ESMTP id C3; Tue, 1 Dec 2026 09:18:34 +0000"
        ],
        reporting_mta="av1.provider.example",
    )


def returned(raw):
    return read_returned(raw, allow_nonglobal=True)


def long_output(check):
    return check.summary.verbose(check.results)


def test_the_status_line_names_the_culprit_hop_of_the_citation():
    check = judged([relay_bounce()], sent=(1000, "--sent"), returned=returned)
    assert check.summary_str.endswith(
        "1 cites psbl.surriel.com for 198.51.100.7 (av1.provider.example, hop 2 of your path)"
    )


def test_the_long_output_says_which_machine_and_role_the_cited_address_is():
    check = judged([relay_bounce()], sent=(1000, "--sent"), returned=returned)
    assert long_output(check)[1] == (
        "culprit: 198.51.100.7 is av1.provider.example, hop 2 of your path, the relay after "
        "mail.company.example (the address that handed the bounce to you)"
    )


def test_a_citation_missing_from_the_returned_chain_says_so_on_the_status_line():
    raw = relay_bounce().replace(b"client [198.51.100.7]", b"client [198.51.100.99]")
    check = judged([raw], sent=(1000, "--sent"), returned=returned)
    assert check.summary_str.endswith("for 198.51.100.99 (not in the returned chain)")


def test_a_listed_path_hop_is_critical_and_named_with_its_place():
    def recheck(pairs):
        return {p: Recheck("listed" if p[1] == "198.51.100.10" else "clean") for p in pairs}

    check = judged(
        [relay_bounce()],
        sent=(1000, "--sent"),
        returned=returned,
        recheck=recheck,
        hop_zones=["zen.example"],
    )
    assert check.state == nagiosplugin.Critical
    assert check.summary_str.startswith("1 listed path hop, critical above 0: ")
    assert check.summary_str.endswith(
        "path hop listed: 198.51.100.10 (mail.company.example, hop 1) on zen.example and "
        "psbl.surriel.com"
    )
    assert "hops_listed=1;;0;0" in check.perfdata
