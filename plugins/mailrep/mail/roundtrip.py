"""The round trip: send a uniquely tokened message by SMTP, wait for it over IMAP, delete it.

What Debian's check_email_delivery does, with four corrections: the token is unguessable
(``secrets.token_urlsafe``), so no other message is ever mistaken for the probe or deleted in
its place; the wait looks often (NOOP + SEARCH at a short, growing interval, IDLE in between
when offered) so fast delivery is measured as fast; the clean-up removes that one UID
with ``UID EXPUNGE`` (UIDPLUS), never a plain EXPUNGE, which would also remove every
message someone else had marked ``\\Deleted``; and the clean-up changes nothing else.

That last one needs care. Deleting takes a read-write SELECT, and a read-write SELECT
takes the ``\\Recent`` flag from every message no session had seen yet (RFC 3501 2.3.2;
EXAMINE "MUST NOT cause messages to lose the \\Recent flag", 6.3.2): Dovecot then moves
them from ``new/`` to ``cur/``, so a mail client no longer shows them as new. No IMAP4rev1
command deletes without selecting (IMAP4rev2, RFC 9051, drops ``\\Recent`` altogether,
but Dovecot 2.3 does not speak it). So the search runs in the EXAMINE session, which also
asks which messages are still ``\\Recent``: only when none is, besides probes (messages
with the probe header), is the folder selected read-write and the probe expunged. Otherwise
the probe is left, and the check says so; a mailbox (or folder, ``--folder``) that only
receives probes is never in that case.

The IMAP session is opened (and the folder examined, read-only) *before* sending: a dead or
misconfigured mailbox is found before a probe is sent that nobody would ever collect.
"""

from __future__ import annotations

import base64
import email.utils
import secrets
import smtplib
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from mailrep.mail.imap_conn import close, connect, describe_error, tls_context
from mailrep.mail.message import ImapSettings, Security, SourceError

PROBE_HEADER = "X-Mailrep-Probe"
FIRST_INTERVAL = 0.05  # seconds before the second look for the probe; grows 1.5x per look
MAX_INTERVAL = 0.5  # ... up to this: a delivery is seen at most this late
_SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}


class ProbeError(SourceError):
    """The round trip could not be made: SMTP refused, the mailbox could not be opened."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to submit the probe. ``port=None``: 465 (tls), 587 (starttls), 25 (none)."""

    host: str
    port: int | None
    user: str | None
    password: str | None
    security: Security
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 10.0

    def __repr__(self) -> str:  # keep the password out of tracebacks and debug output
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port!r}, user={self.user!r}, "
            f"security={self.security!r})"
        )

    @property
    def effective_port(self) -> int:
        return self.port or _SMTP_PORTS[self.security]


@dataclass(frozen=True)
class RoundTrip:
    """One probe: when it left, when it was seen (None: not within the wait), the received
    message as stored, and whether the clean-up removed it."""

    token: str
    sent_at: datetime
    found_at: datetime | None
    delivery_seconds: float | None
    raw: bytes | None
    deleted: bool
    kept_because: str = ""  # why the clean-up left the probe (or what it could not avoid)

    @property
    def found(self) -> bool:
        return self.found_at is not None


@dataclass(frozen=True)
class Cleanup:
    """What removing the probe did: ``deleted``, and in words why not (or what else the
    read-write SELECT could not help changing). True when the probe is gone."""

    deleted: bool
    note: str = ""

    def __bool__(self) -> bool:
        return self.deleted


