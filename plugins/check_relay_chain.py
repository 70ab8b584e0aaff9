#!/usr/bin/env python3
"""check_relay_chain: is any relay a test message really passed on a DNS blocklist?

The message comes from a file (or stdin), from an IMAP mailbox, or from a round trip (send by
SMTP, wait for it over IMAP, delete it). Options -> the message (mailrep.relay.obtain) ->
its Received lines, the chain of hops and their lookups (mailrep.relay.chain, mailrep.dnsbl.lookup)
-> nagiosplugin objects (mailrep.plugin.relay_check). This module only turns options into calls.
Exit codes 0-3. Heavy imports happen inside :func:`build`, so ``-V`` and ``-h`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

if __name__ == "__main__" and not __package__:  # run straight from a checkout
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailrep.plugin.runtime import (
    Outcome,
    PluginParser,
    RunContext,
    UsageError,
    add_common_options,
    nagios_range,
    run,
)

if TYPE_CHECKING:
    from mailrep.relay.obtain import Obtained

LABEL = "RELAY CHAIN"

EXAMPLES = """\
examples:
  check_relay_chain --file probe.eml                     a saved message (or its headers)
  formail -X '' < msg | check_relay_chain --file -       headers from stdin
  check_relay_chain --imap-host imap.example.net --imap-user probe \\
      --password-file /etc/nagios/probe.pw --subject-token relay-probe
                                                         the newest message carrying a token
  check_relay_chain --smtp-host smtp.example.com --from monitor@example.com \\
      --to probe@example.net --imap-host imap.example.net --imap-user probe \\
      --password-file /etc/nagios/probe.pw -w 60 -c 300  the round trip

