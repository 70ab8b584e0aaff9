"""A light, bounded MIME tree for bounces: headers, parts, the returned original's headers.

Bounce text must be decoded before matching (quoted-printable splits words). Work is capped
(size, parts, depth) so a hostile message cannot make a check run hang; ``parts`` sorts the
tree into what analysis reads.
"""

from __future__ import annotations

import contextlib
import copy
import email
import email.message
import re
from typing import Any

MAX_BYTES = 4 * 1024 * 1024
MAX_PARTS = 200
MAX_DEPTH = 12
MAX_TEXT = 256 * 1024

ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
DISPOSITION_TYPES = ("message/disposition-notification", "message/global-disposition-notification")


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
        # RFC 3834 section 3.3: an automatic response goes out with a null return path
        "return-path",
        # Microsoft JMRP complaints forwarded "as is" name the complaining mailbox here
        "x-hmxmroriginalrecipient",
        # challenge-response systems' own stamps (Bluebottle, TMDA)
        "x-bluebottle-request",
        "x-delivery-agent",
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

    _headers: list[tuple[str, Any]]  # compat32 storage, undeclared in the stubs

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
    rb"\n(Message-ID|To|From|Content-Type|Subject|X-HmXmrOriginalRecipient):[ \t]*"
    rb"(.*(?:\r?\n[ \t].*)*)",
    re.I,
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
            subs: list[email.message.Message | str] = []
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


# Encoded text read of one part: base64 needs 4/3 of the text it carries, quoted-printable
# at most 3x. Decoding the whole of a 4 MiB attachment to keep its first MAX_TEXT would
# cost time and memory for nothing.
_ENCODED_LIMIT = 4 * MAX_TEXT


def _shortened(part: email.message.Message) -> email.message.Message:
    """The part with at most _ENCODED_LIMIT characters of payload, cut at a line end (a
    base64 line holds whole 4-character groups), so decoding costs what is kept."""
    payload = part.get_payload()
    if not isinstance(payload, str) or len(payload) <= _ENCODED_LIMIT:
        return part
    short = copy.copy(part)
    head = payload[:_ENCODED_LIMIT]
    short.set_payload(head.rpartition("\n")[0] or head)
    return short


def decode_part(part: email.message.Message) -> str:
    """The part's payload as text: transfer encoding undone, charset applied leniently."""
    part = _shortened(part)
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
