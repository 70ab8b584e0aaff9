"""Bounce analysis: is this message a bounce, and who failed for what reason?

Structure is tested before words: real bounces also carry ``Auto-Submitted: auto-replied``,
so an RFC 3464 report or a non-delivery text decides first, and RFC 3834 auto-reply headers
only classify what is left. ``analyse`` never raises: a monitoring check reading a hostile
mailbox must finish with a number, not a traceback.
"""

from __future__ import annotations

import dataclasses
import email.message
import re
from collections.abc import Iterable

from mailrep.bounce.citation import cite
from mailrep.bounce.mime import content_type, parse
from mailrep.bounce.model import Analysis, Citation, FailedRecipient
from mailrep.bounce.parts import Parts, collect
from mailrep.bounce.reason import (
    Gateway,
    cause_of,
    classify,
    is_hard,
    names_system_fault,
    pseudo_status,
    reporter_says_disabled,
)
from mailrep.bounce.ses import ses_blocks
from mailrep.bounce.text import (
    ADDR,
    find_last_status,
    find_remote_host,
    find_replycode,
    find_status,
    recipients,
)

__all__ = ["Analysis", "Citation", "FailedRecipient", "analyse", "deduplicate"]

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status notification|failure|failed|has failed|problem)|"
    r"returned mail|mail delivery|failure notice|non[- ]?delivery|could not be delivered|"
    r"delivery notification|mail system error|rejected|nicht zustellbar|unzustellbar|"
    r"not delivered|returned to sender|failed|error|message you sent|bounce|warning:",
    re.I,
)
_BOUNCE_FROM = re.compile(
    r"mailer-daemon|post_?master|mail ?delivery|mailerdaemon|"
    r"bounce|daemon|mdaemon|mail administrator|system administrator",
    re.I,
)
_BOUNCE_TEXT = re.compile(
    r"could not be delivered|permanent(?:ly)? (?:error|fatal|failure)|delivery (?:to the "
    r"following|has failed|failed|problem)|undeliver|not (?:be )?delivered|"
    r"following (?:address(?:es)?|recipients?) (?:failed|had permanent)|"
    r"unable to deliver|returned to you|said:|smtp error|user unknown|failed recipient|"
    r"invalid user|no such user|requested action not taken",
)  # matched on lower-cased text
_DELAY_TEXT = re.compile(
    r"(?:has been|was) delayed|delivery (?:status notification )?"
    r"\(delay\)|will (?:continue|keep) (?:trying|to try)|"
    r"not yet been delivered|still trying|will be retried for|"
    r"warning message only|"
    # OpenSMTPD's warning: "only a temporary failure report ... kept in
    # the queue ... You DO NOT NEED to re-send"
    r"only a temporary failure report"
)  # on lower-cased text
_AUTOREPLY_SUBJECT = re.compile(
    r"out of (?:the )?office|auto(?:matic)?[- ]?re(?:ply|sponse)|"
    r"vacation|abwesenheit|away from",
    re.I,
)
# Content-filtering gateways that relay mail inwards after their own checks (McAfee Email
# Gateway, SurfControl, MailFoundry, m-FILTER, MX Logic), named by the headers they stamp on
# their own reports. Their "user unknown" comes after they accepted the message.
_GATEWAY = re.compile(
    rb"^(?:x-nai-header:|x-mailer:[^\n]*(?:surfcontrol|m-filter)|"
    rb"received:[^\n]*(?:\n[ \t][^\n]*)*?(?:\(mailfoundry\)|by m-filter|"
    rb"mxl_mta)|message-id:\s*<mxl~)",
    re.I | re.M,
)
_GATEWAY_WORDS = (
    b"x-nai-header",
    b"surfcontrol",
    b"m-filter",
    b"mailfoundry",
    b"mxl_mta",
    b"<mxl~",
)
_ADDRESS_FIELD = re.compile(r"\baddress:\s*<(" + ADDR + r")>", re.I)
_VAGUE = frozenset({"onhold", "undefined", "systemerror", "expired"})
_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.I | re.M)
_ADDR = re.compile(r"<?([^\s<>\"]+@[^\s<>\"]+?)>?$")
_DSN_FIELDS = re.compile(r"\s*(?:final|original)-recipient:", re.I)
_FIRST_PERMANENT_REPLY = re.compile(r"<<< ?5\d\d")  # in a transcript