The chain: hop 1 is the origin; the receiving system (--receiver, default: the newest
Received line's host and its domain) wrote the entry hop, whose client address is the one
the recipient's MX judged. That address and the public addresses of the sender-side hops
below it are checked; the client of an authenticated submission (a user) and non-global
addresses are not (--allow-nonglobal for labs).

states: a listed hop is CRITICAL (--listed-warning/--listed-critical change it), a
policy-listed hop WARNING, lookup errors WARNING; SPF/DKIM/DMARC failing at the receiver
WARNING (--auth-fail-state); -w/-c are on the round trip's delivery time in seconds. No
readable chain, no hop to check (the chain is still shown), a checked hop no list covers or
answers for, an unreachable mailbox, or hitting -t is UNKNOWN. The first line always says
what was found: thresholds that tolerate a listing change the state, not the words.
"""


def build_parser() -> PluginParser:
    from mailrep.plugin.dnsbl_options import add_blocklist_options
    from mailrep.plugin.mailbox_options import add_imap_options, add_smtp_options, add_tls_options

    parser = PluginParser(
        prog="check_relay_chain",
        description="Follow the Received chain of a test message and check every public "
        "relay it passed against DNS blocklists, with forward-confirmed reverse DNS and the "
        "receiver's SPF/DKIM/DMARC verdicts.",
        epilog=EXAMPLES,
    )
    what = parser.add_argument_group("which message")
    what.add_argument(
        "--file",
        metavar="FILE",
        help="a message or just its header block ('-' reads stdin)",
    )
    what.add_argument(
        "--subject-token",
        metavar="TOKEN",
        help="IMAP: the newest message whose Subject contains TOKEN (default: the newest "
        "message of the folder)",
    )
    what.add_argument(
        "--since",
        default="7d",
        metavar="DURATION",
        help="IMAP: look only at messages that arrived in this window: 30m, 24h, 7d, 2w or "
        "'all' (default 7d)",
    )
    chain = parser.add_argument_group("the chain")
    chain.add_argument(
        "--receiver",
        action="append",
        default=[],
        metavar="NAME|.DOMAIN|CIDR",
        help="the receiving system, where trust begins (repeatable): a host name, a domain "
        "suffix with a leading dot, or an address range. Default: the newest Received "
        "line's host and its domain, plus its internal hand-offs (content filter, LMTP)",
    )
    chain.add_argument(
        "--no-fcrdns",
        dest="fcrdns",
        action="store_false",
        help="skip the forward-confirmed reverse DNS of each checked hop (information only)",
    )
    chain.add_argument(
        "--auth-fail-state",
        choices=("ok", "warning", "critical"),
        default="warning",
        help="state when SPF, DKIM or DMARC fails (or softfails, or has a permanent error) "
        "at the receiver (default warning)",
    )
    add_imap_options(parser)
    add_smtp_options(parser)
    add_tls_options(parser)
    add_blocklist_options(
        parser, listing_prefix="listed", listing_what="listed hops (perfdata listed_hops)"
    )
    delivery = parser.add_argument_group("delivery time (round trip only)")
    delivery.add_argument(
        "-w",
        "--warning",
        type=nagios_range,
        metavar="RANGE",
        help="delivery time in seconds that makes WARNING (e.g. 60)",
    )
    delivery.add_argument(
        "-c",
        "--critical",
        type=nagios_range,
        metavar="RANGE",
        help="delivery time in seconds that makes CRITICAL (e.g. 300)",
    )
    add_common_options(parser, default_timeout=90)
    return parser


def _mode(args: argparse.Namespace) -> str:
    if args.file is not None:
        if args.imap_host or args.smtp_host:
            raise UsageError("--file cannot be combined with --imap-host or --smtp-host")
        return "file"
    if args.smtp_host:
        if not args.imap_host:
            raise UsageError("the round trip needs --imap-host to find the test message")
        if not args.mail_from or not args.mail_to:
            raise UsageError("the round trip needs --from and --to")
        if args.subject_token:
            raise UsageError(
                "--subject-token is for reading a mailbox; the round trip makes its own token"
            )
        return "round trip"
    if args.imap_host:
        return "imap"
    raise UsageError(
        "no message: give --file FILE, --imap-host HOST, or --smtp-host HOST "
        "with --imap-host for a round trip"
    )


def _remaining(ctx: RunContext) -> float:
    return max(0.1, ctx.deadline - time.monotonic())


def _obtain(args: argparse.Namespace, ctx: RunContext, mode: str) -> Obtained:
    """The options of the chosen mode -> settings -> the call that gets the message.

    Called when the check runs (inside the Resource), so every timeout is what is left of
    ``-t`` at that moment.
    """
    from mailrep.relay import obtain as relay_source

    if mode == "file":
        return relay_source.from_file(args.file)
    from mailrep.plugin.mailbox_options import imap_settings

    if mode == "imap":
        from mailrep.mail import sources

        try:
            since = sources.parse_since(args.since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
        settings = imap_settings(args, _remaining(ctx), ctx.deadline)
        return relay_source.from_imap(settings, since, args.since, args.subject_token)
    from mailrep.plugin.mailbox_options import smtp_settings

    imap = imap_settings(args, _remaining(ctx), ctx.deadline)
    smtp = smtp_settings(args, _remaining(ctx), imap.password)
    wait = min(args.wait, _remaining(ctx))
    return relay_source.from_round_trip(
        smtp, imap, args.mail_from, args.mail_to, wait, ctx.deadline
    )


def build(args: argparse.Namespace, ctx: RunContext) -> Outcome:
    from mailrep.plugin import relay_check as rc
    from mailrep.plugin.dnsbl_options import (
        blocklist_config,
        catalogue_from,
        catalogue_listing,
        dead_list_notes,
    )
    from mailrep.relay.chain import Examination, examine

    if args.list_zones:
        sys.stdout.write(catalogue_listing(catalogue_from(args)[0]))
        raise SystemExit(0)
    mode = _mode(args)
    config = blocklist_config(args, ctx.deadline)

    def acquire() -> Examination:
        got = _obtain(args, ctx, mode)
        notes = [*got.notes, *dead_list_notes(config)]
        if mode != "round trip" and (args.warning or args.critical):
            notes.append("-w/-c judge the round trip's delivery time: not used without one")
        exam = examine(
            got.raw,
            config,
            receiver=args.receiver,
            allow_nonglobal=args.allow_nonglobal,
            fcrdns_on=args.fcrdns,
            delivery=got.delivery,
            source=got.source,
        )
        exam.chain.notes.extend(notes)
        return exam

    return rc.relay_outcome(args, ctx.verbose, acquire)


def json_defaults() -> dict[str, object]:
    """Every key check_relay_chain's JSON adds, empty, for a run that ends before it knows
    them (a usage error, an unreadable message, a round trip that never arrived)."""
    return {
        "hops": [],
        "entry_hop": None,
        "receiver": [],
        "relay_delay": None,
        "delivery": None,
        "source": None,
        "authentication": {},
        "notes": [],
        "zones": [],
        "unchecked": None,
    }


def main(argv: list[str] | None = None) -> None:
    run(LABEL, build_parser(), build, argv, json_defaults=json_defaults)


if __name__ == "__main__":
    main()
