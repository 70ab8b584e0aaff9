"""The IMAP source against a real Dovecot over real Maildirs: it reads what is there, in the
window asked for, and changes nothing (flags, UIDs, new/ vs cur/) while doing it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from mailrep.mail import sources
from mailrep.mail.sources import FetchStats, ImapSettings, SourceError

from tests.support.servers.dovecot import free_tcp_port

USER, PASSWORD = "alice", "alice-password"
HOURS_AGO = (1, 5, 23, 25, 30, 49, 72, 200)  # five inside a 24 h window, three outside


def body(n: int, subject: str | None = None) -> str:
    return (
        f"From: sender{n}@example.org\nTo: {USER}@example.org\n"
        f"Subject: {subject or f'message {n}'}\nMessage-ID: <m{n}@example.org>\n\n"
        + f"line {n}\n"
        * 50
    )


def age(path, hours: float) -> datetime:
    """Backdate a delivered file: Dovecot takes a Maildir message's INTERNALDATE from it."""
    when = time.time() - hours * 3600
    os.utime(path, (when, when))
    return datetime.fromtimestamp(int(when), UTC)


@pytest.fixture
def server(dovecot):
    """Dovecot with a mixed INBOX: unseen in new/, seen/answered/flagged in cur/, aged."""
    d = dovecot(users={USER: PASSWORD})
    d.arrivals = {}
    for n, hours in enumerate(HOURS_AGO):
        if n % 2:
            path = d.deliver(USER, body(n), subdir="cur", flags="SRF"[: 1 + n % 3])
        else:
            path = d.deliver(USER, body(n))
        d.arrivals[f"<m{n}@example.org>"] = age(path, hours)
    d.sync(USER)
    return d


def settings(d, security: str = "tls", **changes) -> ImapSettings:
    port = d.imaps_port if security == "tls" else d.imap_port
    values = {
        "host": "localhost",
        "port": port,
        "user": USER,
        "password": PASSWORD,
        "security": security,
        "ca_file": str(d.ca_file),
        "timeout": 5.0,
    }
    values.update(changes)
    return ImapSettings(**values)


def maildir_count(d) -> int:
    root = d.maildir(USER)
    return sum(len(os.listdir(root / sub)) for sub in ("new", "cur"))


def message_id(raw: bytes) -> str:
    for line in raw.splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no Message-ID")


def test_imaps_reads_every_message_of_the_maildir(server):
    got = list(sources.read_imap(settings(server), None))
    assert len(got) == maildir_count(server) == len(HOURS_AGO)


def test_starttls_reads_every_message_of_the_maildir(server):
    got = list(sources.read_imap(settings(server, "starttls"), None))
    assert len(got) == maildir_count(server)


def test_messages_are_the_stored_bytes(server):
    got = list(sources.read_imap(settings(server), None))
    stored = sorted(body(n).replace("\n", "\r\n").encode() for n in range(len(HOURS_AGO)))
    assert sorted(m.raw for m in got) == stored


def test_reading_changes_no_flags_uids_or_subdirs(server):
    before = server.snapshot(USER)
    assert before and all(state.uid is not None for state in before.values())
    list(sources.read_imap(settings(server), None))
    list(sources.read_imap(settings(server), None, headers_only=True))
    assert server.snapshot(USER) == before


def test_unseen_messages_stay_unseen(server):
    unseen_before = {k for k, s in server.snapshot(USER).items() if "S" not in s.flags}
    list(sources.read_imap(settings(server), None))
    unseen_after = {k for k, s in server.snapshot(USER).items() if "S" not in s.flags}
    assert unseen_before and unseen_after == unseen_before


def test_window_keeps_exactly_the_messages_arrived_since(server):
    since = datetime.now(UTC) - timedelta(hours=24)
    got = list(sources.read_imap(settings(server), since))
    expected = {mid for mid, arrived in server.arrivals.items() if arrived >= since}
    assert {message_id(m.raw) for m in got} == expected
    assert len(expected) == 3


