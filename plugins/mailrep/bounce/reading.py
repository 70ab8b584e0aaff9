"""One message as the detectors read it: parsed once, with the few helpers they share.

``read`` parses the MIME tree, gathers the diagnostic text and finds the original's
Message-ID; an Amazon SES notification (JSON instead of a DSN) is turned into the same
field blocks here, so the detectors see one shape.
"""

from __future__ import annotations

import email.header
import email.message
import re
from dataclasses import dataclass

from mailrep.bounce.mime import parse
from mailrep.bounce.parts import Parts, collect
from mailrep.bounce.ses import ses_blocks

_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.I | re.M)
_ADDRESS = re.compile(r"[^\s<>\"';]+@[^\s<>\"';]+")

# Content-filtering gateways that relay mail inwards after their own checks (McAfee Email
# Gateway, SurfControl, MailFoundry, m-FILTER, MX Logic), named by the headers they stamp on
# their own reports. Their "user unknown" comes after they accepted the message.
_GATEWAY = re.compile(
    rb"^(?:x-nai-header:|x-mailer:[^\n]*(?:surfcontrol|m-filter)|"
    rb"received:[^\n]*(?:\n[ \t][^\n]*)*?(?:\(mailfoundry\)|by m-filter|"
    rb"mxl_mta)|message-id:\s*<mxl~)",
    re.I | re.M,
)
_GATEWAY_WORDS = (
    b"x-nai-header",
    b"surfcontrol",
    b"m-filter",
    b"mailfoundry",
    b"mxl_mta",
    b"<mxl~",
)


def address(value: str | None) -> str:
    """The address in a field value ("rfc822; <a@b>", "Name <a@b>"), as written there."""
    if not value:
        return ""
    v = value.split(";", 1)[-1].strip()
    m = _ADDRESS.search(v)
    return (m.group(0) if m else v).strip(".")


def header(msg: email.message.Message, name: str) -> str:
    try:
        return str(msg.get(name, "") or "")
    except Exception:
        return ""


def decoded(value: str) -> str:
    """A header value with its RFC 2047 encoded words decoded (leniently), for matching."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:
        return value


def collapse(text: str, limit: int) -> str:
    """Whitespace runs as one space, at most ``limit`` characters: a diagnostic to show."""
    return re.sub(r"\s+", " ", text).strip()[:limit]


def own_header_block(raw: bytes) -> bytes:
    """The report's own header block, lower-cased (the first 64 KiB at most)."""
    end = raw.find(b"\n\n", 0, 64 * 1024)
    if end < 0:
        end = 64 * 1024
    crlf = raw.find(b"\r\n\r\n", 0, end)
    return raw[: crlf if crlf >= 0 else end].lower()


def from_gateway(raw: bytes) -> bool:
    """Did a content-filtering gateway write this report? Only its own header block counts."""
    head = own_header_block(raw)
    # literal checks first: the anchored pattern would be tried at every header position
    if not any(w in head for w in _GATEWAY_WORDS):
        return False
    return bool(_GATEWAY.search(head))


def _original_message_id(parts: Parts) -> str | None:
    for h in parts.original_headers:
        mid = header(h, "Message-ID").strip()
        if mid:
            return mid
    if not parts.original_text:
        return None
    m = _MESSAGE_ID.search(parts.original_text)
    return m.group(1) if m else None


@dataclass
class Reading:
    """A parsed message and what every detector asks of it."""

    raw: bytes
    msg: email.message.Message
    parts: Parts
    subject: str
    sender: str
    text: str  # the diagnostic parts, decoded, the returned original cut off
    mid: str | None  # the original message's Message-ID
    depth: int  # how many forwarded reports deep (see analysis.forwarded_report)

    @property
    def subject_text(self) -> str:
        """The subject with RFC 2047 encoded words decoded: what a person reads."""
        return decoded(self.subject)

    def gateway(self) -> bool:
        """Read the header block only if a rule asks (see reason._filtered_not_unknown)."""
        return from_gateway(self.raw)


def read(raw: bytes, depth: int = 0) -> Reading:
    msg = parse(raw)
    parts = collect(msg)
    text = "\n".join(parts.texts)
    mid = _original_message_id(parts)
    ses = ses_blocks(text) if "notificationType" in text or '"eventType"' in text else None
    if ses is not None:
        kind, blocks, ses_mid = ses
        if kind == "feedback":
            parts.feedback.extend(blocks)
        elif blocks:
            parts.status_blocks.append(blocks)
        mid = mid or ses_mid
        text = ""
    return Reading(raw, msg, parts, header(msg, "Subject"), header(msg, "From"), text, mid, depth)
