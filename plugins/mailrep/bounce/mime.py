"""Safe MIME walking for bounces: decoded diagnostic text, DSN field blocks, the original.

Bounce text must be decoded before matching (quoted-printable splits words), and only the
diagnostic parts may be matched: the returned original carries its own headers and body,
which name addresses, IPs and words that are not the rejection. Work is capped (size, parts,
depth) so a hostile message cannot make a check run hang.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import re
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 4 * 1024 * 1024
MAX_PARTS = 200
MAX_DEPTH = 12
MAX_TEXT = 256 * 1024

ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")

# Lines after which a plain-text bounce quotes the original message.
_ORIGINAL_MARKERS = (
    r"^[ \t>-]*(?:"
    r"-+ ?(?:Original message|Below this line is a copy of the message|"
    r"This is a copy of the message|The original message was received|"
    r"Original message headers?|Returned message|Unsent message below|"
    r"Message header follows|original message follows)"
    r"|Below this line is a copy of the message"
    r"|--- Below this line"
    r"|-+ ?This is a copy of (?:the|your) message"
    r"|Original message follows"
    r"|Original message:[ \t]*$"
    r"|Message headers follow"
    r"|-+ ?Unsent message follows"
    r"|-+ ?Returned message"
    r"|Below is a copy of the original message"
    r"|-+ ?(?:The )?(?:original|returned) (?:message|headers)"
    r"|-+ ?Original Message ?-+"
    r"|The header of the original message is following"
    r"|Content-Type: message/rfc822"
    r")"
)
# Line-anchored patterns in this module are written "\n..." and searched in "\n" + text
# instead of "^..." with MULTILINE: a pattern that starts with a literal newline lets the
# regex engine skip to the next newline in C, while "^" is tried at every character (about
# five times slower over a bounce). The match then starts at the newline before the line,
# whose index in "\n" + text is the line's own index in text.
# Every alternative above contains one of these words (lower-cased): a line without any of
# them cannot be a marker. Keep the two in step when adding a marker.
_MARKER_WORDS = (
    "original",
    "returned",
    "below this line",
    "copy of",
    "unsent message",
    "message header",
    "message/rfc822",
)
_MARKERS_CI = re.compile("\n" + _ORIGINAL_MARKERS[1:], re.IGNORECASE | re.MULTILINE)
# Lower-cased text, case-sensitive pattern: much faster than IGNORECASE on long texts.
_MARKERS_LOW = re.compile("\n" + _ORIGINAL_MARKERS[1:].lower(), re.MULTILINE)


@dataclass
class Parts:
    """The pieces of a message that analysis reads."""

    content_type: str = "text/plain"
    report_type: str = ""
    texts: list[str] = field(default_factory=list)
    status_blocks: list[list[dict[str, str]]] = field(default_factory=list)
    feedback: list[dict[str, str]] = field(default_factory=list)
    feedback_rcpts: list[str] = field(default_factory=list)
    original_headers: list[email.message.Message] = field(default_factory=list)
    original_text: str = ""


def parse(raw: bytes) -> email.message.Message:
    """A light MIME tree: headers parsed by ``email``, bodies split on boundaries by hand.

    The standard feed parser reads every line of the returned original, which is most of a
    bounce and useless to its analysis; here a returned message keeps only its headers (its
    bytes stay on ``inner_raw`` for forwarded reports), so analysis costs what the
    diagnostic parts cost. Parts, depth and size are capped.
    """
    budget = [MAX_PARTS]
    return _build(raw[:MAX_BYTES], 0, budget)


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    if raw.startswith(b"\r\n"):
        return b"", raw[2:]
    if raw.startswith(b"\n"):
        return b"", raw[1:]
    lf = raw.find(b"\n\n")
    crlf = raw.find(b"\r\n\r\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return raw[:crlf], raw[crlf + 4 :]
    if lf >= 0:
        if lf > 0 and raw[lf - 1 : lf] == b"\r":  # "\r\n\n"
            return raw[: lf - 1], raw[lf + 2 :]
        return raw[:lf], raw[lf + 2 :]
    return raw, b""


def _boundary_parts(body: bytes, boundary: bytes) -> list[bytes] | None:
    delim = b"--" + boundary
    starts = []
    pos = body.find(delim)
    while pos >= 0:
        if pos == 0 or body[pos - 1 : pos] == b"\n":
            starts.append(pos)
        pos = body.find(delim, pos + len(delim))
        if len(starts) > MAX_PARTS:
            break
    if not starts:
        return None
    parts = []
    for i, start in enumerate(starts):
        after = start + len(delim)
        if body[after : after + 2] == b"--":
            break
        line_end = body.find(b"\n", after)
        if line_end < 0:
            break
        end = starts[i + 1] if i + 1 < len(starts) else len(body)
        chunk = body[line_end + 1 : end]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        parts.append(chunk)
    return parts


# The only header fields analysis reads; the others are not stored (bounces carry dozens).
_READ = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "from",
        "subject",
        "auto-submitted",
        "x-autoreply",
        "x-autorespond",
        "precedence",
        "message-id",
        "to",
        # the reporting system's own stamp: which gateway wrote the report
        "x-mailer",
        "x-nai-header",
        # Apple Mail's one-click unsubscribe message: an opt-out, i.e. feedback
        "x-apple-unsubscribe",
    }
)
# A field line whose name is one of _READ (any case), with its continuation lines; searched
# in "\n" + header block (see _MARKERS_LOW). Field names are ASCII ([!-9;-~]), hence re.A.
_FIELD = re.compile(
    r"\n("
    + "|".join(sorted(map(re.escape, _READ), key=len, reverse=True))
    + r")[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)",
    re.I | re.A,
)


class _Message(email.message.Message):
    """A compat32 Message with cheaper header access and the same results.

    Analysis asks each part for a few fields many times over; the stock ``get`` passes every
    value through the policy, which only changes values that hold undecodable bytes
    (surrogate escapes, turned into a ``Header``): an ASCII value comes back as stored.
    """

    def get(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        for k, v in self._headers:
            if k.lower() == name:
                if isinstance(v, str) and v.isascii():
                    return v
                return self.policy.header_fetch_parse(k, v)
        return failobj

    def add_field(self, name: str, value: str) -> None:
        """``self[name] = value`` without the policy calls (compat32 stores the pair as is)."""
        self._headers.append((name, value))


def _headers(head: bytes) -> email.message.Message:
    """A header block as a compat32 Message, read with one regex instead of the feed parser."""
    msg = _Message()
    text = head[: 256 * 1024].decode("ascii", "surrogateescape")
    if text.startswith("From "):  # mbox separator line
        text = text.partition("\n")[2]
    for count, m in enumerate(_FIELD.finditer("\n" + text), 1):
        msg.add_field(m.group(1), m.group(2).rstrip("\r\n"))
        if count > 100:
            break
    return msg


_KEPT = re.compile(
    rb"\n(Message-ID|To|From|Content-Type|Subject):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I
)
_UNFOLD = re.compile(rb"\r?\n[ \t]+")


def _few_headers(head: bytes) -> email.message.Message:
    """The returned original's headers that analysis reads, without parsing all of them."""
    msg = _Message()
    seen = set()  # the first of each field counts
    for m in _KEPT.finditer(b"\n" + head[: 64 * 1024]):
        name = m.group(1).decode("ascii").title().replace("Id", "ID")
        if name.lower() not in seen:
            seen.add(name.lower())
            msg.add_field(name, _UNFOLD.sub(b" ", m.group(2)).decode("utf-8", "replace").strip())
    return msg


