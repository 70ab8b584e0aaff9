"""The round trip as a message source: what the plugin is told about the probe's fate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mailrep.mail import roundtrip as probe
from mailrep.mail.sources import ImapSettings
from mailrep.relay.obtain import NotDelivered, from_round_trip


def trip(found: bool = True, deleted: bool = True, why: str = "") -> probe.RoundTrip:
    now = datetime.now(UTC)
    return probe.RoundTrip(
        "TOKEN",
        now,
        now if found else None,
        0.5 if found else None,
        b"Subject: mailrep probe TOKEN\r\n\r\nprobe\r\n" if found else None,
        deleted,
        why,
    )


@pytest.fixture
def returns(monkeypatch):
    def set_trip(result: probe.RoundTrip) -> None:
        monkeypatch.setattr(probe, "round_trip", lambda *args, **kwargs: result)

    return set_trip


IMAP = ImapSettings(host="imap.example.org", port=None, user="probe", password="x", security="tls")


SMTP = probe.SmtpSettings(
    host="smtp.example.org", port=587, user=None, password=None, security="starttls", timeout=10.0
)


def obtain():
    return from_round_trip(SMTP, IMAP, "a@example.org", "b@example.org", 5.0, 0.0)


def test_a_probe_left_behind_is_reported_with_its_token(returns):
    returns(trip(deleted=False))
    [note] = obtain().notes
    assert "TOKEN" in note and "delete it by hand" in note


def test_a_probe_left_behind_says_why(returns):
    returns(trip(deleted=False, why="2 other message(s) in INBOX are still new (\\Recent)"))
    [note] = obtain().notes
    assert "was left in INBOX: 2 other message(s) in INBOX are still new" in note


def test_what_the_clean_up_could_not_avoid_is_said(returns):
    returns(trip(deleted=True, why="1 message(s) arriving during the clean-up lost"))
    assert obtain().notes == ("1 message(s) arriving during the clean-up lost",)


def test_a_probe_cleaned_up_leaves_no_note(returns):
    returns(trip(deleted=True))
    assert obtain().notes == ()


def test_a_probe_that_never_arrived_is_not_delivered(returns):
    returns(trip(found=False, deleted=False))
    with pytest.raises(NotDelivered):
        obtain()
