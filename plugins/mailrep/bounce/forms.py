"""Detectors for feedback reports, and for list notices.

Feedback reports (RFC 5965 ARF, its fields written into a text part, SES complaints,
Microsoft's JMRP forwards, Apple Mail's unsubscribe) are recognised as what they are, so
that none counts as a bounce; a mailing-list manager's refusal of a post is a bounce of its
own form. Each detector returns an ``Analysis`` or None (not this form). The recipient
side's automatic answers (auto-replies, challenges, MDNs) are in ``replies``.
"""

from __future__ import annotations

import re

from mailrep.bounce.model import Analysis, FailedRecipient
from mailrep.bounce.reading import Reading, address, collapse, header, own_header_block
from mailrep.bounce.reason import list_notice_reason
from mailrep.bounce.reasons import Reason
from mailrep.bounce.recipient import Said, build
from mailrep.bounce.text import ADDR

# fml, a mailing-list manager, stamps its own notices with X-MLServer; these two refuse a
# post: the poster is not a member, or the list stopped a loop (a Message-ID seen before).
_LIST_REFUSAL = re.compile(r"are not (?:a )?member|loop alert", re.I)
_FIRST_BRACKETED = re.compile(r"<(" + ADDR + r")>")


def _not_a_failure(who: str, words: str, reason: Reason) -> FailedRecipient:
    return FailedRecipient(who, None, None, None, words, None, reason, reason.cause, False, None)


# Microsoft's Junk Mail Reporting Program (JMRP) forwards a complaint from this address,
# the complained-of message attached ("RFC822 Attachment" format), or as is ("Original"
# format); either way the complaining mailbox is named in X-HmXmrOriginalRecipient.
_JMRP_SENDER = "staff@hotmail.com"
_JMRP_FIELD = "X-HmXmrOriginalRecipient"


def _jmrp_recipients(r: Reading) -> list[str]:
    """The mailboxes a JMRP complaint names, or [] when the message is not one."""
    named = [address(header(h, _JMRP_FIELD)) for h in (r.msg, *r.parts.original_headers)]
    named = [a for a in named if a]
    if named:
        return named
    if _JMRP_SENDER in address(r.sender).lower() and r.parts.original_headers:
        return [address(header(h, "To")) for h in r.parts.original_headers[:1]]
    return []


def _complainants(r: Reading) -> list[str]:
    """The addresses a feedback report is about, in order, one each."""
    found = [address(a) for a in r.parts.feedback_rcpts]
    found += [address(b.get("original-rcpt-to")) for b in r.parts.feedback]
    if not any(found):
        found = _jmrp_recipients(r)
    if not any(found):
        for h in r.parts.original_headers:
            found = [address(header(h, "To"))]
            if found[0]:
                break
    unique: dict[str, str] = {}
    for a in found:
        if a:
            unique.setdefault(a.lower(), a)
    return list(unique.values()) or [""]


def feedback_report(r: Reading) -> Analysis | None:
    """RFC 5965 ARF (or an SES complaint, or a JMRP forward): a recipient complained; not a
    bounce."""
    arf = r.parts.report_type == "feedback-report" or r.parts.feedback
    if not arf and not (r.parts.status_blocks == [] and _jmrp_recipients(r)):
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
    said = Said(m.group(1), "failed", None, r.text, None, known=list_notice_reason(r.subject))
    return Analysis("bounce", (build(said),), r.mid, r.subject)


def apple_unsubscribe(r: Reading) -> Analysis | None:
    """Apple Mail sends this when its user presses "unsubscribe": the recipient opting out
    of the sender's mail, which Sisimai and ARF count as feedback, not an auto-reply."""
    if header(r.msg, "X-Apple-Unsubscribe").lower() != "true":
        return None
    rcpt = _not_a_failure(address(r.sender), collapse(r.text, 500), Reason.FEEDBACK)
    return Analysis("feedback", (rcpt,), r.mid, r.subject)