_PARAM = re.compile(r';\s*([A-Za-z0-9*_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;\s]*))')


def content_type(msg: email.message.Message) -> tuple[str, dict[str, str]]:
    """(type/subtype lower-cased, parameters) of a part, parsed once and kept on it.

    ``email.message.Message`` re-parses the header on every ``get_param`` call; a bounce
    asks for type, boundary, charset, name and report-type of every part.
    """
    cached = getattr(msg, "_mailrep_ctype", None)
    if cached is not None:
        return cached
    value = str(msg.get("Content-Type", "") or "")
    main = value.split(";", 1)[0].strip().lower()
    if main.count("/") != 1:
        main = "text/plain"
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(value)
    }
    result = (main, params)
    msg._mailrep_ctype = result  # type: ignore[attr-defined]
    return result


def _build(raw: bytes, depth: int, budget: list[int]) -> email.message.Message:
    budget[0] -= 1
    head, body = _split_head(raw)
    msg = _headers(head)
    try:
        ctype, params = content_type(msg)
    except Exception:
        ctype, params = "text/plain", {}
    if ctype.startswith("multipart/") and depth < MAX_DEPTH and budget[0] > 0:
        boundary = params.get("boundary")
        pieces = _boundary_parts(body, boundary.encode("utf-8", "replace")) if boundary else None
        if pieces is not None:
            subs = []
            for piece in pieces:
                if budget[0] <= 0:
                    break
                subs.append(_build(piece, depth + 1, budget))
            msg.set_payload(subs)
            return msg
    if ctype in ORIGINAL_TYPES and depth < MAX_DEPTH and budget[0] > 0:
        inner_head, _ = _split_head(body.lstrip(b"\r\n"))
        inner = _few_headers(inner_head)
        inner.inner_raw = body  # type: ignore[attr-defined]
        msg.set_payload([inner])
        return msg
    msg.set_payload(body.decode("ascii", "surrogateescape"))
    return msg


