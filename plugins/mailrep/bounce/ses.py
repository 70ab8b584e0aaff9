"""Amazon SES notifications (SNS e-mail subscriptions): a JSON body instead of a DSN.

The JSON names the recipients, action, status and diagnostic the same way RFC 3464 does,
so it is turned into the same field blocks and goes through the same path.
"""

from __future__ import annotations

import json
import re


def ses_blocks(text: str) -> tuple[str, list[dict[str, str]], str | None] | None:
    """(kind, per-recipient field blocks, original Message-ID) or None if not SES JSON."""
    if '\\"notificationType\\"' in text:
        # an SNS envelope: the SES notification is a JSON string in its "Message" field
        outer = text.find("{")
        try:
            body = re.sub(r"!?\r?\n ?", "", text[outer : outer + 400_000])
            envelope, _ = json.JSONDecoder().raw_decode(body)
        except ValueError:
            return None
        inner = envelope.get("Message") if isinstance(envelope, dict) else None
        return ses_blocks(inner) if isinstance(inner, str) and "\\" not in inner[:20] else None
    start = text.find('{"notificationType"')
    if start < 0:
        start = text.find('{"eventType"')
    if start < 0:
        return None
    try:
        # SNS wraps long lines with "!" + newline + space; JSON has no raw newlines
        body = re.sub(r"!?\r?\n ?", "", text[start : start + 200_000])
        data, _ = json.JSONDecoder().raw_decode(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ntype = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    mid = mail.get("messageId")
    mid = f"<{mid}>" if isinstance(mid, str) and mid else None
    blocks: list[dict[str, str]] = []
    if ntype == "bounce":
        bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
        for r in bounce.get("bouncedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                blocks.append(
                    {
                        "final-recipient": str(r["emailAddress"]),
                        "action": str(r.get("action") or "failed"),
                        "status": str(r.get("status") or ""),
                        "diagnostic-code": str(r.get("diagnosticCode") or ""),
                    }
                )
        return "bounce", blocks, mid
    if ntype == "complaint":
        c = data.get("complaint") if isinstance(data.get("complaint"), dict) else {}
        for r in c.get("complainedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                blocks.append({"original-rcpt-to": str(r["emailAddress"])})
        return "feedback", blocks, mid
    if ntype == "delivery":
        d = data.get("delivery") if isinstance(data.get("delivery"), dict) else {}
        for r in d.get("recipients") or []:
            blocks.append(
                {
                    "final-recipient": str(r),
                    "action": "delivered",
                    "status": "2.6.0",
                    "diagnostic-code": str(d.get("smtpResponse", "")),
                }
            )
        return "success", blocks, mid
    return None
