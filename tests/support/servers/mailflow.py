"""The product's incident as a lab: a relay lands on a blocklist and mail bounces.

    alice@sender.test --SMTP--> sender 127.0.0.10 --relayhost--> relay 127.0.0.11
        --transport--> recipient MX 127.0.0.12 (reject_rbl_client psbl.surriel.com)
    rbldnsd on 127.0.0.53:53 lists the relay; every Postfix resolves through it (private
    mount namespace). The relay's bounce comes back to alice's Maildir, which Dovecot serves;
    mail for probe@recipient.test is accepted whatever the listing (monitoring mailbox), so an
    SMTP -> IMAP round trip works while bob@ bounces.

Usable from pytest (fixture ``incident_lab``) and from a plain script::

    with IncidentLab() as lab:
        lab.send(ALICE, BOB, "hello", "text")
        print(lab.wait_for_bounce()["Subject"])
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import shutil
import smtplib
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.servers.dovecot import Dovecot, DovecotError, _mail_ids
from tests.support.servers.namespace import NamespaceError, ResolverNamespace
from tests.support.servers.postfix import PostfixError, PostfixInstance, free_port_on
from tests.support.servers.rbldnsd import Rbldnsd, RbldnsdError, RbldnsdZone
from tests.support.servers.tls import make_tls

ZONE = "psbl.surriel.com"
ZONE_DEFAULT = ":127.0.0.2:Listed by PSBL, see https://psbl.org/listing?ip=$"
SENDER_IP = "127.0.0.10"
RELAY_IP = "127.0.0.11"
MX_IP = "127.0.0.12"
ALICE = "alice@sender.test"
BOB = "bob@recipient.test"
PROBE = "probe@recipient.test"
PASSWORDS = {ALICE: "alice-pw", BOB: "bob-pw", PROBE: "probe-pw"}
BOUNCE_SUBJECT = "Undelivered Mail Returned to Sender"
# 127.0.0.53 first (the address the incident story uses); the rest let several labs (several
# engineers, or systemd-resolved holding .53) run side by side.
DNS_CANDIDATES = ("127.0.0.53", *(f"127.0.0.{n}" for n in range(153, 200)))


class LabError(RuntimeError):
    """A piece of the lab failed to start or mail did not arrive in time."""


def _dns_address_free(address: str) -> bool:
    """127.0.0.53:53 is systemd-resolved's stub on many machines; fall back if taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((address, 53))
        except OSError:
            return False
    return True


