"""Bounces: is a message a delivery failure, and who failed for what reason.

``analysis.analyse`` reads a message once (``reading``: ``mime`` tree, ``parts``, ``ses``) and
offers it to an ordered list of detectors (``forms``: feedback, auto-replies, list notices;
``dsn``: RFC 3464; ``plain``: free-text bounces with ``text``'s recipient scanning). Each
recipient is judged in ``recipient`` (status, pseudo status) and ``reason`` (the one place a
``reasons.Reason`` is decided, from ``rules`` wording and the ``stage``); ``citation`` names
the blocklist; ``tally`` counts a run.

May import the standard library and ``mailrep.errors``; never argparse or nagiosplugin.
"""
