"""check_bounce_rate's --verify: the rechecks of cited listings and of the path's hops.

Built from the options once per run; the measurement calls it with every (list, address)
pair it wants answered (:func:`mailrep.bounce.measure.verify`), and it answers them in one
self-tested lookup run (:func:`mailrep.dnsbl.recheck.recheck`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mailrep.errors import CannotJudge

if TYPE_CHECKING:
    from mailrep.bounce.measure import Recheck


def recheck(args: argparse.Namespace, deadline: float) -> Recheck | None:
    """--verify: the cited pairs looked up through the self-tested lookup core."""
    if not args.verify:
        return None
    from mailrep.bounce.citation import PROVIDER_LISTS
    from mailrep.dns.resolver import system_nameservers
    from mailrep.dnsbl import recheck as rechecking
    from mailrep.dnsbl.catalogue import load_default
    from mailrep.dnsbl.lookup import LookupSettings

    nameservers = list(args.nameserver) or system_nameservers()
    if not nameservers:
        raise CannotJudge("--verify: no nameserver (give -n or fix /etc/resolv.conf)")
    catalogue = load_default()
    settings = LookupSettings(nameservers, query_timeout=args.query_timeout, deadline=deadline)
    return lambda pairs: rechecking.recheck(
        pairs,
        catalogue,
        settings,
        configured=[*args.verify_zone, *args.hop_zone],
        not_dns=PROVIDER_LISTS,
        allow_nonglobal=args.allow_nonglobal,
    )


def hop_zones(args: argparse.Namespace) -> list[str]:
    """The lists --verify asks about every public hop: --hop-zone, else the default set."""
    if not args.verify:
        return []
    if args.hop_zone:
        return [z.strip().rstrip(".").lower() for z in args.hop_zone if z.strip()]
    from mailrep.dnsbl.catalogue import load_default

    return [z.name for z in load_default().defaults() if "ip4" in z.kinds or "ip6" in z.kinds]
