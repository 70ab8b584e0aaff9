"""The Dovecot harness: real IMAP/IMAPS with a verifiable certificate over real Maildirs."""

from __future__ import annotations

import imaplib
import ssl

import pytest

from tests.support.servers.dovecot import Dovecot

MESSAGE = b"From: a@example.test\nTo: alice@example.test\nSubject: one\n\nbody\n"


@pytest.fixture
def server(dovecot) -> Dovecot:
    return dovecot({"alice": "alice-pw", "bob@example.test": "bob-pw"})


def verifying_context(server: Dovecot) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def imaps(server: Dovecot, host: str = "localhost") -> imaplib.IMAP4_SSL:
    return imaplib.IMAP4_SSL(host, server.imaps_port, ssl_context=verifying_context(server))


def test_imaps_certificate_verifies_for_localhost_and_login_works(server):
    client = imaps(server)
    assert client.login("alice", "alice-pw")[0] == "OK"
    client.logout()


def test_imaps_certificate_verifies_for_the_loopback_address(server):
    client = imaps(server, host="127.0.0.1")
    assert client.login("alice", "alice-pw")[0] == "OK"
    client.logout()


def test_certificate_is_refused_without_the_harness_ca(server):
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL("localhost", server.imaps_port, ssl_context=ssl.create_default_context())


def test_plain_port_offers_starttls_and_verifies(server):
    client = imaplib.IMAP4("127.0.0.1", server.imap_port)
    assert "STARTTLS" in client.capabilities
    client.starttls(ssl_context=verifying_context(server))
    assert client.login("alice", "alice-pw")[0] == "OK"
    client.logout()


def test_wrong_password_is_refused(server):
    client = imaps(server)
    with pytest.raises(imaplib.IMAP4.error):
        client.login("alice", "wrong")
    client.logout()


def test_user_name_may_be_a_full_address(server):
    client = imaps(server)
    assert client.login("bob@example.test", "bob-pw")[0] == "OK"
    client.logout()


def test_examine_counts_messages_dropped_in_new_and_cur(server):
    server.deliver("alice", MESSAGE)
    server.deliver("alice", MESSAGE, subdir="cur", flags="S")
    client = imaps(server)
    client.login("alice", "alice-pw")
    status, data = client.select("INBOX", readonly=True)
    assert (status, data) == ("OK", [b"2"])
    _, unseen = client.search(None, "UNSEEN")
    assert len(unseen[0].split()) == 1
    client.logout()


def test_delivered_message_is_returned_byte_for_byte(server):
    server.deliver("alice", MESSAGE)
    client = imaps(server)
    client.login("alice", "alice-pw")
    client.select("INBOX", readonly=True)
    _, data = client.fetch("1", "(BODY.PEEK[])")
    assert data[0][1].replace(b"\r\n", b"\n") == MESSAGE
    client.logout()


def test_folder_delivery_is_visible_as_a_mailbox(server):
    server.deliver("alice", MESSAGE, folder="Sent", subdir="cur", flags="S")
    client = imaps(server)
    client.login("alice", "alice-pw")
    assert client.select("Sent", readonly=True) == ("OK", [b"1"])
    client.logout()


def test_maildir_is_per_user(server):
    assert server.maildir("alice") != server.maildir("bob@example.test")
    assert (server.maildir("alice") / "new").is_dir()


def test_snapshot_is_unchanged_by_examine_and_peek(server):
    server.deliver("alice", MESSAGE)
    server.deliver("alice", MESSAGE, subdir="cur", flags="RS")
    server.sync("alice")
    before = server.snapshot("alice")
    client = imaps(server)
    client.login("alice", "alice-pw")
    client.select("INBOX", readonly=True)
    client.fetch("1:*", "(BODY.PEEK[])")
    client.logout()
    assert server.snapshot("alice") == before
    assert sorted(s.uid for s in before.values()) == [1, 2]


def test_snapshot_shows_a_message_marked_seen(server):
    server.deliver("alice", MESSAGE)
    server.sync("alice")
    before = server.snapshot("alice")
    client = imaps(server)
    client.login("alice", "alice-pw")
    client.select("INBOX")
    client.fetch("1", "(BODY[])")
    client.logout()
    after = server.snapshot("alice")
    assert [s.flags for s in before.values()] == [""]
    assert [s.flags for s in after.values()] == ["S"]


def test_snapshot_shows_an_expunged_message(server):
    server.deliver("alice", MESSAGE)
    server.deliver("alice", MESSAGE)
    client = imaps(server)
    client.login("alice", "alice-pw")
    client.select("INBOX")
    client.store("1", "+FLAGS", "\\Deleted")
    client.expunge()
    client.logout()
    assert len(server.snapshot("alice")) == 1
