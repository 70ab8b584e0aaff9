"""The server-free parts of the IMAP source and the probe: what is asked of the server,
how failures read, how settings print, what the probe message carries."""

from __future__ import annotations

import email
import email.policy
import ssl
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from mailrep.mail.imap import search_criteria
from mailrep.mail.imap_conn import describe_error, tls_context
from mailrep.mail.roundtrip import PROBE_HEADER, SmtpSettings, probe_message
from mailrep.mail.sources import ImapSettings, SourceError


def test_no_window_and_no_token_searches_all():
    assert search_criteria(None, None) == ["ALL"]


def test_window_searches_since_one_day_before_in_utc():
    since = datetime(2026, 11, 28, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert search_criteria(since, None) == ["SINCE", date(2026, 11, 26)]


def test_token_searches_the_subject():
    assert search_criteria(None, "tok") == ["SUBJECT", "tok"]


def test_window_and_token_together():
    since = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert search_criteria(since, "tok") == ["SINCE", date(2026, 11, 27), "SUBJECT", "tok"]


def test_tls_context_verifies_by_default():
    context = tls_context(None, False)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_insecure_context_only_stops_verifying():
    context = tls_context(None, True)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_unreadable_ca_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="CA file"):
        tls_context(str(tmp_path / "absent.pem"), False)


def test_refused_connection_reads_as_such():
    assert describe_error(ConnectionRefusedError(111, "Connection refused")) == (
        "connection refused"
    )


def test_timeout_reads_as_such():
    assert describe_error(TimeoutError()) == "timed out"


def test_imap_error_bytes_text_is_unwrapped():
    from imapclient.exceptions import IMAPClientError

    assert describe_error(IMAPClientError(b"Mailbox doesn't exist: Nope")) == (
        "Mailbox doesn't exist: Nope"
    )


@pytest.mark.parametrize(("security", "port"), [("tls", 993), ("starttls", 143), ("none", 143)])
def test_imap_default_ports(security, port):
    assert ImapSettings("h", None, "u", "p", security).effective_port == port


@pytest.mark.parametrize(("security", "port"), [("tls", 465), ("starttls", 587), ("none", 25)])
def test_smtp_default_ports(security, port):
    assert SmtpSettings("h", None, None, None, security).effective_port == port


def test_explicit_port_wins():
    assert ImapSettings("h", 1143, "u", "p", "tls").effective_port == 1143


def test_settings_never_print_the_password():
    imap = ImapSettings("h", None, "u", "hunter2", "tls")
    smtp = SmtpSettings("h", None, "u", "hunter2", "tls")
    assert "hunter2" not in repr(imap) and "hunter2" not in repr(smtp)
    assert "hunter2" not in str(imap) and "hunter2" not in f"{smtp}"


def parsed(token: str = "T0k-en_1"):
    raw = probe_message("mon@example.org", "probe@example.net", token).as_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_probe_carries_the_token_in_subject_and_header():
    message = parsed("T0k-en_1")
    assert "T0k-en_1" in message["Subject"]
    assert message[PROBE_HEADER] == "T0k-en_1"


def test_probe_is_marked_auto_generated():
    assert parsed()["Auto-Submitted"] == "auto-generated"


def test_probe_has_its_own_message_id_in_the_sender_domain():
    assert parsed()["Message-ID"].endswith("@example.org>")


def test_probe_addresses():
    message = parsed()
    assert (message["From"], message["To"]) == ("mon@example.org", "probe@example.net")
