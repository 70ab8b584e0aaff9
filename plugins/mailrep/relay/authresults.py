"""Authentication-Results (RFC 8601): what the receiving side concluded about SPF, DKIM, DMARC.

A test message that passes every blocklist can still land in spam because its SPF fails at
the recipient (a new relay not in the record) or DKIM breaks on the way (a scanning relay that
rewrites the body). The receiver writes its verdicts into Authentication-Results; this module
reads them.

Which headers to believe: anyone can put an Authentication-Results header into the message
they send, so only those written by the receiving system count. The receiver prepends its
headers, so they sit above the first Received line written by the sender side (Postfix
inserts milter headers just *below* its own Received line, hence "above the next one").

Grammar (RFC 8601 section 2.2), read leniently as real MTAs write it::

    authserv-id [version] ( ";" method[/version] "=" result [reason=...] [ptype.prop=value]* )*
    authserv-id [version] ";" "none"

Comments in parentheses and quoted strings are honoured; a header that cannot be read yields
no results rather than an exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

#: Methods the relay chain check reports (others are kept but not judged).
REPORTED = ("spf", "dkim", "dmarc")
#: Results that mean "this failed" for the check's state. ``softfail`` (SPF ``~all``) and
#: ``permerror`` (a broken record) are included: for a test message from your own system
#: both mean your DNS does not describe the path your mail really takes.
FAILING = frozenset({"fail", "softfail", "permerror"})

_MAX_HEADER = 8192
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s;=()"]+|[;=]')


class MethodResult(NamedTuple):
    """One ``method=result`` of one Authentication-Results header."""

    method: str  # lower case: spf, dkim, dmarc, arc, ...
    result: str  # lower case: pass, fail, softfail, none, neutral, temperror, ...
    reason: str = ""
    properties: tuple[tuple[str, str], ...] = ()  # (ptype.property, value), e.g. header.d

    def prop(self, name: str) -> str:
        for key, value in self.properties:
            if key == name:
                return value
        return ""

    @property
    def failed(self) -> bool:
        return self.result in FAILING

    def describe(self) -> str:
        detail = self.prop("header.d") or self.prop("header.i") or self.prop("smtp.mailfrom")
        detail = detail or self.prop("header.from")
        text = f"{self.method}={self.result}"
        return f"{text} ({detail})" if detail else text


class AuthResults(NamedTuple):
    """One parsed Authentication-Results header."""

    authserv_id: str
    results: tuple[MethodResult, ...]


def _strip_comments(text: str) -> str:
    """Remove (nested) comments outside quoted strings."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
            continue
        if ch == "(":
            depth += 1
            out.append(" ")
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            if ch == '"':
                quoted = True
            out.append(ch)
    return "".join(out)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _statement(tokens: list[str]) -> MethodResult | None:
    """``method[/version] = result [reason = x] [ptype.prop = value]*``."""
    if len(tokens) < 3 or tokens[1] != "=":
        return None
    method = tokens[0].split("/", 1)[0].lower()
    result = _unquote(tokens[2]).lower()
    reason = ""
    props: list[tuple[str, str]] = []
    i = 3
    while i + 2 < len(tokens):
        if tokens[i + 1] != "=" or tokens[i] == "=":
            i += 1  # a stray word: resynchronise on the next "key = value"
            continue
        key, value = tokens[i].lower(), _unquote(tokens[i + 2])
        if key == "reason":
            reason = value
        elif "." in key:
            props.append((key, value))
        i += 3
    return MethodResult(method, result, reason, tuple(props))


def parse(value: str) -> AuthResults | None:
    """Parse one header value; None when it is not an Authentication-Results value at all."""
    text = _strip_comments(value[:_MAX_HEADER].replace("\r", " ").replace("\n", " "))
    tokens = _TOKEN.findall(text)
    statements: list[list[str]] = [[]]
    for tok in tokens:
        if tok == ";":
            statements.append([])
        else:
            statements[-1].append(tok)
    head = statements[0]
    if not head or head[0] == "=":
        return None
    authserv_id = _unquote(head[0]).lower().rstrip(".")
    results = []
    for tokens_ in statements[1:]:
        if not tokens_ or [t.lower() for t in tokens_] == ["none"]:
            continue
        parsed = _statement(tokens_)
        if parsed is not None:
            results.append(parsed)
    return AuthResults(authserv_id, tuple(results))


def header_fields(message: bytes | str, limit: int = 256 * 1024) -> list[tuple[str, str]]:
    """(lower-case name, unfolded value) of every header field, top first."""
    if isinstance(message, bytes | bytearray):
        text = bytes(message[:limit]).decode("utf-8", errors="replace")
    else:
        text = str(message)[:limit]
    fields: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t":
            if fields:
                name, value = fields[-1]
                fields[-1] = (name, value + " " + line.strip())
            continue
        name, colon, rest = line.partition(":")
        if colon:
            fields.append((name.strip().lower(), rest.strip()))
    return fields


def receiver_results(
    fields: Sequence[tuple[str, str]], sender_received_index: int | None
) -> list[AuthResults]:
    """Authentication-Results written by the receiving side, top first.

    ``sender_received_index`` is the position (among the Received fields, counted from the
    top, 0-based) of the first Received line written by the sender side; headers below it
    are the sender's claims and are ignored. None: the whole header block is trusted (there
    is no sender-side Received line).
    """
    out: list[AuthResults] = []
    received_seen = 0
    for name, value in fields:
        if name == "received":
            if sender_received_index is not None and received_seen >= sender_received_index:
                break
            received_seen += 1
        elif name == "authentication-results":
            parsed = parse(value)
            if parsed is not None:
                out.append(parsed)
    return out


class AuthSummary(NamedTuple):
    """SPF/DKIM/DMARC as the receiver saw them: one verdict per method."""

    verdicts: dict[str, MethodResult]  # method -> the result that decides

    @property
    def failures(self) -> list[MethodResult]:
        return [
            self.verdicts[m] for m in REPORTED if m in self.verdicts and self.verdicts[m].failed
        ]

    def describe(self) -> str:
        parts = [self.verdicts[m].describe() for m in REPORTED if m in self.verdicts]
        return ", ".join(parts) if parts else "no SPF/DKIM/DMARC results"


def summarise(headers: Sequence[AuthResults]) -> AuthSummary:
    """One verdict per reported method from the topmost header that has it.

    The topmost header is the receiver's last word (a later filter may re-evaluate). DKIM may
    appear once per signature: one passing signature is enough (DMARC judges alignment), so
    ``pass`` wins over a failing signature of the same header.
    """
    verdicts: dict[str, MethodResult] = {}
    for header in headers:
        for method in REPORTED:
            if method in verdicts:
                continue
            mine = [r for r in header.results if r.method == method]
            if not mine:
                continue
            passing = [r for r in mine if r.result == "pass"]
            verdicts[method] = passing[0] if passing else mine[0]
    return AuthSummary(verdicts)