def _addr(value: str | None) -> str:
    if not value:
        return ""
    v = value.split(";", 1)[-1].strip()
    m = re.search(r"[^\s<>\"';]+@[^\s<>\"';]+", v)
    return (m.group(0) if m else v).strip(".").lower()


def _header(msg: email.message.Message, name: str) -> str:
    try:
        return str(msg.get(name, "") or "")
    except Exception:
        return ""


def _original_message_id(parts: Parts) -> str | None:
    for h in parts.original_headers:
        mid = _header(h, "Message-ID").strip()
        if mid:
            return mid
    if not parts.original_text:
        return None
    m = _MESSAGE_ID.search(parts.original_text)
    return m.group(1) if m else None


_CONTINUATION = re.compile(r"(?:^|\s)[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3}\s)?")


# Exim's "retry timeout exceeded": the last attempts failed temporarily until it gave up.
_TEMPORARY = re.compile(
    r"will be retried|temporary failure|temporarily deferred|"
    r"retry timeout exceeded|"
    r"will (?:continue|keep) (?:trying|to try)"
)


def _unfold_reply(diag: str) -> str:
    """A multi-line SMTP reply as one sentence: "550-5.7.1 a\n550 5.7.1 b" -> "... a b"."""
    matches = list(_CONTINUATION.finditer(diag))
    if len(matches) < 2:
        return diag
    out, last = [diag[: matches[1].start()]], matches[1].start()
    for m in matches[1:]:
        out.append(diag[last : m.start()])
        out.append(" ")
        last = m.end()
    out.append(diag[last:])
    return "".join(out)


def _own_header_block(raw: bytes) -> bytes:
    """The report's own header block, lower-cased (the first 64 KiB at most)."""
    end = raw.find(b"\n\n", 0, 64 * 1024)
    if end < 0:
        end = 64 * 1024
    crlf = raw.find(b"\r\n\r\n", 0, end)
    return raw[: crlf if crlf >= 0 else end].lower()


def _from_gateway(raw: bytes) -> bool:
    """Did a content-filtering gateway write this report? Only its own header block counts."""
    head = _own_header_block(raw)
    # literal checks first: the anchored pattern would be tried at every header position
    if not any(w in head for w in _GATEWAY_WORDS):
        return False
    return bool(_GATEWAY.search(head))


def _words_before(text: str, chunk: str) -> str:
    """The paragraph just above a recipient line: Lotus Notes states the reason first
    ("User not listed in public Name & Address Book" then the address). Used only when the
    recipient's own lines say nothing beyond the address."""
    i = text.find(chunk[:200])
    if i <= 0:
        return ""
    above = text[max(0, i - 400) : i].replace("\r\n", "\n").rstrip()
    paragraphs = above.rsplit("\n\n", 2)
    # "The following recipients did not receive this message:" only heads the list; the
    # reason is the paragraph before it (EZweb: "... not delivered within 0 days ...")
    if paragraphs[-1].endswith(":") and len(paragraphs) > 1:
        return "\n".join(paragraphs[-2:]).strip()
    return paragraphs[-1].strip()


