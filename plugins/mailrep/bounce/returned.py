"""The returned original's header block in a bounce: where the sender's path is written.

A bounce usually returns the original message or its header block (a ``message/rfc822`` or
``text/rfc822-headers`` part, or a quoted copy after "Below this line is a copy of the
message"). Those headers hold the Received chain the message had when it was refused: the
servers of the sender's own path. This module only finds them (with :mod:`mailrep.bounce.parts`,
which already sorts a bounce's parts); reading the chain and placing a cited address on it
is the relay core's job (:mod:`mailrep.relay.path`), so the bounce package stays on the
standard library.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import quopri
import re
from typing import NamedTuple

from mailrep.bounce.mime import MAX_DEPTH, ORIGINAL_TYPES, content_type, parse
from mailrep.bounce.parts import collect

#: At most this much of a returned header block is read (real ones are a few KiB).
MAX_RETURNED_BYTES = 256 * 1024
_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}")


class Returned(NamedTuple):
    """What a bounce returned of the original, and who says it reported the failure."""

    headers: list[bytes]  # header blocks of the returned originals, message order
    reporting_mta: str | None  # the DSN's Reporting-MTA name (lower case)


def _decoded(part: email.message.Message, body: bytes) -> bytes:
    """A header part sent quoted-printable or base64 (allowed for text/rfc822-headers)."""
    cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    if cte == "quoted-printable":
        return quopri.decodestring(body)
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"\s+", b"", body))
        except (binascii.Error, ValueError):
            return b""
    return body


def _original_blocks(msg: email.message.Message) -> list[bytes]:
    """The header blocks of every returned original part, in message order (bounded)."""
    found: list[bytes] = []
    todo: list[tuple[email.message.Message, int]] = [(msg, 0)]
    while todo and len(found) < 8:
        part, depth = todo.pop(0)
        if depth > MAX_DEPTH:
            continue
        ctype = content_type(part)[0]
        payload = part.get_payload()
        if ctype in ORIGINAL_TYPES and isinstance(payload, list) and payload:
            inner = getattr(payload[0], "inner_raw", None)
            if isinstance(inner, bytes):
                found.append(_decoded(part, inner[:MAX_RETURNED_BYTES]).lstrip(b"\r\n"))
            continue
        if isinstance(payload, list):
            subs = [sub for sub in payload if isinstance(sub, email.message.Message)]
            todo.extend((sub, depth + 1) for sub in subs)
    return found


def _quoted_block(original_text: str) -> bytes:
    """The header block of an original quoted in a plain-text bounce, after its marker line."""
    lines = original_text[:MAX_RETURNED_BYTES].replace("\r\n", "\n").split("\n")
    rest = lines[1:] if lines and ":" not in lines[0].split(" ", 1)[0] else lines
    while rest and not rest[0].strip():
        rest.pop(0)
    unquoted = (line[1:].lstrip() if line.startswith(">") else line for line in rest)
    return "\n".join(unquoted).encode("utf-8", "replace")


def _reporting_mta(blocks: list[list[dict[str, str]]]) -> str | None:
    for group in blocks:
        for fields in group:
            value = fields.get("reporting-mta", "").split(";")[-1].strip().lower().rstrip(".")
            if value and _NAME.fullmatch(value):
                return value
    return None


def returned_headers(raw: bytes) -> Returned:
    """The returned originals' header blocks and the Reporting-MTA. Never raises."""
    try:
        msg = parse(raw)
        parts = collect(msg)
        blocks = _original_blocks(msg)
        if not blocks and parts.original_text:
            blocks = [_quoted_block(parts.original_text)]
        return Returned(blocks, _reporting_mta(parts.status_blocks))
    except Exception:  # a hostile bounce costs us its path, never the run
        return Returned([], None)
