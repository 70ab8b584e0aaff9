"""A message's Received lines -> the numbered chain of hops, and which of them to check.

The incident behind check_relay_chain: the company's own server was clean, but its mail also
passed the provider's virus-scan relay, and that relay was listed. The address the recipient's
MX judged is the client address written in the *receiver's* first Received line (the entry
hop): that one cannot be forged, and it is the most important to check. Lines below it were
written by the sender side (the provider's relay, the company's submission server); for a
test message sent from your own system they are true, so their public client addresses are
checked too. Lines above it are the receiver's internal hand-offs (content filter, LMTP).

Numbering follows the path: hop 1 is the origin (the oldest Received line), the entry hop is
the highest sender-side number. A hop is named by its *client*: the host that connected and
whose address the line records.

Which addresses are sent to blocklists: public (global) client addresses of sender-side hops
and the entry hop, once each. Not sent: non-global addresses (unless the caller allows them,
for labs), the client of an authenticated submission (a mail user's own, often dynamic,
address — a policy listing there says nothing about your relays), and receiver-side hops.

Two parts, in this order: the chain itself (pure: text in, hops out) and :func:`examine`
(blocklists, FCrDNS and Authentication-Results for a chain). Judging and presenting an
examination is :mod:`mailrep.plugin.relay_check`'s job, getting the message
:mod:`mailrep.relay.obtain`'s: this module knows nothing of nagiosplugin, so the analysis can
be used (and tested) without a plugin run. check_relay_chain imports it only when a check
really runs, so its ``-V`` and ``-h`` load none of it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from mailrep.dns import fcrdns
from mailrep.dns.addresses import is_global, parse_ip
from mailrep.dns.fcrdns import Fcrdns
from mailrep.dnsbl.lookup import (
    BlocklistConfig,
    Item,
    Report,
    Status,
    Verdict,
    lookup,
    resolver_for,
)
from mailrep.errors import CannotJudge
from mailrep.relay import authresults
from mailrep.relay.authresults import AuthSummary
from mailrep.relay.headers import received_headers
from mailrep.relay.received import Hop, parse_received
from mailrep.relay.trust import default_receiver, entry_index


def hop_delays(hops: list[Hop]) -> list[float | None]:
    """Seconds from each hop to the next (``len(hops) - 1`` values, origin first).

    None where either timestamp is missing. Negative values are kept: clock skew between
    relays is itself worth reporting.
    """
    delays: list[float | None] = []
    for older, newer in itertools.pairwise(hops):
        if older.timestamp is None or newer.timestamp is None:
            delays.append(None)
        else:
            delays.append((newer.timestamp - older.timestamp).total_seconds())
    return delays


SENDER = "sender"
ENTRY = "entry"
RECEIVER = "receiver"


class ChainHop(NamedTuple):
    """One Received line, placed in the chain."""

    number: int  # 1 = origin
    hop: Hop
    side: str  # SENDER, ENTRY or RECEIVER
    public: bool  # the client address is global
    checked: bool  # its address is sent to the blocklists
    skip_reason: str  # why not, when it is not
    delay: float | None  # seconds since the previous hop (None: a timestamp is missing)

    @property
    def ip(self) -> str | None:
        return self.hop.ip

    @property
    def trusted(self) -> bool:
        """Written by the receiving system (the entry hop and the receiver's own lines)."""
        return self.side != SENDER

    @property
    def name(self) -> str:
        """The client's best name: verified reverse name, else what it called itself."""
        return self.hop.rdns or self.hop.helo or self.hop.from_name or "unknown"

    def label(self) -> str:
        """``hop 2 av1.provider.example [185.56.87.12]``, as the first line names a hop."""
        ip = f" [{self.ip}]" if self.ip else ""
        return f"hop {self.number} {self.name}{ip}"


class Chain(NamedTuple):
    hops: list[ChainHop]  # origin first
    receiver: list[str]  # the receiver specification in force
    entry: int  # index (0-based) of the entry hop in ``hops``
    notes: list[str]
    #: Position, among the message's Received fields counted from the top (0-based), of the
    #: first line the sender side wrote; None when the entry hop is the origin. Headers below
    #: it (Authentication-Results too) are the sender's claims.
    first_sender_field: int | None = None

    @property
    def entry_hop(self) -> ChainHop:
        return self.hops[self.entry]

    @property
    def checked(self) -> list[ChainHop]:
        return [h for h in self.hops if h.checked]

    @property
    def checked_ips(self) -> list[str]:
        """Addresses to look up, once each, in chain order."""
        return list(dict.fromkeys(h.ip for h in self.checked if h.ip))

    @property
    def relay_delay(self) -> float | None:
        """Seconds from the oldest to the newest timestamp in the chain (None: fewer than 2)."""
        stamps = [h.hop.timestamp for h in self.hops if h.hop.timestamp is not None]
        if len(stamps) < 2:
            return None
        return (stamps[-1] - stamps[0]).total_seconds()

    def hops_with_ip(self, ip: str) -> list[ChainHop]:
        return [h for h in self.hops if h.ip == ip]


def _skip_reason(hop: Hop, side: str, allow_nonglobal: bool) -> tuple[bool, str]:
    """(public, reason it is not checked or "")."""
    if hop.ip is None:
        return False, "no client address"
    public = is_global(parse_ip(hop.ip))
    if side == RECEIVER:
        return public, "receiver side"
    if hop.authenticated:
        return public, "authenticated submission client (a user, not a relay)"
    if not public and not allow_nonglobal:
        return public, "non-global address"
    return public, ""


def build_chain(
    message: bytes | str, receiver: Sequence[str] | None = None, *, allow_nonglobal: bool = False
) -> Chain:
    """Chain of a raw message (or just its headers); raises CannotJudge when there is none.

    ``receiver`` items are host names, ``.domain`` suffixes or CIDR ranges
    (:func:`mailrep.relay.received.matches_receiver`); empty or None: :func:`default_receiver`.
    """
    values = received_headers(message)
    if not values:
        raise CannotJudge("no Received header in the message: nothing to follow")
    parsed = [(i, parse_received(v)) for i, v in enumerate(values)]
    readable = [(i, hop) for i, hop in reversed(parsed) if hop is not None]  # origin first
    hops = [hop for _i, hop in readable]
    if not hops:
        raise CannotJudge(f"none of the {len(values)} Received headers could be read")
    notes: list[str] = []
    spec = list(receiver or []) or default_receiver(hops)
    if len(hops) < len(values):
        notes.append(f"{len(values) - len(hops)} unreadable Received header(s) left out")
    entry = entry_index(hops, spec)
    if entry is None:
        newest = hops[-1].by or "an unnamed host"
        raise CannotJudge(
            f"the newest Received line was written by {newest}, not by the receiving system "
            f"({', '.join(spec) or 'none'}): give --receiver NAME|.DOMAIN|CIDR"
        )
    delays: list[float | None] = [None, *hop_delays(hops)]
    out: list[ChainHop] = []
    for i, hop in enumerate(hops):
        where = SENDER if i < entry else ENTRY if i == entry else RECEIVER
        public, reason = _skip_reason(hop, where, allow_nonglobal)
        out.append(ChainHop(i + 1, hop, where, public, not reason, reason, delays[i]))
    entry_hop = out[entry]
    if entry_hop.ip is None:
        notes.append(f"the entry hop (hop {entry_hop.number}) records no client address")
    first_sender = readable[entry - 1][0] if entry > 0 else None
    return Chain(out, spec, entry, notes, first_sender)


# --- examining a chain: blocklists, FCrDNS, the receiver's authentication verdicts ----------


class Examination(NamedTuple):
    """Everything one run learnt about one message's path."""

    chain: Chain
    report: Report | None  # None when no hop address was looked up
    fcrdns: dict[str, Fcrdns]
    auth: AuthSummary
    auth_by: list[str]  # authserv-ids of the receiver's Authentication-Results headers
    delivery: float | None = None  # seconds, round trip only
    source: str = ""  # where the message came from, for the long output
    #: Why no hop was looked up ("" when some were): the chain is still worth showing.
    unchecked: str = ""

    def verdicts_for(self, ip: str) -> list[Verdict]:
        if self.report is None:
            return []
        return [v for v in self.report.verdicts if v.item.text == ip]

    def hop_status(self, hop: ChainHop) -> str:
        """The gravest blocklist status of a hop's address ("" when not looked up)."""
        if not hop.checked or hop.ip is None:
            return ""
        statuses = {v.status for v in self.verdicts_for(hop.ip)}
        for status in (Status.LISTED, Status.POLICY, Status.ERROR, Status.BROKEN, Status.CLEAN):
            if status in statuses:
                return status.value
        return ""

    def hops_with(self, status: Status) -> list[ChainHop]:
        return [h for h in self.chain.hops if self.hop_status(h) == status.value]


class _BackgroundFcrdns:
    """FCrDNS in a thread of its own, asking its PTR and A questions while the blocklist
    lookups run rather than after them: a slow reverse zone no longer adds its time to the
    run's. A daemon thread, so a run that ``-t`` ends does not wait for it; its resolver has
    the run's deadline, so it ends by then anyway."""

    def __init__(self, check: Callable[..., dict[str, Fcrdns]], *args: Any) -> None:
        self._found: dict[str, Fcrdns] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(check, args), daemon=True, name="fcrdns"
        )
        self._thread.start()

    def _run(self, check: Callable[..., dict[str, Fcrdns]], args: tuple[Any, ...]) -> None:
        try:
            self._found = check(*args)
        except BaseException as exc:  # handed to the main thread, which reports it
            self._error = exc

    def result(self, ips: Sequence[str], deadline: float | None) -> dict[str, Fcrdns]:
        """What FCrDNS found; a lookup still running past the deadline is a timeout."""
        wait = None if deadline is None else max(0.0, deadline - time.monotonic()) + 1.0
        self._thread.join(wait)
        if self._error is not None:
            raise self._error
        if self._found is None:
            return {ip: Fcrdns(ip, error="timed out") for ip in dict.fromkeys(ips)}
        return self._found


