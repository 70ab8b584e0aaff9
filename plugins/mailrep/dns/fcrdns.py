"""Forward-confirmed reverse DNS (FCrDNS) of relay addresses, through the project's resolver.

Many receivers (and every blocklist operator's FAQ) treat a relay whose PTR name does not
resolve back to the same address as suspect, so a relay chain report says, per hop: the PTR
names, which of them resolve forward to the hop's address, and whether the HELO the relay
used is one of them. All of it is *information*: it never decides the check's state, and a
failed lookup is reported as such rather than as "no PTR".

Two rounds of questions for all hops at once: PTR for every address, then A or AAAA (the
address's own family) for every PTR name. At most :data:`MAX_NAMES` names per address are
followed, so a hostile reverse zone cannot make us ask hundreds of questions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from mailrep.dns import wire as dnswire
from mailrep.dns.addresses import is_hostname
from mailrep.dns.resolver import Question, Reply

#: PTR names followed per address (real hosts have one; a few have two or three).
MAX_NAMES = 5


class Asker(Protocol):
    """What is needed of a resolver (:class:`mailrep.dns.resolver.StubResolver` is one)."""

    def ask_all(self, questions: Iterable[Question]) -> dict[Question, Reply]: ...


class Fcrdns(NamedTuple):
    """Reverse and forward DNS of one address."""

    ip: str
    names: tuple[str, ...] = ()  # PTR names, without the trailing dot
    confirmed: tuple[str, ...] = ()  # those whose A/AAAA records include ``ip``
    error: str = ""  # the PTR lookup failed (timeout, SERVFAIL, ...): nothing is known

    @property
    def ok(self) -> bool:
        """True when at least one PTR name resolves back to the address."""
        return bool(self.confirmed)

    def describe(self) -> str:
        if self.error:
            return f"PTR lookup failed: {self.error}"
        if not self.names:
            return "no PTR"
        if self.confirmed:
            return f"FCrDNS ok ({', '.join(self.confirmed)})"
        return f"PTR {', '.join(self.names)} does not resolve back to {self.ip}"

    def helo_matches(self, helo: str | None) -> bool | None:
        """Is the HELO one of the PTR names? None when that cannot be said."""
        if not helo or self.error or not self.names:
            return None
        wanted = helo.rstrip(".").lower()
        return any(name.lower() == wanted for name in self.names)


def reverse_name(ip: str) -> str:
    """``185.56.87.12`` -> ``12.87.56.185.in-addr.arpa.`` (nibbles for IPv6)."""
    return ipaddress.ip_address(ip).reverse_pointer + "."


def _forward_type(ip: str) -> int:
    return dnswire.TYPE_A if ipaddress.ip_address(ip).version == 4 else dnswire.TYPE_AAAA


def check(ips: Iterable[str], resolver: Asker) -> dict[str, Fcrdns]:
    """FCrDNS of every address (duplicates asked once); see the module docstring."""
    wanted = list(dict.fromkeys(ips))
    ptr_questions = {ip: Question(reverse_name(ip), dnswire.TYPE_PTR) for ip in wanted}
    ptr_replies = resolver.ask_all(ptr_questions.values())
    names: dict[str, tuple[str, ...]] = {}
    results: dict[str, Fcrdns] = {}
    for ip, question in ptr_questions.items():
        reply = ptr_replies[question]
        if reply.error:
            results[ip] = Fcrdns(ip, error=reply.error)
            continue
        found = [r.rstrip(".") for r in reply.records]
        names[ip] = tuple(dict.fromkeys(n for n in found if n))[:MAX_NAMES]
    forward = {
        (ip, name): Question(f"{name}.", _forward_type(ip))
        for ip, ptrs in names.items()
        for name in ptrs
        if is_hostname(name)  # a garbage PTR is reported, never asked about
    }
    forward_replies = resolver.ask_all(forward.values()) if forward else {}
    for ip, ptrs in names.items():
        addr = ipaddress.ip_address(ip)
        confirmed = []
        for name in ptrs:
            asked = forward.get((ip, name))
            answer = forward_replies.get(asked) if asked else None
            if answer is None or answer.error:
                continue
            if any(_same(addr, r) for r in answer.records):
                confirmed.append(name)
        results[ip] = Fcrdns(ip, ptrs, tuple(confirmed))
    return {ip: results[ip] for ip in wanted}


def _same(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == addr
    except ValueError:
        return False
