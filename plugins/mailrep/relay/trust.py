"""The trust boundary in a Received chain: where the receiving system's own record begins.

Split from :mod:`mailrep.relay.received` (which re-exports these names: import them from there)
because it is policy, not parsing: which lines to believe. Lines below your own server's
first line were written by whoever sent the message and can say anything; the line your
server wrote about the client that connected cannot be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailrep.relay.received import Hop

__all__ = ["handoff_hop", "matches_receiver", "sender_side"]


def matches_receiver(spec: list[str]) -> Callable[[Hop], bool]:
    """Predicate: was this hop's ``by`` host part of the receiving system?

    ``spec`` items are host names (exact, case-insensitive), domain suffixes written with a
    leading dot (``.example.net`` matches ``mx1.example.net``) or CIDR ranges / addresses
    (matched when ``by`` is an address literal, as Gmail's internal hops write).
    """
    from mailrep.relay.received import normalise_ip  # at call time: received imports this module

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
