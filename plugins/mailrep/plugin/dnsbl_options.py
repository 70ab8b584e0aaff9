"""The blocklist options check_dnsbl and check_relay_chain share, and what they turn into.

Option names follow check_dnsbl's issue and Debian's check_rbl (``-s/--server`` is an alias of
``-z/--zone``) so users can switch in one step.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from mailrep.errors import CannotJudge
from mailrep.plugin.runtime import nagios_range, positive_float, positive_int
from mailrep.plugin.text import counted

if TYPE_CHECKING:  # the lookup machinery is imported only when a check really runs
    from mailrep.dnsbl import catalogue as zonecat
    from mailrep.dnsbl.lookup import BlocklistConfig

DQS_ENV = "MAILREP_DQS_KEY"


class ConfigError(CannotJudge, ValueError):
    """Options that cannot work together or point at nothing (UNKNOWN)."""


_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_KEY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
KEY_FORM = "one DNS label of letters, digits, '-'; not shown"


def zone_arg(text: str) -> str:
    """A blocklist zone: a DNS name of one or more labels (a final dot is allowed).

    ``-z ""`` silently meant the default set, ``-z .`` queried the root and ``-z "a b"`` a
    name no server can hold: each is a typo, refused before any query is sent.
    """
    name = text.strip()
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise argparse.ArgumentTypeError(
            f"not a zone name: {text!r} (dot-separated labels of letters, digits, '-')"
        )
    return name.lower()


def dqs_key_arg(text: str) -> str:
    """A Spamhaus DQS key: it becomes the first label of every query name, so it must be
    one DNS label. Refused without being shown: it is a secret."""
    if not _KEY.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a DQS key ({KEY_FORM})")
    return text


def nameserver_arg(text: str) -> Any:
    from mailrep.dns.resolver import parse_nameserver

    try:
        return parse_nameserver(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_blocklist_options(
    parser: argparse.ArgumentParser, *, listing_prefix: str = "", listing_what: str = ""
) -> None:
    """Zones, resolver and the states of listings, policy listings and errors.

    check_dnsbl judges listings with ``-w/-c``. A plugin whose ``-w/-c`` measure something
    else (check_relay_chain: delivery time) passes ``listing_prefix="listed"`` to get
    ``--listed-warning/--listed-critical`` (dests ``listed_warning``/``listed_critical``)
    instead; ``listing_what`` says what is counted.
    """
    zones = parser.add_argument_group("blocklists")
    zones.add_argument(
        "-z",
        "--zone",
        "-s",
        "--server",
        dest="zones",
        action="append",
        default=[],
        type=zone_arg,
        metavar="ZONE",
        help="check this zone (repeatable; replaces the default set; -s/--server as in "
        "check_rbl). Zones not in the catalogue are decoded by RFC 5782's generic rules; a "
        "dead zone is refused (UNKNOWN, with the reason)",
    )
    zones.add_argument(
        "--zones-file",
        metavar="FILE",
        help="a zone catalogue: mailrep's TOML format ([[zone]] tables, extends the built-in "
        "one) or Debian check_rbl's .ini (server= lines, which become the zones checked unless "
        "-z is given; its dead lists are skipped and named once in the long output)",
    )
    zones.add_argument(
        "--exclude-zone",
        action="append",
        default=[],
        type=zone_arg,
        metavar="ZONE",
        help="leave this zone out (repeatable)",
    )
    zones.add_argument(
        "--list-zones",
        action="store_true",
        help="print the zone catalogue (default set marked) and exit",
    )
    zones.add_argument(
        "--dqs-key",
        type=dqs_key_arg,
        metavar="KEY",
        help=f"Spamhaus Data Query Service key: Spamhaus zones are queried as KEY.<zone>."
        f"dq.spamhaus.net (the key never appears in output). Prefer the {DQS_ENV} "
        "environment variable: argv is visible to every local user",
    )
    zones.add_argument(
        "--dqs-key-file",
        metavar="FILE",
        help="file whose first line is the Spamhaus DQS key (the way to give it in an "
        "--extra-opts file or a CheckCommand); --dqs-key wins over it, it over "
        f"{DQS_ENV}",
    )
    dns = parser.add_argument_group("DNS")
    dns.add_argument(
        "-n",
        "--nameserver",
        action="append",
        default=[],
        type=nameserver_arg,
        metavar="HOST[:PORT]",
        help="ask this nameserver (repeatable; IPv6 as [ADDR]:PORT); default: the "
        "nameservers of /etc/resolv.conf. Use your own recursive resolver: public resolvers "
        "are refused by Spamhaus and others",
    )
    dns.add_argument(
        "--query-timeout",
        type=positive_float,
        default=4.0,
        metavar="SECONDS",
        help="bound for one DNS question, retransmitted every third of it (default 4)",
    )
    dns.add_argument(
        "--concurrency",
        type=positive_int,
        default=100,
        metavar="N",
        help="at most N DNS questions in flight at once (default 100)",
    )
    dns.add_argument(
        "--no-self-test",
        dest="self_test",
        action="store_false",
        help="skip the RFC 5782 self-tests (127.0.0.2 listed, 127.0.0.1 not) of each zone",
    )
    dns.add_argument(
        "--allow-nonglobal",
        action="store_true",
        help="also check private, loopback, documentation and other non-global addresses "
        "(labs and tests); without it such an address is UNKNOWN",
    )
    states = parser.add_argument_group(
        "thresholds (Nagios ranges on counts; a count outside the range alerts)"
    )
    warn_flags, crit_flags = listing_flags(listing_prefix)
    what = listing_what or "listings (address x list)"
    states.add_argument(
        *warn_flags,
        dest=listing_dests(listing_prefix)[0],
        type=nagios_range,
        metavar="RANGE",
        help=f"{what} that make WARNING (default: none)",
    )
    states.add_argument(
        *crit_flags,
        dest=listing_dests(listing_prefix)[1],
        type=nagios_range,
        default="0",
        metavar="RANGE",
        help=f"{what} that make CRITICAL (default 0: any listing is CRITICAL; e.g. "
        f"'{warn_flags[0]} 0 {crit_flags[0]} 1' makes one listing WARNING and two CRITICAL)",
    )
    states.add_argument(
        "--policy-warning",
        type=nagios_range,
        default="0",
        metavar="RANGE",
        help="policy/scope listings (Spamhaus PBL, UCEPROTECT 2/3, SpamRATS Dyna/NoPtr) "
        "that make WARNING (default 0: any)",
    )
    states.add_argument(
        "--policy-critical",
        type=nagios_range,
        metavar="RANGE",
        help="policy listings that make CRITICAL (default: none)",
    )
    states.add_argument(
        "--errors-warning",
        type=nagios_range,
        default="0",
        metavar="RANGE",
        help="lookup errors (failed queries, error answers, broken or suspect zones) that "
        "make WARNING (default 0: any). A run with no usable answer at all is UNKNOWN",
    )
    states.add_argument(
        "--errors-critical",
        type=nagios_range,
        metavar="RANGE",
        help="lookup errors that make CRITICAL (default: none)",
    )


def listing_flags(prefix: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The option strings of the listing thresholds (see :func:`add_blocklist_options`)."""
    if not prefix:
        return ("-w", "--warning"), ("-c", "--critical")
    return (f"--{prefix}-warning",), (f"--{prefix}-critical",)


