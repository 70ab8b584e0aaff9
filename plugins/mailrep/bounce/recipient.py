"""One failed recipient from what a report says of it: status, reply code, reason, citation.

Every detector that finds a recipient (RFC 3464 fields, a plain-text line, a list notice)
hands its words here, so the choice of status code and the pseudo status for a report
without one are made once; the reason itself is ``reason.decide``'s.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from mailrep.bounce.citation import cite
from mailrep.bounce.model import FailedRecipient
from mailrep.bounce.reason import SUCCESS_ACTIONS, Evidence, Gateway, decide
from mailrep.bounce.reasons import Reason, is_hard
from mailrep.bounce.text import find_last_status, find_replycode, find_status

_FIRST_PERMANENT_REPLY = re.compile(r"<<< ?5\d\d")  # in a transcript
_EXACT_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_SPACES = re.compile(r"\s+")
# Exim's "retry timeout exceeded": the last attempts failed temporarily until it gave up.
_TEMPORARY = re.compile(
    r"will be retried|temporary failure|temporarily deferred|"
    r"retry timeout exceeded|"
    r"will (?:continue|keep) (?:trying|to try)"
)


class Said(NamedTuple):
    """What a report says of one recipient, before it is judged."""

    address: str
    action: str | None
    status: str | None  # the Status field as written, comment included
    diagnostic: str
    remote_host: str | None
    context: str = ""  # the report's words around the recipient's line
    gateway: Gateway = False  # a content-filtering gateway wrote the report
    mailer: bool = False  # RFC 3464 diagnostic type X-Unix: a local delivery program
    report: str = ""  # the report's own words, when it names no other recipient
    known: Reason | None = None  # the report's form names the reason (see list notices)


def _collapse(words: str) -> str:
    """At most 2000 characters of words, whitespace runs as one space. The input is cut
    first (a run of whitespace longer than 6000 characters is not words)."""
    return _SPACES.sub(" ", words[:8000]).strip()[:2000]


def _remote_wins(status: str | None, remote: str, action: str | None) -> bool:
    """Is the remote server's own code better than the Status the reporting MTA wrote?"""
    if not status:
        return True
    if remote.endswith(".0.0"):
        return False
    return (
        status[0] == remote[0]
        or status.endswith(".0.0")
        # a failed recipient whose remote reply was permanent: the "4.x" is the reporting
        # MTA's stale view from an earlier attempt
        or (remote[0] == "5" and (action or "failed") == "failed")
    )


def choose_status(given: str | None, diag: str, action: str | None) -> str | None:
    """The recipient's RFC 3463 code: the Status field's, or the remote server's own.

    The remote server's code (in the diagnostic) is more specific than the summary the
    reporting MTA put in Status:, which is often 5.0.0 or a generic 4.4.7/5.1.1.
    """
    status = given
    if status and not _EXACT_STATUS.fullmatch(status):
        status = find_status(status)
    remote = find_last_status(diag)
    first_error = _FIRST_PERMANENT_REPLY.search(diag)  # starts with "<<<": a fast scan
    if first_error:
        # in a session transcript the first permanent refusal is the cause; a later "554 5.5.1 no
        # valid recipients" after DATA only follows from it
        remote = find_status(diag[first_error.start() : first_error.start() + 300]) or remote
    if remote and remote != status and _remote_wins(status, remote, action):
        status = remote
    return status


def _temporary(status: str | None, code: str | None, action: str | None, diag: str) -> bool:
    return bool(
        (status and status.startswith("4"))
        or (code and code.startswith("4"))
        or (action or "").lower() == "delayed"
        or _TEMPORARY.search(diag.lower())
    )


def build(said: Said) -> FailedRecipient:
    """The failed recipient, judged."""
    # RFC 3464 lets a comment follow the Status code: "5.2.1 (mailbox disabled, ...)"
    given = said.status
    comment = given[given.find("(") :] if given and "(" in given else ""
    diag = _collapse(said.diagnostic)
    if len(diag) <= len(said.address) + 4 and said.context:
        diag = _collapse(said.context)
    status = None if said.known else choose_status(given, diag, said.action)
    code = find_replycode(diag)
    citation = cite(diag)
    reason = said.known or decide(
        Evidence(
            status,
            diag,
            said.action,
            said.diagnostic[:4000] + "\n" + said.context[:4000],
            said.gateway,
            comment + "\n" + said.report,
            said.mailer,
            citation is not None,
        )
    )
    if (said.action or "") in SUCCESS_ACTIONS:
        citation = None
        code = code or ("250" if status and status.startswith("2") else None)
    elif not status and reason is not Reason.DELIVERED:
        temporary = not said.known and _temporary(status, code, said.action, diag)
        status = reason.pseudo_status(temporary)
    return FailedRecipient(
        recipient=said.address,
        action=said.action,
        status=status,
        replycode=code,
        diagnostic=diag,
        remote_host=said.remote_host,
        reason=reason,
        cause=reason.cause,
        hardbounce=is_hard(reason, status, code),
        citation=citation,
    )
