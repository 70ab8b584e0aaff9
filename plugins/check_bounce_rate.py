#!/usr/bin/env python3
"""check_bounce_rate: how much outbound mail bounces, why, and which blocklist the bounces cite.

Options -> mailbox source and bounce analysis (mailrep.mail.sources, mailrep.bounce.analysis) ->
nagiosplugin objects. Mailboxes are only ever read: IMAP EXAMINE and BODY.PEEK, local
Maildir/mbox files opened read-only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if __name__ == "__main__" and not __package__:  # run straight from a checkout
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mailrep.plugin.runtime import (
    Outcome,
    PluginParser,
    RunContext,
    UsageError,
    add_common_options,
    nagios_range,
    positive_float,
    positive_int,
    run,
)

if TYPE_CHECKING:
    from mailrep.bounce.measure import Measurement
    from mailrep.mail.logs import Kind
    from mailrep.mail.message import FetchStats, ImapSettings, Message
    from mailrep.plugin.bounce_check import BounceResource, BounceThresholds

LABEL = "BOUNCES"

EXAMPLES = """\
examples:
  check_bounce_rate --maildir /var/mail/bounces/Maildir --since 24h --postfix-log /var/log/mail.log
  check_bounce_rate --imap-host imap.example.com --imap-user bounces \\
      --password-file /etc/nagios/bounces.pw --since 7d --sent-folder Sent
  check_bounce_rate --mbox /var/mail/postmaster --sent 1200 -w 2 -c 5
  check_bounce_rate --dir ./bounces --verify -n 127.0.0.1      is the cited IP still listed?

