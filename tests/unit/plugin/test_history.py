"""The rules of the history: since when, when it ended, and what counts as a change."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.plugin import history
from mailrep.plugin.history import CITED, CLEAN, LISTED, POLICY, Sighting, key, merge

T0 = datetime(2026, 11, 28, 7, 10, tzinfo=UTC).timestamp()
DAY = 86400.0
IP, ZONE = "185.56.87.12", "psbl.surriel.com"


def run(doc, *sightings, complete=False, state=2, now=T0):
    return merge(doc, sightings, complete, state, now)


def test_a_new_listing_is_dated_from_this_run():
    _doc, mem = run(None, Sighting(IP, ZONE, LISTED))
    assert mem.active[key(IP, ZONE)].since == T0
    assert mem.new == [key(IP, ZONE)]


def test_a_listing_seen_again_keeps_its_since():
    doc, _ = run(None, Sighting(IP, ZONE, LISTED))
    _, mem = run(doc, Sighting(IP, ZONE, LISTED), now=T0 + 3 * DAY)
    entry = mem.active[key(IP, ZONE)]
    assert (entry.since, entry.last_seen) == (T0, T0 + 3 * DAY)
    assert mem.new == [] and mem.ended == []


def test_the_long_output_line_reads_as_the_issue_asks():
    doc, _ = run(None, Sighting(IP, ZONE, LISTED))
    _, mem = run(doc, Sighting(IP, ZONE, LISTED), now=T0 + 3 * DAY + 60)
    assert history.lines(mem) == [f"{IP} listed on {ZONE} since 2026-11-28 07:10 UTC (3 days)"]


def test_a_clean_answer_ends_a_listing_once():
    doc, _ = run(None, Sighting(IP, ZONE, LISTED))
    doc, mem = run(doc, Sighting(IP, ZONE, CLEAN), state=0, now=T0 + DAY)
    assert [e.subject for e in mem.ended] == [IP]
    assert history.lines(mem) == [
        f"{IP} delisted from {ZONE} (listed since 2026-11-28 07:10 UTC, last seen "
        "2026-11-28 07:10 UTC)"
    ]
    _, mem = run(doc, Sighting(IP, ZONE, CLEAN), state=0, now=T0 + 2 * DAY)
    assert mem.ended == [] and history.lines(mem) == []


def test_no_answer_is_not_a_delisting():
    """A failed query (no sighting) says nothing: the listing is kept, not ended."""
    doc, _ = run(None, Sighting(IP, ZONE, LISTED))
    _, mem = run(doc, state=1, now=T0 + DAY)
    assert mem.ended == []
    assert mem.active[key(IP, ZONE)].since == T0
    assert history.lines(mem) == []  # not seen this run: not reported as listed now


def test_an_entry_unseen_for_a_month_is_forgotten():
    doc, _ = run(None, Sighting(IP, ZONE, LISTED))
    _, mem = run(doc, now=T0 + history.FORGET_AFTER + 1)
    assert mem.active == {} and mem.ended == []


def test_for_bounce_windows_absence_ends_a_citation():
    doc, _ = run(None, Sighting(IP, ZONE, CITED), complete=True, state=1)
    _, mem = run(doc, complete=True, state=0, now=T0 + DAY)
    assert [e.subject for e in mem.ended] == [IP]
    assert history.lines(mem)[0].startswith(f"bounces no longer cite {ZONE} for {IP}")


def test_bouncing_since_is_worded_for_bounces():
    doc, _ = run(None, Sighting(IP, ZONE, CITED), complete=True)
    _, mem = run(doc, Sighting(IP, ZONE, CITED), complete=True, now=T0 + 5 * 3600)
    assert history.lines(mem) == [
        f"bounces cite {ZONE} for {IP} since 2026-11-28 07:10 UTC (5 hours)"
    ]


@pytest.mark.parametrize(
    ("previous", "state", "sightings", "changed"),
    [
        (None, 0, [], False),  # a first run that is OK is no news
        (None, 2, [Sighting(IP, ZONE, LISTED)], True),
        (2, 2, [Sighting(IP, ZONE, LISTED)], False),
        (2, 1, [Sighting(IP, ZONE, LISTED)], True),  # same listing, other state
        (2, 2, [Sighting(IP, ZONE, LISTED), Sighting("192.0.2.9", ZONE, LISTED)], True),
        (2, 1, [Sighting(IP, ZONE, POLICY)], True),
    ],
)
def test_what_counts_as_a_change(previous, state, sightings, changed):
    doc = None
    if previous is not None:
        doc, _ = run(None, Sighting(IP, ZONE, LISTED), state=previous)
    _, mem = run(doc, *sightings, state=state, now=T0 + 60)
    assert mem.changed is changed


def test_the_number_of_entries_is_bounded():
    many = [Sighting(f"z{i}", ZONE, CITED) for i in range(history.MAX_ENTRIES + 50)]
    doc, mem = run(None, *many, complete=True)
    assert len(mem.active) == history.MAX_ENTRIES
    assert len(doc["entries"]) == history.MAX_ENTRIES


def test_the_stored_document_round_trips_through_json():
    doc, _ = run(None, Sighting(IP, ZONE, LISTED), Sighting("", "bl.example", CITED))
    entries, previous = history.parse(json.loads(json.dumps(doc)))
    assert previous == 2 and set(entries) == {key(IP, ZONE), key("", "bl.example")}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300)
@given(JSON)
def test_any_stored_json_is_read_or_refused_with_valueerror(doc):
    with contextlib.suppress(ValueError):
        history.parse(doc)


VALID, _ = merge(None, [Sighting(IP, ZONE, LISTED)], False, 2, T0)
#: Every place in a valid document: a top-level key, or a field of its entry.
PLACES = [(k,) for k in VALID] + [("last_run", k) for k in VALID["last_run"]]
PLACES += [("entries", 0, k) for k in VALID["entries"][0]]


@settings(max_examples=300)
@given(st.sampled_from(PLACES), st.booleans(), JSON)
def test_a_document_damaged_in_one_place_is_read_or_refused(place, delete, replacement):
    """Each field of a good document removed or replaced by any JSON value: the merge reads
    it or raises ValueError (the caller starts afresh), never anything else."""
    doc = json.loads(json.dumps(VALID))
    parent = doc
    for step in place[:-1]:
        parent = parent[step]
    if delete:
        del parent[place[-1]]
    else:
        parent[place[-1]] = replacement
    with contextlib.suppress(ValueError):
        merge(doc, [Sighting(IP, ZONE, LISTED)], False, 2, T0)


def test_ages_use_the_unit_an_admin_would_say():
    assert [history.age(s) for s in (59, 61 * 60, 47 * 3600, 3 * DAY + 5)] == [
        "0 minutes",
        "1 hour",
        "47 hours",
        "3 days",
    ]


def test_many_new_listings_take_one_line():
    many = [Sighting(f"192.0.2.{n}", ZONE, LISTED) for n in range(20)]
    _, mem = run(None, *many)
    (line,) = history.lines(mem)
    assert line.startswith(f"20 listings first seen in this run: 192.0.2.0 on {ZONE}, ")
    assert line.endswith("+17 more")


def test_many_older_listings_show_the_oldest_and_a_count():
    doc, _ = run(None, *[Sighting(f"192.0.2.{n}", ZONE, LISTED) for n in range(10)])
    doc["entries"][7]["since"] -= 5 * DAY  # the oldest comes first
    _, mem = run(doc, *[Sighting(f"192.0.2.{n}", ZONE, LISTED) for n in range(10)], now=T0 + 60)
    out = history.lines(mem)
    assert len(out) == history.MAX_LINES + 1
    assert out[0].startswith(f"192.0.2.7 listed on {ZONE} since ") and "(5 days)" in out[0]
    assert out[-1].startswith("+7 more seen before this run")


def test_many_ended_listings_are_counted_and_named():
    doc, _ = run(None, *[Sighting(f"192.0.2.{n}", ZONE, LISTED) for n in range(6)])
    _, mem = run(doc, *[Sighting(f"192.0.2.{n}", ZONE, CLEAN) for n in range(6)], now=T0 + 60)
    out = history.lines(mem)
    assert sum("delisted from" in line for line in out) == history.MAX_LINES
    assert out[-1].startswith("+3 more ended since the last run: 192.0.2.3 on ")
