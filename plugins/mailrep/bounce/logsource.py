"""An MTA log as a bounce source: every bounce and deferral judged like a bounce message.

The sending MTA logs each refusal with the remote's reply, days before a bounce (Postfix
retries a 4xx for up to five days). Each ``bounced``/``deferred``/``expired`` event is
judged by the bounce analyser's own per-recipient rules (:func:`mailrep.bounce.recipient.build`:
status, reply code, reason, cited blocklist and address), from the remote's reply text, as
it would judge the same words in a DSN's Diagnostic-Code.

Queue ids tie the attempts together: a recipient deferred three times and then bounced is
one bounce (its last deferral's words stand in when the bounce line has none, as Exim's
"retry timeout exceeded" and Postfix's expiry do); one deferred and then delivered is sent.
A deferral that cites a blocklist is kept (once per queued recipient) unless the recipient
bounced later: mail is being refused now. Memory holds only recipients still deferred and
the records reported; judgements of identical reply texts are shared.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from mailrep.bounce.citation import cite
from mailrep.bounce.model import FailedRecipient
from mailrep.bounce.recipient import Said, build
from mailrep.bounce.tally import BounceRecord, BounceSummary


class Delivery(Protocol):
    """A delivery event as the MTA log readers give it (mailrep.mail.maillog.Delivery);
    an event whose ``status`` is ``unparsed`` stands for a line that could not be read."""

    @property
    def stamp(self) -> datetime | None: ...
    @property
    def queue_id(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def dsn(self) -> str | None: ...
    @property
    def remote(self) -> str | None: ...
    @property
    def reply(self) -> str: ...
    @property
    def local(self) -> bool: ...
    def _replace(self, **changes: Any) -> Delivery: ...


#: Judgements kept for reuse, by (action, status, reply with the address stood in for).
CACHE_SIZE = 4096


class LogOutcome(NamedTuple):
    summary: BounceSummary  # records: one per bounced recipient
    deferrals: list[BounceRecord]  # blocklist deferrals of recipients that did not bounce
    sent: int
    deferred: int  # recipients still deferred at the end
    lines: int  # delivery events read in the window
    unparsed: int


#: Stands in for the recipient's own address inside a reply, so that "550 5.1.1 <bob@...>:
#: User unknown" is judged once for every bob. The rules read words, not whose address it is;
#: the remote host's name is not read by them at all.
PLACEHOLDER = "recipient@address.invalid"


def _stand_in(text: str, rcpt: str) -> str:
    """``text`` with every spelling of ``rcpt`` (lower case) replaced by the placeholder
    (the same object when it holds none). Plain searches: a pattern compiled per address
    was a third of the run on a large log."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: let re align it
        return re.sub(re.escape(rcpt), PLACEHOLDER, text, flags=re.I)
    at = low.find(rcpt)
    if at < 0:
        return text
    out: list[str] = []
    last = 0
    while at >= 0:
        out += (text[last:at], PLACEHOLDER)
        last = at + len(rcpt)
        at = low.find(rcpt, last)
    out.append(text[last:])
    return "".join(out)


