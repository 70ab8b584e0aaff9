"""Received header values -> hops, and where the receiving side's trustworthy record begins.

Every MTA writes Received lines its own way (RFC 5321 section 4.4 only fixes the clause
keywords ``from``, ``by``, ``via``, ``with``, ``id``, ``for`` and the date after ``;``). So the
value is first split into top-level *words* and *comments* (parenthesised text, nesting counted,
not recursed), by one linear regular-expression scan; the clauses are then read word by word.
No pattern here nests quantifiers, and every repeat is bounded, so hostile input costs time
linear in its (capped) length.

Where each MTA puts the client address, in brief:

- Postfix ``from HELO (rdns [ip])``, rdns ``unknown`` when it has none, ``[IPv6:...]``.
- Sendmail ``from HELO (ident@rdns [ip] (may be forged))``; ``from HELO ([ip])``.
- Exim ``from rdns ([ip]:port helo=HELO)`` or ``from [ip] (helo=HELO)``: the from-name is the
  verified reverse name, not the HELO.
- qmail / qpsmtpd / Yahoo ``from rdns (HELO x) (ip)``; Yahoo writes ``(EHLO [a]) ([b])``, where
  ``a`` is the client's claim and ``b`` the address it connected from.
- Exchange ``from NAME (ip) by NAME (ip) with Microsoft SMTP Server ...`` with bare addresses,
  ``::ffff:`` mapped IPv4 and link-local ``%zone`` ids.
- ZMailer ``from rdns ([ip]:port "EHLO x" ident: "...")``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

__all__ = [
    "MAX_VALUE_CHARS",
    "Hop",
    "normalise_ip",
    "parse_chain",
    "parse_received",
    "unfold",
]

#: A single Received value longer than this is cut: real ones stay under 1 KiB.
MAX_VALUE_CHARS = 8192


@dataclass(frozen=True)
class Hop:
    """One Received line: what the receiving host (``by``) says about its client.

    ``from_name`` is the word after ``from`` as written (a HELO for Postfix/Sendmail, the
    reverse name for Exim/qmail); ``helo`` and ``rdns`` are the separated readings, None when
    the line does not state them (``unknown`` reverse names are None). ``ip`` is canonical
    (see :func:`normalise_ip`) and always read from the text, never resolved. ``timestamp`` is
    aware; a ``-0000`` zone is read as UTC.
    """

    raw: str
    from_name: str | None
    helo: str | None
    rdns: str | None
    ip: str | None
    by: str | None
    protocol: str | None
    authenticated: bool
    id: str | None
    envelope_for: str | None
    timestamp: datetime | None
    forged_hint: bool


# --- lexing -------------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_STRAY_EOL = re.compile(r"[\r\n]")
_PARENS = re.compile(r"([()])")
_KEYWORDS = frozenset({"from", "by", "via", "with", "id", "for"})
_BRACKET = re.compile(r"\[([^\[\]\s]{1,64})\](?::\d{1,5})?")
_BARE_IP = re.compile(r"(?<![\w:.%\[])(?:IPv6:)?([0-9A-Fa-f:.]{2,45})(?:%[\w.-]{1,20})?(?![\w:\]])")
_HELO = re.compile(r"\b(?:HELO|EHLO|LHLO)(?:=|\s{1,5})\"?([^\s)\"]{1,255})", re.IGNORECASE)
_HELO_FIRST = re.compile(r"(?:HELO|EHLO|LHLO)\b", re.IGNORECASE)
_FORGED = re.compile(r"may be forged|forged\?|\bforged\b", re.IGNORECASE)
_AUTH_COMMENT = re.compile(
    r"authenticated sender|\bauthenticated\b|\bauth(?:=|:|\s+as\b)|\baccount\s"
    r"|\bsmtp-auth\b|\bAUTH\s",
    re.IGNORECASE,
)
_AUTH_PROTOCOLS = re.compile(r"^(?:E?SMTPS?A|LMTPS?A|UTF8SMTPS?A|mapi|HTTPS?)$", re.IGNORECASE)
_AUTH_ANYWHERE = re.compile(r"authenticated sender|\(authenticated", re.IGNORECASE)
_ADDRESS_CHARS = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_COMMENT_IN_DATE = re.compile(r"\([^()]{0,200}\)")
_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)\.\d{1,9}")
_V4_PORT_DOT = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,5}$")
_V4_PORT_COLON = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):\d{1,5}$")


def normalise_ip(text: str) -> str | None:
    """Return ``text`` as a canonical address, or None if it is not one.

    Accepts the decorations MTAs add: ``IPv6:`` prefix, ``%zone`` id, ``:port`` or ``.port``
    after IPv4, ``::ffff:`` mapping (returned as the IPv4 address, since that is what a
    blocklist knows).
    """
    s = text.strip().strip("[]")
    if s[:5].lower() == "ipv6:":
        s = s[5:]
    s = s.split("%", 1)[0]
    m = _V4_PORT_DOT.match(s) or _V4_PORT_COLON.match(s)
    if m:
        s = m.group(1)
    if not _ADDRESS_CHARS.fullmatch(s):
        return None  # cheap refusal: most words are names, not addresses
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def unfold(value: str) -> str:
    value = value[:MAX_VALUE_CHARS]
    if "\n" in value or "\r" in value:
        # RFC 5322 2.2.3: unfolding removes CRLF before WSP (the WSP stays). A bare line
        # break elsewhere is malformed; it becomes a space so no two words ever join.
        value = _STRAY_EOL.sub(" ", _FOLD.sub("", value))
    return value.strip()


def _lex(text: str) -> list[tuple[bool, str]]:
    """Split into (is_comment, text) items; comment text is the inside of the outer parens.

    An unclosed comment runs to the end; a stray ``)`` at top level is dropped.
    """
    items: list[tuple[bool, str]] = []
    if "(" not in text:
        return [(False, word) for word in text.replace(")", " ").split()]
    depth = 0
    inside: list[str] = []
    for part in _PARENS.split(text):
        if part == "(":
            if depth:
                inside.append(part)
            depth += 1
        elif part == ")":
            if depth == 0:
                continue
            depth -= 1
            if depth:
                inside.append(part)
            else:
                items.append((True, "".join(inside)))
                inside = []
        elif depth:
            inside.append(part)
        else:
            items.extend((False, word) for word in part.split())
    if depth:
        items.append((True, "".join(inside)))
    return items


def _clauses(items: list[tuple[bool, str]]) -> dict[str, list[tuple[bool, str]]]:
    """Group items under the first occurrence of each clause keyword (later repeats are text)."""
    clauses: dict[str, list[tuple[bool, str]]] = {"": []}
    current = ""
    for is_comment, text in items:
        low = text.lower() if not is_comment and len(text) <= 4 else ""
        if low in _KEYWORDS and low not in clauses:
            current = low
            clauses[current] = []
        else:
            clauses[current].append((is_comment, text))
    return clauses


# --- the from clause ----------------------------------------------------------------------


def _first_word(items: list[tuple[bool, str]]) -> str | None:
    for is_comment, text in items:
        if not is_comment:
            return text
        return None
    return None


def _is_literal(word: str) -> bool:
    return normalise_ip(word) is not None


def _comment_ip(comment: str) -> tuple[str | None, str | None]:
    """Client address in one from-clause comment, and the name written before it."""
    comment = _HELO.sub(" ", comment)  # the HELO argument is the client's claim
    m = _BRACKET.search(comment)
    if m:
        ip = normalise_ip(m.group(1))
        if ip:
            before = comment[: m.start()].split()
            name = before[-1] if before else None
            return ip, name
    words = comment.split()
    if not words:
        return None, None
    ip = normalise_ip(words[0].rstrip(",;").rsplit("@", 1)[-1])
    if ip:
        return ip, ""  # bare address: qmail/Exchange/smap, whose from-name is the client's name
    ip = normalise_ip(words[-1].rstrip(",;"))
    if ip and len(words) > 1:
        return ip, words[-2]  # "(name address)" without brackets
    return None, None


def _rdns_value(name: str | None) -> str | None:
    if not name:
        return None
    name = name.rsplit("@", 1)[-1].rstrip(".")
    if not name or name.lower() == "unknown" or _is_literal(name):
        return None
    return name


@dataclass
class _FromSide:
    from_name: str | None = None
    helo: str | None = None
    rdns: str | None = None
    ip: str | None = None
    forged: bool = False
    auth: bool = False


class _CommentFacts(NamedTuple):
    helo_named: bool  # a "HELO"-style comment named the HELO argument
    ip_name: str | None  # the name written beside the address in its comment, if any
    helo_eq: bool  # the address stood in a comment with Exim's "helo="


def _read_comments(side: _FromSide, comments: list[str]) -> _CommentFacts:
    """Forged/authenticated marks, the HELO argument and the client address of comments."""
    helo_named = helo_eq = False
    ip_name: str | None = None
    for comment in comments:
        if _FORGED.search(comment):
            side.forged = True
        if _AUTH_COMMENT.search(comment):
            side.auth = True
        h = _HELO.search(comment)
        if h and side.helo is None:
            side.helo = h.group(1)
            helo_named = True
        if side.ip is None:
            if _HELO_FIRST.match(comment.lstrip()):
                continue  # Yahoo/qmail: the HELO argument is a claim, not the client
            ip, before = _comment_ip(comment)
            if ip:
                side.ip = ip
                ip_name = before
                helo_eq = "helo=" in comment.lower()
    return _CommentFacts(helo_named, ip_name, helo_eq)


def _bare_ip(words: list[str]) -> str | None:
    """Exim "[ip] (helo=x)", GMX "(EHLO x) [ip]", or a bare literal from-name."""
    for word in words:
        ip = normalise_ip(word) if word.startswith("[") or _is_literal(word) else None
        if ip:
            return ip
    return None


def _name_roles(side: _FromSide, name: str | None, facts: _CommentFacts, exim: bool) -> None:
    """Who is the from-name? With a "HELO"-style comment (qmail, Yahoo, Exim helo=) the
    from-name is the reverse name; in Postfix/Sendmail style it is the HELO argument."""
    ip_name = facts.ip_name
    if facts.helo_named or facts.helo_eq:
        side.rdns = _rdns_value(name)
    elif ip_name == "":
        side.rdns = _rdns_value(name)
        side.helo = name
    elif ip_name is not None and ip_name.lower() not in {"helo", "ehlo"}:
        side.rdns = _rdns_value(ip_name)
        side.helo = name
    elif exim:
        side.rdns = _rdns_value(name)
        side.helo = name
    else:
        side.helo = name


def _read_from(items: list[tuple[bool, str]], exim: bool) -> _FromSide:
    side = _FromSide()
    first = items[0] if items else None
    name = first[1] if first and not first[0] else None
    side.from_name = name
    facts = _read_comments(side, [t for c, t in items if c])
    if side.ip is None:
        side.ip = _bare_ip([t for c, t in items if not c])
    _name_roles(side, name, facts, exim)
    return side


# --- the rest ---------------------------------------------------------------------------


def _parse_date(text: str) -> datetime | None:
    text = text[:300]
    if "(" in text:
        text = _COMMENT_IN_DATE.sub(" ", text)
    if "." in text:
        text = _FRACTION.sub(r"\1", text)  # "07:53:55.516": email.utils wants whole seconds
    text = text.strip()
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # "-0000": UTC, source zone unknown (RFC 5322 3.3)
    return when


def _protocol(items: list[tuple[bool, str]]) -> str | None:
    word = _first_word(items)
    if not word:
        return None
    return word.split("/", 1)[0].rstrip(";,") or None


def parse_received(value: str) -> Hop | None:
    """Parse one Received value; None when it holds nothing usable.

    Never raises: every step tolerates malformed text (the fuzz tests hold it to that) rather
    than a catch-all hiding bugs.
    """
    if not isinstance(value, str):
        return None
    raw = unfold(value)
    head, sep, tail = raw.rpartition(";")
    timestamp = _parse_date(tail) if sep else None
    if not sep:
        head = raw
    items = _lex(head)
    if items and items[0][0] and items[0][1].lstrip()[:5].lower() == "from ":
        # "(from user@host) by ..." (sendmail submit, some gateways): the from clause was
        # written inside a comment.
        items = _lex(items[0][1]) + items[1:]
    clauses = _clauses(items)
    by_items = clauses.get("by", [])
    by = _first_word(by_items)
    by_comments = " ".join(t for c, t in by_items if c)
    with_items = clauses.get("with", [])
    protocol = _protocol(with_items) or _protocol(clauses.get("via", []))
    exim = "exim" in by_comments.lower() or "exim" in " ".join(t for _, t in with_items).lower()
    side = _read_from(clauses.get("from", []), exim) if "from" in clauses else _FromSide()
    authenticated = (
        side.auth
        or bool(protocol and _AUTH_PROTOCOLS.match(protocol))
        or bool(_AUTH_ANYWHERE.search(raw))
    )
    ident = _first_word(clauses.get("id", []))
    envelope_for = _first_word(clauses.get("for", []))
    hop = Hop(
        raw=raw,
        from_name=side.from_name,
        helo=side.helo,
        rdns=side.rdns,
        ip=side.ip,
        by=by.rstrip(".") if by else None,
        protocol=protocol,
        authenticated=authenticated,
        id=ident.strip("<>").rstrip(";,") if ident else None,
        envelope_for=envelope_for.strip("<>;,") if envelope_for else None,
        timestamp=timestamp,
        forged_hint=side.forged,
    )
    if not any((hop.from_name, hop.ip, hop.by, hop.id, hop.timestamp, hop.protocol)):
        return None
    return hop


def parse_chain(headers: Iterable[str]) -> list[Hop]:
    """Parse Received values given top-first (as in the message); return origin-first hops."""
    hops = [hop for hop in map(parse_received, headers) if hop is not None]
    hops.reverse()
    return hops
