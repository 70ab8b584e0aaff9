"""Blocklist citations: which list a rejection names, and for which client IP.

The IP is taken from the rejection itself (``client [1.2.3.4]``, ``from [1.2.3.4]``, the IP
inside a lookup URL), never from the returned original's headers: those name the sender's
own hops, not the address the receiver refused.
"""

from __future__ import annotations

import ipaddress
import re

from mailrep.bounce.model import Citation

_ZONE = r"([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)"
_ZONE_PATTERNS = [
    re.compile(r"blocked using " + _ZONE, re.I),
    re.compile(r"listed (?:at|in|on|by) (?:the )?(?:dnsbl |rbl )?" + _ZONE, re.I),
    re.compile(r"\bRBL:? " + _ZONE, re.I),
    re.compile(r"\bDNSBL:? " + _ZONE, re.I),
    re.compile(r"rejected by " + _ZONE + r" dnsbl", re.I),
]
_URL_ZONES = [
    (re.compile(r"spamhaus\.org/query/(?:ip|bl)[/?=a-z]*([0-9a-f.:]+)", re.I), "zen.spamhaus.org"),
    (re.compile(r"spamhaus\.org/(?:sbl|pbl|xbl|css)", re.I), "zen.spamhaus.org"),
    (re.compile(r"check\.spamhaus\.org|spamhaus\.org/(?:lookup|ip)", re.I), "zen.spamhaus.org"),
    (re.compile(r"spamcop\.net/(?:bl\.shtml|w3m)\??([0-9.]+)?", re.I), "bl.spamcop.net"),
    (re.compile(r"barracudacentral\.org|barracuda reputation", re.I), "b.barracudacentral.org"),
    (re.compile(r"psbl\.(?:surriel\.com|org)", re.I), "psbl.surriel.com"),
    (
        re.compile(r"(?:dnsbl-([123])\.)?uceprotect\.net(?:.{0,60}?level ?([123]))?", re.I),
        "uceprotect",
    ),
    (re.compile(r"mailspike\.(?:net|org)", re.I), "bl.mailspike.net"),
    (
        re.compile(r"\bS3150\b|5\.7\.6(?:0[6-9]|[1-3]\d|4[0-9])\b|banned sending ip", re.I),
        "microsoft",
    ),
    (re.compile(r"\bTSS0[49]\b", re.I), "yahoo"),
]
# Provider-internal block lists named by their rejection codes (Microsoft S3150 / 5.7.6xx
# "banned sending IP", Yahoo TSS04/TSS09): no DNS zone exists to verify them against.
PROVIDER_LISTS = frozenset({"microsoft", "yahoo"})
_NOT_ZONES = ("example.com", "example.org")
_IP_CONTEXT = re.compile(
    r"(?:client(?: host)?|from|sender ip(?: is)?|your ip(?: address)?(?: is)?|ip(?: address)?"
    r"|host|connecting ip)[ :]*\[?([0-9a-f.:]{7,45})\]?",
    re.I,
)
_BRACKET_IP = re.compile(r"\[((?:\d{1,3}\.){3}\d{1,3}|[0-9a-f:]+:[0-9a-f:.]+)\]", re.I)
_BARE_IP = re.compile(r"\b((?:\d{1,3}\.){3}\d{1,3})\b")


def normalise_zone(zone: str) -> str:
    """Lower-case, trailing dot stripped; a Spamhaus DQS key label is dropped."""
    z = zone.lower().rstrip(".")
    m = re.match(r"^[a-z0-9]{20,}\.(.+\.dq\.spamhaus\.(?:net|com))$", z)
    if m:
        return m.group(1)
    return z


def _valid_ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip(".:")))
    except ValueError:
        return None


def find_ip(text: str) -> str | None:
    for rx in (_IP_CONTEXT, _BRACKET_IP, _BARE_IP):
        for m in rx.finditer(text):
            ip = _valid_ip(m.group(1))
            if ip:
                return ip
    return None


_HINTS = (
    "list",
    "rbl",
    "dnsbl",
    "blocked using",
    "spamhaus",
    "spamcop",
    "barracuda",
    "psbl",
    "uceprotect",
    "mailspike",
    "s3150",
    "5.7.6",
    "banned",
    "tss0",
)


def cite(text: str) -> Citation | None:
    """The blocklist named by a diagnostic text, or None when it names none."""
    low = text.lower()
    if not any(h in low for h in _HINTS):
        return None
    for rx in _ZONE_PATTERNS:
        m = rx.search(text)
        if m:
            zone = normalise_zone(m.group(1))
            if zone in _NOT_ZONES or _valid_ip(zone):
                continue
            ip_text = text[: m.start()] if "blocked using" in m.group(0).lower() else text
            return Citation(zone, find_ip(ip_text) or find_ip(text))
    for rx, zone in _URL_ZONES:
        m = rx.search(text)
        if m:
            if zone == "uceprotect":
                level = m.group(1) or m.group(2) or "1"
                return Citation(f"dnsbl-{level}.uceprotect.net", find_ip(text))
            url_ip = _valid_ip(m.group(1)) if m.groups() and m.group(1) else None
            return Citation(zone, url_ip or find_ip(text))
    return None
