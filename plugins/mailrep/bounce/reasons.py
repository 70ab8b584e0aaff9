"""The reasons a recipient failed, and what each means for check_bounce_rate.

The names are Sisimai's (its documentation of ``Sisimai::Reason`` lists them), so our
results compare with its published ones. Each reason's meaning for a monitoring check is
one row of ``MEANING``: the coarse *cause* the check counts (hard / block / throttle /
soft / ignore), whether it is a *hard bounce* (the address will never take mail, so a retry
is pointless), and the number of the Sisimai-compatible pseudo status ``X.0.9NN`` given to
a recipient whose report carries no RFC 3463 code.

``Reason`` is a ``StrEnum``: its members are strings (JSON and text output are unchanged)
and a misspelt member is an ``AttributeError`` at import, not a silent miss.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Cause(StrEnum):
    """What the check does with a bounce: counted as hard, a block, a throttle, or soft."""

    HARD = "hard"
    BLOCK = "block"
    THROTTLE = "throttle"
    SOFT = "soft"
    IGNORE = "ignore"  # not a failure: delivered, feedback, auto-reply


class Reason(StrEnum):
    """Why one recipient failed (Sisimai's reason names)."""

    UNDEFINED = "undefined"
    ONHOLD = "onhold"
    SYNTAXERROR = "syntaxerror"
    NORELAYING = "norelaying"
    FILTERED = "filtered"
    USERUNKNOWN = "userunknown"
    HOSTUNKNOWN = "hostunknown"
    REJECTED = "rejected"
    SUSPEND = "suspend"
    MAILBOXFULL = "mailboxfull"
    SYSTEMERROR = "systemerror"
    NOTACCEPT = "notaccept"
    MESGTOOBIG = "mesgtoobig"
    NETWORKERROR = "networkerror"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    REQUIREPTR = "requireptr"
    SECURITYERROR = "securityerror"
    SPAMDETECTED = "spamdetected"
    VIRUSDETECTED = "virusdetected"
    POLICYVIOLATION = "policyviolation"
    EXCEEDLIMIT = "exceedlimit"
    TOOMANYCONN = "toomanyconn"
    SPEEDING = "speeding"
    SYSTEMFULL = "systemfull"
    AUTHFAILURE = "authfailure"
    BADREPUTATION = "badreputation"
    CONTENTERROR = "contenterror"
    HASMOVED = "hasmoved"
    MAILERERROR = "mailererror"
    NOTCOMPLIANTRFC = "notcompliantrfc"
    DELIVERED = "delivered"
    FEEDBACK = "feedback"
    VACATION = "vacation"

    @property
    def cause(self) -> Cause:
        return MEANING[self].cause

    @property
    def hard(self) -> bool:
        """Is a permanent failure for this reason a hard bounce (see ``is_hard``)?"""
        return MEANING[self].hard

    def pseudo_status(self, temporary: bool) -> str:
        """Sisimai's code for a report that gives none: ``5.0.911`` for an unknown user."""
        return f"{4 if temporary else 5}.0.{MEANING[self].pseudo}"


class Meaning(NamedTuple):
    cause: Cause
    hard: bool
    pseudo: int  # the NN of X.0.9NN


_H, _B, _T, _S, _I = Cause.HARD, Cause.BLOCK, Cause.THROTTLE, Cause.SOFT, Cause.IGNORE
R = Reason

# One row per reason. ``suspend`` is a hard cause (the mailbox takes nothing now) but not a
# hard bounce: a suspended account can come back. Security and virus refusals are blocks:
# no retry gets through unchanged.
MEANING: dict[Reason, Meaning] = {
    R.UNDEFINED: Meaning(_S, False, 900),
    R.ONHOLD: Meaning(_S, False, 901),
    R.SYNTAXERROR: Meaning(_S, False, 902),
    R.NORELAYING: Meaning(_S, False, 909),
    R.FILTERED: Meaning(_S, False, 910),
    R.USERUNKNOWN: Meaning(_H, True, 911),
    R.HOSTUNKNOWN: Meaning(_H, True, 912),
    R.HASMOVED: Meaning(_H, True, 916),
    R.REJECTED: Meaning(_B, False, 918),
    R.SUSPEND: Meaning(_H, False, 921),
    R.MAILBOXFULL: Meaning(_S, False, 922),
    R.EXCEEDLIMIT: Meaning(_T, False, 923),
    R.SYSTEMERROR: Meaning(_S, False, 930),
    R.SYSTEMFULL: Meaning(_S, False, 931),
    R.NOTACCEPT: Meaning(_H, True, 932),
    R.MESGTOOBIG: Meaning(_S, False, 934),
    R.NETWORKERROR: Meaning(_S, False, 944),
    R.TOOMANYCONN: Meaning(_T, False, 945),
    R.SPEEDING: Meaning(_T, False, 946),
    R.EXPIRED: Meaning(_S, False, 947),
    R.MAILERERROR: Meaning(_S, False, 950),
    R.CONTENTERROR: Meaning(_S, False, 960),
    R.SECURITYERROR: Meaning(_B, False, 970),
    R.BLOCKED: Meaning(_B, False, 971),
    R.POLICYVIOLATION: Meaning(_B, False, 972),
    R.REQUIREPTR: Meaning(_B, False, 973),
    R.AUTHFAILURE: Meaning(_B, False, 974),
    R.BADREPUTATION: Meaning(_B, False, 975),
    R.SPAMDETECTED: Meaning(_B, False, 980),
    R.VIRUSDETECTED: Meaning(_B, False, 981),
    R.NOTCOMPLIANTRFC: Meaning(_S, False, 900),
    R.DELIVERED: Meaning(_I, False, 900),
    R.FEEDBACK: Meaning(_I, False, 900),
    R.VACATION: Meaning(_I, False, 900),
}
if set(MEANING) != set(Reason):  # pragma: no cover - a table edit that forgot a row
    raise ImportError(f"reasons without a meaning: {sorted(set(Reason) - set(MEANING))}")

# Reasons that refuse the sending address itself or its reputation: what a blocklist
# listing looks like when the rejection does not name the list (Microsoft S3150, Yahoo
# TSS04, "your IP").
BLOCKLIST = frozenset({R.BLOCKED, R.BADREPUTATION})


def is_hard(reason: Reason, status: str | None, replycode: str | None) -> bool:
    """A hard bounce: a hard-bounce reason given permanently (no 4.x.x status or 4xx code)."""
    if not reason.hard:
        return False
    if status and status.startswith("4"):
        return False
    return not (replycode and replycode.startswith("4"))
