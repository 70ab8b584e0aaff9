"""The incident, end to end: a round trip through real Postfix relays finds the listed relay.

Lab (tests/support/servers/mailflow.py): alice's submission server mail.sender.test 127.0.0.10 ->
the provider's relay relay.provider.test 127.0.0.11 -> the recipient MX mx.recipient.test
127.0.0.12 -> Maildir served by Dovecot; rbldnsd lists the relay on psbl.surriel.com. The
monitoring mailbox probe@recipient.test accepts mail whatever the listing, so the round trip
completes while the relay is listed. Everything is loopback, hence --allow-nonglobal.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.plugin_runner import run_plugin
from tests.support.servers.mailflow import ALICE, PROBE, RELAY_IP, SENDER_IP, ZONE


@pytest.fixture
def probe_password_file(incident_lab, tmp_path):
    path = tmp_path / "probe.pw"
    path.write_text(incident_lab.passwords[PROBE] + "\n")
    path.chmod(0o600)
    return path


def round_trip(lab, password_file, *extra: str):
    host, port = lab.submission
    imap = lab.imap()
    return run_plugin(
        "check_relay_chain",
        "-n", lab.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", host, "--smtp-port", str(port), "--smtp-plain",
        "--from", ALICE, "--to", PROBE,
        "--imap-host", "localhost", "--imap-port", str(imap["imaps_port"]), "--imap-tls",
        "--ca-file", str(imap["ca_file"]), "--imap-user", PROBE,
        "--password-file", str(password_file),
        "--wait", "30", "-t", "45", *extra,
        timeout=60,
    )  # fmt: skip


def probe_mailbox(lab) -> dict:
    """Every message of the probe mailbox with what a client could change of it: folder,
    Maildir subdirectory (new/ is "not yet seen by any client"), UID and flags."""
    assert lab.dovecot is not None
    lab.dovecot.sync(PROBE)
    return {
        name: (state.folder, state.subdir, state.uid, state.flags)
        for name, state in lab.dovecot.snapshot(PROBE).items()
    }


def test_round_trip_is_critical_naming_the_listed_relay_hop(incident_lab, probe_password_file):
    r = round_trip(incident_lab, probe_password_file)
    assert r.code == 2, r.stdout
    assert r.status.startswith(f"RELAY CHAIN CRITICAL - hop 3 relay.provider.test [{RELAY_IP}]")
    assert r.status.endswith(f"listed on {ZONE}")


def test_round_trip_is_ok_once_the_relay_is_unlisted(incident_lab, probe_password_file):
    incident_lab.unlist(RELAY_IP)
    r = round_trip(incident_lab, probe_password_file)
    assert r.code == 0, r.stdout
    assert r.status.startswith("RELAY CHAIN OK - 3 of 3 hops checked, none listed on 1 list")


def test_round_trip_reports_delivery_time_as_perfdata(incident_lab, probe_password_file):
    incident_lab.unlist(RELAY_IP)
    r = round_trip(incident_lab, probe_password_file)
    delivery = r.perfdata["delivery"]
    assert delivery.endswith("s") and 0 < float(delivery[:-1]) < 30


def test_delivery_slower_than_critical_is_critical(incident_lab, probe_password_file):
    incident_lab.unlist(RELAY_IP)
    r = round_trip(incident_lab, probe_password_file, "-w", "0.000001", "-c", "0.000002")
    assert r.code == 2 and "delivery took" in r.status


def test_the_chain_shows_sender_relay_and_mx(incident_lab, probe_password_file):
    r = round_trip(incident_lab, probe_password_file, "--format", "json")
    hops = r.json["hops"]
    assert [(h["ip"], h["by"]) for h in hops][-2:] == [
        (SENDER_IP, "relay.provider.test"),
        (RELAY_IP, "mx.recipient.test"),
    ]
    assert r.json["entry_hop"] == len(hops)


def test_listing_the_sender_is_found_too(incident_lab, probe_password_file):
    incident_lab.unlist(RELAY_IP)
    incident_lab.list(SENDER_IP)
    r = round_trip(incident_lab, probe_password_file)
    assert r.code == 2 and f"hop 2 mail.sender.test [{SENDER_IP}] listed on {ZONE}" in r.status


def test_mailbox_is_unchanged_and_the_test_message_is_gone(incident_lab, probe_password_file):
    marker = f"kept message {uuid.uuid4()}"  # other tests' messages must not match
    incident_lab.send(ALICE, PROBE, marker, "this one stays")
    incident_lab.wait_for_message(PROBE, lambda raw: marker.encode() in raw)
    incident_lab.dovecot.read_by_a_client(PROBE)  # its owner has seen that it arrived
    before = probe_mailbox(incident_lab)
    r = round_trip(incident_lab, probe_password_file)
    assert r.code == 2, r.stdout
    after = probe_mailbox(incident_lab)
    assert after == before
    assert any(state[3] == "" for state in before.values())  # unseen stays unseen
    assert "was left in" not in r.stdout


def test_a_new_message_keeps_its_place_in_new_and_the_probe_is_left(
    incident_lab, probe_password_file
):
    """Deleting the probe would take \\Recent from the new message (Dovecot: new/ -> cur/):
    the check leaves the probe and says so in the long output."""
    marker = f"still new {uuid.uuid4()}"  # other tests' messages must not match
    incident_lab.send(ALICE, PROBE, marker, "nobody has seen this one")
    incident_lab.wait_for_message(PROBE, lambda raw: marker.encode() in raw)
    before = probe_mailbox(incident_lab)
    assert any(state[1] == "new" for state in before.values())
    r = round_trip(incident_lab, probe_password_file)
    assert r.code == 2, r.stdout
    after = probe_mailbox(incident_lab)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == len(before) + 1  # the probe
    assert "was left in INBOX: 1 other message(s) in INBOX are still new" in r.stdout


def test_wrong_smtp_port_is_unknown(incident_lab, probe_password_file):
    host, _port = incident_lab.submission
    imap = incident_lab.imap()
    r = run_plugin(
        "check_relay_chain", "-n", incident_lab.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", host, "--smtp-port", "9", "--smtp-plain", "--from", ALICE, "--to", PROBE,
        "--imap-host", "localhost", "--imap-port", str(imap["imaps_port"]),
        "--ca-file", str(imap["ca_file"]), "--imap-user", PROBE,
        "--password-file", str(probe_password_file), "-t", "20",
    )  # fmt: skip
    assert r.code == 3


def test_message_that_never_arrives_is_critical_and_says_so(incident_lab, probe_password_file):
    # bob's mail is rejected at the MX (the relay is listed), so the probe mailbox never sees it.
    host, port = incident_lab.submission
    imap = incident_lab.imap()
    r = run_plugin(
        "check_relay_chain", "-n", incident_lab.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", host, "--smtp-port", str(port), "--smtp-plain",
        "--from", ALICE, "--to", "bob@recipient.test",
        "--imap-host", "localhost", "--imap-port", str(imap["imaps_port"]),
        "--ca-file", str(imap["ca_file"]), "--imap-user", PROBE,
        "--password-file", str(probe_password_file), "--wait", "3", "-t", "20",
    )  # fmt: skip
    assert r.code == 2
    assert r.status == (
        "RELAY CHAIN CRITICAL - test message not delivered to bob@recipient.test within 3s"
    )


def test_authenticated_starttls_submission_skips_the_users_own_address(
    incident_lab, probe_password_file, tmp_path
):
    smtp_pw = tmp_path / "alice.pw"
    smtp_pw.write_text(incident_lab.passwords[ALICE] + "\n")
    smtp_pw.chmod(0o600)
    host, port = incident_lab.submission_starttls
    imap = incident_lab.imap()
    r = run_plugin(
        "check_relay_chain", "-n", incident_lab.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", host, "--smtp-port", str(port), "--smtp-starttls",
        "--smtp-user", ALICE, "--smtp-password-file", str(smtp_pw),
        "--from", ALICE, "--to", PROBE, "--ca-file", str(incident_lab.ca_file),
        "--imap-host", "localhost", "--imap-port", str(imap["imaps_port"]),
        "--imap-user", PROBE, "--password-file", str(probe_password_file),
        "--wait", "30", "-t", "45", "--format", "json",
        timeout=60,
    )  # fmt: skip
    assert r.code == 2, r.stdout
    origin = r.json["hops"][0]
    assert origin["authenticated"] is True and origin["checked"] is False
    assert r.json["summary"].startswith(f"hop 3 relay.provider.test [{RELAY_IP}] listed")
