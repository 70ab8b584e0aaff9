"""The relay path of a message: Received parsing into hops, the trust boundary,
Authentication-Results, and the chain a check examines.

May import ``mailrep.dns``, ``mailrep.dnsbl``, ``mailrep.mail`` and ``mailrep.errors``; never
argparse or nagiosplugin.
"""
