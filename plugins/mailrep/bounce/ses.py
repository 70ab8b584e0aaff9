"""Amazon SES notifications (SNS e-mail subscriptions): a JSON body instead of a DSN.

The JSON names the recipients, action, status and diagnostic the same way RFC 3464 does,
so it is turned into the same field blocks and goes through the same path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Blocks = list[dict[str, str]]
_SNS_WRAP = re.compile(r"!?\r?\n ?")  # SNS wraps long lines with "!" + newline + space


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _decode(text: str, limit: int) -> Any:
    """The JSON value at the start of ``text`` (JSON has no raw newlines), or None."""
    try:
        value, _ = json.JSONDecoder().raw_decode(_SNS_WRAP.sub("", text[:limit]))
    except ValueError:
        return None
    return value


def _bounce(data: dict[str, Any]) -> tuple[str, Blocks]:
    blocks = []
    for r in _dict(data.get("bounce")).get("bouncedRecipients") or []:
        if isinstance(r, dict) and r.get("emailAddress"):
            blocks.append(
                {
                    "final-recipient": str(r["emailAddress"]),
                    "action": str(r.get("action") or "failed"),
                    "status": str(r.get("status") or ""),
                    "diagnostic-code": str(r.get("diagnosticCode") or ""),
                }
            )
    return "bounce", blocks


def _complaint(data: dict[str, Any]) -> tuple[str, Blocks]:
    blocks = []
    for r in _dict(data.get("complaint")).get("complainedRecipients") or []:
        if isinstance(r, dict) and r.get("emailAddress"):
            blocks.append({"original-rcpt-to": str(r["emailAddress"])})
    return "feedback", blocks


def _delivery(data: dict[str, Any]) -> tuple[str, Blocks]:
    d = _dict(data.get("delivery"))
    blocks = [
        {
            "final-recipient": str(r),
            "action": "delivered",
            "status": "2.6.0",
            "diagnostic-code": str(d.get("smtpResponse", "")),
        }
        for r in d.get("recipients") or []
    ]
    return "success", blocks


_KINDS: dict[str, Callable[[dict[str, Any]], tuple[str, Blocks]]] = {
    "bounce": _bounce,
    "complaint": _complaint,
    "delivery": _delivery,
}


def _from_sns(text: str) -> tuple[str, Blocks, str | None] | None:
    """An SNS envelope: the SES notification is a JSON string in its "Message" field."""
    envelope = _decode(text[text.find("{") :], 400_000)
    inner = envelope.get("Message") if isinstance(envelope, dict) else None
    return ses_blocks(inner) if isinstance(inner, str) and "\\" not in inner[:20] else None


def ses_blocks(text: str) -> tuple[str, Blocks, str | None] | None:
    """(kind, per-recipient field blocks, original Message-ID) or None if not SES JSON."""
    if '\\"notificationType\\"' in text:
        return _from_sns(text)
    start = text.find('{"notificationType"')
    if start < 0:
        start = text.find('{"eventType"')
    if start < 0:
        return None
    data = _decode(text[start:], 200_000)
    if not isinstance(data, dict):
        return None
    ntype = str(data.get("notificationType") or data.get("eventType") or "").lower()
    reader = _KINDS.get(ntype)
    if reader is None:
        return None
    mid = _dict(data.get("mail")).get("messageId")
    kind, blocks = reader(data)
    return kind, blocks, f"<{mid}>" if isinstance(mid, str) and mid else None