def _recipient(
    addr: str,
    action: str | None,
    status: str | None,
    code: str | None,
    diag: str,
    remote: str | None,
    context: str = "",
    gateway: Gateway = False,
    mailer: bool = False,
    report: str = "",
) -> FailedRecipient:
    """One failed recipient from what the report says of it.

    ``report`` is the report's own words about this recipient beyond its line, when the
    report names no other (see ``_from_dsn``).
    """
    raw_diag = diag
    # RFC 3464 lets a comment follow the Status code: "5.2.1 (mailbox disabled, ...)"
    comment = status[status.find("(") :] if status and "(" in status else ""
    diag = re.sub(r"\s+", " ", diag).strip()[:2000]
    if len(diag) <= len(addr) + 4 and context:
        diag = re.sub(r"\s+", " ", context).strip()[:2000]
    if status and not re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", status):
        status = find_status(status)
    # The remote server's own code (in the diagnostic) is more specific than the summary the
    # reporting MTA put in Status:, which is often 5.0.0 or a generic 4.4.7/5.1.1.
    remote_status = find_last_status(diag)
    first_error = _FIRST_PERMANENT_REPLY.search(diag)  # starts with "<<<": a fast scan
    if first_error:
        # in a session transcript the first permanent refusal is the cause; a later "554 5.5.1 no
        # valid recipients" after DATA only follows from it
        remote_status = (
            find_status(diag[first_error.start() : first_error.start() + 300]) or remote_status
        )
    if (
        remote_status
        and remote_status != status
        and (
            not status
            or (
                not remote_status.endswith(".0.0")
                and (
                    status[0] == remote_status[0]
                    or status.endswith(".0.0")
                    # a failed recipient whose remote reply was permanent: the "4.x" is
                    # the reporting MTA's stale view from an earlier attempt
                    or (remote_status[0] == "5" and (action or "failed") == "failed")
                )
            )
        )
    ):
        status = remote_status
    if not code:
        code = find_replycode(diag)
    reason = classify(
        status, _unfold_reply(diag), action, raw_diag[:4000] + "\n" + context[:4000], gateway
    )
    if reason in ("userunknown", "filtered") and reporter_says_disabled(comment + "\n" + report):
        reason = "suspend"
    if mailer and reason in _VAGUE and not names_system_fault(diag):
        # the delivery program failed and its words name no other cause
        reason = "mailererror"
    temporary = bool(
        (status and status.startswith("4"))
        or (code and code.startswith("4"))
        or (action or "").lower() == "delayed"
        or _TEMPORARY.search(diag.lower())
    )
    if not status and reason not in ("delivered",):
        status = pseudo_status(reason, temporary)
    citation = cite(diag)
    if citation is not None and reason not in ("blocked", "badreputation", "requireptr"):
        reason = "blocked"
    return FailedRecipient(
        recipient=addr,
        action=action,
        status=status,
        replycode=code,
        diagnostic=diag,
        remote_host=remote,
        reason=reason,
        cause=cause_of(reason, status),
        hardbounce=is_hard(reason, status, code),
        citation=citation,
    )


# fml, a mailing-list manager, stamps its own notices with X-MLServer; these two refuse a
# post: the poster is not a member, or the list stopped a loop (a Message-ID seen before).
_LIST_REFUSAL = re.compile(r"are not (?:a )?member|loop alert", re.I)
_FIRST_BRACKETED = re.compile(r"<(" + ADDR + r")>")


def _list_notice(raw: bytes, subject: str, text: str) -> FailedRecipient | None:
    """A list manager's refusal of a post: the list address did not take the message."""
    if b"\nx-mlserver: fml" not in b"\n" + _own_header_block(raw):
        return None
    m = _FIRST_BRACKETED.search(text)
    if not m:
        return None
    r = _recipient(m.group(1).lower(), "failed", None, None, text, None)
    if "loop alert" in subject.lower():
        # the list's own loop guard, not a verdict on the message or the poster
        r = dataclasses.replace(
            r,
            reason="systemerror",
            cause=cause_of("systemerror", None),
            status=pseudo_status("systemerror", False),
            hardbounce=False,
        )
    return r


def _delivered(r: FailedRecipient) -> FailedRecipient:
    code = r.replycode or ("250" if r.status and r.status.startswith("2") else None)
    return dataclasses.replace(
        r, reason="delivered", cause="ignore", hardbounce=False, replycode=code, citation=None
    )


