"""The trust boundary in a Received chain: where the receiving system's own record begins.

Apart from :mod:`mailrep.relay.received` because it is policy, not parsing: which lines to
believe. This module owns the boundary: who the receiver is when the user did not say
(:func:`default_receiver`), where its record begins (:func:`entry_index`) and which hops
are the sender's side (:func:`sender_side`). Lines below your own server's
first line were written by whoever sent the message and can say anything; the line your
server wrote about the client that connected cannot be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import replace

from mailrep.relay.received import Hop, normalise_ip

__all__ = ["default_receiver", "entry_index", "handoff_hop", "matches_receiver", "sender_side"]


def matches_receiver(spec: list[str]) -> Callable[[Hop], bool]:
    """Predicate: was this hop's ``by`` host part of the receiving system?

    ``spec`` items are host names (exact, case-insensitive), domain suffixes written with a
    leading dot (``.example.net`` matches ``mx1.example.net``) or CIDR ranges / addresses
    (matched when ``by`` is an address literal, as Gmail's internal hops write).
    """
    names: set[str] = set()
    suffixes: list[str] = []
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in spec:
        item = item.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
            continue
        except ValueError:
            pass
        if item.startswith("."):
            suffixes.append(item)
        else:
            names.add(item.rstrip("."))

    def predicate(hop: Hop) -> bool:
        if not hop.by:
            return False
        host = hop.by.lower().rstrip(".")
        ip = normalise_ip(host)
        if ip is not None:
            addr = ipaddress.ip_address(ip)
            return any(addr.version == net.version and addr in net for net in networks)
        return host in names or any(host.endswith(s) or host == s[1:] for s in suffixes)

    return predicate


def _client_is_receiver(hop: Hop, receiver: Callable[[Hop], bool]) -> bool:
    """Does a trusted hop say its client was the receiving system itself?"""
    if hop.ip is not None:
        addr = ipaddress.ip_address(hop.ip)
        if addr.is_loopback:
            return True  # a hand-off inside one machine (content filter, LMTP)
        if receiver(replace(hop, by=hop.ip)):
            return True
    for name in (hop.rdns, hop.from_name if hop.ip is None else None):
        if name and receiver(replace(hop, by=name)):
            return True
    return False


def _boundary(hops: list[Hop], receiver: Callable[[Hop], bool]) -> int | None:
    if not hops or not receiver(hops[-1]):
        return None
    k = len(hops) - 1
    while k > 0 and _client_is_receiver(hops[k], receiver) and receiver(hops[k - 1]):
        k -= 1
    return k


def handoff_hop(hops: list[Hop], receiver: Callable[[Hop], bool]) -> Hop | None:
    """The receiving system's first line: its ``ip`` is the sender's last relay, unforgeable.

    See :func:`sender_side` for how it is found; None when the newest hop is not the receiver's.
    """
    k = _boundary(hops, receiver)
    return None if k is None else hops[k]


def sender_side(hops: list[Hop], receiver: Callable[[Hop], bool]) -> list[Hop]:
    """The path on the sender's side, ending with the receiver's record of the hand-off.

    ``hops`` are origin first (as :func:`parse_chain` returns them). The rule, from the top:

    1. The newest hop must be written by the receiving system (``receiver(hop)`` on its
       ``by``); otherwise nothing can be trusted and ``[]`` is returned.
    2. Walking down, a line is the receiver's own only if the line above it (already trusted)
       recorded that its client *was* the receiver: client IP in the receiver's ranges or
       loopback, or client name matching. A line below merely *claiming* ``by`` = our host is
       not enough: anyone can write that line into the message they send.
    3. The lowest receiver line found so (the hand-off) is trusted for its ``from`` part: the
       IP it recorded is the address that connected to us. Lines below it were written by the
       sender side; they are returned as the sender's path but are only its claims (true if
       the sender is your own system, as in a relay-chain probe; forgeable otherwise).

    The returned list is ``hops[:k + 1]`` where ``k`` is the hand-off line, so its last element
    carries the one sender-side IP that cannot be forged (see also :func:`handoff_hop`).
    """
    k = _boundary(hops, receiver)
    return [] if k is None else hops[: k + 1]


# --- the receiver when the user did not name it ----------------------------------------


def _domain_of(host: str) -> str | None:
    """``mx.recipient.example`` -> ``.recipient.example``; a two-label name is its own domain."""
    labels = host.strip(".").lower().split(".")
    if len(labels) >= 3:
        return "." + ".".join(labels[1:])
    if len(labels) == 2:
        return "." + ".".join(labels)
    return None


def _spec_for(host: str) -> list[str]:
    if normalise_ip(host) is not None:
        return [normalise_ip(host) or host]
    domain = _domain_of(host)
    return [host.lower().rstrip(".")] + ([domain] if domain else [])


def _internal_handoff(hop: Hop, spec: list[str]) -> bool:
    """Was this line a step inside the receiving system (its client is the receiver)?"""
    if _is_internal_stamp(hop):
        return True
    client = hop.rdns or hop.from_name
    if hop.ip is not None:
        # 127.0.0.1/::1 or a client calling itself localhost: a hand-off inside one machine.
        # Other loopback addresses are not assumed to be the same system (loopback labs).
        if not ipaddress.ip_address(hop.ip).is_loopback:
            return False
        if hop.ip in ("127.0.0.1", "::1") or (client or "").lower() == "localhost":
            return True
    if (hop.protocol or "").upper().startswith(("LMTP", "LOCAL")):
        return True
    return bool(client) and matches_receiver(spec)(replace(hop, by=client))


def default_receiver(hops: Sequence[Hop]) -> list[str]:
    """The receiving system when the user did not name it.

    The newest line's ``by`` host and its domain; then, while that line is a hand-off inside
    one system (no client at all, a loopback client, LMTP or local delivery, a client that is
    already known to be the receiver: amavis, Dovecot LMTP, Gmail's internal stamps), the
    ``by`` host of the line below joins it (with its domain).
    """
    spec: list[str] = []
    i = len(hops) - 1
    while i >= 0 and not hops[i].by:
        i -= 1
    while i >= 0:
        by = hops[i].by
        if by:
            spec += [s for s in _spec_for(by) if s not in spec]
        if i == 0 or not _internal_handoff(hops[i], spec):
            break
        i -= 1
    return spec


def _is_internal_stamp(hop: Hop) -> bool:
    """A line with no ``from`` part at all (Gmail's ``by 2002:a05:... with SMTP id``): a
    step inside the system that wrote it, never a hand-off from a client."""
    return hop.ip is None and hop.from_name is None and hop.helo is None


def entry_index(hops: list[Hop], spec: Sequence[str]) -> int | None:
    """Index of the receiver's entry line, or None when the newest line is not the receiver's.

    Lines with no client at all at the top are skipped first (see :func:`_is_internal_stamp`),
    then :func:`sender_side` finds the hand-off.
    """
    receiver = matches_receiver(list(spec))
    top = len(hops)
    while top > 1 and _is_internal_stamp(hops[top - 1]) and receiver(hops[top - 1]):
        top -= 1
    side = sender_side(hops[:top], receiver)
    if side:
        return len(side) - 1
    return None
