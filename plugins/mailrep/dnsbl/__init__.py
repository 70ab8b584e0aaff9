"""DNS blocklists: the zone catalogue (``zones.toml``), lookups with RFC 5782 self-tests,
and the targets a run checks.

May import ``mailrep.dns`` and ``mailrep.errors``; never argparse or nagiosplugin.
"""
