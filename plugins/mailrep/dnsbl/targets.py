"""From ``-H``/``-d`` values to lookup items: resolve hostnames, expand ranges, refuse nonsense.

Bad input is UNKNOWN (we cannot judge it), and so is a non-global address unless the user
allows it: asking a public list about 10.0.0.1 says nothing and leaks your topology. A range
is classified address by address: the non-global addresses inside it (203.0.113.0/24 inside
203.0.112.0/22) are left out and named, never queried. A hostname whose A or AAAA lookup
failed is checked on the addresses that did resolve, and the failure is an error of the run:
the addresses we could not learn may be the listed ones.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from mailrep.dns import wire as dnswire
from mailrep.dns.addresses import (
    InputError,
    IPAddress,
    classify_domain,
    classify_host,
    expand_cidr,
    is_global,
    parse_ip,
    split_global,
)
from mailrep.dns.resolver import Question
from mailrep.dnsbl.lookup import Item, LookupSettings, resolver_for


class Targets(NamedTuple):
    items: list[Item]
    notes: list[str]  # e.g. skipped non-global resolved addresses
    errors: list[str]  # failed address lookups of a hostname: errors of the run


class Resolved(NamedTuple):
    """A hostname's addresses, and the address lookups that failed ("AAAA: SERVFAIL")."""

    addresses: list[IPAddress]
    failures: list[str]


def _nonglobal(text: str) -> InputError:
    return InputError(
        f"{text} is not a global address (private, loopback, documentation or similar): "
        "public blocklists never list it; use --allow-nonglobal for labs and tests"
    )


_FAMILIES = ((dnswire.TYPE_A, "A"), (dnswire.TYPE_AAAA, "AAAA"))


def resolve_hostnames(names: Iterable[str], settings: LookupSettings) -> dict[str, Resolved]:
    """A and AAAA of each hostname through the configured nameservers.

    NXDOMAIN or no record of a family is an answer (the host has no such address); any
    other outcome (timeout, SERVFAIL, REFUSED, truncation, a malformed answer) is a failure
    of that family, kept so that it is never silently dropped.
    """
    resolver = resolver_for(settings)
    wanted = list(dict.fromkeys(names))
    replies = resolver.ask_all(Question(f"{n}.", t) for n in wanted for t, _ in _FAMILIES)
    result: dict[str, Resolved] = {}
    for name in wanted:
        found: list[IPAddress] = []
        failures: list[str] = []
        for rdtype, family in _FAMILIES:
            reply = replies[Question(f"{name}.", rdtype)]
            if reply.error:
                failures.append(f"{family}: {reply.error}")
            else:
                found.extend(ipaddress.ip_address(r) for r in reply.records)
        result[name] = Resolved(found, failures)
    return result


def _hostname_items(name: str, resolved: Resolved, out: Targets, allow_nonglobal: bool) -> None:
    found, failures = resolved
    if not found:
        if failures:
            raise InputError(f"cannot resolve {name}: {'; '.join(failures)}")
        raise InputError(f"{name} has no A or AAAA record")
    for failure in failures:
        family, _, why = failure.partition(": ")
        out.errors.append(f"{name}: {family} lookup failed ({why})")
    kept = [a for a in found if allow_nonglobal or is_global(a)]
    for a in found:
        if a not in kept:
            out.notes.append(f"{name} has non-global address {a}: not checked")
    if not kept:
        raise _nonglobal(f"{name} ({', '.join(map(str, found))})")
    out.items.extend(Item.for_address(a, name) for a in kept)


def _networks(addrs: list[IPAddress]) -> list[str]:
    """The fewest networks that hold exactly these addresses (one family per range)."""
    v4 = [ipaddress.IPv4Network(a) for a in addrs if isinstance(a, ipaddress.IPv4Address)]
    v6 = [ipaddress.IPv6Network(a) for a in addrs if isinstance(a, ipaddress.IPv6Address)]
    nets = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    return [str(n) for n in nets]


def _range_items(text: str, limit: int, out: Targets, allow_nonglobal: bool) -> None:
    addrs = expand_cidr(text, limit)
    if allow_nonglobal:
        out.items.extend(Item.for_address(a, text) for a in addrs)
        return
    kept, skipped = split_global(addrs)
    if not kept:
        raise _nonglobal(text)
    if skipped:
        nets = ", ".join(_networks(skipped))
        out.notes.append(
            f"{text}: {len(skipped)} non-global addresses not checked ({nets}); "
            "use --allow-nonglobal for labs and tests"
        )
    out.items.extend(Item.for_address(a, text) for a in kept)


def build_targets(
    hosts: Sequence[str],
    domains: Sequence[str],
    settings: LookupSettings,
    *,
    allow_nonglobal: bool = False,
    max_addresses: int = 256,
) -> Targets:
    """Every item to look up, in the order given; raises :class:`InputError` on bad input."""
    out = Targets([], [], [])
    parsed = [classify_host(h) for h in hosts]
    parsed_domains = [classify_domain(d) for d in domains]
    names = [t.text for t in parsed if t.kind == "hostname"]
    resolved = resolve_hostnames(names, settings) if names else {}
    for target in parsed:
        if target.kind == "ip":
            addr = parse_ip(target.text)
            if not allow_nonglobal and not is_global(addr):
                raise _nonglobal(str(addr))
            out.items.append(Item.for_address(addr))
        elif target.kind == "cidr":
            _range_items(target.text, max_addresses - len(out.items), out, allow_nonglobal)
        else:
            _hostname_items(target.text, resolved[target.text], out, allow_nonglobal)
        if len(out.items) > max_addresses:
            raise InputError(f"more than --max-addresses {max_addresses} addresses to check")
    out.items.extend(Item.for_domain(d.text) for d in parsed_domains)
    # The same address reached twice (a hostname and its IP) is looked up once.
    seen: dict[str, Item] = {}
    for item in out.items:
        seen.setdefault(item.text, item)
    return Targets(list(seen.values()), out.notes, out.errors)
