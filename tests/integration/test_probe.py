"""The SMTP -> IMAP round trip through real Postfix (sender -> relay -> MX) into a real
Dovecot: the probe is found, its delivery time measured, and afterwards the mailbox holds
exactly what it held before: other messages keep their UIDs and flags, a message someone
else marked \\Deleted is not expunged, and the probe itself is gone."""

from __future__ import annotations

import time

import pytest
from mailrep.mail.roundtrip import (
    PROBE_HEADER,
    ProbeError,
    RoundTrip,
    SmtpSettings,
    round_trip,
    send_probe,
)
from mailrep.mail.sources import ImapSettings, SourceError

from tests.support.servers.dovecot import free_tcp_port
from tests.support.servers.mailflow import ALICE, BOB, PROBE

WAIT = 20.0


def smtp_for(lab, **changes) -> SmtpSettings:
    host, port = lab.submission
    values = {
        "host": host,
        "port": port,
        "user": None,
        "password": None,
        "security": "none",
        "timeout": 10.0,
    }
    values.update(changes)
    return SmtpSettings(**values)


def imap_for(lab, **changes) -> ImapSettings:
    info = lab.imap()
    values = {
        "host": "localhost",
        "port": info["imaps_port"],
        "user": PROBE,
        "password": info["users"][PROBE],
        "security": "tls",
        "ca_file": str(info["ca_file"]),
        "timeout": 10.0,
    }
    values.update(changes)
    return ImapSettings(**values)


def probe(
    lab, *, recipient: str = PROBE, wait: float = WAIT, budget: float = 30.0, **imap_changes
) -> RoundTrip:
    return round_trip(
        smtp_for(lab),
        imap_for(lab, **imap_changes),
        ALICE,
        recipient,
        wait,
        time.monotonic() + budget,
    )


def visible_state(lab) -> dict[str, tuple[str, int | None, str]]:
    """What an IMAP user sees of each message: folder, UID, flags."""
    lab.dovecot.sync(PROBE)
    return {key: (s.folder, s.uid, s.flags) for key, s in lab.dovecot.snapshot(PROBE).items()}


def file_names(lab) -> set[str]:
    """Every message file of the probe mailbox by its path (subdirectory and Maildir flags
    included): a move from new/ to cur/ or a rename is a change here."""
    root = lab.dovecot.maildir(PROBE)
    return {
        str(path.relative_to(root))
        for sub in ("new", "cur")
        for path in root.glob(f"**/{sub}/*")
        if path.is_file()
    }


def without_probes(names: set[str], lab) -> set[str]:
    root = lab.dovecot.maildir(PROBE)
    return {name for name in names if PROBE_HEADER.encode() not in (root / name).read_bytes()}


@pytest.fixture
def lab(incident_lab):
    """The lab with the probe mailbox holding mail of its own: unseen, seen, and one that
    another client flagged \\Deleted but did not expunge; none of them new any more (its
    owner's client has opened the folder since they arrived)."""
    dovecot = incident_lab.dovecot
    dovecot.deliver(PROBE, "Subject: unseen\n\nkeep me\n", subdir="cur")
    dovecot.deliver(PROBE, "Subject: seen\n\nkeep me\n", subdir="cur", flags="S")
    dovecot.deliver(PROBE, "Subject: marked\n\nnot yours to expunge\n", subdir="cur", flags="ST")
    dovecot.read_by_a_client(PROBE)
    return incident_lab


def test_probe_is_found_with_its_token(lab):
    trip = probe(lab)
    assert trip.found
    assert f"{PROBE_HEADER}: {trip.token}".encode() in trip.raw
    assert trip.token.encode() in trip.raw.split(b"Subject:", 1)[1].split(b"\n", 1)[0]


def test_delivery_time_is_measured_within_the_wait(lab):
    trip = probe(lab)
    assert trip.delivery_seconds is not None
    assert 0 < trip.delivery_seconds < WAIT
    assert trip.found_at is not None and trip.found_at >= trip.sent_at


def test_probe_arrives_through_the_relay_chain(lab):
    trip = probe(lab)
    assert b"by mx.recipient.test" in trip.raw and b"by relay.provider.test" in trip.raw


def test_probe_is_deleted_and_nothing_else_changes(lab):
    before = visible_state(lab)
    trip = probe(lab)
    assert trip.deleted
    assert visible_state(lab) == before


def test_probe_is_deleted_and_every_other_file_keeps_its_name(lab):
    before = file_names(lab)
    trip = probe(lab)
    assert trip.deleted and trip.kept_because == ""
    assert file_names(lab) == before


def test_with_a_new_message_in_new_the_probe_is_left_and_nothing_else_changes(lab):
    """A read-write SELECT would take \\Recent from the new message, and Dovecot would move
    it from new/ to cur/: the probe is left instead, and the check says why."""
    arrived = lab.dovecot.deliver(PROBE, "Subject: just arrived\n\nstill new\n")
    before = file_names(lab)
    trip = probe(lab)
    after = file_names(lab)
    assert not trip.deleted
    assert "1 other message(s) in INBOX are still new" in trip.kept_because
    assert arrived.exists() and str(arrived.relative_to(lab.dovecot.maildir(PROBE))) in after
    assert without_probes(after, lab) == without_probes(before, lab)
    assert len(after - before) == 1  # the probe, left where it was delivered


def test_message_marked_deleted_by_someone_else_survives(lab):
    probe(lab)
    flags = [state[2] for state in visible_state(lab).values()]
    assert "ST" in flags


