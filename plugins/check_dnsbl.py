#!/usr/bin/env python3
"""check_dnsbl: is an address, host, range or domain on a DNS blocklist?

Options -> core lookups (mailrep.dnsbl.lookup) -> nagiosplugin objects. Exit codes 0-3.
Heavy imports happen inside :func:`build`, so ``-V`` and ``-h`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__" and not __package__:  # run straight from a checkout
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailrep.plugin.runtime import (
    Outcome,
    PluginParser,
    RunContext,
    UsageError,
    add_common_options,
    positive_int,
    run,
)

LABEL = "DNSBL"

EXAMPLES = """\
examples:
  check_dnsbl -H 198.51.100.25                 one address against the default lists
  check_dnsbl -H mail.example.com              every A and AAAA of a host
  check_dnsbl -H 198.51.100.0/28 -z zen.spamhaus.org -z psbl.surriel.com
  check_dnsbl -d example.com                   a domain against the domain lists
  check_dnsbl -H 198.51.100.25 --zones-file /etc/nagios-plugins/check_rbl.ini
  check_dnsbl -H 198.51.100.25 -w 0 -c 1       one listing WARNING, two CRITICAL
  check_dnsbl -H 198.51.100.25 --format json   one JSON document (cron, scripts)
  check_dnsbl -H 198.51.100.25 --only-changes  cron: print only when the state or a listing changed

states: a listing is CRITICAL, a policy/scope listing (e.g. Spamhaus PBL) WARNING, lookup
errors and broken or suspect zones WARNING (named in the output); bad input, a target no
configured list covers (an IPv6 address against IPv4-only lists) or that got no usable,
self-tested answer, or hitting -t is UNKNOWN (CRITICAL stays CRITICAL when another target
is listed). A failed query is never counted as "not listed". The first line always says
what was found: thresholds that tolerate a listing change the state, not the words.
"""


def build_parser() -> PluginParser:
    from mailrep.plugin.dnsbl_options import add_blocklist_options

    parser = PluginParser(
        prog="check_dnsbl",
        description="Check IP addresses, hostnames, CIDR ranges and domains against DNS "
        "blocklists, decoding every answer with the list's published return codes.",
        epilog=EXAMPLES,
    )
    what = parser.add_argument_group("what to check")
    what.add_argument(
        "-H",
        "--host",
        action="append",
        default=[],
        metavar="ADDRESS|HOSTNAME|CIDR",
        help="an IPv4/IPv6 address, a hostname (every A and AAAA is checked) or a CIDR "
        "range (repeatable)",
    )
    what.add_argument(
        "-d",
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="a domain checked against the domain lists (repeatable)",
    )
    what.add_argument(
        "--max-addresses",
        type=positive_int,
        default=256,
        metavar="N",
        help="refuse to check more than N addresses in one run (default 256, a /24)",
    )
    add_blocklist_options(parser)
    add_common_options(parser, default_timeout=10)
    return parser


def build(args: argparse.Namespace, ctx: RunContext) -> Outcome:
    from mailrep.dnsbl.lookup import lookup
    from mailrep.dnsbl.targets import build_targets
    from mailrep.plugin import dnsbl_check as bc
    from mailrep.plugin.dnsbl_options import (
        blocklist_config,
        catalogue_from,
        catalogue_listing,
        dead_list_notes,
    )

    if args.list_zones:
        sys.stdout.write(catalogue_listing(catalogue_from(args)[0]))
        raise SystemExit(0)
    if not args.host and not args.domain:
        raise UsageError("nothing to check: give -H ADDRESS|HOSTNAME|CIDR or -d DOMAIN")
    config = blocklist_config(args, ctx.deadline)
    targets = build_targets(
        args.host,
        args.domain,
        config.settings,
        allow_nonglobal=args.allow_nonglobal,
        max_addresses=args.max_addresses,
    )
    return bc.dnsbl_outcome(
        args,
        ctx.verbose,
        targets.items,
        lambda: lookup(targets.items, config.zones, config.settings, targets.errors),
        [*targets.notes, *dead_list_notes(config)],
    )


def json_defaults() -> dict[str, object]:
    """The keys check_dnsbl's JSON adds, empty, for a run that ends before it has them."""
    return {
        "results": [],
        "zones": [],
        "targets": [],
        "notes": [],
        "resolver_fault": None,
        "target_errors": [],
    }


def main(argv: list[str] | None = None) -> None:
    run(LABEL, build_parser(), build, argv, json_defaults=json_defaults)


if __name__ == "__main__":
    main()