class IncidentLab:
    """rbldnsd + Dovecot + three Postfix instances wired as sender -> relay -> MX."""

    def __init__(self, dns_address: str | None = None) -> None:
        self.dns_address = dns_address
        self.listed: list[str] = [RELAY_IP]
        self.passwords = dict(PASSWORDS)
        self.rbldnsd: Rbldnsd | None = None
        self.dovecot: Dovecot | None = None
        self.namespace: ResolverNamespace | None = None
        self.sender: PostfixInstance | None = None
        self.relay: PostfixInstance | None = None
        self.mx: PostfixInstance | None = None
        self.postscreen = False
        self._seen: set[Path] = set()

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> IncidentLab:
        try:
            self._start()
        except BaseException:
            self.stop()  # whatever failed, leave no half-started servers behind
            raise
        return self

    def _start(self) -> None:
        self.rbldnsd = self._start_rbldnsd()
        self._tls_dir = Path(tempfile.mkdtemp(prefix="incident-lab-tls-"))
        self.tls = make_tls(
            self._tls_dir,
            names=("localhost", "mail.sender.test"),
            addresses=("127.0.0.1", SENDER_IP),
        )
        self.dovecot = Dovecot(self.passwords, tls=self.tls).start()
        self.namespace = ResolverNamespace(self.dns_address).start()
        ports = {ip: free_port_on(ip) for ip in (SENDER_IP, RELAY_IP, MX_IP)}
        self.starttls_port = free_port_on(SENDER_IP)
        self.smtps_port = free_port_on(SENDER_IP)
        uid, gid = _mail_ids()
        virtual = {
            "virtual_mailbox_base": str(self.dovecot.mail_root),
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": str(min(uid, 100)),
        }

        def mailboxes(domain: str) -> list[str]:
            return [f"{u} {u}/Maildir/" for u in self.passwords if u.endswith("@" + domain)]

        mx = PostfixInstance(
            "mx.recipient.test",
            MX_IP,
            self.namespace,
            port=ports[MX_IP],
            postscreen_port=0,
            maps={"mailboxes": mailboxes("recipient.test"), "monitoring": [f"{PROBE} OK"]},
        )
        mx.main.update(
            virtual,
            **{
                "virtual_mailbox_domains": "recipient.test",
                "virtual_mailbox_maps": mx.map_path("mailboxes"),
                "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
                # The monitoring mailbox is accepted before the blocklist is consulted.
                "smtpd_recipient_restrictions": (
                    f"permit_mynetworks, reject_unauth_destination, "
                    f"check_recipient_access {mx.map_path('monitoring')}, "
                    f"reject_rbl_client {ZONE}, permit"
                ),
                "postscreen_access_list": "permit_mynetworks",
                "postscreen_dnsbl_sites": ZONE,
                "postscreen_dnsbl_threshold": "1",
                "postscreen_dnsbl_action": "enforce",
            },
        )
        self.mx = mx.start()

        # Authenticated submission, as a real mail client (or the probe) would use it:
        # STARTTLS required on one port, implicit TLS on the other, SASL via Dovecot.
        auth_only = (
            "-o smtpd_tls_auth_only=yes -o smtpd_sasl_auth_enable=yes "
            "-o smtpd_client_restrictions=permit_sasl_authenticated,reject"
        )
        sender = PostfixInstance(
            "mail.sender.test",
            SENDER_IP,
            self.namespace,
            port=ports[SENDER_IP],
            maps={"mailboxes": mailboxes("sender.test")},
            services=[
                f"{SENDER_IP}:{self.starttls_port} inet n - n - - smtpd "
                f"-o smtpd_tls_security_level=encrypt {auth_only}",
                f"{SENDER_IP}:{self.smtps_port} inet n - n - - smtpd "
                f"-o smtpd_tls_wrappermode=yes {auth_only}",
            ],
        )
        sender.main.update(
            virtual,
            **{
                "smtpd_tls_cert_file": str(self.tls.cert_file),
                "smtpd_tls_key_file": str(self.tls.key_file),
                "smtpd_tls_security_level": "may",
                "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": str(self.dovecot.auth_socket),
                "virtual_mailbox_domains": "sender.test",
                "virtual_mailbox_maps": sender.map_path("mailboxes"),
                "relayhost": f"[{RELAY_IP}]:{ports[RELAY_IP]}",
                "mynetworks": "127.0.0.0/8",
            },
        )
        self.sender = sender.start()

        relay = PostfixInstance(
            "relay.provider.test",
            RELAY_IP,
            self.namespace,
            port=ports[RELAY_IP],
            maps={"transport": self._relay_routes()},
        )
        relay.main.update(
            {
                "mynetworks": f"{SENDER_IP}/32",
                "transport_maps": relay.map_path("transport"),
            }
        )
        self.relay = relay.start()

    def _start_rbldnsd(self) -> Rbldnsd:
        """rbldnsd on port 53 of the given address, or of the first free candidate (another
        lab may take an address between our check and rbldnsd's bind: then try the next)."""
        candidates = [self.dns_address] if self.dns_address else list(DNS_CANDIDATES)
        for address in candidates:
            if not _dns_address_free(address):
                continue
            server = Rbldnsd(
                [RbldnsdZone(ZONE, "ip4set", self._zone_lines())], host=address, port=53
            )
            try:
                server.start()
            except RbldnsdError as exc:
                server.stop()
                if "unable to bind" in str(exc) and len(candidates) > 1:
                    continue
                raise
            self.dns_address = address
            return server
        raise LabError(
            f"no address among {candidates[0]}..{candidates[-1]} has port 53 free for rbldnsd"
        )

    def stop(self) -> None:
        # The Postfix masters take a second or two each to wind down: stop them together.
        instances = [p for p in (self.sender, self.relay, self.mx) if p is not None]
        if instances:
            with ThreadPoolExecutor(len(instances)) as pool:
                list(pool.map(PostfixInstance.stop, instances))
        for piece in (self.namespace, self.dovecot, self.rbldnsd):
            if piece is not None:
                piece.stop()
        if getattr(self, "_tls_dir", None) is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
        self.sender = self.relay = self.mx = None
        self.namespace = self.dovecot = self.rbldnsd = None

    def __enter__(self) -> IncidentLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def submission(self) -> tuple[str, int]:
        """Where tests submit mail (no auth; 127.0.0.0/8 may relay)."""
        assert self.sender is not None
        return self.sender.address, self.sender.port

    @property
    def submission_starttls(self) -> tuple[str, int]:
        """Submission requiring STARTTLS and SASL auth (Dovecot users/passwords)."""
        return SENDER_IP, self.starttls_port

    @property
    def submission_tls(self) -> tuple[str, int]:
        """Submission over implicit TLS (like port 465) with SASL auth."""
        return SENDER_IP, self.smtps_port

    @property
    def ca_file(self) -> Path:
        """The CA of every lab certificate (IMAPS, submission): give it to clients."""
        return self.tls.ca_file

    @property
    def nameserver(self) -> str:
        """The rbldnsd serving the blocklist, as ``HOST:PORT`` for ``--nameserver``."""
        assert self.rbldnsd is not None
        return self.rbldnsd.nameserver

    def imap(self) -> dict[str, object]:
        """How to reach the mailboxes: host, ports, CA file, user -> password."""
        assert self.dovecot is not None
        return {
            "host": self.dovecot.host,
            "imap_port": self.dovecot.imap_port,
            "imaps_port": self.dovecot.imaps_port,
            "ca_file": self.dovecot.ca_file,
            "users": dict(self.passwords),
        }

    # -- the blocklist -------------------------------------------------------------------

    def _zone_lines(self) -> list[str]:
        return [ZONE_DEFAULT, "127.0.0.2", *self.listed]

    def list(self, ip: str) -> None:
        """Put ``ip`` on psbl.surriel.com; returns once rbldnsd answers with it."""
        if ip not in self.listed:
            self.listed.append(ip)
            self._publish()

    def unlist(self, ip: str) -> None:
        if ip in self.listed:
            self.listed.remove(ip)
            self._publish()

    def _publish(self) -> None:
        assert self.rbldnsd is not None
        self.rbldnsd.update(ZONE, self._zone_lines())

    # -- routing -------------------------------------------------------------------------

    def _relay_routes(self) -> list[str]:
        assert self.mx is not None and self.sender is not None
        mx_port = self.mx.postscreen_port if self.postscreen else self.mx.port
        return [
            f"recipient.test smtp:[{MX_IP}]:{mx_port}",
            f"sender.test smtp:[{SENDER_IP}]:{self.sender.port}",
        ]

    def use_postscreen(self, enabled: bool = True) -> None:
        """Route the relay to the MX's postscreen listener (DNSBL check before smtpd; it
        rejects every recipient of a listed client, the monitoring mailbox included)."""
        if enabled != self.postscreen:
            self.postscreen = enabled
            assert self.relay is not None
            self.relay.set_map("transport", self._relay_routes())

    def soft_bounce(self, enabled: bool = True) -> None:
        """Make the MX answer its refusals with 4xx instead of 5xx (Postfix ``soft_bounce``
        on smtpd): senders defer and retry instead of bouncing at once."""
        assert self.mx is not None
        if (self.mx.main.get("soft_bounce") == "yes") != enabled:
            self.mx.set_main(soft_bounce="yes" if enabled else "no")

    def reset(self) -> None:
        """Back to the incident: only the relay listed, plain smtpd on the MX, 5xx refusals,
        and the probe mailbox read by its owner (no message left \\Recent by an earlier test,
        which would make the round trip leave its probe rather than take that flag)."""
        if self.listed != [RELAY_IP]:
            self.listed = [RELAY_IP]
            self._publish()
        self.use_postscreen(False)
        self.soft_bounce(False)
        if self.dovecot is not None:
            self.dovecot.read_by_a_client(PROBE)

    # -- mail ------------------------------------------------------------------------------

    def send(
        self,
        sender: str,
        recipient: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Submit one message to the sender instance; returns its Message-ID."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = email.utils.formatdate(localtime=False)
        message_id = f"<{uuid.uuid4().hex}@sender.test>"
        message["Message-ID"] = message_id
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        host, port = self.submission
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        return message_id

    def flush(self) -> None:
        """``postqueue -f`` on every instance so deferred mail is retried now."""
        for instance in (self.sender, self.relay, self.mx):
            if instance is not None:
                instance.flush()

    def messages(self, user: str) -> list[tuple[Path, EmailMessage]]:
        """Every message in ``user``'s INBOX, parsed, oldest first."""
        assert self.dovecot is not None
        found = []
        for sub in ("new", "cur"):
            directory = self.dovecot.maildir(user) / sub
            if directory.is_dir():
                found.extend(p for p in directory.iterdir() if p.is_file())
        found.sort(key=lambda p: p.stat().st_mtime)
        return [(p, _parse(p.read_bytes())) for p in found]

    def wait_for_message(
        self, user: str, match: Callable[[bytes], bool], timeout: float = 30.0
    ) -> EmailMessage:
        """The first message in ``user``'s INBOX not returned before that ``match``es its
        raw bytes. Flushes the queues while waiting, so retries do not wait a timer."""
        assert self.dovecot is not None
        deadline = time.monotonic() + timeout
        next_flush = time.monotonic() + 2
        while time.monotonic() < deadline:
            for sub in ("new", "cur"):
                directory = self.dovecot.maildir(user) / sub
                for path in sorted(directory.iterdir()) if directory.is_dir() else []:
                    if path in self._seen:
                        continue
                    raw = path.read_bytes()
                    if match(raw):
                        self._seen.add(path)
                        return _parse(raw)
            if time.monotonic() > next_flush:
                self.flush()
                next_flush = time.monotonic() + 2
            time.sleep(0.1)
        raise LabError(f"no matching message for {user} within {timeout} s\n{self.logs()}")

    def wait_for_delivery(self, user: str, message_id: str, timeout: float = 30.0) -> EmailMessage:
        """Wait until the message with ``message_id`` is in ``user``'s INBOX."""
        needle = f"Message-ID: {message_id}".encode().lower()
        return self.wait_for_message(user, lambda raw: needle in raw.lower(), timeout)

    def wait_for_bounce(
        self, message_id: str | None = None, user: str = ALICE, timeout: float = 30.0
    ) -> EmailMessage:
        """Wait for a bounce (of ``message_id`` if given) in ``user``'s INBOX."""

        def is_bounce(raw: bytes) -> bool:
            head = raw.split(b"\n\n", 1)[0]
            if BOUNCE_SUBJECT.encode() not in head:
                return False
            return message_id is None or message_id.encode() in raw

        return self.wait_for_message(user, is_bounce, timeout)

    def logs(self) -> str:
        """Every instance's maillog, for failure messages."""
        parts = []
        for instance in (self.sender, self.relay, self.mx):
            if instance is not None:
                parts.append(f"--- {instance.name} ---\n{instance.log()[-4000:]}")
        return "\n".join(parts)


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def running_lab() -> Iterator[IncidentLab]:
    """Body of the ``incident_lab_session`` fixture (declared in tests/support/servers/postfix.py):
    start the lab, FAIL (never skip) if a piece cannot start, stop it afterwards."""
    lab = IncidentLab()
    try:
        lab.start()
    except (LabError, RbldnsdError, DovecotError, NamespaceError, PostfixError, OSError) as exc:
        pytest.fail(f"the incident lab could not start: {exc}")
    try:
        yield lab
    finally:
        lab.stop()