states: the bounce rate (percent of sent; without a sent count, the number of bounces) is
judged by -w/-c (defaults 5 and 10); any blocklist bounce (one that cites a blocklist or
refuses the sending address itself: reasons blocked, badreputation) is at least WARNING
(--blocked-warning 0); hard bounces by --hard-warning/--hard-critical. With
--verify, a cited address that is still listed is CRITICAL and one delisted since no longer
counts as blocked. An unreadable mailbox is UNKNOWN.
"""


def build_parser() -> PluginParser:
    from mailrep.plugin.dnsbl_options import nameserver_arg, zone_arg
    from mailrep.plugin.mailbox_options import add_imap_options, add_tls_options

    parser = PluginParser(
        prog="check_bounce_rate",
        description="Read a bounce mailbox (IMAP, Maildir, mbox, a folder of .eml or one "
        "message), recognise and classify bounces, extract the blocklist and address they "
        "cite, and judge the bounce rate.",
        epilog=EXAMPLES,
    )
    src = parser.add_argument_group("local sources (give exactly one source, or --imap-host)")
    src.add_argument("--maildir", metavar="DIR", help="a Maildir (new/ and cur/ are read)")
    src.add_argument("--mbox", metavar="FILE", help="an mbox file")
    src.add_argument("--dir", metavar="DIR", help="a folder of .eml files")
    src.add_argument(
        "--file",
        metavar="FILE",
        help="one message, or each message of an mbox (a file that starts with a "
        "From_ line); - reads standard input",
    )
    add_imap_options(parser)
    add_tls_options(parser)
    win = parser.add_argument_group("window and denominator")
    win.add_argument(
        "--since",
        default="24h",
        metavar="24h|7d|30m|all",
        help="only messages that arrived in this window (IMAP INTERNALDATE, file time, else "
        "Date:); default 24h",
    )
    den = win.add_mutually_exclusive_group()
    den.add_argument("--sent", type=int, metavar="N", help="messages sent in the window")
    den.add_argument(
        "--sent-folder",
        metavar="NAME",
        help="count the messages of this IMAP folder in the same window as the sent count",
    )
    den.add_argument(
        "--postfix-log",
        metavar="FILE|journal",
        help="Postfix's log. Alone (no mailbox option) it is the source: every "
        "status=bounced, deferred and expired recipient is judged from the remote's reply, "
        "and the sent count comes from the same log; with a mailbox it gives the sent count "
        "(final sent/bounced/deferred per recipient). FILE.1, FILE.2.gz ... are read too "
        "when --since reaches back into them; 'journal' reads journalctl for the Postfix "
        "units in the window",
    )
    den.add_argument(
        "--exim-log",
        metavar="FILE",
        help="the same for Exim's main log: ** bounces and == deferrals judged from the "
        "remote's reply, => deliveries for the sent count",
    )
    th = parser.add_argument_group("thresholds (Nagios ranges)")
    th.add_argument(
        "-w",
        "--warning",
        type=nagios_range,
        default="5",
        metavar="RANGE",
        help="bounce rate in percent that makes WARNING (default 5); without a sent count, "
        "the number of bounces",
    )
    th.add_argument(
        "-c",
        "--critical",
        type=nagios_range,
        default="10",
        metavar="RANGE",
        help="bounce rate (or count) that makes CRITICAL (default 10)",
    )
    th.add_argument(
        "--hard-warning",
        type=nagios_range,
        metavar="RANGE",
        help="hard bounces (unknown user, no such domain) that make WARNING",
    )
    th.add_argument(
        "--hard-critical",
        type=nagios_range,
        metavar="RANGE",
        help="hard bounces that make CRITICAL",
    )
    th.add_argument(
        "--blocked-warning",
        type=nagios_range,
        default="0",
        metavar="RANGE",
        help="blocklist bounces (citing a blocklist, or refusing the sending address: "
        "reasons blocked, badreputation) that make WARNING (default 0: any; one listed "
        "relay is an emergency at any rate)",
    )
    th.add_argument(
        "--blocked-critical",
        type=nagios_range,
        metavar="RANGE",
        help="blocklist bounces that make CRITICAL (default: none)",
    )
    th.add_argument(
        "--deferred-blocked-warning",
        type=nagios_range,
        default="0",
        metavar="RANGE",
        help="with an MTA log as the source: queued recipients whose deferral cites a "
        "blocklist that make WARNING (default 0: the first one; mail is already being "
        "refused, the bounces come days later)",
    )
    ver = parser.add_argument_group("verification of cited blocklists")
    ver.add_argument(
        "--verify",
        action="store_true",
        help="look every cited (address, list) up now and say whether it is still listed "
        "(still listed: CRITICAL; delisted since: the bounce no longer counts as blocked)",
    )
    ver.add_argument(
        "-n",
        "--nameserver",
        action="append",
        default=[],
        type=nameserver_arg,
        metavar="HOST[:PORT]",
        help="nameserver for --verify (repeatable)",
    )
    ver.add_argument(
        "--query-timeout",
        type=positive_float,
        default=4.0,
        metavar="SECONDS",
        help="bound for one DNS question of --verify (default 4)",
    )
    ver.add_argument(
        "--verify-zone",
        action="append",
        default=[],
        type=zone_arg,
        metavar="ZONE",
        help="also verify citations of this list, which the zone catalogue does not know "
        "(repeatable); citations of other unknown lists are named but not looked up, so a "
        "forged bounce cannot make the check query a zone of its choosing",
    )
    ver.add_argument(
        "--hop-zone",
        action="append",
        default=[],
        metavar="ZONE",
        help="the lists --verify looks up every public hop of the returned chains on "
        "(repeatable; replaces the catalogue's default set; the lists the bounces cite are "
        "always added), so a listed relay is found even when no bounce cites that list",
    )
    ver.add_argument(
        "--allow-nonglobal",
        action="store_true",
        help="let --verify look up non-global cited addresses and path hops (labs, tests)",
    )
    ver.add_argument(
        "--max-messages",
        type=positive_int,
        default=100_000,
        metavar="N",
        help="read at most N messages (default 100000)",
    )
    add_common_options(parser, default_timeout=60)
    return parser


class Source(NamedTuple):
    """The one message source given, read lazily, and the window it is read in."""

    messages: Iterable[Message]
    since: datetime | None
    imap: ImapSettings | None = None
    stats: FetchStats | None = None


def _source(args: argparse.Namespace, ctx: RunContext) -> Source:
    from mailrep.mail import sources
    from mailrep.plugin.mailbox_options import imap_settings

    given = mailbox_options(args)
    if len(given) != 1:
        raise UsageError(
            "give exactly one source: --maildir, --mbox, --dir, --file or --imap-host "
            "(or --postfix-log/--exim-log alone)"
        )
    since = window(args)
    if args.sent_folder and not args.imap_host:
        raise UsageError("--sent-folder needs --imap-host")
    if args.imap_host:
        imap = imap_settings(args, max(1.0, ctx.deadline - ctx.started), ctx.deadline)
        stats = sources.FetchStats()
        return Source(sources.read_imap(imap, since, stats=stats), since, imap, stats)
    if args.maildir:
        return Source(sources.read_maildir(args.maildir), since)
    if args.mbox:
        return Source(sources.read_mbox(args.mbox), since)
    if args.dir:
        return Source(sources.read_dir(args.dir), since)
    return Source(sources.read_file(args.file), since)


def mailbox_options(args: argparse.Namespace) -> list[str]:
    return [name for name in ("maildir", "mbox", "dir", "file", "imap_host") if getattr(args, name)]


def window(args: argparse.Namespace) -> datetime | None:
    from mailrep.mail import sources

    try:
        return sources.parse_since(args.since)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def log_option(args: argparse.Namespace) -> tuple[Kind, str] | None:
    """The MTA log named (--postfix-log or --exim-log), or None."""
    if args.postfix_log:
        return "postfix", args.postfix_log
    if args.exim_log:
        return "exim", args.exim_log
    return None


def _sent(args: argparse.Namespace, source: Source, ctx: RunContext) -> tuple[int, str] | None:
    """The denominator the options name, or None."""
    from mailrep.mail import sent_count

    if args.sent is not None:
        if args.sent < 0:
            raise UsageError("--sent must not be negative")
        return args.sent, "--sent"
    log = log_option(args)
    if log is not None:
        return sent_count.from_log(*log, source.since, ctx.deadline)
    if args.sent_folder and source.imap is not None:
        return sent_count.from_imap_folder(source.imap, args.sent_folder, source.since)
    return None


def thresholds(args: argparse.Namespace) -> BounceThresholds:
    from mailrep.plugin.bounce_check import BounceThresholds

    return BounceThresholds(
        args.warning,
        args.critical,
        args.hard_warning,
        args.hard_critical,
        args.blocked_warning,
        args.blocked_critical,
        args.deferred_blocked_warning,
    )


def build_from_log(args: argparse.Namespace, ctx: RunContext, kind: Kind, path: str) -> Outcome:
    """An MTA log alone as the source: its bounces, deferrals and sent count."""
    from mailrep.bounce.logsource import read_log
    from mailrep.bounce.measure import from_log
    from mailrep.mail.logs import open_log
    from mailrep.plugin import bounce_verify as verify_options
    from mailrep.plugin.bounce_check import BounceResource

    since = window(args)
    recheck = verify_options.recheck(args, ctx.deadline)

    def run_measure() -> Measurement:
        log = open_log(kind, path, since, deadline=ctx.deadline)
        return from_log(read_log(log.events, since, log.name), log.label, recheck)

    return _outcome(args, ctx, BounceResource(run_measure, lambda: ""))


def _outcome(args: argparse.Namespace, ctx: RunContext, resource: BounceResource) -> Outcome:
    """The Check of a run: the resource judged by the thresholds, worded for the window."""
    import nagiosplugin
    from mailrep.plugin import bounce_check as bcheck
    from mailrep.plugin.bounce_json import bounce_json

    window_text = "in all mail" if args.since == "all" else f"in the last {args.since}"
    check = nagiosplugin.Check(
        resource,
        *bcheck.bounce_contexts(thresholds(args)),
        bcheck.BounceSummaryText(resource, window_text, ctx.verbose),
    )
    from mailrep.plugin.facts import of_bounces

    return Outcome(check, lambda: bounce_json(resource), facts=lambda: of_bounces(resource))


def build(args: argparse.Namespace, ctx: RunContext) -> Outcome:
    log = log_option(args)
    if log is not None and not mailbox_options(args):
        return build_from_log(args, ctx, *log)
    from mailrep.bounce.analysis import analyse
    from mailrep.bounce.measure import in_window, measure
    from mailrep.plugin import bounce_verify as verify_options
    from mailrep.plugin.bounce_check import BounceResource, read_returned

    source = _source(args, ctx)
    recheck = verify_options.recheck(args, ctx.deadline)

    def run_measure() -> Measurement:
        sent = _sent(args, source, ctx)
        messages = in_window(source.messages, source.since, args.max_messages)
        return measure(
            messages,
            analyse,
            sent=sent,
            recheck=recheck,
            returned=lambda raw: read_returned(raw, allow_nonglobal=args.allow_nonglobal),
            hop_zones=verify_options.hop_zones(args),
        )

    def fetched() -> str:
        stats = source.stats
        if stats is None:
            return ""
        return f"IMAP: fetched {stats.messages} messages, {stats.bytes} bytes"

    return _outcome(args, ctx, BounceResource(run_measure, fetched))


def main(argv: list[str] | None = None) -> None:
    run(LABEL, build_parser(), build, argv)


if __name__ == "__main__":
    main()
