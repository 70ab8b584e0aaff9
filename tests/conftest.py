"""Shared pytest configuration: every real-server harness registers its fixtures here."""

pytest_plugins = [
    "tests.support.servers.rbldnsd",
    "tests.support.servers.dovecot",
    "tests.support.servers.postfix",
    "tests.support.servers.unbound",
    "tests.support.servers.exim",
]
