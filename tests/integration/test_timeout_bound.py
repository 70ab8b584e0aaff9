"""-t bounds the whole run against real mailboxes too: thousands of bounces in a Maildir, and
the same over a real Dovecot; and a real Dovecot user whose password is not ASCII logs in.

Before, the alarm was an ``Exception`` that the per-message analysis caught and ignored:
``-t 1`` over 20,000 messages ran 6.3 s, lost the message the alarm hit, and said OK.
"""

from __future__ import annotations

import pytest

from tests.support.fixtures import make_bounces as mk
from tests.support.plugin_runner import run_plugin

MARGIN = 1.5  # seconds over -t: interpreter start-up and printing
MANY = 8000  # enough that analysing them takes several times -t 1 here


@pytest.fixture(scope="module")
def many_bounces(tmp_path_factory):
    root = tmp_path_factory.mktemp("many") / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    for i in range(MANY):  # each a bounce of its own (the same one twice counts once)
        raw = mk.unknown_user(f"user{i}@example.net")
        (root / "cur" / f"{i:06d}.M1P1.test:2,S").write_bytes(raw)
    return root


def test_many_local_messages_end_the_run_at_t_with_unknown(many_bounces):
    r = run_plugin("check_bounce_rate", "--maildir", str(many_bounces), "--since", "all", "-t", "1")
    assert (
        r.code == 3 and r.status == "BOUNCES UNKNOWN - timeout: the run did not finish within -t 1s"
    )
    assert r.elapsed < 1 + MARGIN, r


def test_the_same_messages_are_all_counted_when_there_is_time(many_bounces):
    r = run_plugin(
        "check_bounce_rate", "--maildir", str(many_bounces), "--since", "all", "-t", "120"
    )
    assert r.code == 2 and f"{MANY} bounces" in r.status, r


@pytest.fixture
def big_imap_box(dovecot):
    server = dovecot({"alice": "alice-password"})
    for i in range(3000):
        server.deliver("alice", mk.unknown_user(f"user{i}@example.net"), subdir="cur", flags="S")
    server.sync("alice")
    return server


def imap_args(server, *extra: str) -> list[str]:
    return [
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        str(server.imaps_port),
        "--imap-user",
        "alice",
        "--ca-file",
        str(server.ca_file),
        "--since",
        "all",
        *extra,
    ]


def test_a_big_real_imap_folder_ends_the_run_at_t_with_unknown(big_imap_box):
    r = run_plugin(
        "check_bounce_rate",
        *imap_args(big_imap_box, "-t", "1"),
        env={"MAILREP_IMAP_PASSWORD": "alice-password"},
    )
    assert r.code == 3 and r.status.startswith("BOUNCES UNKNOWN - "), r
    assert "timed out" in r.status or "timeout" in r.status, r
    assert r.elapsed < 1 + MARGIN, r


NON_ASCII = "Grüße-€-pässwörd"


def test_a_real_dovecot_user_with_a_non_ascii_password_logs_in(dovecot, tmp_path):
    """AUTHENTICATE PLAIN in UTF-8, over IMAPS, from a password file."""
    server = dovecot({"alice": NON_ASCII})
    server.deliver("alice", mk.unknown_user())
    server.sync("alice")
    password_file = tmp_path / "pw"
    password_file.write_bytes(f"{NON_ASCII}\n".encode())
    password_file.chmod(0o600)
    r = run_plugin(
        "check_bounce_rate", *imap_args(server, "--password-file", str(password_file), "-t", "20")
    )
    assert r.code == 0 and "1 bounce" in r.status and "IMAP: fetched 1 messages" in r.stdout, r


def test_a_wrong_non_ascii_password_is_a_failed_login(dovecot):
    server = dovecot({"alice": NON_ASCII})
    r = run_plugin(
        "check_bounce_rate",
        *imap_args(server, "-t", "20"),
        env={"MAILREP_IMAP_PASSWORD": NON_ASCII + "x"},
    )
    assert r.code == 3 and "login failed for alice" in r.status, r
    assert NON_ASCII not in r.stdout