def round_trip(
    smtp: SmtpSettings,
    imap: ImapSettings,
    sender: str,
    recipient: str,
    wait: float,
    deadline: float,
) -> RoundTrip:
    """Send, wait at most ``wait`` seconds (and never past ``deadline``, a
    ``time.monotonic()`` value), fetch with BODY.PEEK and delete only the probe."""
    from imapclient.exceptions import IMAPClientError

    token = secrets.token_urlsafe(18)
    client = connect(imap, timeout=_left(deadline, imap.timeout))
    where = f"IMAP {imap.host}:{imap.effective_port}"
    try:
        try:
            info = client.select_folder(imap.folder, readonly=True)
        except IMAPClientError as exc:
            raise ProbeError(
                f"{where}: cannot open folder {imap.folder}: {describe_error(exc)}"
            ) from None
        first_uid = int(info.get(b"UIDNEXT", 1))
        sent_at = datetime.now(UTC)
        send_probe(smtp, sender, recipient, token, deadline)
        sent = time.monotonic()
        try:
            uid = _wait_for(client, token, first_uid, min(sent + wait, deadline), deadline)
            if uid is None:
                return RoundTrip(token, sent_at, None, None, None, False)
            seen = time.monotonic()
            found_at = datetime.now(UTC)
            _timeout(client, deadline, imap.timeout)
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
        except (OSError, IMAPClientError) as exc:
            raise ProbeError(f"{where}: {describe_error(exc)}") from None
        done = _delete(client, imap.folder, uid, deadline, imap.timeout)
        return RoundTrip(token, sent_at, found_at, seen - sent, raw, done.deleted, done.note)
    finally:
        close(client)


