"""Detectors for the recipient side's automatic answers: none of them is a bounce.

* Challenge-response and whitelist systems (Boxbe, Bluebottle, TMDA, "confirm this mail
  server" pages) hold the message until the sender proves itself; the message is neither
  delivered nor refused for good. Some send a DSN-shaped report (Boxbe), so this detector
  runs before the RFC 3464 one.
* RFC 8098 message disposition notifications (MDN, "read receipts"): the message arrived.
* RFC 3834 auto-replies (vacation, out of office), recognised by their headers, by the
  null return path of section 3.3 with a Precedence field, or by a subject that says so
  in one of the languages mail clients write it in.
"""

from __future__ import annotations

import re

from mailrep.bounce.model import Analysis, FailedRecipient
from mailrep.bounce.reading import Reading, address, collapse, header
from mailrep.bounce.reasons import Reason

# Words that ask the sender to prove itself before the message is let through: the
# challenge of a challenge-response system, not a refusal. Boxbe's "Sender not
# pre-approved" and "waitlisted" (its DSN), Bluebottle's "added to the recipient's allowed
# list", a provider's "Your server requires confirmation ... confirm this mail server".
# Not "whitelist" alone: blocklist refusals invite the sender to ask for whitelisting.
_CHALLENGE = re.compile(
    r"sender not pre-?approved|has been wait-?listed|\bguest list\b|"
    r"requires confirmation|confirm (?:this|your) (?:mail ?server|e-?mail address|address|"
    r"identity|message)|verify (?:that you are|yourself|your (?:e-?mail|address|identity))|"
    r"added to (?:the recipient's|my|our) (?:allowed|approved|safe|trusted) (?:senders? )?list"
)
# Challenge systems' own stamps: Boxbe's Diagnostic-Code type, Bluebottle's and TMDA's
# header fields.
_BOXBE_NOTICE = "x-boxbe-notice"


def _stamped(r: Reading) -> bool:
    if header(r.msg, "X-Bluebottle-Request"):
        return True
    return header(r.msg, "X-Delivery-Agent").lower().startswith("tmda")


def _diagnostics(r: Reading) -> list[tuple[str, str]]:
    """(recipient, Diagnostic-Code) of each recipient group of the report's DSN."""
    out = []
    for group in r.parts.status_blocks:
        for block in group:
            rcpt = address(block.get("final-recipient") or block.get("original-recipient"))
            if rcpt:
                out.append((rcpt, block.get("diagnostic-code", "")))
    return out


def _answer(who: str, words: str, reason: Reason) -> FailedRecipient:
    return FailedRecipient(who, None, None, None, words, None, reason, reason.cause, False, None)


def challenge(r: Reading) -> Analysis | None:
    """A challenge-response or whitelist system's hold on the message (see module doc)."""
    diags = _diagnostics(r)
    if diags:
        held = all(
            d.lower().startswith(_BOXBE_NOTICE) or _CHALLENGE.search(d.lower()) for _, d in diags
        )
        who = [a for a, _ in diags]
    else:
        held = _stamped(r) or bool(_CHALLENGE.search(r.text[:16_384].lower()))
        who = [address(r.sender)]
    if not held:
        return None
    words = collapse(r.text, 500)
    rcpts = tuple(_answer(a, words, Reason.VACATION) for a in who[:200])
    return Analysis("challenge", rcpts, r.mid, r.subject)


def disposition_notification(r: Reading) -> Analysis | None:
    """An RFC 8098 MDN: the recipient's client says what became of the delivered message."""
    if r.parts.report_type != "disposition-notification" and not r.parts.dispositions:
        return None
    who = [address(b.get("final-recipient")) for b in r.parts.dispositions]
    who = [a for a in who if a] or [address(r.sender)]
    words = collapse(r.text, 500)
    rcpts = tuple(_answer(a, words, Reason.DELIVERED) for a in who[:200])
    return Analysis("mdn", rcpts, r.mid, r.subject)


# A subject that calls the message an automatic reply. "Auto:" is the prefix RFC 3834
# suggests for a response's Subject field; the rest are the words clients and servers
# write: "Automatic reply", "Out of office", and the same in German, French, Spanish,
# Italian, Portuguese, Dutch, Polish, Czech, Hungarian, Finnish, the Scandinavian
# languages, Russian, Japanese and Chinese.
_AUTOREPLY_SUBJECT = re.compile(
    r"^\s*auto:|out of (?:the )?office|\bautoresponder\b|vacation|abwesenheit|away from|"
    r"auto(?:matic|matische|matique|m[aá]tica|m[aá]tico|matisch|matyczna|matick[aáé]|"
    r"matikus|maattinen)?[- ]?(?:re(?:ply|sponse)|antwort|odpowied|odpov[eě]|v[aá]lasz|"
    r"vastaus|svar)|"
    r"(?:r[ée]ponse|respuesta|risposta|resposta|antwoord)\s+autom[aá]ti|"
    r"автоответ|автоматический ответ|自動応答|自動返信|自动回复",
    re.I,
)
# A Precedence field that asks others not to answer (bulk, junk), on a message sent with
# the null return path RFC 3834 section 3.3 asks a responder to use: an auto-responder's
# answer, not a list's traffic (which has a return path for its bounces).
_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply"})


def _null_return_path(r: Reading) -> bool:
    return header(r.msg, "Return-Path").replace(" ", "") == "<>"


def auto_reply(r: Reading) -> Analysis | None:
    """RFC 3834 auto-replies (and the common vacation forms): not bounces."""
    msg = r.msg
    auto = header(msg, "Auto-Submitted").lower()
    precedence = header(msg, "Precedence").strip().lower()
    if not (
        auto.startswith("auto-replied")
        or header(msg, "X-Autoreply")
        or header(msg, "X-Autorespond")
        or _AUTOREPLY_SUBJECT.search(r.subject_text)
        or precedence == "auto_reply"
        or (precedence in _PRECEDENCE and _null_return_path(r))
    ):
        return None
    rcpt = _answer(address(r.sender), collapse(r.text, 500), Reason.VACATION)
    return Analysis("autoreply", (rcpt,), r.mid, r.subject)