def listing_dests(prefix: str = "") -> tuple[str, str]:
    """The argparse dests of the listing thresholds."""
    if not prefix:
        return "warning", "critical"
    key = prefix.replace("-", "_")
    return f"{key}_warning", f"{key}_critical"


def dead_list_notes(config: BlocklistConfig) -> list[str]:
    """One line naming the dead lists left out, with why (for the long output)."""
    if not config.skipped_dead:
        return []
    reasons: dict[str, int] = {}
    for zone in config.skipped_dead:
        reasons[zone.dead] = reasons.get(zone.dead, 0) + 1
    why = "; ".join(f"{reason} ({n})" for reason, n in reasons.items())
    names = ", ".join(z.name for z in config.skipped_dead)
    return [f"skipped {counted(len(config.skipped_dead), 'dead list')}: {names} — {why}"]


class ZoneRequest(NamedTuple):
    """The catalogue in force, the zone names to check, and whether a file named them."""

    catalogue: zonecat.Catalogue
    names: list[str]
    from_file: bool


def catalogue_from(args: argparse.Namespace) -> ZoneRequest:
    """The catalogue in force and the zone names the user asked for.

    A check_rbl ``.ini`` names the zones to check (that is what it meant to check_rbl) unless
    ``-z`` names them; a TOML file extends the catalogue, and its ``default = true`` zones
    join the default set.
    """
    from mailrep.dnsbl import catalogue as zonecat

    catalogue = zonecat.load_default()
    requested = list(args.zones)
    from_file = False
    if args.zones_file:
        user = zonecat.load_file(args.zones_file, catalogue)
        if user.selects and not requested:
            requested, from_file = list(user.zones), True
        catalogue = catalogue.merge(user)
    return ZoneRequest(catalogue, requested, from_file)


