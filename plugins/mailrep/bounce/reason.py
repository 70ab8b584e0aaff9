"""The one place a failed recipient's reason is decided.

Evidence comes in (status, the remote server's words, the SMTP action, the stage, what the
reporting MTA says beside them); a ``Reason`` comes out. ``rules`` holds the wording rules,
``stage`` finds the SMTP command a reply answered; this module weighs them against the
RFC 3463 status code. Nothing downstream changes the reason it gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from mailrep.bounce.codes import (
    EXACT_DETAILS,
    reason_from_status,
    reason_from_subject,
    specific,
)
from mailrep.bounce.reasons import Reason
from mailrep.bounce.rules import (
    BARE_REFUSAL,
    MAILBOX_REFUSED,
    names_system_fault,
    reason_from_text,
)
from mailrep.bounce.stage import smtp_stage
from mailrep.bounce.text import unfold_reply

R = Reason

# The words that may overrule an exact code: only causes of another kind than the code's.
# A 5.1.1 ("bad destination mailbox address") whose words say the mailbox is full, the
# message too big, the client blocked, the mailbox moved or filtered; a 5.2.3 ("message
# length exceeds administrative limit", a sibling of 5.2.2 in RFC 3463's mailbox subject)
# whose words say the mailbox quota is used up ("the user's maildir has overdrawn his
# diskspace quota").
_OVERRULE: dict[str, frozenset[Reason]] = {
    "1.1": frozenset({R.MAILBOXFULL, R.MESGTOOBIG, R.BLOCKED, R.FILTERED, R.HASMOVED}),
    "2.3": frozenset({R.MAILBOXFULL}),
}
# A 5.1.1 whose words name the account's state outright ("550 5.1.1 [SUSPEND] Mailbox
# currently suspended"): Sisimai's Suspend. Not "inactive" (iCloud's "5.1.1 inactive email
# address" is an address no longer served: userunknown).
_SUSPENDED = re.compile(r"\bsuspend(?:ed)?\b", re.I)

# RFC 3464's three, and Postfix's "deliverable": its answer to an address verification
# ("sendmail -bv"), saying the address would be delivered
SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
_DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


# Replies that state the address itself is invalid or has no account: a user-unknown
# wherever in the dialogue they come (Yahoo and Orange refuse unknown users after DATA).
_NAMED_INVALID = re.compile(r"invalid recipient|doesn.t have an? .{0,40}account")


Gateway = bool | Callable[[], bool]


def _filtered_not_unknown(
    status: str | None, stage: str | None, gateway: Gateway, text: str = ""
) -> bool:
    """Is a "user unknown" reply really a filter's refusal (Sisimai's ``filtered``)?

    A mailbox that does not exist is refused at RCPT TO with 5.1.1. The same words count as
    a filter's verdict when they come after DATA, when the code is X.2.0/X.2.1 (RFC 3463:
    mailbox exists but refuses this message, the code mobile carriers and spam filters use
    for per-recipient rejection rules) or 5.7.x (policy), or when a content-filtering
    gateway reports them without a recipient-class code: the gateway accepted the message
    and only then learnt that the inside refused it.
    """
    code = status or ""
    if code.endswith(".1.1") or stage == "RCPT" or _NAMED_INVALID.search(text.lower()):
        return False
    if stage == "DATA":
        return True
    detail = code.split(".", 1)[1] if "." in code else ""
    if detail in ("2.0", "2.1") or code.startswith("5.7."):
        return True
    if code and detail != "0.0" and not detail.startswith("0.9"):
        return False
    return gateway() if callable(gateway) else gateway


# The reporting MTA's own statement that the account or mailbox is disabled: RFC 3463's name
# for X.2.1 in a Status comment ("5.2.1 (mailbox disabled, not accepting messages)"), or a
# report's lead ("The user(s) account is disabled."). Not a conditional ("if the account is
# disabled, ...") in advice text.
_DISABLED = re.compile(
    r"(?:account|mailbox)\W+(?:(?:is|has been|was)\s+)?"
    r"(?:disabled|suspended|deactivated)"
)
_CONDITIONAL = re.compile(r"\b(?:if|whether|unless|may|might|could)\b")


def reporter_says_disabled(words: str) -> bool:
    """Does the report itself say the recipient's account or mailbox is disabled?

    A disabled account is commonly answered "user unknown" at RCPT, so as not to tell a
    stranger it exists; the reporting MTA, often the provider hosting the mailbox, knows
    which it is. Its statement then names the cause (Sisimai's ``suspend``) where the
    remote reply only refused the recipient ("unknown", or unknown read as a filter's
    refusal).
    """
    low = words.lower()
    for m in _DISABLED.finditer(low):
        if not _CONDITIONAL.search(low[max(0, m.start() - 30) : m.start()]):
            return True
    return False


# Reasons that the SMTP stage can change (below); for the others it is not searched for.
_STAGE_MATTERS = frozenset(
    {
        R.USERUNKNOWN,
        R.HOSTUNKNOWN,
        R.UNDEFINED,
        R.ONHOLD,
        R.REJECTED,
        R.POLICYVIOLATION,
        R.FILTERED,
        R.SECURITYERROR,
        R.SYSTEMERROR,
    }
)
# Refused at the greeting or EHLO: the receiver refuses this client, whatever the words.
_BLOCKED_AT_CONNECTION = frozenset(
    {
        R.REJECTED,
        R.UNDEFINED,
        R.ONHOLD,
        R.POLICYVIOLATION,
        R.FILTERED,
        R.SECURITYERROR,
        R.SYSTEMERROR,
    }
)
# Refused at MAIL FROM: the sender is refused, not the recipient or its domain.
_REJECTED_AT_MAIL = frozenset({R.USERUNKNOWN, R.HOSTUNKNOWN, R.UNDEFINED, R.ONHOLD})


def _lookup_failed_for_now(status: str | None, text: str) -> bool:
    """A name lookup that failed for now; "try again" after a permanent 5.x code is advice."""
    code = status or ""
    return bool(
        code.startswith("4")
        or re.search(r"temporar", text, re.I)
        or (not code.startswith("5") and re.search(r"try again", text, re.I))
    )


def classify(
    status: str | None,
    text: str,
    action: str | None = None,
    context: str = "",
    gateway: Gateway = False,
) -> Reason:
    """The reason for one failed recipient, adjusted for the SMTP stage it failed at.

    ``gateway`` says the report comes from a content-filtering gateway (see
    ``_filtered_not_unknown``); a callable is asked only when the answer matters.
    """
    reason = _classify(status, text, action)
    if reason not in _STAGE_MATTERS:  # the stage search costs; most reasons never need it
        return reason
    stage = smtp_stage(text + "\n" + context)
    # With pipelining a RCPT refusal (5.1.1) can arrive after ">>> DATA": not a filter.
    if reason is R.USERUNKNOWN and _filtered_not_unknown(status, stage, gateway, text):
        return R.FILTERED
    if stage == "CONN" and reason in _BLOCKED_AT_CONNECTION:
        return R.BLOCKED
    # RFC 5321's generic "mailbox unavailable" in answer to RCPT TO: the address (Sisimai's
    # UserUnknown is a recipient refused at RCPT; its Filtered, one refused after DATA)
    if stage == "RCPT" and reason is R.FILTERED and reason_from_text(text) == MAILBOX_REFUSED:
        return R.USERUNKNOWN
    if reason is R.HOSTUNKNOWN and _lookup_failed_for_now(status, text):
        return R.NETWORKERROR
    if stage == "MAIL" and reason in _REJECTED_AT_MAIL:
        return R.REJECTED
    return reason


# Causes a still-queued recipient keeps; any other is the generic "expired".
_DELAY_CAUSES = frozenset(
    {
        R.MAILBOXFULL,
        R.NETWORKERROR,
        R.HOSTUNKNOWN,
        R.SYSTEMFULL,
        R.SYSTEMERROR,
        R.BLOCKED,
        R.BADREPUTATION,
        R.REQUIREPTR,
        R.TOOMANYCONN,
        R.SPEEDING,
    }
)


def _from_exact_status(status: str, text: str) -> Reason | None:
    """The reason an exact code states (see ``_EXACT_DETAILS``), or None."""
    detail = ".".join(status.split(".")[1:])
    if detail not in EXACT_DETAILS:
        return None
    overrule = _OVERRULE.get(detail)
    if overrule:
        by_text = reason_from_text(text)
        if isinstance(by_text, Reason) and by_text in overrule:
            return by_text
        if detail == "1.1" and _SUSPENDED.search(text):
            return R.SUSPEND
    return reason_from_status(status)


def _classify(status: str | None, text: str, action: str | None = None) -> Reason:
    if action and action.lower() in _DELIVERED_ACTIONS:
        return R.DELIVERED
    exact = _from_exact_status(status, text) if status else None
    if exact:
        return exact
    found = reason_from_text(text)
    r = found if isinstance(found, Reason) else None
    if found == BARE_REFUSAL:
        # "rejected", "denied": the words name neither a cause nor whom was refused, so a
        # security or policy code (X.7.x) says more ("550 5.7.1 <rcpt>... Access denied" is a
        # security refusal); other codes cannot explain a refusal (X.4.1 is "no answer from
        # host"), and without one a refusal is taken as of the sender (Sisimai's "rejected")
        policy = status.split(".")[1:2] == ["7"] if status else False
        r = (reason_from_status(status) if policy else None) or R.REJECTED
    elif found == MAILBOX_REFUSED:
        # the mailbox refused, naming no cause: a specific status says more than the words.
        # Microsoft's consumer mail (Outlook.com, Hotmail) answers an address that does not
        # exist "550 5.5.0 Requested action not taken: mailbox unavailable" (SpamResource,
        # "Microsoft: Multiple types of invalid user bounces", 2023)
        unknown = (status or "").endswith(".5.0")
        r = specific(status) or (R.USERUNKNOWN if unknown else R.FILTERED)
    if action and action.lower() == "delayed":
        # still queued: a named cause (full mailbox, no route) beats the generic "expired"
        return r if r is not None and r in _DELAY_CAUSES else R.EXPIRED
    if r:
        return r
    # Sisimai's "onhold": a bounce whose words and code are too thin to judge.
    return reason_from_status(status) or reason_from_subject(status) or R.ONHOLD


# Reasons too vague to stand beside a delivery program's failure (see ``decide``).
_VAGUE = frozenset({R.ONHOLD, R.UNDEFINED, R.SYSTEMERROR, R.EXPIRED})
# Reasons a cited blocklist does not change: they already name the refused client.
_CITATION_AGREES = frozenset({R.BLOCKED, R.BADREPUTATION, R.REQUIREPTR})


class Evidence(NamedTuple):
    """What a report says of one recipient, as ``decide`` weighs it."""

    status: str | None  # the RFC 3463 code chosen for the recipient
    diagnostic: str  # the remote server's words, whitespace collapsed
    action: str | None = None
    context: str = ""  # the report's text around the recipient (stage words, transcript)
    gateway: Gateway = False  # a content-filtering gateway wrote the report
    reporter: str = ""  # the reporting MTA's own words: Status comment, report lead
    mailer: bool = False  # a local delivery program failed (RFC 3464 type X-Unix)
    cited: bool = False  # the words name a blocklist


def decide(e: Evidence) -> Reason:
    """The reason for one recipient, from everything its report says of it."""
    if (e.action or "") in SUCCESS_ACTIONS:
        return R.DELIVERED
    reason = classify(e.status, unfold_reply(e.diagnostic), e.action, e.context, e.gateway)
    if reason in (R.USERUNKNOWN, R.FILTERED) and reporter_says_disabled(e.reporter):
        reason = R.SUSPEND
    if e.mailer and reason in _VAGUE and not names_system_fault(e.diagnostic):
        # the delivery program failed and its words name no other cause
        reason = R.MAILERERROR
    if e.cited and reason not in _CITATION_AGREES:
        reason = R.BLOCKED
    return reason


def list_notice_reason(subject: str) -> Reason | None:
    """A mailing-list manager's notice whose form, not its words, names the reason.

    fml's "loop alert" is the list's own loop guard (a Message-ID it has seen before): not a
    verdict on the message or the poster, so a system error of the list.
    """
    return R.SYSTEMERROR if "loop alert" in subject.lower() else None
