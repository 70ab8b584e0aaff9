"""What a check remembers between runs: since when each listing has lasted, and which ended.

A run is a snapshot; an admin asks "since when?" and "is it over?". The state of one check
is a set of *entries*, one per (address or domain, zone): listed, policy-listed, or (for
check_bounce_rate) cited by bounces, each with the time it was first seen and last seen.
:func:`merge` folds one run's sightings into the stored entries:

* a sighting of a known entry keeps its ``since``; a new one starts now;
* a *clean* answer for a known entry ends it: it is reported once as delisted, then dropped;
* no answer (a failed query, a hop not in this message) says nothing: the entry is kept, and
  forgotten only when it has not been seen for :data:`FORGET_AFTER` — a failed query is
  never "not listed";
* for bounce citations the window is the whole truth (``complete``): a citation no bounce
  in the window makes any more has ended.

Pure functions over plain data, so the rules are tested without files or clocks; the file,
its lock and its location are :mod:`mailrep.plugin.state`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from mailrep.plugin.text import counted

FORMAT = "mailrep-state 1"
LISTED, POLICY, CITED, CLEAN = "listed", "policy", "cited", "clean"
ACTIVE = frozenset({LISTED, POLICY, CITED})
#: An entry not seen for this long (seconds) is forgotten: 30 days.
FORGET_AFTER = 30 * 86400.0
#: At most this many entries are kept (the most recently seen): bounces are mail anyone can
#: send, and a flood of forged citations must not grow the file without bound.
MAX_ENTRIES = 1000


class Sighting(NamedTuple):
    """What one run saw for one (subject, zone): an active status or ``clean``."""

    subject: str  # address or domain; "" for a cited address the bounce did not name
    zone: str
    status: str


class Entry(NamedTuple):
    subject: str
    zone: str
    status: str
    since: float  # Unix time first seen
    last_seen: float


class Memory(NamedTuple):
    """One run's view of the history, after its sightings were merged in."""

    active: dict[str, Entry]  # by :func:`key`
    ended: list[Entry]  # ended since the last run: reported once
    new: list[str]  # keys first seen in this run
    changed: bool  # the state, or the set of listings, differs from the last run's
    previous_state: int | None
    now: float

    @property
    def current(self) -> dict[str, Entry]:
        """Entries this run saw (not those kept from runs whose targets it did not see)."""
        return {k: e for k, e in self.active.items() if e.last_seen == self.now}


def key(subject: str, zone: str) -> str:
    return f"{subject or '-'} {zone}"


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a time: {value!r}")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a text: {value!r}")
    return value


