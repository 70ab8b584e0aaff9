"""check_relay_chain reading the test message from a real Dovecot over IMAPS (read-only).

The message is a realistic one from tests/support/fixtures/relay_chain, delivered into the Maildir;
the plugin must find it (by Subject token, or as the newest message), judge its chain exactly
as with --file, verify the server's certificate, and leave every message and flag as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lab import AV_RELAY
from tests.support.plugin_runner import run_plugin

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "relay_chain"
USER, PASSWORD = "probe", "probe-password"
OTHER = (
    b"Received: from mail.other.example (mail.other.example [185.56.87.99])\n"
    b"\tby mx1.recipient.example (Postfix) with ESMTP id 1; Sat, 28 Nov 2026 13:00:00 +0000\n"
    b"From: other@other.example\nTo: probe@recipient.example\nSubject: unrelated\n\nx\n"
)


@pytest.fixture
def mailbox(dovecot, tmp_path):
    server = dovecot({USER: PASSWORD})
    server.deliver(USER, OTHER, subdir="cur", flags="S")
    server.deliver(USER, (FIXTURES / "provider_relay.eml").read_bytes())
    server.sync(USER)
    password_file = tmp_path / "imap.pw"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    return server, password_file


def imap_args(server, password_file) -> list[str]:
    return [
        "--imap-host", "localhost", "--imap-port", str(server.imaps_port), "--imap-tls",
        "--ca-file", str(server.ca_file), "--imap-user", USER,
        "--password-file", str(password_file),
    ]  # fmt: skip


def test_message_found_by_subject_token_is_judged_like_the_file(psbl, mailbox):
    server, pw = mailbox
    r = run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        *imap_args(server, pw), "--subject-token", "relay chain probe",
    )  # fmt: skip
    assert r.code == 2, r.stdout
    assert r.status == (
        f"RELAY CHAIN CRITICAL - hop 3 av1.provider.example [{AV_RELAY}] listed on psbl.surriel.com"
    )


def test_newest_message_is_taken_without_a_token(psbl, mailbox):
    server, pw = mailbox
    r = run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        *imap_args(server, pw),
    )  # fmt: skip
    assert r.code == 2 and "hop 3 av1.provider.example" in r.status


def test_reading_the_mailbox_changes_no_message_and_no_flag(psbl, mailbox):
    server, pw = mailbox
    before = server.snapshot(USER)
    run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        *imap_args(server, pw), "--subject-token", "relay chain probe",
    )  # fmt: skip
    server.sync(USER)
    assert server.snapshot(USER) == before


def test_token_that_no_message_carries_is_unknown(psbl, mailbox):
    server, pw = mailbox
    r = run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        *imap_args(server, pw), "--subject-token", "no-such-token-4711",
    )  # fmt: skip
    assert r.code == 3 and "no-such-token-4711" in r.status


def test_wrong_password_is_unknown(psbl, mailbox, tmp_path):
    server, _pw = mailbox
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not-the-password\n")
    r = run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        *imap_args(server, wrong),
    )  # fmt: skip
    assert r.code == 3


def test_certificate_from_an_unknown_ca_is_refused(psbl, mailbox):
    server, pw = mailbox
    args = imap_args(server, pw)
    i = args.index("--ca-file")
    del args[i : i + 2]
    r = run_plugin("check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com", *args)
    assert r.code == 3


def test_password_from_the_environment_works(psbl, mailbox):
    server, pw = mailbox
    args = imap_args(server, pw)
    i = args.index("--password-file")
    del args[i : i + 2]
    r = run_plugin(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com", *args,
        env={"MAILREP_IMAP_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert r.code == 2
