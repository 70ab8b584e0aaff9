"""Bounce analysis: is this message a bounce, and who failed for what reason?

A message is read once (``reading.read``), then offered to an ordered list of detectors;
the first that recognises its form answers. Structure is tested before words: real bounces
also carry ``Auto-Submitted: auto-replied``, so an RFC 3464 report or a non-delivery text
decides first, and RFC 3834 auto-reply headers only classify what is left. ``analyse``
never raises: a monitoring check reading a hostile mailbox must finish with a number, not a
traceback.
"""

from __future__ import annotations

from collections.abc import Callable

from mailrep.bounce.dsn import declared_report, delivery_status
from mailrep.bounce.forms import apple_unsubscribe, feedback_report, list_refusal
from mailrep.bounce.mime import content_type
from mailrep.bounce.model import Analysis, Citation, FailedRecipient
from mailrep.bounce.plain import plain_bounce
from mailrep.bounce.reading import Reading, read
from mailrep.bounce.replies import auto_reply, challenge, disposition_notification

__all__ = ["DETECTORS", "Analysis", "Citation", "FailedRecipient", "analyse"]

Detector = Callable[[Reading], Analysis | None]
MAX_FORWARDS = 2  # reports forwarded inside reports, followed this deep


def forwarded_report(r: Reading) -> Analysis | None:
    """A report forwarded as an attachment (by a user or a gateway): the report is the
    bounce."""
    if r.depth >= MAX_FORWARDS:
        return None
    for h in r.parts.original_headers:
        inner = getattr(h, "inner_raw", None)
        if inner and content_type(h)[0] == "multipart/report":
            nested = _analyse(inner, r.depth + 1)
            if nested.kind != "not-bounce":
                return nested
    return None


# In order: the first detector that recognises the message decides what it is.
DETECTORS: tuple[Detector, ...] = (
    feedback_report,  # RFC 5965 ARF, SES complaints, Microsoft JMRP
    disposition_notification,  # RFC 8098 MDN
    challenge,  # challenge-response and whitelist holds, DSN-shaped or not
    delivery_status,  # RFC 3464 (and SES bounce notifications)
    forwarded_report,
    list_refusal,  # fml's refusal of a post
    plain_bounce,  # non-RFC 3464 failure texts
    declared_report,  # a multipart/report naming no recipient we can read
    apple_unsubscribe,
    auto_reply,  # RFC 3834
)


def _analyse(raw: bytes, depth: int = 0) -> Analysis:
    r = read(raw, depth)
    for detect in DETECTORS:
        found = detect(r)
        if found is not None:
            return found
    return Analysis("not-bounce", (), r.mid, r.subject)


def analyse(raw: bytes) -> Analysis:
    """Analyse one raw message. Never raises; an unreadable message is ``not-bounce``."""
    try:
        return _analyse(raw)
    except Exception:
        return Analysis("not-bounce", (), None)