def examine(
    message: bytes | str,
    config: BlocklistConfig,
    *,
    receiver: Sequence[str] | None = None,
    allow_nonglobal: bool = False,
    fcrdns_on: bool = True,
    delivery: float | None = None,
    source: str = "",
) -> Examination:
    """Build the chain, look every checked hop up on every zone, read FCrDNS and the
    receiver's Authentication-Results. Raises CannotJudge when there is no chain; a chain
    none of whose hops can be checked is returned without a report (``unchecked`` says why),
    so the plugin can still show it."""

    chain = build_chain(message, receiver, allow_nonglobal=allow_nonglobal)
    ips = chain.checked_ips
    fields = authresults.header_fields(message)
    headers = authresults.receiver_results(fields, chain.first_sender_field)
    auth = authresults.summarise(headers)
    auth_by = list(dict.fromkeys(h.authserv_id for h in headers))
    if not ips:
        return Examination(
            chain, None, {}, auth, auth_by, delivery, source, unchecked=_unchecked(chain)
        )
    items = [
        Item.for_address(parse_ip(ip), ", ".join(f"hop {h.number}" for h in chain.hops_with_ip(ip)))
        for ip in ips
    ]
    settings = config.settings
    reverse = None
    if fcrdns_on:
        reverse = _BackgroundFcrdns(fcrdns.check, ips, resolver_for(settings))
    report = lookup(items, config.zones, settings)
    ptr = reverse.result(ips, settings.deadline) if reverse is not None else {}
    return Examination(chain, report, ptr, auth, auth_by, delivery, source)


def _unchecked(chain: Chain) -> str:
    """Why none of a chain's hops can be sent to a blocklist, with the fix when there is one."""
    reasons = sorted({h.skip_reason for h in chain.hops if h.side != RECEIVER} - {""})
    return f"no hop to check among {len(chain.hops)}: {', '.join(reasons) or 'none'}" + (
        " (use --allow-nonglobal for labs)" if "non-global address" in reasons else ""
    )
