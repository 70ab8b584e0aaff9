"""The Postfix harness: independent instances on their own addresses, resolving through the
test nameserver inside a private mount namespace, sending from their own address."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

from tests.support.servers.dovecot import _mail_ids

A_IP, B_IP = "127.0.0.20", "127.0.0.21"


def test_instance_greets_with_its_name_on_its_own_address(postfix_instance):
    instance = postfix_instance("a.lab.test", A_IP)
    with smtplib.SMTP(A_IP, instance.port, timeout=10) as smtp:
        assert smtp.docmd("NOOP")[0] == 250
        assert smtp.ehlo()[1].split(b"\n")[0] == b"a.lab.test"


def test_namespace_resolv_conf_names_the_test_nameserver(resolver_namespace):
    inside = resolver_namespace.run(["cat", "/etc/resolv.conf"]).stdout
    assert inside.startswith("nameserver 127.0.0.53\n")
    with open("/etc/resolv.conf") as handle:
        assert handle.read() != inside


def test_next_hop_sees_the_sending_instance_address(postfix_instance, dovecot):
    mailboxes = dovecot({"carol@b.test": "pw"})
    uid, gid = _mail_ids()
    b = postfix_instance(
        "b.lab.test", B_IP, maps={"mailboxes": ["carol@b.test carol@b.test/Maildir/"]}
    )
    b.set_main(
        virtual_mailbox_domains="b.test",
        virtual_mailbox_maps=b.map_path("mailboxes"),
        virtual_mailbox_base=str(mailboxes.mail_root),
        virtual_uid_maps=f"static:{uid}",
        virtual_gid_maps=f"static:{gid}",
        virtual_minimum_uid="100",
    )
    a = postfix_instance(
        "a.lab.test",
        A_IP,
        main={"mynetworks": "127.0.0.0/8"},
        maps={"transport": [f"b.test smtp:[{B_IP}]:{b.port}"]},
    )
    a.set_main(transport_maps=a.map_path("transport"))
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "x@a.test", "carol@b.test", "hop"
    message.set_content("body")
    with smtplib.SMTP(A_IP, a.port, timeout=10) as smtp:
        smtp.send_message(message)
    deadline = time.monotonic() + 20
    new = mailboxes.maildir("carol@b.test") / "new"
    while time.monotonic() < deadline and not any(new.iterdir()):
        time.sleep(0.1)
    delivered = next(new.iterdir()).read_text()
    assert f"from a.lab.test (unknown [{A_IP}])" in delivered
    assert "by b.lab.test" in delivered


def test_queue_is_empty_after_delivery_and_flush_runs(postfix_instance):
    instance = postfix_instance("a.lab.test", A_IP)
    instance.flush()
    assert instance.queue_is_empty()
