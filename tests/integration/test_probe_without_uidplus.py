"""The round trip's clean-up against a real Dovecot that does not offer UIDPLUS (its
capability list configured without it): the probe cannot be expunged alone, so nothing is
flagged or expunged, the caller is told (False), and every message keeps its UID and flags.
With UIDPLUS (Dovecot's default) only the probe goes; tests/integration/test_probe.py covers
that through the whole mail flow."""

from __future__ import annotations

import time

import pytest
from mailrep.mail.roundtrip import _delete, connect
from mailrep.mail.sources import ImapSettings

# Dovecot 2.3's post-login capabilities, less UIDPLUS (and less the extensions that would
# let a client expunge selectively by other means)
NO_UIDPLUS = """protocol imap {
  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+
}
"""


@pytest.fixture
def server(dovecot):
    server = dovecot(extra_config=NO_UIDPLUS)
    server.deliver("alice", "Subject: mailrep probe TOKEN\n\nprobe\n")
    server.deliver("alice", "Subject: other\n\nkeep me\n", subdir="cur", flags="S")
    server.sync("alice")
    return server


def client_for(server):
    settings = ImapSettings(
        host="localhost",
        port=server.imaps_port,
        user="alice",
        password="alice-password",
        security="tls",
        ca_file=str(server.ca_file),
        timeout=10.0,
    )
    client = connect(settings)
    client.select_folder("INBOX", readonly=True)
    [uid] = client.search(["SUBJECT", "mailrep probe TOKEN"])
    return client, uid


def test_server_configured_without_uidplus_does_not_offer_it(server):
    client, _uid = client_for(server)
    try:
        assert not client.has_capability("UIDPLUS")
    finally:
        client.logout()


def test_probe_is_not_deleted_without_uidplus_and_the_caller_is_told(server):
    client, uid = client_for(server)
    try:
        cleanup = _delete(client, "INBOX", uid, time.monotonic() + 10, 10.0)
        assert not cleanup.deleted and "UIDPLUS" in cleanup.note
    finally:
        client.logout()


def test_nothing_is_flagged_or_expunged_without_uidplus(server):
    before = server.snapshot("alice")
    client, uid = client_for(server)
    try:
        _delete(client, "INBOX", uid, time.monotonic() + 10, 10.0)
    finally:
        client.logout()
    server.sync("alice")
    after = server.snapshot("alice")
    assert {k: (s.uid, s.flags) for k, s in after.items()} == {
        k: (s.uid, s.flags) for k, s in before.items()
    }