def decode_part(part: email.message.Message) -> str:
    """The part's payload as text: transfer encoding undone, charset applied leniently."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    if not isinstance(data, bytes):
        return str(data)
    data = data[:MAX_TEXT]
    charset = "utf-8"
    with contextlib.suppress(Exception):
        charset = (content_type(part)[1].get("charset") or "utf-8").strip().lower()
    for cs in (charset, "utf-8"):
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def field_blocks(text: str) -> list[dict[str, str]]:
    """RFC 3464 field groups (blank-line separated), names lower-cased, continuations joined."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[0] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if sep and _FIELD_NAME.fullmatch(name):
            last = name.lower()
            # Some MTAs (AOL) run recipient groups together without the blank line: a
            # second Final-Recipient starts the next group.
            if last == "final-recipient" and last in current:
                blocks.append(current)
                current = {}
            value = value.strip()
            current.setdefault(last, value)
            if current[last] != value and last == "diagnostic-code":
                current[last] += " " + value
        elif last:
            current[last] += " " + line.strip()
    if current:
        blocks.append(current)
    return blocks


def _status_text(part: email.message.Message) -> str:
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if isinstance(payload, list) and cte not in ("quoted-printable", "base64"):
        chunks = []
        for sub in payload:
            if isinstance(sub, email.message.Message):
                chunks.append("\n".join(f"{k}: {v}" for k, v in sub.items()))
        return "\n\n".join(chunks)
    if isinstance(payload, list):
        # parsed as header blocks although encoded: undo the transfer encoding by hand
        raw = "\n\n".join(
            sub.as_string() for sub in payload if isinstance(sub, email.message.Message)
        )
        if cte == "base64":
            import base64
            import binascii

            try:
                return base64.b64decode(re.sub(r"\s+", "", raw)).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return raw
        import quopri

        return quopri.decodestring(raw.encode("utf-8", "replace")).decode("utf-8", "replace")
    return decode_part(part)


_EMBEDDED = re.compile(r"\n(?:Reporting-MTA|Final-Recipient|Original-Recipient):", re.I)
_FINAL_RECIPIENT = re.compile(r"\nFinal-Recipient:", re.I)


def _embedded_status(text: str) -> list[dict[str, str]]:
    """DSN fields written into a text part (no delivery-status part, or a broken boundary)."""
    lines = "\n" + text  # m.start() is then the line's index in text (see _MARKERS_LOW)
    m = _EMBEDDED.search(lines)
    if m is None or not _FINAL_RECIPIENT.search(lines):
        return []
    blocks = field_blocks(text[m.start() : m.start() + 64 * 1024])
    return [b for b in blocks if "final-recipient" in b or "reporting-mta" in b]