def probe_message(sender: str, recipient: str, token: str) -> EmailMessage:
    """The test message: the token in Subject (for humans and SUBJECT search) and in its own
    header; ``Auto-Submitted`` so vacation responders stay quiet (RFC 3834)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"mailrep probe {token}"
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "mailrep.invalid"
    message["Message-ID"] = email.utils.make_msgid("mailrep-probe", domain=domain)
    message[PROBE_HEADER] = token
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Delivery test sent by mailrep's check_relay_chain; it deletes this "
        "message once it has seen it.\n"
    )
    return message


def send_probe(
    smtp: SmtpSettings, sender: str, recipient: str, token: str, deadline: float
) -> None:
    """Submit the probe; every failure is a one-line ProbeError naming the server."""
    where = f"SMTP {smtp.host}:{smtp.effective_port}"
    context = None if smtp.security == "none" else tls_context(smtp.ca_file, smtp.insecure)
    timeout = _left(deadline, smtp.timeout)
    # gethostname, not smtplib's default getfqdn(): that one asks DNS and can stall the run.
    helo = socket.gethostname()
    try:
        if smtp.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host,
                smtp.effective_port,
                local_hostname=helo,
                timeout=timeout,
                context=context,
            )
        else:
            conn = smtplib.SMTP(
                smtp.host, smtp.effective_port, local_hostname=helo, timeout=timeout
            )
        with conn:

            def step() -> None:  # each exchange gets what is left of the run, at most
                if conn.sock is not None:  # None only once the server has closed
                    conn.sock.settimeout(_left(deadline, smtp.timeout))

            step()
            conn.ehlo()
            if smtp.security == "starttls":
                conn.starttls(context=context)
                step()
                conn.ehlo()
            if smtp.user:
                step()
                _login(conn, smtp.user, smtp.password or "")
            step()
            conn.send_message(
                probe_message(sender, recipient, token), from_addr=sender, to_addrs=[recipient]
            )
    except smtplib.SMTPAuthenticationError:
        raise ProbeError(f"{where}: login failed for {smtp.user}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise ProbeError(f"{where}: recipient {recipient} refused: {code} {_text(text)}") from None
    except smtplib.SMTPResponseException as exc:
        raise ProbeError(f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ProbeError(f"{where}: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ProbeError(f"{where}: {describe_error(exc)}") from None


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """SMTP AUTH. smtplib's own login encodes its answer as ASCII (a non-ASCII password was
    an internal UnicodeEncodeError); RFC 4616 PLAIN is UTF-8, so a non-ASCII login is sent
    that way, itself, and only over a mechanism that can carry it."""
    if (user + password).isascii():
        conn.login(user, password)
        return
    if "PLAIN" not in conn.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError(
            "the user name or password is not ASCII, and the server offers no AUTH PLAIN to "
            "send it in UTF-8"
        )
    answer = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, text = conn.docmd("AUTH", f"PLAIN {answer}")
    if code == 535:
        raise smtplib.SMTPAuthenticationError(code, text)
    if code != 235:
        raise smtplib.SMTPResponseException(code, text)


def _wait_for(client: Any, token: str, first_uid: int, until: float, deadline: float) -> int | None:
    """The probe's UID once it is in the folder, or None at ``until``.

    Each look is NOOP (which makes the server sync the mailbox: measured on Dovecot, a bare
    SEARCH kept missing a Maildir delivery for ~5 s) then a SEARCH of the UIDs from the
    UIDNEXT seen before sending, by the probe header. Between looks: IDLE when offered (a
    server that notifies at once wakes us at once), else a sleep; either way only a short,
    growing interval (50 ms to 0.5 s), because Dovecot sends its IDLE EXISTS ~1 s after a
    delivery that took 40-80 ms, and waiting on IDLE alone would measure Dovecot's timer.
    """
    idle = client.has_capability("IDLE")
    criteria = ["UID", f"{first_uid}:*", "HEADER", PROBE_HEADER, token]
    interval = FIRST_INTERVAL
    while True:
        _timeout(client, deadline, 10.0)
        client.noop()
        # "n:*" also matches the highest UID when it is below n: keep only new UIDs.
        hits = [uid for uid in client.search(criteria) if uid >= first_uid]
        if hits:
            return min(hits)
        left = until - time.monotonic()
        if left <= 0:
            return None
        pause = min(left, interval)
        interval = min(MAX_INTERVAL, interval * 1.5)
        if idle:
            client.idle()
            try:
                client.idle_check(timeout=pause)
            finally:
                client.idle_done()
        else:
            time.sleep(pause)


#: SEARCH criteria for messages still \\Recent that are not probes (HEADER with an empty
#: string matches every message that has the field, RFC 3501 6.4.4).
_FOREIGN_RECENT = ["RECENT", "NOT", "HEADER", PROBE_HEADER, ""]


def _delete(client: Any, folder: str, uid: int, deadline: float, timeout: float) -> Cleanup:
    """Remove exactly ``uid`` and change nothing else (see the module's docstring).

    In the EXAMINE session: is any message besides probes still ``\\Recent``? Then a
    read-write SELECT would take that flag from it: leave the probe. Else SELECT, ``UID
    STORE +FLAGS (\\Deleted)``, ``UID EXPUNGE uid``. Without UIDPLUS nothing is flagged (a
    flag we could not expunge safely would leave the probe for someone else's plain
    EXPUNGE)."""
    from imapclient import DELETED
    from imapclient.exceptions import IMAPClientError

    if not client.has_capability("UIDPLUS"):
        return Cleanup(False, "the server lacks UIDPLUS, which deleting one message needs")
    try:
        _timeout(client, deadline, timeout)
        waiting = client.search(_FOREIGN_RECENT)
        if waiting:
            return Cleanup(
                False,
                f"{len(waiting)} other message(s) in {folder} are still new (\\Recent), and "
                "deleting would take that flag from them (a mail client would no longer show "
                "them as new); a mailbox or folder of its own for the probes avoids this",
            )
        client.select_folder(folder, readonly=False)
        late = client.search(_FOREIGN_RECENT)  # arrived between the look and the SELECT
        client.add_flags([uid], [DELETED], silent=True)
        client.uid_expunge([uid])
        gone = not client.search(["UID", str(uid)])
    except (OSError, IMAPClientError) as exc:
        return Cleanup(False, f"the server refused: {describe_error(exc)}")
    note = (
        f"{len(late)} message(s) arriving during the clean-up lost their \\Recent flag"
        if late
        else ""
    )
    return Cleanup(gone, note if gone else "the probe was still there after UID EXPUNGE")


def _left(deadline: float, cap: float) -> float:
    """Seconds a network step may take: its own cap, never past the run's deadline."""
    return max(0.1, min(cap, deadline - time.monotonic()))


def _timeout(client: Any, deadline: float, cap: float) -> None:
    client.socket().settimeout(_left(deadline, cap))


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())
