"""What an RFC 3463 status code says on its own, without the words beside it.

``reason_from_status`` reads the detail (X.Y.Z) where it has one meaning;
``reason_from_subject`` falls back on the subject (X.Y) when the detail is unknown; the
reason module decides when the words may overrule either.
"""

from __future__ import annotations

from mailrep.bounce.reasons import Reason

R = Reason

# RFC 3463 detail codes with a single meaning, independent of the text. X.2.1 ("mailbox
# disabled, not accepting messages") names no cause when its words say nothing: Sisimai's
# documentation of Filtered sets it "if the value of Status: is 5.2.0 or 5.2.1"; a
# disabled or suspended account says so in words (the Suspend rules).
_STATUS_REASON: dict[str, Reason] = {
    "1.1": R.USERUNKNOWN,
    "1.0": R.USERUNKNOWN,
    "1.2": R.HOSTUNKNOWN,
    "1.3": R.USERUNKNOWN,
    "1.4": R.USERUNKNOWN,
    "1.6": R.HASMOVED,
    "1.7": R.REJECTED,
    "1.8": R.REJECTED,
    "1.10": R.NOTACCEPT,
    "2.1": R.FILTERED,
    "2.2": R.MAILBOXFULL,
    "2.3": R.EXCEEDLIMIT,
    "2.4": R.SYSTEMERROR,
    "3.0": R.SYSTEMERROR,
    "3.1": R.SYSTEMFULL,
    "3.2": R.NOTACCEPT,
    "3.3": R.SYSTEMERROR,
    "3.4": R.MESGTOOBIG,
    "3.5": R.SYSTEMERROR,
    "4.0": R.NETWORKERROR,
    "4.1": R.NETWORKERROR,
    "4.2": R.NETWORKERROR,
    "4.3": R.SYSTEMERROR,
    "4.4": R.HOSTUNKNOWN,
    "4.5": R.NETWORKERROR,
    "4.6": R.NETWORKERROR,
    "4.7": R.EXPIRED,
    "5.0": R.SYNTAXERROR,
    "5.1": R.SYNTAXERROR,
    "5.2": R.SYNTAXERROR,
    "5.3": R.EXCEEDLIMIT,
    "5.4": R.SYNTAXERROR,
    "6.0": R.CONTENTERROR,
    "6.1": R.CONTENTERROR,
    "6.9": R.CONTENTERROR,
    "7.0": R.SECURITYERROR,
    "7.1": R.SECURITYERROR,
    "7.2": R.AUTHFAILURE,
    "7.5": R.SECURITYERROR,
    "7.6": R.SECURITYERROR,
    "7.7": R.SECURITYERROR,
    "7.9": R.SECURITYERROR,
    "7.13": R.SUSPEND,
    "7.23": R.AUTHFAILURE,
    "7.24": R.AUTHFAILURE,
    "7.25": R.REQUIREPTR,
    "7.26": R.AUTHFAILURE,
    "7.27": R.NOTACCEPT,
}
# When neither words nor the detail code decide: RFC 3463's subject (the middle number)
# still says what kind of thing failed. X.1 addressing (the address is bad), X.2 mailbox
# (it exists but refuses: Sisimai's Filtered, as for X.2.0), X.3 mail system, X.4 network
# and routing, X.5 protocol, X.6 content, X.7 security or policy. Before "onhold".
_SUBJECT_REASON: dict[str, Reason] = {
    "1": R.USERUNKNOWN,
    "2": R.FILTERED,
    "3": R.SYSTEMERROR,
    "4": R.NETWORKERROR,
    "5": R.SYNTAXERROR,
    "6": R.CONTENTERROR,
    "7": R.SECURITYERROR,
}
# Codes whose meaning is exact beat loose words.
EXACT_DETAILS = frozenset(
    {"1.1", "2.2", "1.2", "1.6", "7.25", "7.26", "7.23", "2.3", "3.4", "1.7", "1.8"}
)


def reason_from_status(status: str | None) -> Reason | None:
    if not status:
        return None
    parts = status.split(".")
    if len(parts) != 3:
        return None
    if parts[0] == "2":
        return R.DELIVERED
    return _STATUS_REASON.get(f"{parts[1]}.{parts[2]}")


def reason_from_subject(status: str | None) -> Reason | None:
    """The kind of failure RFC 3463's subject names, when the detail code is unknown."""
    parts = status.split(".") if status else []
    if len(parts) != 3 or parts[0] not in ("4", "5"):
        return None
    return _SUBJECT_REASON.get(parts[1])


def specific(status: str | None) -> Reason | None:
    """The reason a status states, unless it says only its class or subject: RFC 3463's
    X.Y.0 is "other or undefined" status of subject Y, and X.0.9NN a pseudo status."""
    parts = status.split(".") if status else []
    if len(parts) != 3 or parts[2] == "0" or parts[1] == "0":
        return None
    return reason_from_status(status)