def _from_dsn(parts: Parts, text: str, gateway: Gateway = False) -> list[FailedRecipient]:
    out = []
    chunks = dict(reversed(recipients(text, set()))) if text else {}
    fallback = text if len(text) < 4000 else ""
    # the report's words are about its recipient only when it names one
    named = sum(
        1
        for blocks in parts.status_blocks
        for block in blocks
        if block.get("final-recipient") or block.get("original-recipient")
    )
    for blocks in parts.status_blocks:
        for block in blocks:
            rcpt = _addr(block.get("final-recipient") or block.get("original-recipient"))
            if not rcpt:
                continue
            diag = block.get("diagnostic-code", "")
            # RFC 3464 type "X-Unix": a local delivery program's own words or exit code
            mailer = diag[:7].lower() == "x-unix;"
            diag = diag.split(";", 1)[1] if ";" in diag[:12] else diag
            context = chunks.get(rcpt, fallback)
            if _DSN_FIELDS.match(context) and fallback and len(chunks) == 1:
                # the address was found only in the status fields, which say nothing more;
                # the report's words, naming no other address, are about this recipient
                # (a piped "|procmail" address that the text names differently)
                context = fallback
            if not diag.strip():
                diag = context
            remote = block.get("remote-mta", "").split(";")[-1].strip().strip("[]") or None
            if not remote:
                remote = find_remote_host(diag)
            out.append(
                _recipient(
                    rcpt,
                    (block.get("action") or "").lower() or None,
                    block.get("status", "").strip() or None,
                    None,
                    diag,
                    remote,
                    context,
                    gateway,
                    mailer,
                    fallback if named == 1 else "",
                )
            )
    return out


# RFC 3464's three, and Postfix's "deliverable": its answer to an address verification
# ("sendmail -bv"), saying the address would be delivered
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})


def _kind_from_actions(rcpts: list[FailedRecipient]) -> str:
    actions = {(r.action or "failed") for r in rcpts}
    if actions <= _SUCCESS_ACTIONS:
        return "success"
    if actions <= {"delayed"}:
        return "delay"
    return "bounce"


