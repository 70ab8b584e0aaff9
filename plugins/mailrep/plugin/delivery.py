"""What a run prints and where: the chosen format, to standard output or to a file replaced
atomically (``--output``).

Imports nothing heavy at module level: :mod:`mailrep.plugin.runtime` loads it for ``-h``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

FORMATS = ("nagios", "json", "openmetrics")
EXIT_UNKNOWN = 3


def bare_exposition(label: str, state: int) -> str:
    """The exposition of a run that has nothing but its state."""
    from mailrep.plugin import exposition, openmetrics

    return openmetrics.render(exposition.common(state, time.time(), None), [("plugin", label)])


def deliver(text: str, output: str | None) -> None:
    """To standard output, or atomically to ``--output``; a file that cannot be written is
    UNKNOWN (exit 3) on standard output, the one place left to say so."""
    if output:
        from mailrep.plugin.atomic import write_atomically

        try:
            write_atomically(output, text)
            return
        except OSError as exc:
            text = f"UNKNOWN - cannot write --output {output}: {exc.strerror or exc}\n"
            sys.stdout.write(text)
            sys.stdout.flush()
            raise SystemExit(3) from None
    sys.stdout.write(text)
    sys.stdout.flush()


def emit(
    label: str,
    state: int,
    summary: str,
    *,
    perfdata: Sequence[str] = (),
    details: Sequence[str] = (),
    fmt: str = "nagios",
    extra: dict[str, Any] | None = None,
    json_perfdata: list[dict[str, Any]] | None = None,
    verbose: int = 0,
    checked_at: str | None = None,
    exposition: str = "",
    output: str | None = None,
) -> NoReturn:
    """Print one result in the chosen format (to ``output``, the ``--output`` file, if given)
    and exit with its code.

    All text passes :mod:`mailrep.plugin.output`, which enforces what consumers rely on
    (no control characters, no ``;`` before the ``|``, bounded long output, the JSON
    envelope with version and time); an exposition is :mod:`mailrep.plugin.openmetrics`'s.
    """
    from mailrep.plugin.output import check_time, json_text, nagios_text, status_line

    if fmt == "openmetrics":
        if state == EXIT_UNKNOWN:  # an exposition has no words: say why where logs look
            sys.stderr.write(status_line(label, state, summary) + "\n")
        text = exposition or bare_exposition(label, state)
    elif fmt == "json":
        text = json_text(
            label,
            state,
            summary,
            checked_at=checked_at or check_time(),
            perfdata=json_perfdata,
            details=details,
            extra=extra,
        )
    else:
        text = nagios_text(label, state, summary, perfdata, details, verbose)
    deliver(text, output)
    raise SystemExit(state)


def wanted_format(argv: Sequence[str]) -> str:
    """The --format of a command line that may not parse (for its usage error)."""
    for i, arg in enumerate(argv):
        value = arg[len("--format=") :] if arg.startswith("--format=") else None
        if arg == "--format":
            value = argv[i + 1] if i + 1 < len(argv) else None
        if value in FORMATS:
            return value
    return "nagios"
