"""Between judging and printing: remember the run, build the exposition, decide to be quiet.

:func:`mailrep.plugin.runtime.run` calls :func:`finish` once the state is known (also for
a run that ended UNKNOWN), and prints what it returns: history lines for the long output,
the ``history`` part of the JSON document, the OpenMetrics exposition, and whether
``--only-changes`` silences this run. Nothing here changes the state: every failure of the
history becomes a note.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from mailrep.plugin import history, state
from mailrep.plugin.facts import NOTHING, Facts
from mailrep.plugin.history import Entry, Memory, key

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


class Finished(NamedTuple):
    lines: list[str]  # for the long output
    extra: dict[str, Any]  # the JSON document's additions, with the history
    exposition: str  # the OpenMetrics text ("" unless --format openmetrics)
    silent: bool  # --only-changes and nothing changed


class _Kept(NamedTuple):
    memory: Memory | None
    saved: bool | None  # None: no state directory at all
    path: str | None
    notes: list[str]


def _remember(
    prog: str, args: argparse.Namespace, code: int, facts: Facts, now: float, wait: float
) -> _Kept:
    directory = getattr(args, "state_dir", None) or state.default_dir(os.environ)
    if not directory:
        return _Kept(
            None,
            None,
            None,
            [
                f"state: not kept: no state directory ({state.SYSTEM_DIR} is not writable and "
                "neither XDG_STATE_HOME nor HOME is set): give --state-dir"
            ],
        )
    path = state.state_file(directory, prog, state.identity(prog, vars(args)))

    def merge(doc: Any) -> tuple[dict[str, Any], Memory]:
        return history.merge(doc, facts.sightings, facts.complete, code, now)

    done = state.update(path, merge, wait)
    notes = list(done.notes)
    if done.first and done.result is not None and done.result.new:
        notes.insert(
            0, f"state: no earlier state in {path}: what it remembers is dated from this run"
        )
    return _Kept(done.result, done.saved, path, notes)


def _stamp(entry: Entry | None) -> str | None:
    return history.iso(entry.since) if entry is not None else None


def _annotate(extra: dict[str, Any], since: Mapping[str, Entry]) -> None:
    """``listed_since`` beside each answer of the JSON document (``bouncing_since`` beside
    each citation); None where the answer is not a listing or there is no history."""
    for result in extra.get("results") or []:
        if isinstance(result, dict) and "address" in result and "zone" in result:
            result["listed_since"] = _stamp(since.get(key(result["address"], result["zone"])))
    for hop in extra.get("hops") or []:
        answers = hop.get("blocklists") or [] if isinstance(hop, dict) else []
        for answer in answers:
            answer["listed_since"] = _stamp(since.get(key(hop.get("ip") or "", answer["zone"])))
    for cited in extra.get("citations") or []:
        if isinstance(cited, dict) and "zone" in cited:
            found = since.get(key(cited.get("ip") or "", cited["zone"]))
            cited["bouncing_since"] = _stamp(found)


def _entry_json(entry: Entry) -> dict[str, Any]:
    field = "bouncing_since" if entry.status == history.CITED else "listed_since"
    return {
        "address": entry.subject or None,
        "zone": entry.zone,
        "status": entry.status,
        field: history.iso(entry.since),
        "last_seen": history.iso(entry.last_seen),
    }


def _history_json(kept: _Kept) -> dict[str, Any]:
    m = kept.memory
    previous = m.previous_state if m is not None else None
    return {
        "state_file": kept.path,
        "saved": bool(kept.saved),
        "changed": m.changed if m is not None else None,
        "previous_state": STATES[previous] if previous is not None else None,
        "listings": [_entry_json(e) for e in history.since_of(m).values()],
        "ended": [_entry_json(e) for e in (m.ended if m is not None else [])],
        "notes": kept.notes,
    }


def _exposition(
    prog: str, args: argparse.Namespace | None, code: int, facts: Facts, kept: _Kept, now: float
) -> str:
    from mailrep.plugin import exposition, openmetrics

    labels = [("plugin", prog)]
    if args is not None:
        labels.append(("check", state.identity(prog, vars(args))))
    common = exposition.common(code, now, kept.saved)
    try:
        return openmetrics.render(common + facts.families(history.since_of(kept.memory)), labels)
    except Exception as exc:  # never a traceback: the state alone is still an exposition
        kept.notes.append(f"exposition: only the state ({type(exc).__name__}: {exc})")
        return openmetrics.render(common, labels)


def finish(
    prog: str,
    args: argparse.Namespace | None,
    code: int,
    facts_of: Callable[[], Facts] | None,
    extra: dict[str, Any],
    *,
    fmt: str,
    wait: float,
) -> Finished:
    """Remember this run (``args`` is None when the command line could not be read) and say
    what to print in format ``fmt``; ``wait`` bounds the wait for the state file's lock."""
    now = time.time()
    facts, notes = NOTHING, []
    try:
        facts = facts_of() if facts_of is not None else NOTHING
    except Exception as exc:  # a plugin's facts must never cost its verdict
        notes.append(f"state: this run not remembered ({type(exc).__name__}: {exc})")
    kept = _Kept(None, None, None, [])
    if args is not None:
        try:
            kept = _remember(prog, args, code, facts, now, wait)
        except Exception as exc:
            kept = _Kept(None, False, None, [f"state: not kept ({type(exc).__name__}: {exc})"])
    kept = kept._replace(notes=notes + kept.notes)
    text = _exposition(prog, args, code, facts, kept, now) if fmt == "openmetrics" else ""
    extra = dict(extra)
    _annotate(extra, history.since_of(kept.memory))
    # The same keys in every state: a run whose command line could not be read has none.
    extra["history"] = _history_json(kept) if args is not None else None
    lines = (history.lines(kept.memory) if kept.memory is not None else []) + kept.notes
    quiet = bool(getattr(args, "only_changes", False))
    silent = quiet and kept.memory is not None and kept.saved is True and not kept.memory.changed
    return Finished(lines, extra, text, silent)


class After(NamedTuple):
    """What run() adds to what it prints: long-output lines and emit's keywords."""

    lines: list[str]
    kw: dict[str, Any]  # emit's extra, exposition and output


def after_run(
    prog: str,
    args: argparse.Namespace | None,
    state: int,
    facts: Callable[[], Any] | None,
    extra: dict[str, Any],
    fmt: str,
    started: float,
    timeout: float | None,
) -> After:
    """Remember the run (aftercheck.finish); exit 0 quietly when --only-changes says so."""
    left = (started + timeout - time.monotonic() - 0.05) if timeout else 1.0
    done = finish(prog, args, state, facts, extra, fmt=fmt, wait=min(2.0, max(0.0, left)))
    if done.silent:
        raise SystemExit(0)
    output = getattr(args, "output", None)
    return After(done.lines, {"extra": done.extra, "exposition": done.exposition, "output": output})
