"""Bounces: MIME structure, DSN and free-text scanning, Amazon SES notifications, reasons,
blocklist citations, per-message analysis and the tally of a run.

May import the standard library and ``mailrep.errors``; never argparse or nagiosplugin.
"""
