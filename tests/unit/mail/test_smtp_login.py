"""The probe's SMTP login with a non-ASCII password: AUTH PLAIN in UTF-8 (RFC 4616), since
smtplib's own login encodes as ASCII and raised UnicodeEncodeError. Against a tiny scripted
SMTP server on loopback that records what it was sent."""

from __future__ import annotations

import base64
import socket
import threading
import time

import pytest
from mailrep.mail.roundtrip import ProbeError, SmtpSettings, send_probe


class FakeSmtp:
    """Accepts one session: EHLO (advertising ``auth``), AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def __init__(self, auth: str = "PLAIN LOGIN", password: str = "pässwörd-€") -> None:
        self.auth, self.password = auth, password
        self.logins: list[tuple[str, str]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rwb") as f:
            conn.settimeout(10)

            def say(text: str) -> None:
                f.write(text.encode() + b"\r\n")
                f.flush()

            say("220 fake ESMTP")
            in_data = False
            for raw in f:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if in_data:
                    if line == ".":
                        in_data = False
                        say("250 queued")
                    continue
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    say("250-fake\r\n250 AUTH " + self.auth if self.auth else "250 fake")
                elif verb == "AUTH":
                    _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                    self.logins.append((user, password))
                    say("235 ok" if password == self.password else "535 5.7.8 no")
                elif verb == "DATA":
                    in_data = True
                    say("354 go on")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture
def smtp_server():
    servers: list[FakeSmtp] = []

    def start(**kw) -> FakeSmtp:
        servers.append(FakeSmtp(**kw))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def settings(server: FakeSmtp, password: str) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", server.port, "mon", password, "none", timeout=5.0)


def test_a_non_ascii_smtp_password_is_sent_in_utf8_with_auth_plain(smtp_server):
    server = smtp_server()
    send_probe(
        settings(server, "pässwörd-€"),
        "a@example.org",
        "b@example.org",
        "tok",
        time.monotonic() + 10,
    )
    assert server.logins == [("mon", "pässwörd-€")]


def test_a_wrong_non_ascii_smtp_password_is_a_failed_login(smtp_server):
    server = smtp_server()
    with pytest.raises(ProbeError, match="login failed for mon"):
        send_probe(
            settings(server, "wrong-€"),
            "a@example.org",
            "b@example.org",
            "tok",
            time.monotonic() + 10,
        )


def test_without_auth_plain_a_non_ascii_password_is_a_clear_probe_error(smtp_server):
    server = smtp_server(auth="CRAM-MD5")
    with pytest.raises(ProbeError, match="offers no AUTH PLAIN"):
        send_probe(
            settings(server, "pässwörd-€"),
            "a@example.org",
            "b@example.org",
            "tok",
            time.monotonic() + 10,
        )
    assert server.logins == []
