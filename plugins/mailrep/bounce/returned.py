"""What a bounce says about the path of the message that bounced.

A bounce usually returns the original message or its header block (a ``message/rfc822`` or
``text/rfc822-headers`` part, or a quoted copy after "Below this line is a copy of the
message"). Those headers hold the Received chain the message had when it was refused: the
servers of the sender's own path, oldest first. The bounce's own header block says who
handed the bounce to us: the line our server wrote about that client cannot be forged.

Both are read with the relay core (:func:`mailrep.relay.chain.build_chain`, the parser and
trust rules check_relay_chain uses). Nothing here judges; :mod:`mailrep.bounce.culprit`
places a cited address on that path.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import quopri
import re
from typing import NamedTuple

from mailrep.bounce.mime import MAX_DEPTH, ORIGINAL_TYPES, collect, content_type, parse
from mailrep.errors import CannotJudge
from mailrep.relay.chain import Chain, ChainHop, build_chain

#: At most this much of a returned header block is read (real ones are a few KiB).
MAX_RETURNED_BYTES = 256 * 1024
_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}")


class ReturnedPath(NamedTuple):
    """The returned chain of one bounce, and who handed the bounce itself to us."""

    chain: Chain | None  # the returned original's Received chain, None when it has none
    reporting_mta: str | None  # the DSN's Reporting-MTA name (lower case)
    handoff: ChainHop | None  # the trusted hand-off line of the bounce's own chain

    @property
    def hops(self) -> list[ChainHop]:
        return self.chain.hops if self.chain is not None else []


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


def _chain(block: bytes, allow_nonglobal: bool) -> Chain | None:
    if b"received:" not in block[:MAX_RETURNED_BYTES].lower():
        return None
    try:
        return build_chain(block, allow_nonglobal=allow_nonglobal)
    except CannotJudge:
        return None


def _reporting_mta(blocks: list[list[dict[str, str]]]) -> str | None:
    for group in blocks:
        for fields in group:
            value = fields.get("reporting-mta", "").split(";")[-1].strip().lower().rstrip(".")
            if value and _NAME.fullmatch(value):
                return value
    return None


def returned_path(raw: bytes, *, allow_nonglobal: bool = False) -> ReturnedPath:
    """The returned chain of a bounce and the hand-off of the bounce itself. Never raises."""
    try:
        msg = parse(raw)
        parts = collect(msg)
        blocks = _original_blocks(msg)
        if not blocks and parts.original_text:
            blocks = [_quoted_block(parts.original_text)]
        chain = next((c for c in (_chain(b, allow_nonglobal) for b in blocks) if c), None)
        own = _chain(raw, allow_nonglobal)
        handoff = own.entry_hop if own is not None else None
        return ReturnedPath(chain, _reporting_mta(parts.status_blocks), handoff)
    except Exception:  # a hostile bounce costs us its path, never the run
        return ReturnedPath(None, None, None)