_HEADER_LINES = re.compile(r"\A(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*){3}")


def _is_header_attachment(part: email.message.Message, text: str) -> bool:
    """A text attachment that is the returned original's header block (not diagnostics)."""
    disposition = str(part.get("Content-Disposition", "")).lower()
    if "attachment" not in disposition and "name" not in content_type(part)[1]:
        return False
    return _HEADER_LINES.match(text.lstrip().replace("\r\n", "\n")) is not None


def _marker_line(low: str) -> int:
    """Index of the first line of ``low`` that is an original-message marker, or -1.

    A marker lies on one line, which holds one of _MARKER_WORDS: only such lines are tried,
    in order (most diagnostic texts have none or one; trying the pattern at every line
    start was most of the cost of cut_original).
    """
    lines = "\n" + low  # lines[k] is the newline before the line that starts at low[k]
    found = {w: low.find(w) for w in _MARKER_WORDS}  # next occurrence of each word
    while True:
        at = min((i for i in found.values() if i >= 0), default=-1)
        if at < 0:
            return -1
        start = low.rfind("\n", 0, at) + 1
        if _MARKERS_LOW.match(lines, start):
            return start
        end = low.find("\n", at)
        if end < 0:
            return -1
        for w, i in found.items():
            if 0 <= i < end:
                found[w] = low.find(w, end)


def cut_original(text: str) -> tuple[str, str]:
    """Split a plain-text bounce into (diagnostic text, quoted original)."""
    low = text.lower()
    if len(low) == len(text):
        start = _marker_line(low)
    else:
        m = _MARKERS_CI.search("\n" + text)  # m.start() is the line's index in text
        start = m.start() if m else -1
    if start < 0 or (start == 0 and len(text) < 40):
        return text, ""
    return text[:start], text[start:]


def collect(msg: email.message.Message) -> Parts:
    """Walk the message (bounded) and sort its parts into diagnostic, status and original."""
    out = Parts()
    try:
        out.content_type, params = content_type(msg)
        out.report_type = params.get("report-type", "").lower()
    except Exception:
        pass
    budget = [MAX_PARTS]

    def walk(part: email.message.Message, depth: int) -> None:
        if budget[0] <= 0 or depth > MAX_DEPTH:
            return
        budget[0] -= 1
        try:
            ctype = content_type(part)[0]
        except Exception:
            ctype = "text/plain"
        if ctype in STATUS_TYPES:
            out.status_blocks.append(field_blocks(_status_text(part)))
            return
        if ctype == "message/feedback-report":
            fb_text = _status_text(part)
            out.feedback.extend(field_blocks(fb_text))
            out.feedback_rcpts.extend(
                re.findall(
                    r"^Original-Rcpt-To:\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$", fb_text, re.I | re.M
                )
            )
            return
        if ctype in ORIGINAL_TYPES:
            payload = part.get_payload()
            if (
                isinstance(payload, list)
                and payload
                and isinstance(payload[0], email.message.Message)
            ):
                out.original_headers.append(payload[0])
            elif isinstance(payload, str):
                out.original_headers.append(email.message_from_string(payload[:MAX_TEXT]))
            return
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                for sub in payload:
                    if isinstance(sub, email.message.Message):
                        walk(sub, depth + 1)
            return
        if ctype.startswith(("text/", "multipart/")):
            # a multipart whose boundary is broken arrives as one string: read it as text
            text = decode_part(part)
            if ctype == "text/html":
                text = re.sub(r"<[^>]{0,2000}>", " ", text)
                text = re.sub(r"&nbsp;", " ", text)
            if _is_header_attachment(part, text):
                out.original_text += text
                return
            embedded = _embedded_status(text)
            if embedded:
                out.status_blocks.append(embedded)
            diag, original = cut_original(text)
            out.texts.append(diag)
            if original:
                out.original_text += original

    walk(msg, 0)
    return out
