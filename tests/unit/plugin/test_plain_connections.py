"""--imap-plain does what its help says: no TLS, so only to a loopback address (the password
would travel in clear); --smtp-plain likewise once a password is involved (--smtp-user)."""

from __future__ import annotations

import pytest
from mailrep.plugin.mailbox_options import is_loopback

from tests.support.in_process import run_main


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "x.localhost"],
)
def test_loopback_addresses_and_localhost_are_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["imap.example.org", "192.0.2.1", "10.0.0.1", "::2", "localhost.example.org", "128.0.0.1"],
)
def test_other_hosts_are_not_loopback(host):
    assert not is_loopback(host)


ENV = {"MAILREP_IMAP_PASSWORD": "pw"}


@pytest.mark.parametrize("module", ["check_bounce_rate", "check_relay_chain"])
def test_imap_plain_to_a_remote_host_is_a_usage_error_before_any_connection(module):
    code, out = run_main(
        module, ["--imap-host", "192.0.2.1", "--imap-user", "u", "--imap-plain", "-t", "5"], ENV
    )
    assert code == 3
    assert out.startswith(
        f"{'BOUNCES' if module == 'check_bounce_rate' else 'RELAY CHAIN'} UNKNOWN - usage error: "
        "--imap-plain sends the password in clear, so only to a loopback address, not 192.0.2.1"
    )


def test_imap_plain_to_loopback_is_allowed():
    code, out = run_main(
        "check_bounce_rate",
        ["--imap-host", "127.0.0.1", "--imap-port", "9", "--imap-user", "u", "--imap-plain"],
        ENV,
    )
    assert code == 3 and "cannot connect: connection refused" in out


ROUND_TRIP = ["--imap-host", "127.0.0.1", "--imap-port", "9", "--imap-user", "u"]
ROUND_TRIP += ["--from", "a@example.org", "--to", "b@example.org", "--smtp-plain"]


def test_smtp_plain_with_a_login_to_a_remote_host_is_a_usage_error():
    code, out = run_main(
        "check_relay_chain", [*ROUND_TRIP, "--smtp-host", "192.0.2.1", "--smtp-user", "u"], ENV
    )
    assert code == 3 and "--smtp-plain with --smtp-user sends the password in clear" in out


def test_smtp_plain_without_a_login_may_go_to_any_host():
    """Port 25 to a relay without AUTH carries no password: only the test message."""
    code, out = run_main("check_relay_chain", [*ROUND_TRIP, "--smtp-host", "192.0.2.1"], ENV)
    assert code == 3
    assert "usage error" not in out and "cannot connect" in out
