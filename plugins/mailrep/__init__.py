"""mailrep: warn a mail admin before outbound mail bounces because of a DNS blocklist.

The package is the shared core of the three check plugins; each plugin module in
``plugins/`` only turns options into core calls and the results into nagiosplugin objects.
"""

__version__ = "0.1.0"