def _analyse(raw: bytes, depth: int = 0) -> Analysis:
    msg = parse(raw)
    parts = collect(msg)
    subject = _header(msg, "Subject")
    sender = _header(msg, "From")
    text = "\n".join(parts.texts)
    mid = _original_message_id(parts)

    ses = ses_blocks(text) if "notificationType" in text or '"eventType"' in text else None
    if ses is not None:
        kind, blocks, ses_mid = ses
        if kind == "feedback":
            parts.feedback.extend(blocks)
        elif blocks:
            parts.status_blocks.append(blocks)
        mid = mid or ses_mid
        text = ""

    if parts.report_type == "feedback-report" or parts.feedback:
        rcpts = [_addr(a) for a in parts.feedback_rcpts]
        rcpts += [_addr(b.get("original-rcpt-to")) for b in parts.feedback]
        if not any(rcpts):
            for h in parts.original_headers:
                rcpts = [_addr(_header(h, "To"))]
                if rcpts[0]:
                    break
        words = re.sub(r"\s+", " ", text).strip()[:2000]
        unique = list(dict.fromkeys(a for a in rcpts if a)) or [""]
        fb = tuple(
            FailedRecipient(a, None, None, None, words, None, "feedback", "ignore", False, None)
            for a in unique[:200]
        )
        return Analysis("feedback", fb, mid, subject)

    if parts.status_blocks:
        rcpts = _from_dsn(parts, text, lambda: _from_gateway(raw))
        if rcpts:
            kind = _kind_from_actions(rcpts)
            # A mixed report keeps every recipient in the report's order, as the report
            # states them: the delivered ones marked as such, the delayed ones still
            # delayed. Counting skips both (bounce_report.summarise).
            rcpts = [
                _delivered(r) if (r.action or "failed") in _SUCCESS_ACTIONS else r for r in rcpts
            ]
            return Analysis(kind, tuple(rcpts), mid, subject)

    # A report forwarded as an attachment (by a user or a gateway): the report is the bounce.
    if depth < 2:
        for h in parts.original_headers:
            inner = getattr(h, "inner_raw", None)
            if inner and content_type(h)[0] == "multipart/report":
                nested = _analyse(inner, depth + 1)
                if nested.kind != "not-bounce":
                    return nested

    notice = _list_notice(raw, subject, text) if _LIST_REFUSAL.search(subject) else None
    if notice is not None:
        return Analysis("bounce", (notice,), mid, subject)

    low = text.lower()
    signs = sum(
        (
            bool(_BOUNCE_FROM.search(sender)),
            bool(_BOUNCE_SUBJECT.search(subject)),
            bool(_BOUNCE_TEXT.search(low)),
            bool(parts.original_headers or parts.original_text),
        )
    )
    looks_bounce = signs >= 2
    if looks_bounce:
        skip = {_addr(sender)}

        def gateway() -> bool:  # read the header block only if a rule asks
            return _from_gateway(raw)

        # The bounce goes to the original sender; a reply quoting that address ("550 5.2.0
        # <sender@...> From: domain is invalid") belongs to the recipient above it, unless
        # the sender is the only address named (mail to oneself).
        own = _addr(_header(msg, "To")).lower()
        found = recipients(text, skip | {own}, sure=signs >= 3)
        if not found and own:
            found = recipients(text, skip, sure=signs >= 3)
        if not found:
            # a status line naming the address: "[Status: Error, Address: <a@b>, ...]"
            m = _ADDRESS_FIELD.search(text)
            if m:
                found = [(m.group(1), text[m.start() : m.start() + 2000])]
        if not found:
            for h in parts.original_headers:
                to = _addr(_header(h, "To"))
                if to:
                    found = [(to, text)]
                    break
        if not found:
            m = re.search(r"^To:\s*(.+)$", parts.original_text, re.I | re.M)
            if m and _addr(m.group(1)):
                found = [(_addr(m.group(1)), text)]
        if found:
            delayed = bool(_DELAY_TEXT.search(low)) and not _BOUNCE_TEXT.search(
                low.replace("not yet been delivered", "")
            )
            action = "delayed" if delayed else "failed"
            rcpts = [
                _recipient(
                    a,
                    action,
                    None,
                    None,
                    d,
                    find_remote_host(d),
                    _words_before(text, d) if len(d.strip()) <= len(a) + 8 else "",
                    gateway,
                )
                for a, d in found
            ]
            if len(found) == 1 and rcpts[0].reason == "onhold" and len(text) < 4000:
                # the lines after the only address name no cause (a "Message details"
                # list); a short report's words above it say why (Verizon: "Error: Invalid
                # user address ... no such user here")
                a, d = found[0]
                rcpts = [_recipient(a, action, None, None, text, find_remote_host(d), "", gateway)]
            return Analysis("delay" if delayed else "bounce", tuple(rcpts), mid, subject)

    # Apple Mail sends this when its user presses "unsubscribe": the recipient opting out
    # of the sender's mail, which Sisimai and ARF count as feedback, not an auto-reply.
    if _header(msg, "X-Apple-Unsubscribe").lower() == "true":
        words = re.sub(r"\s+", " ", text).strip()[:500]
        r = FailedRecipient(
            _addr(sender), None, None, None, words, None, "feedback", "ignore", False, None
        )
        return Analysis("feedback", (r,), mid, subject)

    auto = _header(msg, "Auto-Submitted").lower()
    if (
        auto.startswith("auto-replied")
        or _header(msg, "X-Autoreply")
        or _header(msg, "X-Autorespond")
        or _AUTOREPLY_SUBJECT.search(subject)
        or _header(msg, "Precedence").lower() == "auto_reply"
    ):
        who = _addr(sender)
        r = FailedRecipient(
            who,
            None,
            None,
            None,
            re.sub(r"\s+", " ", text).strip()[:500],
            None,
            "vacation",
            "ignore",
            False,
            None,
        )
        return Analysis("autoreply", (r,), mid, subject)
    return Analysis("not-bounce", (), mid, subject)


def analyse(raw: bytes) -> Analysis:
    """Analyse one raw message. Never raises; an unreadable message is ``not-bounce``."""
    try:
        return _analyse(raw)
    except Exception:
        return Analysis("not-bounce", (), None)


def deduplicate(
    items: Iterable[Analysis],
) -> list[tuple[str | None, FailedRecipient]]:
    """One (original message id, recipient) per original message and recipient address.

    A bounce sent twice (or kept in two folders) would otherwise count twice; bounces whose
    original has no Message-ID cannot be matched and are all kept.
    """
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str | None, FailedRecipient]] = []
    for a in items:
        for r in a.recipients:
            if a.original_message_id:
                key = (a.original_message_id, r.recipient.lower())
                if key in seen:
                    continue
                seen.add(key)
            out.append((a.original_message_id, r))
    return out
