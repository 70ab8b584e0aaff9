"""Shared pytest configuration: every real-server harness registers its fixtures here."""

pytest_plugins = [
    "tests.servers.rbldnsd",
    "tests.servers.dovecot",
    "tests.servers.postfix",
    "tests.servers.unbound",
]
