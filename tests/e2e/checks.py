"""The three plugin command lines of the incident, shared by the test and the demo.

One place says how each plugin reaches the lab, so what the demo shows a new user is exactly
what the test asserts on. Everything in the lab lives on 127.0.0.0/8, which no real blocklist
would ever be asked about: every command carries ``--allow-nonglobal``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers.mailflow import ALICE, PROBE, ZONE, IncidentLab

#: How the bounce check judges an old bounce once its cited address has been delisted:
#: ``--verify`` looks every cited (zone, address) up now — still listed is CRITICAL, and a
#: bounce whose citation is verified delisted no longer counts as ``blocked`` — so the
#: default thresholds stay in force (any unresolved blocklist bounce is still a WARNING).
#: It also looks up every public hop of the bounce's returned chain, on the lab's one list
#: (``--hop-zone``; by default the catalogue's default set, which the lab does not serve).
VERIFIED_BLOCKS = ("--verify", "--hop-zone", ZONE)


@dataclass(frozen=True)
class LabAccess:
    """Where the lab's servers are and the password files the plugins read (never argv)."""

    nameserver: str
    smtp_host: str
    smtp_port: int
    imap_host: str
    imaps_port: int
    ca_file: Path
    alice_maildir: Path
    password_files: dict[str, Path]

    @classmethod
    def of(cls, lab: IncidentLab, secrets_dir: Path) -> LabAccess:
        """Describe a started lab; write each mailbox's password to a 0600 file."""
        assert lab.dovecot is not None
        imap = lab.imap()
        files = {}
        for user in (ALICE, PROBE):
            path = secrets_dir / f"{user.split('@')[0]}.pw"
            path.write_text(lab.passwords[user] + "\n")
            os.chmod(path, 0o600)
            files[user] = path
        host, port = lab.submission
        return cls(
            nameserver=lab.nameserver,
            smtp_host=host,
            smtp_port=port,
            imap_host=str(imap["host"]),
            imaps_port=int(imap["imaps_port"]),  # type: ignore[call-overload]
            ca_file=Path(str(imap["ca_file"])),
            alice_maildir=lab.dovecot.maildir(ALICE),
            password_files=files,
        )

    def imaps(self, user: str) -> list[str]:
        """IMAPS with the lab CA verified, password from a file."""
        return [
            "--imap-host", self.imap_host, "--imap-port", str(self.imaps_port), "--imap-tls",
            "--ca-file", str(self.ca_file), "--imap-user", user,
            "--password-file", str(self.password_files[user]),
        ]  # fmt: skip


def dnsbl(access: LabAccess, address: str) -> list[str]:
    """check_dnsbl on one address against the lab's psbl.surriel.com."""
    return ["check_dnsbl", "-n", access.nameserver, "-z", ZONE, "--allow-nonglobal",
            "-H", address]  # fmt: skip


def relay_chain(access: LabAccess) -> list[str]:
    """check_relay_chain's round trip: alice's submission server -> probe@recipient.test."""
    return [
        "check_relay_chain", "-n", access.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", access.smtp_host, "--smtp-port", str(access.smtp_port), "--smtp-plain",
        "--from", ALICE, "--to", PROBE, *access.imaps(PROBE), "--wait", "20", "-t", "30",
    ]  # fmt: skip


def bounce_rate_imap(access: LabAccess, *extra: str) -> list[str]:
    """check_bounce_rate on alice's INBOX over IMAPS (where the bounce landed)."""
    return ["check_bounce_rate", *access.imaps(ALICE), "--since", "1h",
            "-n", access.nameserver, "--allow-nonglobal", *extra]  # fmt: skip


def bounce_rate_maildir(access: LabAccess, *extra: str) -> list[str]:
    """check_bounce_rate on the same mailbox read straight from its Maildir."""
    return ["check_bounce_rate", "--maildir", str(access.alice_maildir), "--since", "1h",
            "-n", access.nameserver, "--allow-nonglobal", *extra]  # fmt: skip
