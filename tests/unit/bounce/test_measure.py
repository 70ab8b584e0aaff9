"""A run's measurement: rate, denominators that cannot be one, and what rechecks resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from mailrep.bounce.analysis import analyse
from mailrep.bounce.measure import in_window, measure
from mailrep.dnsbl.recheck import Recheck
from mailrep.plugin.bounce_check import read_returned

from tests.support.fixtures import make_bounces as mk


class Msg(NamedTuple):
    source: str
    arrived: datetime | None
    raw: bytes


def msgs(*raws: bytes) -> list[Msg]:
    return [Msg(f"{i}.eml", None, raw) for i, raw in enumerate(raws)]


def test_rate_is_bounces_in_percent_of_sent():
    m = measure(msgs(mk.unknown_user(), mk.ordinary()), analyse, sent=(50, "--sent"))
    assert (m.bounces, m.rate, m.sent_too_small) == (1, 2.0, False)


def test_no_rate_when_the_sent_count_is_smaller_than_the_bounces():
    m = measure(
        msgs(mk.unknown_user("a@example.net"), mk.unknown_user("b@example.net")),
        analyse,
        sent=(1, "--sent"),
    )
    assert m.sent_too_small and m.rate is None


def test_sent_zero_without_bounces_is_a_zero_rate():
    m = measure(msgs(mk.ordinary()), analyse, sent=(0, "--sent"))
    assert m.rate == 0.0 and not m.sent_too_small


def test_no_denominator_no_rate():
    assert measure(msgs(mk.unknown_user()), analyse).rate is None


def test_recheck_is_asked_only_for_cited_pairs_with_an_address():
    asked: list[list[tuple[str, str]]] = []

    def recheck(pairs):
        asked.append(pairs)
        return {p: Recheck("clean") for p in pairs}

    m = measure(msgs(mk.blocklisted(ip="192.0.2.11"), mk.unknown_user()), analyse, recheck=recheck)
    assert asked == [[("psbl.surriel.com", "192.0.2.11")]]
    assert (m.resolved, m.blocked, m.summary.blocked) == (1, 0, 1)


def test_a_recheck_error_resolves_nothing():
    m = measure(
        msgs(mk.blocklisted(ip="192.0.2.11")),
        analyse,
        recheck=lambda pairs: {p: Recheck("error", "timeout") for p in pairs},
    )
    assert (m.resolved, m.blocked, m.recheck_errors) == (0, 1, 1)


def test_still_listed_pairs_are_named():
    m = measure(
        msgs(mk.blocklisted(ip="192.0.2.11")),
        analyse,
        recheck=lambda pairs: {p: Recheck("listed") for p in pairs},
    )
    assert m.still_listed == [("psbl.surriel.com", "192.0.2.11")]
    assert m.recheck_text("psbl.surriel.com", "192.0.2.11") == "still listed"


def test_window_keeps_messages_of_unknown_arrival_and_drops_older_ones():
    now = datetime.now(UTC)
    old = Msg("old", now - timedelta(days=3), b"")
    new = Msg("new", now, b"")
    unknown = Msg("unknown", None, b"")
    kept = list(in_window([old, new, unknown], now - timedelta(days=1), 10))
    assert [m.source for m in kept] == ["new", "unknown"]


def test_window_reads_at_most_the_limit():
    many = [Msg(str(i), None, b"") for i in range(10)]
    assert len(list(in_window(many, None, 3))) == 3


# --- the culprit hop and the path's public hops -------------------------------------------

RETURNED = [
    "from mail.company.example (mail.company.example [198.51.100.10]) by av1.provider.example "
    "(Postfix) with ESMTP id A1; Tue, 1 Dec 2026 09:18:33 +0000",
    "from [192.0.2.50] (unknown [192.0.2.50]) (Authenticated sender: alice) by "
    "mail.company.example (Postfix) with ESMTPSA id B2; Tue, 1 Dec 2026 09:18:33 +0000",
]
HANDOFF = [
    "from av1.provider.example (av1.provider.example [198.51.100.7]) by mail.company.example "
    "(Postfix) with ESMTP id C3; Tue, 1 Dec 2026 09:18:34 +0000",
]


def relay_bounce(recipient: str = "bob@example.net", ip: str = "198.51.100.7") -> bytes:
    return mk.blocklisted(
        recipient,
        ip=ip,
        returned_received=RETURNED,
        own_received=HANDOFF,
        reporting_mta="av1.provider.example",
    )


def returned(raw: bytes):
    return read_returned(raw, allow_nonglobal=True)


def test_each_cited_address_is_placed_on_the_path_of_its_own_bounce():
    m = measure(msgs(relay_bounce(), mk.blocklisted(ip="192.0.2.11")), analyse, returned=returned)
    assert [c.phrase() if c else None for c in m.culprits] == [
        "av1.provider.example, hop 2 of your path",
        "",
    ]
    assert m.culprit("psbl.surriel.com", "198.51.100.7").hop.name == "av1.provider.example"


def test_without_a_returned_reader_nothing_is_placed():
    m = measure(msgs(relay_bounce()), analyse)
    assert m.culprits == (None,) and m.culprit("psbl.surriel.com", "198.51.100.7") is None


def test_verify_asks_each_public_hop_once_on_every_list_however_many_bounces_name_it():
    asked: list[list[tuple[str, str]]] = []

    def recheck(pairs):
        asked.append(pairs)
        return {p: Recheck("clean") for p in pairs}

    bounces = [relay_bounce(f"u{i}@example.net") for i in range(5)]
    measure(msgs(*bounces), analyse, recheck=recheck, returned=returned, hop_zones=["zen.example"])
    [pairs] = asked
    assert sorted(pairs) == sorted(
        {
            (zone, ip)
            for zone in ("zen.example", "psbl.surriel.com")
            for ip in ("198.51.100.10", "198.51.100.7")
        }
    )


def test_a_listed_hop_the_bounce_does_not_cite_is_found():
    def recheck(pairs):
        return {
            p: Recheck("listed" if p == ("zen.example", "198.51.100.10") else "clean")
            for p in pairs
        }

    m = measure(
        msgs(relay_bounce()), analyse, recheck=recheck, returned=returned, hop_zones=["zen.example"]
    )
    assert m.hops_listed == [("zen.example", "198.51.100.10")]
    assert m.still_listed == [] and m.hops["198.51.100.10"].name == "mail.company.example"


def test_a_cited_pair_still_listed_is_not_counted_again_as_a_hop_listing():
    m = measure(
        msgs(relay_bounce()),
        analyse,
        recheck=lambda pairs: {p: Recheck("listed") for p in pairs if p[0] == "psbl.surriel.com"},
        returned=returned,
    )
    assert m.still_listed == [("psbl.surriel.com", "198.51.100.7")]
    assert m.hops_listed == [("psbl.surriel.com", "198.51.100.10")]


def test_hop_lookup_errors_count_as_verify_errors():
    m = measure(
        msgs(relay_bounce()),
        analyse,
        recheck=lambda pairs: {p: Recheck("error", "timeout") for p in pairs},
        returned=returned,
    )
    assert m.recheck_errors == 2  # the relay's pair (cited and a hop) once, the server's