def parse(doc: Any) -> tuple[dict[str, Entry], int | None]:
    """Entries and the last run's state code from a stored document; ValueError if it is not
    one (the caller then starts afresh and says so)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError("not a mailrep state file")
    last = doc.get("last_run")
    previous = None
    if last is not None:
        code = last.get("state") if isinstance(last, dict) else None
        if type(code) is not int or code not in (0, 1, 2, 3):
            raise ValueError("bad last_run")
        previous = code
    raw = doc.get("entries")
    if not isinstance(raw, list):
        raise ValueError("bad entries")
    entries: dict[str, Entry] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("bad entry")
        subject, zone, status = (_text(item.get(f)) for f in ("subject", "zone", "status"))
        if status not in ACTIVE:
            raise ValueError("bad entry")
        since, last_seen = _number(item.get("since")), _number(item.get("last_seen"))
        entries[key(subject, zone)] = Entry(subject, zone, status, since, last_seen)
    return entries, previous


def _document(entries: Iterable[Entry], state: int, now: float) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "last_run": {"time": now, "state": state},
        "entries": [e._asdict() for e in entries],
    }


def merge(
    doc: Any,
    sightings: Iterable[Sighting],
    complete: bool,
    state: int,
    now: float,
) -> tuple[dict[str, Any], Memory]:
    """Fold one run into the stored document (``None`` when there is none); see the module
    docstring. Returns the document to store and what this run should report."""
    stored, previous = parse(doc) if doc is not None else ({}, None)
    seen: dict[str, Sighting] = {}
    for sighting in sightings:
        k = key(sighting.subject, sighting.zone)
        if k not in seen or (sighting.status in ACTIVE and seen[k].status not in ACTIVE):
            seen[k] = sighting
    kept: dict[str, Entry] = {}
    ended: list[Entry] = []
    moved = False
    for k, entry in stored.items():
        s = seen.get(k)
        if s is None and not complete:
            if now - entry.last_seen <= FORGET_AFTER:
                kept[k] = entry
        elif s is None or s.status == CLEAN:
            ended.append(entry)
        else:
            moved = moved or s.status != entry.status
            kept[k] = entry._replace(status=s.status, last_seen=now)
    new = [k for k, s in seen.items() if s.status in ACTIVE and k not in stored]
    for k in new:
        s = seen[k]
        kept[k] = Entry(s.subject, s.zone, s.status, now, now)
    if len(kept) > MAX_ENTRIES:
        newest = sorted(kept.items(), key=lambda kv: kv[1].last_seen, reverse=True)
        kept = dict(newest[:MAX_ENTRIES])
    changed = (previous or 0) != state or bool(new or ended) or moved
    memory = Memory(kept, ended, new, changed, previous, now)
    return _document(kept.values(), state, now), memory


# --- words ----------------------------------------------------------------------------------


def when(t: float) -> str:
    """``2026-11-28 07:10 UTC``."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def age(seconds: float) -> str:
    """``45 minutes``, ``5 hours``, ``3 days``: the unit an admin would say."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 60:
        return counted(minutes, "minute")
    if minutes < 48 * 60:
        return counted(minutes // 60, "hour")
    return counted(minutes // 1440, "day")


def _who(entry: Entry) -> str:
    return entry.subject or "an unnamed address"


def active_line(entry: Entry, now: float, first: bool) -> str:
    """``192.0.2.7 listed on psbl.surriel.com since 2026-11-28 07:10 UTC (3 days)``."""
    span = "first seen in this run" if first else age(now - entry.since)
    since = f"since {when(entry.since)} ({span})"
    if entry.status == CITED:
        return f"bounces cite {entry.zone} for {_who(entry)} {since}"
    verb = "listed on" if entry.status == LISTED else "policy-listed on"
    return f"{entry.subject} {verb} {entry.zone} {since}"


def ended_line(entry: Entry) -> str:
    """Reported once, in the run that saw it end."""
    span = f"since {when(entry.since)}, last seen {when(entry.last_seen)}"
    if entry.status == CITED:
        return f"bounces no longer cite {entry.zone} for {_who(entry)} (cited {span})"
    if entry.status == POLICY:
        return f"{entry.subject} no longer policy-listed on {entry.zone} (listed {span})"
    return f"{entry.subject} delisted from {entry.zone} (listed {span})"


#: Lines of each kind (new listings, older listings, ended ones) before the rest is summed
#: up in one line: a /24 listed on a list must not bury the long output under its history.
MAX_LINES = 3


def _pair(entry: Entry) -> str:
    return f"{_who(entry)} on {entry.zone}"


def lines(memory: Memory) -> list[str]:
    """The history's part of the long output: listings first seen now, older listings with
    their since (oldest first), listings that ended; each kind in at most MAX_LINES + 1."""
    current = memory.current
    new = [current[k] for k in memory.new if k in current]
    older = sorted((e for k, e in current.items() if k not in memory.new), key=lambda e: e.since)
    out: list[str] = []
    if len(new) <= MAX_LINES:
        out += [active_line(e, memory.now, first=True) for e in new]
    else:
        named = ", ".join(_pair(e) for e in new[:MAX_LINES])
        noun = "citations" if new[0].status == CITED else "listings"
        out.append(
            f"{len(new)} {noun} first seen in this run: {named} +{len(new) - MAX_LINES} more"
        )
    out += [active_line(e, memory.now, first=False) for e in older[:MAX_LINES]]
    if len(older) > MAX_LINES:
        out.append(
            f"+{len(older) - MAX_LINES} more seen before this run (--format json gives each "
            "one's since)"
        )
    out += [ended_line(e) for e in memory.ended[:MAX_LINES]]
    if len(memory.ended) > MAX_LINES:
        rest = memory.ended[MAX_LINES:]
        out.append(
            f"+{len(rest)} more ended since the last run: " + ", ".join(map(_pair, rest[:5]))
        )
    return out


def since_of(memory: Memory | None) -> Mapping[str, Entry]:
    """This run's active entries by key, for the JSON and the exposition; empty without a
    history."""
    return memory.current if memory is not None else {}
