"""One reply of one zone -> what it says: LISTED, POLICY, CLEAN or ERROR, and why.

The rules, in order:

* a question that failed (timeout, SERVFAIL, REFUSED, a truncated answer whose TCP retry
  failed, a malformed answer) is ERROR, never CLEAN;
* a CNAME chain that ends without an A record is ERROR: a list answers with A records, and
  a resolver that stopped half way has not told us "not listed";
* NXDOMAIN, or NOERROR without records, is CLEAN;
* an error answer the catalogue documents (Spamhaus 127.255.255.254, URIBL 127.0.0.1,
  anything outside 127/8) makes the whole answer ERROR: the list is not really answering;
* otherwise a documented listing (or policy) code makes it LISTED (or POLICY), even beside
  a code the catalogue does not document (shown with it);
* a code the catalogue does not document, alone, is ERROR ("undocumented answer"), shown
  raw: never a listing by default, and never good news either.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from mailrep.dns.resolver import Reply
from mailrep.dnsbl.catalogue import Answer, Meaning, Zone


class Status(StrEnum):
    LISTED = "listed"
    POLICY = "policy"
    CLEAN = "clean"
    ERROR = "error"
    BROKEN = "broken"


class Decoded(NamedTuple):
    status: Status
    answers: tuple[Answer, ...] = ()
    error: str = ""


def hard_errors(answers: tuple[Answer, ...]) -> list[Answer]:
    """The documented error answers (refusals, quota, answers outside 127/8)."""
    return [a for a in answers if a.meaning is Meaning.ERROR and a.documented]


def _listing(answers: tuple[Answer, ...]) -> Decoded:
    if any(a.meaning is Meaning.LISTING for a in answers):
        return Decoded(Status.LISTED, answers)
    if any(a.meaning is Meaning.POLICY for a in answers):
        return Decoded(Status.POLICY, answers)
    unknown = [a for a in answers if not a.documented]
    if unknown:
        codes = ", ".join(a.code for a in unknown)
        return Decoded(Status.ERROR, answers, f"undocumented answer {codes} ({unknown[0].label})")
    return Decoded(Status.CLEAN, answers)  # explicit "not listed" codes (whitelist answers)


def decode(zone: Zone, reply: Reply) -> Decoded:
    """Turn one reply into a status with the decoded answers, or the error it is."""
    if reply.error is not None:
        return Decoded(Status.ERROR, (), reply.error)
    if reply.cnames and not reply.records:
        chain = " -> ".join(reply.cnames)
        return Decoded(Status.ERROR, (), f"CNAME chain without a final A record (-> {chain})")
    if reply.rcode == "NXDOMAIN" or not reply.records:
        return Decoded(Status.CLEAN)
    answers = tuple(zone.decode(code) for code in reply.records)
    errors = hard_errors(answers)
    if errors:
        text = "error answer " + ", ".join(f"{a.code} ({a.label})" for a in errors)
        return Decoded(Status.ERROR, answers, text)
    return _listing(answers)
