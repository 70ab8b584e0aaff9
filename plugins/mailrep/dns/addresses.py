"""What the user asked us to check, turned into addresses and DNSBL query names.

A target is an IP (v4 or v6), a hostname (resolved later to every A and AAAA), a CIDR range
(expanded, with a cap) or a domain (checked against domain lists). Whether an address is
*global* matters twice: a private or documentation address on a public blocklist is
meaningless (and leaks internal topology to the list operator), and a Received hop with such
an address was written inside somebody's network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from mailrep.errors import CannotJudge

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Networks that are never global even where :attr:`ipaddress.IPv4Address.is_global`
#: would say otherwise on older Pythons, plus forms that only wrap another address.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT (RFC 6598)
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",  # documentation (RFC 5737)
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped: check the IPv4 address instead
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "100::/64",  # discard
        "2001:db8::/32",  # documentation (RFC 3849)
        "2001::/32",  # Teredo
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # ULA
        "fe80::/10",  # link-local
        "ff00::/8",
    )
)

_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$"
)


class InputError(CannotJudge, ValueError):
    """Input that cannot be judged: the plugins report it as UNKNOWN with this message."""


def parse_ip(text: str) -> IPAddress:
    """Parse an IP literal, tolerating brackets and an IPv6 zone id (``fe80::1%eth0``)."""
    value = text.strip().strip("[]")
    if value.lower().startswith("ipv6:"):
        value = value[5:]
    value = value.split("%", 1)[0]
    addr = ipaddress.ip_address(value)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_global(addr: IPAddress) -> bool:
    """True when the address can meaningfully appear on a public blocklist."""
    if not addr.is_global:
        return False
    return not any(addr in net for net in _NOT_GLOBAL if net.version == addr.version)


def split_global(addrs: Iterable[IPAddress]) -> tuple[list[IPAddress], list[IPAddress]]:
    """(global, non-global) addresses, each address classified on its own: that a range's
    first and last addresses are global says nothing of what lies between them."""
    kept: list[IPAddress] = []
    skipped: list[IPAddress] = []
    for addr in addrs:
        (kept if is_global(addr) else skipped).append(addr)
    return kept, skipped


def is_hostname(text: str) -> bool:
    """A syntactically valid DNS name (letters, digits, hyphens; underscores tolerated)."""
    return bool(_HOSTNAME.match(text)) and not text.replace(".", "").isdigit()


class TargetSpec(NamedTuple):
    """One thing the user asked about, before resolution or expansion."""

    text: str
    kind: Literal["ip", "hostname", "cidr", "domain"]


def classify_host(text: str) -> TargetSpec:
    """Say what a ``-H`` value is: an IP, a CIDR range or a hostname; raise on garbage."""
    value = text.strip()
    if not value:
        raise InputError("empty host")
    if "/" in value:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise InputError(f"not a CIDR range: {value!r}") from exc
        return TargetSpec(value, "cidr")
    try:
        parse_ip(value)
    except ValueError:
        if is_hostname(value):
            return TargetSpec(value.rstrip(".").lower(), "hostname")
        raise InputError(f"not an IP address, hostname or CIDR range: {value!r}") from None
    return TargetSpec(value, "ip")


def classify_domain(text: str) -> TargetSpec:
    """Validate a ``-d`` value: a domain name, never an IP."""
    value = text.strip().rstrip(".").lower()
    if not value or not is_hostname(value) or "." not in value:
        raise InputError(f"not a domain name: {text!r}")
    try:
        parse_ip(value)
    except ValueError:
        return TargetSpec(value, "domain")
    raise InputError(f"an IP address is not a domain: {text!r}")


def expand_cidr(text: str, limit: int) -> list[IPAddress]:
    """Every address of a range (network and broadcast included: both can send mail)."""
    net = ipaddress.ip_network(text.strip(), strict=False)
    if net.num_addresses > limit:
        raise InputError(
            f"{net} has {net.num_addresses} addresses, more than --max-addresses {limit}"
        )
    return list(net)


def query_name(addr: IPAddress, zone: str) -> str:
    """The DNSBL query name: reversed octets (IPv4) or nibbles (IPv6, RFC 5782) under the zone."""
    if isinstance(addr, ipaddress.IPv4Address):
        prefix = ".".join(reversed(str(addr).split(".")))
    else:
        prefix = ".".join(reversed(addr.exploded.replace(":", "")))
    return f"{prefix}.{zone.rstrip('.')}."


def domain_query_name(domain: str, zone: str) -> str:
    """The query name for a domain list: the domain itself under the zone."""
    return f"{domain.rstrip('.')}.{zone.rstrip('.')}."
