"""The options about runs before and after this one: history, cron, Prometheus files.

Kept apart from :mod:`mailrep.plugin.aftercheck` (which does the work) so that building
the parser for ``-h`` and ``-V`` loads nothing but argparse.
"""

from __future__ import annotations

import argparse


def add_state_options(parser: argparse.ArgumentParser) -> None:
    """``--state-dir``, ``--only-changes`` and ``--output``: the options of every plugin that
    concern runs before and after this one, and cron and Prometheus rather than Nagios."""
    group = parser.add_argument_group("history, cron and Prometheus")
    group.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where the check remembers since when each listing lasts, one small file per "
        "check (default: $XDG_STATE_HOME/mailrep when that is set, else /var/lib/mailrep "
        "when this user can write it, else ~/.local/state/mailrep)",
    )
    group.add_argument(
        "--only-changes",
        action="store_true",
        help="for cron: print nothing and exit 0 unless the state or a listing changed since "
        "the last run (then print and exit with the state's code)",
    )
    group.add_argument(
        "--output",
        metavar="FILE",
        help="write the output to FILE instead of standard output, atomically (a temporary "
        "file in the same directory, then a rename; mode 0644): for node_exporter's "
        "textfile collector, e.g. --format openmetrics --output DIR/mailrep_dnsbl.prom",
    )


def check_usage(args: argparse.Namespace) -> str:
    """A usage error in these options, or ""."""
    if getattr(args, "only_changes", False):
        if args.format == "openmetrics":
            return (
                "--only-changes cannot be used with --format openmetrics: an exposition must "
                "be complete on every run"
            )
        if args.output:
            return "--only-changes cannot be used with --output (it is for cron mail)"
    return ""
