"""Text for status lines: counted nouns, and outside text made safe to print.

Much of what a plugin prints was written by someone else: a list's TXT record, a Received
value, a bounce's diagnostic, a server's error string. Such text may hold CR, LF, ESC or other
control characters; printed raw, a newline forges a line of long output (or a second status
line), an ESC sequence repaints a terminal, a CR hides what came before it. :func:`printable`
is the one function every output path uses (the runtime applies it to everything it prints),
so no plugin has to remember it.
"""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators (which
#: ``str.splitlines`` and some consoles treat as line breaks).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: Controls that separated words (tab, newline, CR, ...): replaced by a space, not removed,
#: so ``"spam\r\nsee"`` reads ``"spam see"`` rather than ``"spamsee"``.
_SPACING = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")
#: Lone surrogates: what Python makes of bytes that were not UTF-8 (an argument, a file
#: name). They cannot be written to a UTF-8 stdout at all, so they become U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "list")`` -> ``1 list``; ``counted(3, "list")`` -> ``3 lists``."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def printable(text: str) -> str:
    """``text`` without control characters (CR, LF, ESC, other C0/C1, DEL).

    Those that separate words become a space; the rest are removed.
    """
    if text.isprintable():
        return text
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", _SPACING.sub(" ", text)))


def plugin_text(text: str) -> str:
    """:func:`printable`, and without ``|``, which starts the perfdata in the plugin format."""
    return printable(text).replace("|", "/")


def status_text(text: str) -> str:
    """A first line's text: :func:`plugin_text` without ``;``, which Nagios 4 rewrites to
    ``:`` on the first line (``a; b`` would read ``a: b``)."""
    return plugin_text(text).replace(";", ",")
