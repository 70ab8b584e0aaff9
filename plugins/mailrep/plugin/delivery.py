"""Where a run's output goes: standard output, or a file replaced atomically (``--output``).

Imports nothing heavy at module level: :mod:`mailrep.plugin.runtime` loads it for ``-h``.
"""

from __future__ import annotations

import sys
import time


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