def test_arrival_is_the_internaldate(server):
    for m in sources.read_imap(settings(server), None):
        assert m.arrived == server.arrivals[message_id(m.raw)]


def test_source_names_folder_and_uid(server):
    uids = {s.uid for s in server.snapshot(USER).values()}
    got = list(sources.read_imap(settings(server), None))
    assert {m.source for m in got} == {f"imap:INBOX:{uid}" for uid in uids}


def test_headers_only_fetches_the_header_and_fewer_bytes(server):
    full, heads = FetchStats(), FetchStats()
    list(sources.read_imap(settings(server), None, stats=full))
    got = list(sources.read_imap(settings(server), None, headers_only=True, stats=heads))
    assert all(b"line " not in m.raw and b"Message-ID:" in m.raw for m in got)
    assert heads.messages == full.messages == len(HOURS_AGO)
    assert 0 < heads.bytes < full.bytes


def test_stats_count_the_bytes_fetched(server):
    stats = FetchStats()
    got = list(sources.read_imap(settings(server), None, stats=stats))
    assert stats.bytes == sum(len(m.raw) for m in got)


def test_window_fetches_only_the_messages_inside_it(server):
    stats = FetchStats()
    list(sources.read_imap(settings(server), datetime.now(UTC) - timedelta(hours=24), stats=stats))
    assert stats.messages == 3


def test_subject_token_and_newest_pick_the_newest_matching_message(server):
    server.deliver(USER, body(100, "probe tok-123 older"))
    newest = server.deliver(USER, body(101, "probe tok-123 newer"))
    server.deliver(USER, body(102, "unrelated"))
    server.sync(USER)
    got = list(sources.read_imap(settings(server), None, subject_token="tok-123", newest=True))
    assert [message_id(m.raw) for m in got] == ["<m101@example.org>"]
    assert newest.exists()


def test_other_folder_is_read(server):
    server.deliver(USER, body(7, "sent mail"), folder="Sent")
    server.sync(USER, "Sent")
    got = list(sources.read_imap(settings(server, folder="Sent"), None))
    assert [message_id(m.raw) for m in got] == ["<m7@example.org>"]


def test_missing_folder_is_a_source_error(server):
    with pytest.raises(SourceError, match="Nope"):
        list(sources.read_imap(settings(server, folder="Nope"), None))


def test_wrong_password_is_a_source_error(server):
    with pytest.raises(SourceError, match="login failed"):
        list(sources.read_imap(settings(server, password="wrong"), None))


def test_dead_port_is_a_source_error(server):
    with pytest.raises(SourceError, match="refused"):
        list(sources.read_imap(settings(server, port=free_tcp_port()), None))


def test_untrusted_certificate_is_a_source_error(server):
    with pytest.raises(SourceError, match="not trusted"):
        list(sources.read_imap(settings(server, ca_file=None), None))


def test_untrusted_certificate_over_starttls_is_a_source_error(server):
    with pytest.raises(SourceError, match="not trusted"):
        list(sources.read_imap(settings(server, "starttls", ca_file=None), None))


def test_insecure_skips_verification_only(server):
    got = list(sources.read_imap(settings(server, ca_file=None, insecure=True), None))
    assert len(got) == len(HOURS_AGO)


def test_silent_server_times_out_as_a_source_error():
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        silent = ImapSettings("127.0.0.1", port, USER, PASSWORD, "none", timeout=0.5)
        with pytest.raises(SourceError, match="timed out"):
            list(sources.read_imap(silent, None))


def test_plain_imap_reads_every_message(server):
    got = list(sources.read_imap(settings(server, "none"), None))
    assert len(got) == maildir_count(server)


def test_non_ascii_subject_token_is_searched_as_utf8(server):
    server.deliver(
        USER,
        "Subject: =?utf-8?q?R=C3=BCckl=C3=A4ufer_x1?=\nMessage-ID: <umlaut@example.org>\n\nbody\n",
    )
    server.sync(USER)
    got = list(sources.read_imap(settings(server), None, subject_token="Rückläufer"))
    assert [message_id(m.raw) for m in got] == ["<umlaut@example.org>"]
