"""A bounce's MIME tree sorted into what analysis reads: the diagnostic text, the DSN field
blocks, feedback fields, and the returned original (its headers, or its quoted text).

Only the diagnostic parts may be matched: the returned original carries its own headers and
body, which name addresses, IPs and words that are not the rejection.
"""

from __future__ import annotations

import email
import email.message
import re
from dataclasses import dataclass, field

from mailrep.bounce.mime import (
    DISPOSITION_TYPES,
    MAX_DEPTH,
    MAX_PARTS,
    MAX_TEXT,
    ORIGINAL_TYPES,
    STATUS_TYPES,
    content_type,
    decode_part,
)

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
    r"|The first \d+ lines of (?:your|the) original message follow"
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
    dispositions: list[dict[str, str]] = field(default_factory=list)  # RFC 8098 MDN fields
    original_headers: list[email.message.Message] = field(default_factory=list)
    original_text: str = ""


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


# RFC 5965 section 3.1: the three fields every feedback report carries.
_FEEDBACK_TYPE = re.compile(r"\nFeedback-Type:", re.I)
_ARF_REQUIRED = re.compile(r"\n(?:User-Agent|Version):", re.I)


def _embedded_feedback(text: str) -> list[dict[str, str]]:
    """ARF fields written into a text part (a report whose feedback part lost its type)."""
    lines = "\n" + text
    m = _FEEDBACK_TYPE.search(lines)
    if m is None or not _ARF_REQUIRED.search(lines, m.start(), m.start() + 4096):
        return []
    blocks = field_blocks(text[m.start() : m.start() + 16 * 1024])
    return [b for b in blocks if "feedback-type" in b][:1]


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


_ORIGINAL_RCPT_TO = re.compile(r"^Original-Rcpt-To:\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$", re.I | re.M)


def _feedback(part: email.message.Message, out: Parts) -> None:
    fb_text = _status_text(part)
    out.feedback.extend(field_blocks(fb_text))
    out.feedback_rcpts.extend(_ORIGINAL_RCPT_TO.findall(fb_text))


def _original(part: email.message.Message, out: Parts) -> None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
        out.original_headers.append(payload[0])
    elif isinstance(payload, str):
        out.original_headers.append(email.message_from_string(payload[:MAX_TEXT]))


def _text(part: email.message.Message, ctype: str, out: Parts) -> None:
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
    elif "eedback-" in text:
        feedback = _embedded_feedback(text)
        out.feedback.extend(feedback)
        out.feedback_rcpts.extend(_ORIGINAL_RCPT_TO.findall(text) if feedback else ())
    diag, original = cut_original(text)
    out.texts.append(diag)
    if original:
        out.original_text += original


def _ctype(part: email.message.Message) -> str:
    try:
        return content_type(part)[0]
    except Exception:
        return "text/plain"


def _walk(part: email.message.Message, depth: int, out: Parts, budget: list[int]) -> None:
    if budget[0] <= 0 or depth > MAX_DEPTH:
        return
    budget[0] -= 1
    ctype = _ctype(part)
    if ctype in STATUS_TYPES:
        out.status_blocks.append(field_blocks(_status_text(part)))
    elif ctype == "message/feedback-report":
        _feedback(part, out)
    elif ctype in DISPOSITION_TYPES:
        out.dispositions.extend(field_blocks(_status_text(part)))
    elif ctype in ORIGINAL_TYPES:
        _original(part, out)
    elif part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else ():
            if isinstance(sub, email.message.Message):
                _walk(sub, depth + 1, out, budget)
    elif ctype.startswith(("text/", "multipart/")):
        _text(part, ctype, out)


def collect(msg: email.message.Message) -> Parts:
    """Walk the message (bounded) and sort its parts into diagnostic, status and original."""
    out = Parts()
    try:
        out.content_type, params = content_type(msg)
        out.report_type = params.get("report-type", "").lower()
    except Exception:
        pass
    _walk(msg, 0, out, [MAX_PARTS])
    return out
