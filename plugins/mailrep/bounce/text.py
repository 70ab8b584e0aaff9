"""Per-recipient extraction from plain-text (non-RFC 3464) bounces.

qmail, old Sendmail, Exim without DSN, Exchange and provider forms state each failed
address on a line of its own (``<a@b>:``, an indented address, ``a@b... User unknown``),
followed by the remote server's words. The text between one such line and the next is that
recipient's diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# RFC 5321 Dot-string local part (no leading dot), then a domain of at least two labels.
ADDR = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_RCPT_LINE = re.compile(
    r"^[ \t]*(?:>>> ?|<<< ?)?"
    # a keyword needs a separator: "Recipient: a@b", never the "recipient" of
    # "recipient.one@example.test"
    r"(?:(?:original[- ]|final[- ])?recipient(?: address)?(?::[ \t]*|[ \t]+)|"
    r"rcpt to(?::[ \t]*|[ \t]+)|\d+\.[ \t]+|[*-][ \t]+|[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?)?"
    r"(?:rfc822;[ \t]*)?[\"']?<?(" + ADDR + r")>?[\"']?"
    r"[ \t]*(?::|\.\.\.|\(|-|\r?$|<|[ \t])",  # CRLF texts: "\r" before the line end
    re.IGNORECASE | re.MULTILINE,
)
_ANY_ADDR = re.compile(r"<(" + ADDR + r")>|\b(?<![=/])(" + ADDR + r")\b")
# Not followed by "-<digit>": software versions such as "mta-5.5.0-3" in a Received line
# look like status codes. Not preceded by a digit or dot either; that test is written as a
# look-behind after the class digit so that the pattern starts with [245], which the regex
# engine scans for in C instead of trying the look-behind at every character.
_STATUS = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d.]|-\d)")
# A reply code at a line start or after a space, "(", ":" or "<": the same as
# "(?:^|[\s(:<])([245][0-5]\d)" with MULTILINE (a newline is a space), checked after the
# code for the same reason as in _STATUS.
# After the code: a space or "-" (RFC 5321), or a ":" or "," then a space, as providers
# write it ("550: : User unknown", "ERROR_CODE :550, ..."); not an IPv6 group ("220:6d").
_REPLY = re.compile(r"([245][0-5]\d)(?<![^\s(:<][245][0-5]\d)(?:[ -]|[:,](?=\s)|$)", re.MULTILINE)
_REMOTE = re.compile(
    r"(?:host|server|mx|from remote mail server|talking to)[ :]+\[?([a-z0-9.-]+\.[a-z]{2,})",
    re.IGNORECASE,
)
# _REMOTE for lower-cased ASCII text: without IGNORECASE the engine rejects most positions
# at the first letter. (Unicode case folding differs from lower() outside ASCII.)
_REMOTE_LOW = re.compile(_REMOTE.pattern)

MAX_RECIPIENTS = 200
CHUNK_LIMIT = 2000  # characters of one recipient's words kept from the text

# Sendmail's session transcript: "While talking to HOST:" opens the dialogue with one host;
# "550 example.org (smtp)... 550 Host unknown" is its verdict on a host, and stands before
# the lines of the recipients at that host. Both begin the next recipient's words, so a
# recipient's diagnostic stops at them.
_HOST_DIALOGUE = r"^(?:\.\.\. )?while talking to "
_TRANSCRIPT_BREAK = re.compile(
    _HOST_DIALOGUE + r"|^[245]\d\d [^\s<>@]+ \(\w+\)\.\.\. ", re.IGNORECASE | re.MULTILINE
)
_DIALOGUE_OPENING = re.compile(_HOST_DIALOGUE, re.IGNORECASE | re.MULTILINE)
# "554 <a@b>... Remote protocol error": Sendmail's per-recipient verdict, written after the
# server's reply ("<<< 501 ... open relay") that caused it; or that reply itself naming the
# address ("<<< 550 5.0.0 <a@b>... User unknown"), after the command it answers.
_SENDMAIL_VERDICT = re.compile(r"[ \t]*(?:<<< ?)?[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?<")


def find_status(text: str) -> str | None:
    for m in _STATUS.finditer(text):
        klass, subj, det = m.groups()
        if int(subj) <= 7:
            return f"{klass}.{subj}.{det}"
    return None


def find_last_status(text: str) -> str | None:
    found = None
    for m in _STATUS.finditer(text):
        klass, subj, det = m.groups()
        if int(subj) <= 7:
            found = f"{klass}.{subj}.{det}"
    return found


def find_replycode(text: str) -> str | None:
    """The first error reply code (4xx/5xx); a 2xx only when the text holds no error code.

    A transcript can quote a greeting ("220-mx.example.org ... 421 4.2.1 Service refused")
    or a number from a details list before the refusal itself.
    """
    success = None
    for m in _REPLY.finditer(text):
        if m.group(1)[0] != "2":
            return m.group(1)
        success = success or m.group(1)
    return success


def find_remote_host(text: str) -> str | None:
    m = _REMOTE_LOW.search(text.lower()) if text.isascii() else _REMOTE.search(text)
    return m.group(1).lower().rstrip(".") if m else None


_CONTINUATION = re.compile(r"(?:^|\s)[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3}\s)?")


def unfold_reply(diag: str) -> str:
    """A multi-line SMTP reply as one sentence: "550-5.7.1 a\n550 5.7.1 b" -> "... a b"."""
    matches = list(_CONTINUATION.finditer(diag))
    if len(matches) < 2:
        return diag
    out, last = [diag[: matches[1].start()]], matches[1].start()
    for m in matches[1:]:
        out.append(diag[last : m.start()])
        out.append(" ")
        last = m.end()
    out.append(diag[last:])
    return "".join(out)


def _recipient_lines(text: str) -> Iterator[re.Match[str]]:
    """What ``_RCPT_LINE.finditer(text)`` finds, trying only the lines that hold an "@".

    A match lies within one line (nothing in the pattern crosses a newline) and holds the
    address, so at most one per line and none on a line without "@"; most lines of a bounce
    have none, and the pattern's optional prefixes are costly to try at every line start.
    """
    at = text.find("@")
    while at >= 0:
        m = _RCPT_LINE.match(text, text.rfind("\n", 0, at) + 1)
        if m is not None:
            yield m
        end = text.find("\n", at)
        if end < 0:
            return
        at = text.find("@", end)


def _hits(text: str, skip: set[str], sure: bool) -> list[tuple[str, int]]:
    """(address, where its words start) of each recipient line, in order."""
    hits: list[tuple[str, int]] = []
    for m in _recipient_lines(text):
        addr = m.group(1).strip(".")
        if addr.lower() in skip:
            continue
        hits.append((addr, m.start()))
        if len(hits) > MAX_RECIPIENTS * 4:
            break
    if not hits and (sure or find_status(text) or find_replycode(text)):
        # no recipient line: take the first address, but only where SMTP words back it up.
        # An address lies within one line and holds one "@": none starts above the line of
        # the first "@".
        for m in _ANY_ADDR.finditer(text, text.rfind("\n", 0, max(text.find("@"), 0)) + 1):
            addr = (m.group(1) or m.group(2)).strip(".")
            if addr.lower() not in skip:
                hits.append((addr, max(0, m.start() - 300)))
                break
    return hits


def recipients(text: str, skip: set[str], sure: bool = False) -> list[tuple[str, str]]:
    """(address, diagnostic) pairs in order, one per distinct address (compared without
    case; each kept as the report first writes it). ``skip`` holds lower-cased addresses.

    Without a recipient line, the first address is taken only when SMTP words back it up,
    or when the caller is ``sure`` the message is a bounce (sender, subject and wording).
    """
    hits = _hits(text, skip, sure)
    if hits and "<<<" in text:
        spans = _transcript_spans(text, hits)
    else:  # a recipient's words run to the next recipient's line
        spans = [
            (a, s, hits[i + 1][1] if i + 1 < len(hits) else len(text))
            for i, (a, s) in enumerate(hits)
        ]
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for addr, start, stop in spans:
        chunk = text[start : min(stop, start + CHUNK_LIMIT)]
        key = addr.lower()
        if key in seen:
            # a second mention (e.g. "550 5.1.1 <a@b>... User unknown") adds its words
            # (the words kept stay within CHUNK_LIMIT: an address named a thousand times
            # must not cost a thousand chunks)
            for j, (a, d) in enumerate(out):
                if a.lower() == key and len(d) < CHUNK_LIMIT:
                    out[j] = (a, (d + "\n" + chunk)[:CHUNK_LIMIT])
            continue
        seen.add(key)
        out.append((addr, chunk))
        if len(out) >= MAX_RECIPIENTS:
            break
    return out


def _transcript_spans(text: str, hits: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(address, start, stop) per recipient line of a Sendmail session transcript.

    Each recipient's words are its own verdict line, the server replies just above it
    (back to the start of the host's dialogue or the previous recipient's line), and its
    continuation lines up to the next host dialogue or host verdict: in a transcript the
    lines after one recipient belong to the next ("550 example.or.jp (smtp)... 550 Host
    unknown" is about the next address, not the one above it).
    """
    out: list[tuple[str, int, int]] = []
    prev_line_end = 0
    for addr, start in hits:
        line_end = text.find("\n", start)
        line_end = len(text) if line_end < 0 else line_end
        if _SENDMAIL_VERDICT.match(text, start):
            openings = [m.start() for m in _DIALOGUE_OPENING.finditer(text, prev_line_end, start)]
            start = openings[-1] if openings else (prev_line_end or start)
        # words beyond CHUNK_LIMIT are cut anyway: look no further for the break (the
        # 300 lets a break line that starts inside the limit match whole)
        brk = _TRANSCRIPT_BREAK.search(text, line_end, start + CHUNK_LIMIT + 300)
        out.append((addr, start, brk.start() if brk else len(text)))
        prev_line_end = line_end + 1
    # a recipient's words end where the next one's begin, or at a host break
    return [
        (a, s, min(stop, out[i + 1][1]) if i + 1 < len(out) else stop)
        for i, (a, s, stop) in enumerate(out)
    ]