def test_tokens_differ_between_runs(lab):
    assert probe(lab).token != probe(lab).token


def test_probe_that_never_arrives_is_not_found_after_the_wait(lab):
    # Mail to bob bounces (the relay is listed), so nothing reaches the probe mailbox.
    before = visible_state(lab)
    start = time.monotonic()
    trip = probe(lab, recipient=BOB, wait=2.0)
    assert not trip.found and trip.delivery_seconds is None and trip.raw is None
    assert not trip.deleted
    assert time.monotonic() - start < 2.0 + 5.0
    assert visible_state(lab) == before


def test_deadline_ends_the_wait_before_the_wait_does(lab):
    start = time.monotonic()
    trip = probe(lab, recipient=BOB, wait=60.0, budget=2.0)
    assert not trip.found
    assert time.monotonic() - start < 2.0 + 5.0


def test_wrong_imap_password_fails_before_anything_is_sent(lab):
    before = visible_state(lab)
    log_before = lab.sender.log()
    with pytest.raises(SourceError, match="login failed"):
        probe(lab, password="wrong")
    time.sleep(1.0)  # a probe sent anyway would be delivered (and logged) in ~0.1 s
    assert lab.sender.log().count("status=sent") == log_before.count("status=sent")
    assert visible_state(lab) == before


def test_dead_smtp_port_is_a_probe_error(lab):
    with pytest.raises(ProbeError, match="refused"):
        round_trip(
            smtp_for(lab, port=free_tcp_port("127.0.0.10")),
            imap_for(lab),
            ALICE,
            PROBE,
            WAIT,
            time.monotonic() + 30,
        )


def test_refused_recipient_is_a_probe_error_with_the_reply(lab):
    with pytest.raises(ProbeError, match=r"nobody@sender\.test refused: 550"):
        probe(lab, recipient="nobody@sender.test")


# --- the SMTP leg over TLS: a Postfix offering STARTTLS and SMTPS with a test CA ------------

TLS_HOST = "127.0.0.20"


@pytest.fixture
def tls_postfix(postfix_instance, tmp_path):
    """A Postfix on 127.0.0.20 offering STARTTLS on ``port`` and implicit TLS on
    ``smtps_port`` with a certificate for 127.0.0.20 from a throw-away CA (``ca_file``);
    accepted mail is discarded (only the SMTP leg is under test)."""
    from tests.support.servers.postfix import free_port_on
    from tests.support.servers.tls import make_tls

    tls = make_tls(tmp_path / "tls", addresses=(TLS_HOST,))
    smtps_port = free_port_on(TLS_HOST)
    instance = postfix_instance(
        "tls.example.test",
        TLS_HOST,
        main={
            "mynetworks": "127.0.0.0/8",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": str(tls.cert_file),
            "smtpd_tls_key_file": str(tls.key_file),
            "smtpd_tls_loglevel": "1",
            "default_transport": "discard:probe test",
        },
        services=[
            f"{TLS_HOST}:{smtps_port} inet n - n - - smtpd "
            "-o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt\n"
        ],
    )
    instance.smtps_port = smtps_port
    instance.ca_file = str(tls.ca_file)
    return instance


def tls_smtp(instance, security: str, **changes) -> SmtpSettings:
    port = instance.smtps_port if security == "tls" else instance.port
    values = {
        "host": TLS_HOST,
        "port": port,
        "user": None,
        "password": None,
        "security": security,
        "ca_file": instance.ca_file,
        "timeout": 10.0,
    }
    values.update(changes)
    return SmtpSettings(**values)


def wait_for_log(instance, text: str, timeout: float = 5.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = instance.log()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the Postfix log:\n{instance.log()[-3000:]}")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_probe_is_submitted_over_verified_tls(tls_postfix, security):
    send_probe(
        tls_smtp(tls_postfix, security), ALICE, "someone@example.test", "tok", time.monotonic() + 20
    )
    wait_for_log(tls_postfix, "TLS connection established from")
    wait_for_log(tls_postfix, "status=sent")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_untrusted_smtp_certificate_is_a_probe_error(tls_postfix, security):
    with pytest.raises(ProbeError, match="not trusted"):
        send_probe(
            tls_smtp(tls_postfix, security, ca_file=None),
            ALICE,
            "someone@example.test",
            "tok",
            time.monotonic() + 20,
        )


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_insecure_smtp_skips_verification_only(tls_postfix, security):
    send_probe(
        tls_smtp(tls_postfix, security, ca_file=None, insecure=True),
        ALICE,
        "someone@example.test",
        "tok",
        time.monotonic() + 20,
    )
    wait_for_log(tls_postfix, "TLS connection established from")


def test_smtp_login_without_auth_offered_is_a_probe_error(tls_postfix):
    with pytest.raises(ProbeError, match=r"SMTP 127\.0\.0\.20"):
        send_probe(
            tls_smtp(tls_postfix, "starttls", user="mon", password="pw"),
            ALICE,
            "someone@example.test",
            "tok",
            time.monotonic() + 20,
        )


def test_starttls_the_server_does_not_offer_is_a_probe_error(postfix_instance):
    plain = postfix_instance(
        "plain.example.test", "127.0.0.21", main={"smtpd_tls_security_level": "none"}
    )
    settings = SmtpSettings("127.0.0.21", plain.port, None, None, "starttls", timeout=10.0)
    with pytest.raises(ProbeError, match="STARTTLS"):
        send_probe(settings, ALICE, "someone@example.test", "tok", time.monotonic() + 20)