def blocklist_config(args: argparse.Namespace, deadline: float) -> BlocklistConfig:
    """Zones and lookup settings; the dead zones of a check_rbl file are left out and named,
    a dead zone given with ``-z`` is refused (UNKNOWN) as before."""
    from mailrep.dns.resolver import system_nameservers
    from mailrep.dnsbl import catalogue as zonecat
    from mailrep.dnsbl.lookup import BlocklistConfig, LookupSettings

    request = catalogue_from(args)
    catalogue = request.catalogue
    selection = zonecat.select_zones(
        catalogue, request.names, args.exclude_zone, skip_dead=request.from_file
    )
    zones = selection.zones
    if not zones:
        raise ConfigError("no zone left to check")
    nameservers = list(args.nameserver) or system_nameservers()
    if not nameservers:
        raise ConfigError("no nameserver: give --nameserver or fix /etc/resolv.conf")
    key = args.dqs_key or _dqs_key_from(args.dqs_key_file) or os.environ.get(DQS_ENV) or None
    if key is not None and not _KEY.fullmatch(key):
        where = "--dqs-key-file" if args.dqs_key_file and not args.dqs_key else DQS_ENV
        raise ConfigError(f"{where} holds no DQS key ({KEY_FORM})")
    settings = LookupSettings(
        nameservers=nameservers,
        query_timeout=min(args.query_timeout, max(0.1, deadline - time.monotonic())),
        concurrency=args.concurrency,
        deadline=deadline,
        dqs_key=key,
        self_test=args.self_test,
    )
    return BlocklistConfig(zones, settings, catalogue, tuple(selection.skipped_dead))


def _dqs_key_from(path: str | None) -> str | None:
    """The key in the first line of ``path``; an unreadable or empty file is UNKNOWN."""
    if not path:
        return None
    from mailrep.mail.credentials import load_password

    try:
        return load_password(path, None, DQS_ENV)
    except OSError as exc:
        raise ConfigError(f"cannot read the DQS key file {path}: {exc.strerror or exc}") from None


def catalogue_listing(catalogue: zonecat.Catalogue) -> str:
    """``--list-zones``: one zone a line, default set first, dead ones last. A user's
    catalogue is outside text too: its control characters are removed."""
    from mailrep.plugin.text import printable

    lines = ["default  zone                             kinds        description"]
    ordered = sorted(catalogue.zones.values(), key=lambda z: (not z.default, bool(z.dead), z.name))
    for z in ordered:
        mark = "dead" if z.dead else "yes" if z.default else "-"
        desc = z.dead if z.dead else z.description
        lines.append(f"{mark:<8} {z.name:<32} {','.join(sorted(z.kinds)):<12} {desc}")
    return "\n".join(printable(line) for line in lines) + "\n"