class _Judge:
    """The analyser's per-recipient rules with a bounded cache of identical texts."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str | None, str, str], FailedRecipient] = {}

    def __call__(self, ev: Delivery, action: str, reply: str | None = None) -> FailedRecipient:
        text = ev.reply if reply is None else reply
        rcpt = ev.recipient.lower()
        # a text too short to say anything but the address is judged with its address
        short = len(text) <= len(rcpt) + 4 or len(rcpt) < 3
        generic = text if short else _stand_in(text, rcpt)
        key = (action, ev.dsn, generic, rcpt if short else "")
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            found = build(Said(rcpt if short else PLACEHOLDER, action, ev.dsn, generic, None))
            self._cache[key] = found
        diagnostic = found.diagnostic
        if generic is not text:
            diagnostic = diagnostic.replace(PLACEHOLDER, rcpt)
        return dataclasses.replace(
            found, recipient=rcpt, diagnostic=diagnostic, remote_host=ev.remote
        )


_REPLY_CODE = ("2", "4", "5")


def _has_reply(text: str) -> bool:
    return text[:1] in _REPLY_CODE and text[1:3].isdigit()


class _State:
    def __init__(self, label: str) -> None:
        self.label = label
        self.judge = _Judge()
        self.pending: dict[str, dict[str, Delivery]] = {}  # queue id -> rcpt -> last deferral
        self.blocked: dict[tuple[str, str], BounceRecord] = {}
        self.records: list[BounceRecord] = []
        self.bounced: set[tuple[str, str]] = set()
        self.sent = 0

    def record(self, ev: Delivery, rcpt: FailedRecipient) -> BounceRecord:
        return BounceRecord(f"{self.label}:{ev.queue_id}", ev.stamp, rcpt)

    def deferred(self, ev: Delivery) -> None:
        rcpt = ev.recipient.lower()
        queued = self.pending.setdefault(ev.queue_id, {})
        earlier = queued.get(rcpt)
        if earlier is not None and _has_reply(earlier.reply) and not _has_reply(ev.reply):
            # "retry time not reached": the remote's last words still say why it waits
            ev = ev._replace(reply=earlier.reply, remote=earlier.remote, dsn=ev.dsn or earlier.dsn)
        queued[rcpt] = ev
        if cite(ev.reply) is None:
            return  # judged only if it bounces: a deferral counts here when it cites a list
        judged = self.judge(ev, "delayed")
        if judged.citation is not None:
            self.blocked[(ev.queue_id, rcpt)] = self.record(ev, judged)

    def finished(self, ev: Delivery) -> Delivery | None:
        """Drop the recipient from the queue; its last deferral, if any."""
        queued = self.pending.get(ev.queue_id)
        if queued is None:
            return None
        earlier = queued.pop(ev.recipient.lower(), None)
        if not queued:
            del self.pending[ev.queue_id]
        return earlier

    def bounce(self, ev: Delivery, earlier: Delivery | None) -> None:
        key = (ev.queue_id, ev.recipient.lower())
        if key in self.bounced:
            return
        self.bounced.add(key)
        self.blocked.pop(key, None)
        reply = ev.reply
        if earlier is not None and earlier.reply and not _has_reply(reply):
            # "retry timeout exceeded", an expiry: the last refusal says why
            reply = f"{earlier.reply} ({reply})" if reply else earlier.reply
            ev = ev._replace(remote=ev.remote or earlier.remote, dsn=ev.dsn or earlier.dsn)
        self.records.append(self.record(ev, self.judge(ev, "failed", reply)))

    def expired(self, ev: Delivery) -> None:
        for last in self.pending.pop(ev.queue_id, {}).values():
            self.bounce(last._replace(stamp=ev.stamp, reply="expired in the queue"), last)


def read_log(
    events: Iterable[Any],
    since: datetime | None,
    label: str,
    *,
    include_local: bool = False,
) -> LogOutcome:
    """Judge every event at or after ``since``; ``label`` names the log in record sources."""
    state = _State(label)
    lines = unparsed = 0
    for ev in events:
        if ev.status == "unparsed":
            unparsed += 1
            continue
        if (ev.local and not include_local) or (
            since is not None and (ev.stamp is None or ev.stamp < since)
        ):
            continue
        lines += 1
        if ev.status == "expired":
            state.expired(ev)
        elif ev.status == "deferred":
            state.deferred(ev)
        elif ev.status == "bounced":
            state.bounce(ev, state.finished(ev))
        else:
            state.finished(ev)
            state.sent += 1
    still = sum(len(q) for q in state.pending.values())
    summary = BounceSummary(state.records, lines, still, 0, 0)
    return LogOutcome(summary, list(state.blocked.values()), state.sent, still, lines, unparsed)
