"""The few bits of the DNS wire format a DNSBL client needs, without importing a DNS library.

Why not dnspython here: importing ``dns.message`` costs ~0.07 s and building/parsing a query
~0.16 ms of CPU; a check of one IP against 25 lists must start and finish in about one round
trip, and a /22 against 10 lists sends 10,000 queries. A DNSBL query is one question of
type A, AAAA or TXT, and the answer we need is the response code plus the A/AAAA/TXT rdata,
so a small, strict codec does it. It is cross-checked against dnspython in the tests and
fuzzed; anything it cannot read is reported as a malformed answer (an error), never as
"not listed".
"""

from __future__ import annotations

import functools
import ipaddress
import struct
from typing import NamedTuple

TYPE_A = 1
TYPE_CNAME = 5
TYPE_PTR = 12
TYPE_TXT = 16
TYPE_AAAA = 28
CLASS_IN = 1

RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
}

_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")


class WireError(ValueError):
    """A response we cannot trust to be well formed."""


def encode_name(name: str) -> bytes:
    """Absolute name -> wire labels; rejects labels over 63 octets and names over 255."""
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not raw or len(raw) > 63:
            raise WireError(f"bad label in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        raise WireError(f"name too long: {name!r}")
    return bytes(out)


def build_query(qid: int, name: str, rdtype: int, recursion: bool = True) -> bytes:
    """One-question query; RD set so the same code works against a recursive resolver."""
    flags = 0x0100 if recursion else 0
    return (
        _HEADER.pack(qid, flags, 1, 0, 0, 0)
        + encode_name(name)
        + struct.pack("!HH", rdtype, CLASS_IN)
    )


def question_bytes(query: bytes) -> bytes:
    """The question section of a query we built (everything after the header)."""
    return query[12:]


class Response(NamedTuple):
    """What a response says about our question."""

    qid: int
    rcode: int
    truncated: bool
    records: tuple[str, ...]  # A/AAAA as text addresses, TXT as joined strings, PTR as names
    cnames: tuple[str, ...] = ()  # the CNAME targets followed from the question name, in order

    @property
    def rcode_name(self) -> str:
        return RCODE_NAMES.get(self.rcode, f"RCODE{self.rcode}")


class MalformedAnswer(WireError):
    """A response to *our* question (id and question match) whose answer cannot be believed.

    Unlike a stray packet, which is ignored while the real answer may still come, this is the
    server's answer and it is wrong: the question fails with a "malformed answer" error.
    """


#: Longest CNAME chain followed; resolvers stop well before (Unbound at 11 by default).
MAX_CNAMES = 16

#: Answer-section types that may accompany an answer without being used (DNSSEC signatures
#: and the DNAME a CNAME was synthesised from).
_IGNORED_TYPES = frozenset({39, 46})  # DNAME, RRSIG


def response_id(wire: bytes) -> int | None:
    """The message id, or None for a packet too short to be DNS."""
    if len(wire) < 12:
        return None
    return (wire[0] << 8) | wire[1]


class _Record(NamedTuple):
    owner: tuple[bytes, ...]  # labels, lower-cased: names compare case-insensitively
    rtype: int
    start: int  # rdata position in the message
    length: int


def parse_response(wire: bytes, question: bytes) -> Response:
    """Decode a response to a query whose question section was ``question``.

    The question must be echoed exactly (case-insensitively): an answer to some other
    question (a stray or spoofed packet) is rejected with :class:`WireError` rather than
    believed. In an answer to our question every record must belong to it: class IN, owned
    by the question name or by a name a CNAME chain from it leads to, of the asked type (or
    CNAME on the way); anything else — another owner, a loop, an owner name that cannot be
    decoded — raises :class:`MalformedAnswer`, because believing it is how a stray record
    becomes "listed".
    """
    if len(wire) < 12:
        raise WireError("short packet")
    qid, flags, qdcount, ancount, _nscount, _arcount = _HEADER.unpack_from(wire)
    if not flags & 0x8000:
        raise WireError("not a response")
    rcode = flags & 0x000F
    truncated = bool(flags & 0x0200)
    pos = 12
    if qdcount == 1:
        qend = pos + len(question)
        if wire[pos:qend].lower() != question.lower():
            raise WireError("response is for another question")
        pos = qend
    elif qdcount == 0 and rcode != 0:
        # Some servers (and REFUSED/FORMERR paths) omit the question; nothing else to read.
        return Response(qid, rcode, truncated, ())
    else:
        raise WireError(f"{qdcount} questions in response")
    if ancount == 0:
        return Response(qid, rcode, truncated, ())  # NXDOMAIN and NODATA: most answers
    qtype = struct.unpack_from("!H", question, len(question) - 4)[0]
    qname = _question_name(question)
    try:
        found = _read_records(wire, pos, ancount, qname)
        records, cnames = _follow(wire, found, qname, qtype)
    except WireError as exc:
        if truncated:
            return Response(qid, rcode, truncated, ())  # cut short: the TCP retry tells
        raise MalformedAnswer(str(exc)) from None
    if records and rcode == 3:
        raise MalformedAnswer("NXDOMAIN with answer records")
    return Response(qid, rcode, truncated, tuple(records), tuple(cnames))


@functools.lru_cache(maxsize=1024)
def _question_name(question: bytes) -> tuple[bytes, ...]:
    return _labels(question, 0)[0]


def _read_records(wire: bytes, pos: int, count: int, qname: tuple[bytes, ...]) -> list[_Record]:
    found: list[_Record] = []
    for _ in range(count):
        if wire[pos : pos + 2] == b"\xc0\x0c":  # a pointer to the question name we checked
            owner, pos = qname, pos + 2
        else:
            owner, pos = _labels(wire, pos)
        if pos + _RR_FIXED.size > len(wire):
            raise WireError("truncated record")
        rtype, rclass, _ttl, rdlen = _RR_FIXED.unpack_from(wire, pos)
        pos += _RR_FIXED.size
        if pos + rdlen > len(wire):
            raise WireError("truncated rdata")
        if rclass != CLASS_IN:
            raise WireError(f"answer record of class {rclass}, not IN")
        found.append(_Record(owner, rtype, pos, rdlen))
        pos += rdlen
    return found


def _follow(
    wire: bytes, found: list[_Record], qname: tuple[bytes, ...], qtype: int
) -> tuple[list[str], list[str]]:
    """The records of the asked type at the end of the CNAME chain from ``qname``, and the
    chain; every other record must be one the answer may carry unused."""
    current, seen, cnames = qname, [qname], []
    used: set[int] = set()
    has_cname = any(r.rtype == TYPE_CNAME for r in found)
    for _ in range(MAX_CNAMES + 1 if has_cname else 0):
        links = [i for i, r in enumerate(found) if r.rtype == TYPE_CNAME and r.owner == current]
        if not links:
            break
        if len(links) > 1:
            raise WireError(f"several CNAMEs for {_text(current)}")
        used.add(links[0])
        target = _rdata_name(wire, found[links[0]])
        if target in seen:
            chain = " -> ".join(_text(n) for n in [*seen, target])
            raise WireError(f"CNAME loop: {chain}")
        seen.append(target)
        cnames.append(_text(target))
        current = target
    else:
        if has_cname:
            raise WireError(f"CNAME chain longer than {MAX_CNAMES}")
    records: list[str] = []
    for i, r in enumerate(found):
        if r.rtype == qtype and r.owner == current:
            used.add(i)
            records.append(_decode_record(wire, r))
    for i, r in enumerate(found):
        if i in used or r.rtype in _IGNORED_TYPES:
            continue
        if r.rtype in (qtype, TYPE_CNAME):
            raise WireError(
                f"answer record owned by {_text(r.owner)} does not match the question "
                f"{_text(current)}"
            )
        raise WireError(f"answer record of type {r.rtype} to a question of type {qtype}")
    return records, cnames


def _decode_record(wire: bytes, record: _Record) -> str:
    if record.rtype == TYPE_PTR:
        return _ptr_name(wire, record.start, record.start + record.length)
    return _decode_rdata(record.rtype, wire[record.start : record.start + record.length])


def _rdata_name(wire: bytes, record: _Record) -> tuple[bytes, ...]:
    """A name that fills the rdata (CNAME, PTR) and may point back into the message."""
    name, after = _labels(wire, record.start)
    if after != record.start + record.length:
        raise WireError("name does not fill its rdata")
    return name


def _text(labels: tuple[bytes, ...]) -> str:
    return ".".join(label.decode("ascii", "replace") for label in labels) + "."


def _labels(wire: bytes, pos: int, keep_case: bool = False) -> tuple[tuple[bytes, ...], int]:
    """Labels of a possibly compressed name at ``pos`` (lower-cased unless ``keep_case``)
    and the position after it *in place* (after the first pointer, if any).

    Pointers must point backwards (RFC 1035 4.1.4 compression only refers to earlier
    names), which also makes loops impossible — a pointer to itself is refused; the name is
    capped at 255 octets.
    """
    labels: list[bytes] = []
    end_pos: int | None = None
    total = 1
    limit = len(wire)
    for _ in range(128):
        if pos >= limit:
            raise WireError("name runs past the end")
        length = wire[pos]
        if length == 0:
            return tuple(labels), (pos + 1 if end_pos is None else end_pos)
        if length & 0xC0 == 0xC0:
            if pos + 1 >= limit:
                raise WireError("truncated pointer")
            target = ((length & 0x3F) << 8) | wire[pos + 1]
            if target >= pos:
                raise WireError("compression pointer does not point backwards")
            if end_pos is None:
                end_pos = pos + 2
            pos = target
            continue
        if length & 0xC0:
            raise WireError("bad label type")
        label = wire[pos + 1 : pos + 1 + length]
        if len(label) != length:
            raise WireError("label runs past the end")
        total += length + 1
        if total > 255:
            raise WireError("name too long")
        labels.append(label if keep_case else label.lower())
        pos += 1 + length
    raise WireError("too many labels")


def read_name(wire: bytes, pos: int) -> tuple[str, int]:
    """Decode a possibly compressed name at ``pos``; returns it (absolute, letters as
    sent) and the position after it *in place* (after the first pointer, if any)."""
    labels, after = _labels(wire, pos, keep_case=True)
    return _text(labels), after


def _ptr_name(wire: bytes, start: int, end: int) -> str:
    """PTR rdata is a name that may point back into the message (RFC 1035 3.3.12)."""
    name, after = read_name(wire, start)
    if after != end:
        raise WireError("PTR name does not fill its rdata")
    return name


def _decode_rdata(rtype: int, rdata: bytes) -> str:
    if rtype == TYPE_A:
        if len(rdata) != 4:
            raise WireError("A record of wrong length")
        return str(ipaddress.IPv4Address(rdata))
    if rtype == TYPE_AAAA:
        if len(rdata) != 16:
            raise WireError("AAAA record of wrong length")
        return str(ipaddress.IPv6Address(rdata))
    if rtype == TYPE_TXT:
        parts: list[str] = []
        i = 0
        while i < len(rdata):
            n = rdata[i]
            chunk = rdata[i + 1 : i + 1 + n]
            if len(chunk) != n:
                raise WireError("truncated TXT string")
            parts.append(chunk.decode("utf-8", "replace"))
            i += 1 + n
        return "".join(parts)
    raise WireError(f"unexpected type {rtype}")
