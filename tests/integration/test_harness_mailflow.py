"""The incident lab reproduces the incident: a listed relay makes mail bounce, with the list
and the relay's address named in the bounce, and mail flows again once it is unlisted."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
import subprocess
import time

import pytest

from tests.support.servers.mailflow import ALICE, BOB, MX_IP, PROBE, RELAY_IP, SENDER_IP, ZONE


def bounce_text(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def test_mail_to_bob_bounces_back_to_alice_naming_the_list_and_the_relay(incident_lab):
    message_id = incident_lab.send(ALICE, BOB, "quarterly report", "numbers")
    bounce = incident_lab.wait_for_bounce(message_id)
    assert bounce["Subject"] == "Undelivered Mail Returned to Sender"
    text = bounce_text(bounce)
    assert ZONE in text
    assert f"[{RELAY_IP}]" in text


def test_bounce_is_a_delivery_status_report_from_the_relay(incident_lab):
    message_id = incident_lab.send(ALICE, BOB, "dsn shape", "body")
    bounce = incident_lab.wait_for_bounce(message_id)
    assert bounce.get_content_type() == "multipart/report"
    assert "relay.provider.test" in bounce["From"]


def test_mail_to_bob_is_delivered_once_the_relay_is_unlisted(incident_lab):
    incident_lab.unlist(RELAY_IP)
    message_id = incident_lab.send(ALICE, BOB, "after delisting", "body")
    delivered = incident_lab.wait_for_delivery(BOB, message_id)
    assert delivered["Subject"] == "after delisting"


def test_probe_mailbox_receives_mail_while_the_relay_is_listed(incident_lab):
    assert RELAY_IP in incident_lab.listed
    message_id = incident_lab.send(ALICE, PROBE, "probe", "token")
    assert incident_lab.wait_for_delivery(PROBE, message_id)["Subject"] == "probe"


def test_received_headers_show_the_hops_sender_relay_mx(incident_lab):
    message_id = incident_lab.send(ALICE, PROBE, "hops", "body")
    received = incident_lab.wait_for_delivery(PROBE, message_id).get_all("Received")
    # Newest first: MX got it from the relay, the relay from the sender.
    assert f"[{RELAY_IP}]" in received[0] and "by mx.recipient.test" in received[0]
    assert f"[{SENDER_IP}]" in received[1] and "by relay.provider.test" in received[1]
    assert "by mail.sender.test" in received[2]


def test_listing_the_sender_does_not_matter_while_the_relay_is_clean(incident_lab):
    incident_lab.unlist(RELAY_IP)
    incident_lab.list(SENDER_IP)
    message_id = incident_lab.send(ALICE, BOB, "sender listed", "body")
    assert incident_lab.wait_for_delivery(BOB, message_id)["Subject"] == "sender listed"


def test_postscreen_listener_rejects_the_listed_relay(incident_lab):
    incident_lab.use_postscreen(True)
    message_id = incident_lab.send(ALICE, BOB, "via postscreen", "body")
    text = bounce_text(incident_lab.wait_for_bounce(message_id))
    assert ZONE in text
    assert f"[{RELAY_IP}]" in text
    assert incident_lab.mx is not None
    assert f"DNSBL rank 1 for [{RELAY_IP}]" in incident_lab.mx.log()


def test_bounce_can_be_read_over_imaps_with_the_lab_ca(incident_lab):
    message_id = incident_lab.send(ALICE, BOB, "read me over imap", "body")
    incident_lab.wait_for_bounce(message_id)
    imap = incident_lab.imap()
    context = ssl.create_default_context(cafile=str(imap["ca_file"]))
    client = imaplib.IMAP4_SSL("localhost", imap["imaps_port"], ssl_context=context)
    client.login(ALICE, imap["users"][ALICE])
    client.select("INBOX", readonly=True)
    _, found = client.search(None, "SUBJECT", '"Undelivered Mail"')
    assert found[0].split()
    client.logout()


def test_the_machines_resolv_conf_is_untouched(incident_lab):
    with open("/etc/resolv.conf") as handle:
        outside = handle.read()
    assert incident_lab.namespace is not None
    inside = subprocess.run(
        incident_lab.namespace.command(["cat", "/etc/resolv.conf"]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"nameserver {incident_lab.dns_address}" in inside
    assert inside != outside


def test_each_instance_listens_on_its_own_address(incident_lab):
    pieces = [incident_lab.sender, incident_lab.relay, incident_lab.mx]
    assert [p.address for p in pieces if p is not None] == [SENDER_IP, RELAY_IP, MX_IP]


def submit(incident_lab, smtp: smtplib.SMTP, subject: str) -> str:
    message_id = f"<{subject.replace(' ', '-')}-{time.time_ns()}@sender.test>"
    smtp.sendmail(ALICE, [PROBE], f"Subject: {subject}\nMessage-ID: {message_id}\n\nbody\n")
    smtp.quit()
    return message_id


def test_submission_with_starttls_and_auth_is_delivered(incident_lab):
    context = ssl.create_default_context(cafile=str(incident_lab.ca_file))
    smtp = smtplib.SMTP(*incident_lab.submission_starttls, timeout=10)
    smtp.starttls(context=context)
    smtp.login(ALICE, incident_lab.passwords[ALICE])
    message_id = submit(incident_lab, smtp, "starttls submission")
    received = incident_lab.wait_for_delivery(PROBE, message_id).get_all("Received")
    assert "with ESMTPSA" in received[-1]


def test_submission_over_implicit_tls_verifies_and_authenticates(incident_lab):
    context = ssl.create_default_context(cafile=str(incident_lab.ca_file))
    smtp = smtplib.SMTP_SSL(*incident_lab.submission_tls, context=context, timeout=10)
    smtp.login(ALICE, incident_lab.passwords[ALICE])
    message_id = submit(incident_lab, smtp, "implicit tls submission")
    assert incident_lab.wait_for_delivery(PROBE, message_id)


def test_submission_without_auth_is_refused(incident_lab):
    context = ssl.create_default_context(cafile=str(incident_lab.ca_file))
    smtp = smtplib.SMTP(*incident_lab.submission_starttls, timeout=10)
    smtp.starttls(context=context)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.sendmail(ALICE, [PROBE], "Subject: no auth\n\nbody\n")
    smtp.quit()
