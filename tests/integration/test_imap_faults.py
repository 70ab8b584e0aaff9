"""IMAP servers that misbehave, on loopback (tests/support/fakes/imap_server.py): the check
ends at -t with UNKNOWN and a status line whatever the server does, and a server that lists
messages but does not hand them out is UNKNOWN, never "0 bounces".

The bound is ``-t`` plus a small margin: the plugin's network steps end a little before
``-t`` (its deadline), and its alarm fires at ``-t`` itself; what is left is starting Python
and printing (measured here well under half a second).
"""

from __future__ import annotations

import time

import pytest
from mailrep.mail.imap import NotFetched
from mailrep.mail.sources import ImapSettings, SourceError, read_imap

from tests.support.fakes.imap_server import FakeImapServer, Script, message
from tests.support.plugin_runner import run_plugin

MARGIN = 1.5  # seconds over -t a run may take: interpreter start-up and printing
PASSWORD_ENV = {"MAILREP_IMAP_PASSWORD": "pw"}
MESSAGES = {uid: message(uid) for uid in (3, 4, 9)}


def settings(server: FakeImapServer, **changes) -> ImapSettings:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": "alice",
        "password": "pw",
        "security": "none",
        "timeout": 5.0,
        "deadline": time.monotonic() + 10,
    }
    values.update(changes)
    return ImapSettings(**values)


def imap_args(server: FakeImapServer, *extra: str) -> list[str]:
    return [
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        str(server.port),
        "--imap-user",
        "alice",
        "--imap-plain",
        *extra,
    ]


def bounce_rate(server: FakeImapServer, *extra: str):
    return run_plugin(
        "check_bounce_rate", *imap_args(server, "--since", "all", *extra), env=PASSWORD_ENV
    )


# --- listed but not fetched -----------------------------------------------------------------


@pytest.mark.parametrize("headers_only", [False, True])
def test_messages_listed_but_not_fetched_are_an_error_not_an_empty_folder(headers_only):
    script = Script(messages=MESSAGES, fetch_data=False)
    with (
        FakeImapServer(script) as server,
        pytest.raises(NotFetched, match="3 of the messages listed were not returned"),
    ):
        list(read_imap(settings(server), None, headers_only=headers_only))


def test_messages_listed_but_without_a_date_in_the_window_fetch_are_an_error():
    from datetime import UTC, datetime, timedelta

    since = datetime.now(UTC) - timedelta(hours=24)
    script = Script(messages=MESSAGES, fetch_data=False)
    with FakeImapServer(script) as server, pytest.raises(NotFetched):
        list(read_imap(settings(server), since))


def test_a_server_that_hands_out_what_it_lists_is_read_whole():
    with FakeImapServer(Script(messages=MESSAGES)) as server:
        got = list(read_imap(settings(server), None))
    assert [m.source for m in got] == ["imap:INBOX:3", "imap:INBOX:4", "imap:INBOX:9"]
    assert [m.raw for m in got] == [MESSAGES[3], MESSAGES[4], MESSAGES[9]]


def test_check_bounce_rate_says_unknown_when_fetch_returns_nothing():
    with FakeImapServer(Script(messages=MESSAGES, fetch_data=False)) as server:
        r = bounce_rate(server)
    assert r.code == 3, r
    assert "not returned by FETCH" in r.status and "0 bounces" not in r.stdout


def test_check_relay_chain_says_unknown_when_fetch_returns_nothing():
    with FakeImapServer(Script(messages=MESSAGES, fetch_data=False)) as server:
        r = run_plugin("check_relay_chain", *imap_args(server), env=PASSWORD_ENV)
    assert r.code == 3, r
    assert "not returned by FETCH" in r.status


def test_the_sent_folder_count_says_unknown_when_fetch_returns_nothing():
    with FakeImapServer(Script(messages=MESSAGES, fetch_data=False)) as server:
        r = bounce_rate(server, "--sent-folder", "Sent")
    assert r.code == 3 and "not returned by FETCH" in r.status, r


