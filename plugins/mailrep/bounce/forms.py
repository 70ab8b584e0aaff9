"""Detectors for the messages that are not delivery failures, and for list notices.

Feedback reports (RFC 5965 ARF, SES complaints, Apple Mail's unsubscribe) and auto-replies
(RFC 3834) are recognised as what they are, so that none counts as a bounce; a mailing-list
manager's refusal of a post is a bounce of its own form. Each detector returns an
``Analysis`` or None (not this form).
"""

from __future__ import annotations

import re

from mailrep.bounce.model import Analysis, FailedRecipient
from mailrep.bounce.reading import Reading, address, collapse, header, own_header_block
from mailrep.bounce.reason import list_notice_reason
from mailrep.bounce.reasons import Reason
from mailrep.bounce.recipient import Said, build
from mailrep.bounce.text import ADDR

_AUTOREPLY_SUBJECT = re.compile(
    r"out of (?:the )?office|auto(?:matic)?[- ]?re(?:ply|sponse)|"
    r"vacation|abwesenheit|away from",
    re.I,
)
# fml, a mailing-list manager, stamps its own notices with X-MLServer; these two refuse a
# post: the poster is not a member, or the list stopped a loop (a Message-ID seen before).
_LIST_REFUSAL = re.compile(r"are not (?:a )?member|loop alert", re.I)
_FIRST_BRACKETED = re.compile(r"<(" + ADDR + r")>")


def _not_a_failure(who: str, words: str, reason: Reason) -> FailedRecipient:
    return FailedRecipient(who, None, None, None, words, None, reason, reason.cause, False, None)


def _complainants(r: Reading) -> list[str]:
    """The addresses a feedback report is about, in order, one each."""
    found = [address(a) for a in r.parts.feedback_rcpts]
    found += [address(b.get("original-rcpt-to")) for b in r.parts.feedback]
    if not any(found):
        for h in r.parts.original_headers:
            found = [address(header(h, "To"))]
            if found[0]:
                break
    return list(dict.fromkeys(a for a in found if a)) or [""]


def feedback_report(r: Reading) -> Analysis | None:
    """RFC 5965 ARF (or an SES complaint): a recipient complained; not a bounce."""
    if r.parts.report_type != "feedback-report" and not r.parts.feedback:
        return None
    words = collapse(r.text, 2000)
    rcpts = tuple(_not_a_failure(a, words, Reason.FEEDBACK) for a in _complainants(r)[:200])
    return Analysis("feedback", rcpts, r.mid, r.subject)


def list_refusal(r: Reading) -> Analysis | None:
    """A list manager's refusal of a post: the list address did not take the message."""
    if not _LIST_REFUSAL.search(r.subject):
        return None
    if b"\nx-mlserver: fml" not in b"\n" + own_header_block(r.raw):
        return None
    m = _FIRST_BRACKETED.search(r.text)
    if not m:
        return None
    said = Said(
        m.group(1).lower(), "failed", None, r.text, None, known=list_notice_reason(r.subject)
    )
    return Analysis("bounce", (build(said),), r.mid, r.subject)


def apple_unsubscribe(r: Reading) -> Analysis | None:
    """Apple Mail sends this when its user presses "unsubscribe": the recipient opting out
    of the sender's mail, which Sisimai and ARF count as feedback, not an auto-reply."""
    if header(r.msg, "X-Apple-Unsubscribe").lower() != "true":
        return None
    rcpt = _not_a_failure(address(r.sender), collapse(r.text, 500), Reason.FEEDBACK)
    return Analysis("feedback", (rcpt,), r.mid, r.subject)


def auto_reply(r: Reading) -> Analysis | None:
    """RFC 3834 auto-replies (and the common vacation forms): not bounces."""
    msg = r.msg
    auto = header(msg, "Auto-Submitted").lower()
    if not (
        auto.startswith("auto-replied")
        or header(msg, "X-Autoreply")
        or header(msg, "X-Autorespond")
        or _AUTOREPLY_SUBJECT.search(r.subject)
        or header(msg, "Precedence").lower() == "auto_reply"
    ):
        return None
    rcpt = _not_a_failure(address(r.sender), collapse(r.text, 500), Reason.VACATION)
    return Analysis("autoreply", (rcpt,), r.mid, r.subject)
