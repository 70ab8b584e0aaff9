"""The plain-text detector: bounces without RFC 3464 fields (qmail, old Sendmail, Exim
without DSN, Exchange and provider forms).

A message is taken for one when at least two signs agree (a daemon sender, a failure
subject, failure wording, a returned original); its recipients are the addresses its lines
name (see ``text.recipients``), or, failing those, the address the returned original was
sent to.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mailrep.bounce.model import Analysis
from mailrep.bounce.reading import Reading, address, header
from mailrep.bounce.reasons import Reason
from mailrep.bounce.recipient import Said, build
from mailrep.bounce.text import ADDR, find_remote_host, recipients

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
_ADDRESS_FIELD = re.compile(r"\baddress:\s*<(" + ADDR + r")>", re.I)
_ORIGINAL_TO = re.compile(r"^To:\s*(.+)$", re.I | re.M)

Found = list[tuple[str, str]]  # (address, its words)


def _signs(r: Reading, low: str) -> int:
    return sum(
        (
            bool(_BOUNCE_FROM.search(r.sender)),
            bool(_BOUNCE_SUBJECT.search(r.subject)),
            bool(_BOUNCE_TEXT.search(low)),
            bool(r.parts.original_headers or r.parts.original_text),
        )
    )


def _recipient_lines(r: Reading, sure: bool) -> Found:
    # The bounce goes to the original sender; a reply quoting that address ("550 5.2.0
    # <sender@...> From: domain is invalid") belongs to the recipient above it, unless the
    # sender is the only address named (mail to oneself).
    skip = {address(r.sender).lower()}
    own = address(header(r.msg, "To")).lower()
    found = recipients(r.text, skip | {own}, sure=sure)
    if not found and own:
        found = recipients(r.text, skip, sure=sure)
    return found


def _address_field(r: Reading, sure: bool) -> Found:
    """A status line naming the address: "[Status: Error, Address: <a@b>, ...]"."""
    m = _ADDRESS_FIELD.search(r.text)
    return [(m.group(1), r.text[m.start() : m.start() + 2000])] if m else []


def _original_to(r: Reading, sure: bool) -> Found:
    """The returned original's To: the address that failed, when the text names none."""
    for h in r.parts.original_headers:
        to = address(header(h, "To"))
        if to:
            return [(to, r.text)]
    m = _ORIGINAL_TO.search(r.parts.original_text)
    if m and address(m.group(1)):
        return [(address(m.group(1)), r.text)]
    return []


# Where a plain-text bounce names its failed recipients, most specific first.
_FINDERS: tuple[Callable[[Reading, bool], Found], ...] = (
    _recipient_lines,
    _address_field,
    _original_to,
)


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


def _is_delay(low: str) -> bool:
    return bool(_DELAY_TEXT.search(low)) and not _BOUNCE_TEXT.search(
        low.replace("not yet been delivered", "")
    )


def plain_bounce(r: Reading) -> Analysis | None:
    low = r.text.lower()
    signs = _signs(r, low)
    if signs < 2:
        return None
    found: Found = []
    for finder in _FINDERS:
        found = finder(r, signs >= 3)
        if found:
            break
    if not found:
        return None
    delayed = _is_delay(low)
    action = "delayed" if delayed else "failed"
    text = r.text

    def said(a: str, d: str) -> Said:
        before = _words_before(text, d) if len(d.strip()) <= len(a) + 8 else ""
        return Said(a, action, None, d, find_remote_host(d), before, r.gateway)

    rcpts = [build(said(a, d)) for a, d in found]
    if len(found) == 1 and rcpts[0].reason is Reason.ONHOLD:
        # the lines after the only address name no cause (a "Message details" list); the
        # report's lead above it says why (Verizon: "Error: Invalid user address ... no
        # such user here"), however long the report runs on below (only its first 2000
        # characters are read)
        a, d = found[0]
        rcpts = [build(Said(a, action, None, text, find_remote_host(d), "", r.gateway))]
    return Analysis("delay" if delayed else "bounce", tuple(rcpts), r.mid, r.subject)
