"""What a plugin prints, in both formats: the last step of every run, shared by all plugins.

Every rule a consumer depends on is enforced here, once, rather than trusted to each
plugin's wording:

* outside text (TXT records, Received values, bounce text, server errors) loses its control
  characters (:func:`mailrep.plugin.text.printable`) on every line and in every JSON string;
* no ``|`` in text (it starts the perfdata) and no ``;`` on the first line before the ``|``
  (Nagios 4 rewrites it to ``:``);
* long output is bounded: at ``-v`` 0 the whole output stays within 8 KiB (what old Nagios
  cores kept; NRPE 3 carries 64 KiB, the bound at ``-v``), the lines that do not fit
  replaced by one line saying how many were left out. Plugins group their output so the
  bound is a backstop, not the rule;
* every JSON document carries the same envelope: plugin, version, the time of the check
  (ISO 8601, UTC), state, exit code, summary, perfdata, details.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from mailrep import __version__
from mailrep.plugin.text import plugin_text, printable, status_text

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")

#: Bytes of nagios output per ``-v`` level; levels not named here are not bounded.
OUTPUT_LIMITS = {0: 8 * 1024, 1: 64 * 1024}


def check_time(when: float | None = None) -> str:
    """``2026-11-28T14:00:00Z``: when the check ran (a ``time.time()`` value, default now),
    ISO 8601 in UTC to the second. No :mod:`datetime`: ``-V`` pays for every import."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))


def status_line(label: str, state: int, summary: str, perfdata: Sequence[str] = ()) -> str:
    """``LABEL STATE - summary | perfdata``; the summary made safe for a first line."""
    line = f"{label} {STATES[state]} - {status_text(summary)}".rstrip()
    if perfdata:
        line += " | " + " ".join(printable(p) for p in perfdata)
    return line


def bounded(lines: list[str], limit: int | None) -> list[str]:
    """``lines`` (the first is the status line) within ``limit`` bytes of output.

    The status line is always kept; detail lines are kept in order while they fit, the rest
    replaced by one line that says how many were left out and how to see them.
    """
    if limit is None or sum(len(x.encode()) + 1 for x in lines) <= limit:
        return lines
    kept = [lines[0]]
    size = len(lines[0].encode()) + 1
    room = limit - 100  # the closing note must fit as well
    for line in lines[1:]:
        cost = len(line.encode()) + 1
        if size + cost > room:
            break
        kept.append(line)
        size += cost
    left = len(lines) - len(kept)
    kept.append(f"... {left} more line{'s' if left != 1 else ''} left out (-v shows more)")
    return kept


def nagios_text(
    label: str,
    state: int,
    summary: str,
    perfdata: Sequence[str] = (),
    details: Sequence[str] = (),
    verbose: int = 0,
) -> str:
    """The plugin format: one status line, then the long output, bounded for ``verbose``."""
    lines = [status_line(label, state, summary, perfdata)]
    lines += [plugin_text(d) for d in details]
    return "\n".join(bounded(lines, OUTPUT_LIMITS.get(verbose))) + "\n"


def clean_json(value: Any) -> Any:
    """``value`` with every string (keys too) made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {clean_json(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return printable(str(value))


def json_text(
    label: str,
    state: int,
    summary: str,
    *,
    checked_at: str,
    perfdata: list[dict[str, Any]] | None = None,
    details: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> str:
    """One JSON document: the envelope every plugin shares, then the plugin's own keys.

    The envelope wins over a plugin key of the same name, so a consumer can rely on it;
    its summary and details are the text the plugin format prints.
    """
    envelope = {
        "plugin": label,
        "version": __version__,
        "time": checked_at,
        "state": STATES[state],
        "exit_code": state,
        "summary": status_text(summary),
        "perfdata": perfdata or [],
        "details": [plugin_text(d) for d in details],
    }
    import json

    doc = {**envelope, **{k: v for k, v in (extra or {}).items() if k not in envelope}}
    return json.dumps(clean_json(doc), indent=2) + "\n"