# --- -t is the bound ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["GREETING", "LOGIN", "EXAMINE", "SEARCH", "FETCH"])
def test_a_server_that_stalls_ends_the_run_at_t_with_unknown(command):
    with FakeImapServer(Script(messages=MESSAGES, stall=command)) as server:
        r = bounce_rate(server, "-t", "2")
        closed = server.record.closed_by_client
    assert r.code == 3 and r.status.startswith("BOUNCES UNKNOWN - "), r
    assert "timed out" in r.status or "timeout" in r.status, r
    assert r.elapsed < 2 + MARGIN, r
    assert closed >= 1  # the plugin hung up; it did not leave the connection behind


@pytest.mark.parametrize("command", ["GREETING", "EXAMINE", "FETCH"])
def test_a_server_that_drips_one_byte_every_half_second_ends_the_run_at_t(command):
    with FakeImapServer(Script(messages=MESSAGES, drip=command, drip_interval=0.5)) as server:
        r = bounce_rate(server, "-t", "2")
    assert r.code == 3 and r.status.startswith("BOUNCES UNKNOWN - "), r
    assert r.elapsed < 2 + MARGIN, r


def test_a_relay_chain_read_from_a_dripping_server_ends_at_t():
    with FakeImapServer(Script(messages=MESSAGES, drip="FETCH", drip_interval=0.5)) as server:
        r = run_plugin("check_relay_chain", *imap_args(server, "-t", "2"), env=PASSWORD_ENV)
    assert r.code == 3 and r.status.startswith("RELAY CHAIN UNKNOWN - "), r
    assert r.elapsed < 2 + MARGIN, r


def test_a_stalled_logout_after_the_work_does_not_hold_the_result():
    """Everything was read; LOGOUT gets a couple of seconds, not a socket timeout (-t)."""
    with FakeImapServer(Script(messages=MESSAGES, stall="LOGOUT")) as server:
        r = bounce_rate(server, "-t", "20")
    assert r.code == 0 and "0 bounces" in r.status, r
    assert r.elapsed < 5, r


def test_a_connection_dropped_in_the_middle_of_a_fetch_is_unknown():
    with FakeImapServer(Script(messages=MESSAGES, drop_mid_fetch=True)) as server:
        r = bounce_rate(server, "-t", "10")
    assert r.code == 3 and "closed the connection" in r.status, r
    assert r.elapsed < 5, r


def test_a_huge_literal_is_refused_at_once_not_read_into_memory():
    with FakeImapServer(Script(messages=MESSAGES, literal_size=99_999_999_999)) as server:
        r = bounce_rate(server, "-t", "10")
    assert r.code == 3 and "literal of 99999999999 bytes" in r.status, r
    assert r.elapsed < 5, r


def test_the_source_reports_a_stall_past_its_deadline_as_timed_out():
    with FakeImapServer(Script(messages=MESSAGES, drip="FETCH")) as server:
        started = time.monotonic()
        with pytest.raises(SourceError, match="timed out"):
            list(read_imap(settings(server, deadline=started + 1.0), None))
    assert time.monotonic() - started < 1.0 + 2.5  # + the LOGOUT allowance, at most


# --- logging in -----------------------------------------------------------------------------


def test_a_non_ascii_password_is_sent_in_utf8_with_authenticate_plain():
    script = Script(messages=MESSAGES, users={"alice": "pässwörd-€"})
    with FakeImapServer(script) as server:
        got = list(read_imap(settings(server, password="pässwörd-€"), None))
        logins = server.record.logins
    assert len(got) == 3
    assert logins == [("PLAIN", "alice", "pässwörd-€")]


def test_an_ascii_password_still_logs_in_with_login():
    with FakeImapServer(Script(messages=MESSAGES)) as server:
        list(read_imap(settings(server), None))
        logins = server.record.logins
    assert logins == [("LOGIN", "alice", "pw")]


def test_check_bounce_rate_logs_in_with_a_non_ascii_password_from_its_file(tmp_path):
    password_file = tmp_path / "pw"
    password_file.write_bytes("pässwörd-€\n".encode())
    password_file.chmod(0o600)
    script = Script(messages=MESSAGES, users={"alice": "pässwörd-€"})
    with FakeImapServer(script) as server:
        r = run_plugin(
            "check_bounce_rate",
            *imap_args(server, "--since", "all", "--password-file", str(password_file)),
        )
    assert r.code == 0 and "0 bounces" in r.status, r
