"""Shared pytest configuration: every real-server harness (and the fake DNS server)
registers its fixtures here."""

import pytest

pytest_plugins = [
    "tests.support.servers.rbldnsd",
    "tests.support.servers.dovecot",
    "tests.support.servers.postfix",
    "tests.support.servers.unbound",
    "tests.support.servers.exim",
    "tests.support.fakes.dns_server",
]


@pytest.fixture(autouse=True)
def _private_state_home(tmp_path_factory, monkeypatch):
    """Each test's plugin runs keep their history (``XDG_STATE_HOME``) in a directory of the
    test's own: the suite runs as root, and the plugins' default, /var/lib/mailrep, would
    carry history from one test, and one test run, into the next. A test that wants a
    history across runs names ``--state-dir``; plugin_runner gives each subprocess run a
    fresh one anyway."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))
