"""The RFC 3464 detector: a delivery-status part (or its fields in the text) names each
recipient with its action, status, remote MTA and diagnostic."""

from __future__ import annotations

import dataclasses
import re

from mailrep.bounce.model import Analysis, FailedRecipient
from mailrep.bounce.reading import Reading, address
from mailrep.bounce.reason import SUCCESS_ACTIONS
from mailrep.bounce.recipient import Said, build
from mailrep.bounce.text import MAX_RECIPIENTS, find_remote_host, recipients

_DSN_FIELDS = re.compile(r"\s*(?:final|original)-recipient:", re.I)


def _named(blocks: list[list[dict[str, str]]]) -> int:
    """How many recipient groups the report has."""
    return sum(
        1
        for group in blocks
        for block in group
        if block.get("final-recipient") or block.get("original-recipient")
    )


def _said(
    block: dict[str, str], rcpt: str, r: Reading, chunks: dict[str, str], report: str
) -> Said:
    fallback = r.text if len(r.text) < 4000 else ""
    diag = block.get("diagnostic-code", "")
    # RFC 3464 type "X-Unix": a local delivery program's own words or exit code
    mailer = diag[:7].lower() == "x-unix;"
    diag = diag.split(";", 1)[1] if ";" in diag[:12] else diag
    context = chunks.get(rcpt.lower(), fallback)
    if _DSN_FIELDS.match(context) and fallback and len(chunks) == 1:
        # the address was found only in the status fields, which say nothing more; the
        # report's words, naming no other address, are about this recipient (a piped
        # "|procmail" address that the text names differently)
        context = fallback
    if not diag.strip():
        diag = context
    remote = block.get("remote-mta", "").split(";")[-1].strip().strip("[]") or None
    return Said(
        rcpt,
        (block.get("action") or "").lower() or None,
        block.get("status", "").strip() or None,
        diag,
        remote or find_remote_host(diag),
        context,
        r.gateway,
        mailer,
        report,
    )


def _from_dsn(r: Reading) -> list[FailedRecipient]:
    text = r.text
    found = reversed(recipients(text, set())) if text else ()
    chunks = {a.lower(): words for a, words in found}
    # the report's words are about its recipient only when it names one
    report = (text if len(text) < 4000 else "") if _named(r.parts.status_blocks) == 1 else ""
    out: list[FailedRecipient] = []
    # recipients the report states alike are judged once (a list's hundred refusals)
    judged: dict[tuple[object, ...], FailedRecipient] = {}
    for group in r.parts.status_blocks:
        for block in group:
            rcpt = address(block.get("final-recipient") or block.get("original-recipient"))
            if not rcpt:
                continue
            said = _said(block, rcpt, r, chunks, report)
            key = (*said[1:], len(rcpt))  # build reads the address only for its length
            if key not in judged:
                judged[key] = build(said)
            out.append(dataclasses.replace(judged[key], recipient=rcpt))
            if len(out) >= MAX_RECIPIENTS:
                return out
    return out


def _kind_from_actions(rcpts: list[FailedRecipient]) -> str:
    actions = {(r.action or "failed") for r in rcpts}
    if actions <= SUCCESS_ACTIONS:
        return "success"
    if actions <= {"delayed"}:
        return "delay"
    return "bounce"


def delivery_status(r: Reading) -> Analysis | None:
    """An RFC 3464 report (or SES bounce). A mixed report keeps every recipient in the
    report's order: the delivered ones marked as such, the delayed ones still delayed;
    counting skips both (tally.summarise)."""
    if not r.parts.status_blocks:
        return None
    rcpts = _from_dsn(r)
    if not rcpts:
        return None
    return Analysis(_kind_from_actions(rcpts), tuple(rcpts), r.mid, r.subject)


# RFC 6522: multipart/report's report-type names what the report is.
_DSN_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})


def declared_report(r: Reading) -> Analysis | None:
    """A message that declares itself a delivery status report (RFC 6522 report-type) but
    whose parts name no recipient we can read (Sendmail's "<<< No Message Collected >>>"
    body, a truncated report): a bounce, with no recipient to count."""
    if r.parts.report_type not in _DSN_REPORT_TYPES:
        return None
    return Analysis("bounce", (), r.mid, r.subject)
