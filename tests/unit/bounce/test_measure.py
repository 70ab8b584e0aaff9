"""A run's measurement: rate, denominators that cannot be one, and what rechecks resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from mailrep.bounce.analysis import analyse
from mailrep.bounce.measure import in_window, measure
from mailrep.dnsbl.recheck import Recheck

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
