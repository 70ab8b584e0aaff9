"""From ``-H``/``-d`` values to lookup items: resolve hostnames, expand ranges, refuse nonsense.

Bad input is UNKNOWN (we cannot judge it), and so is a non-global address unless the user
allows it: asking a public list about 10.0.0.1 says nothing and leaks your topology.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mailrep.dns.addresses import (
    InputError,
    classify_domain,
    classify_host,
    expand_cidr,
    is_global,
    parse_ip,
)
from mailrep.dnsbl.lookup import Item, LookupSettings, resolve_hostnames


class Targets(NamedTuple):
    items: list[Item]
    notes: list[str]  # e.g. skipped non-global resolved addresses


def _nonglobal(text: str) -> InputError:
    return InputError(
        f"{text} is not a global address (private, loopback, documentation or similar): "
        "public blocklists never list it; use --allow-nonglobal for labs and tests"
    )


def build_targets(
    hosts: Sequence[str],
    domains: Sequence[str],
    settings: LookupSettings,
    *,
    allow_nonglobal: bool = False,
    max_addresses: int = 256,
) -> Targets:
    """Every item to look up, in the order given; raises :class:`InputError` on bad input."""
    out = Targets([], [])
    parsed = [classify_host(h) for h in hosts]
    parsed_domains = [classify_domain(d) for d in domains]
    names = [t.text for t in parsed if t.kind == "hostname"]
    resolved = resolve_hostnames(names, settings) if names else {}
    total = 0
    for target in parsed:
        if target.kind == "ip":
            addr = parse_ip(target.text)
            if not allow_nonglobal and not is_global(addr):
                raise _nonglobal(str(addr))
            out.items.append(Item.for_address(addr))
        elif target.kind == "cidr":
            addrs = expand_cidr(target.text, max_addresses - total)
            if not allow_nonglobal and not all(is_global(a) for a in (addrs[0], addrs[-1])):
                raise _nonglobal(target.text)
            out.items.extend(Item.for_address(a, target.text) for a in addrs)
        else:
            found, error = resolved[target.text]
            if error:
                raise InputError(error)
            kept = [a for a in found if allow_nonglobal or is_global(a)]
            for a in found:
                if a not in kept:
                    out.notes.append(f"{target.text} has non-global address {a}: not checked")
            if not kept:
                raise _nonglobal(f"{target.text} ({', '.join(map(str, found))})")
            out.items.extend(Item.for_address(a, target.text) for a in kept)
        total = len(out.items)
        if total > max_addresses:
            raise InputError(f"more than --max-addresses {max_addresses} addresses to check")
    out.items.extend(Item.for_domain(d.text) for d in parsed_domains)
    # The same address reached twice (a hostname and its IP) is looked up once.
    seen: dict[str, Item] = {}
    for item in out.items:
        seen.setdefault(item.text, item)
    return Targets(list(seen.values()), out.notes)
