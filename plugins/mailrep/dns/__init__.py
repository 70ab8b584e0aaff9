"""DNS on the wire: the message codec, the stub resolver, address parsing and FCrDNS.

Nothing here knows about blocklists or mail. May import the standard library and
``mailrep.errors`` only; never argparse or nagiosplugin (enforced by ruff's banned-api rule).
"""
