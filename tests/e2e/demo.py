"""Watch mailrep catch the incident: the driver behind contrib/incident-demo.sh.

Brings the incident lab up (three real Postfix instances, Dovecot and rbldnsd on loopback;
tests/support/servers/mailflow.py), lets alice's mail to bob bounce off the recipient's MX because
the provider's relay is on psbl.surriel.com, runs the three plugins with the very command
lines the end-to-end test asserts on (tests/e2e/checks.py), delists the relay, runs them
again and tears everything down. Exit code 0 when every plugin said what it should, so the
demo doubles as a smoke test on a new machine.

    sudo .venv/bin/python -m tests.e2e.demo        (from the repository root)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tests.e2e import checks
from tests.e2e.checks import VERIFIED_BLOCKS, LabAccess
from tests.support.servers.mailflow import (
    ALICE,
    BOB,
    MX_IP,
    RELAY_IP,
    SENDER_IP,
    ZONE,
    IncidentLab,
)

BIN = Path(sys.executable).parent
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@dataclass
class Expectation:
    what: str
    wanted: int
    got: int

    @property
    def met(self) -> bool:
        return self.wanted == self.got


def heading(text: str) -> None:
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print(f"\n{bold}== {text}{plain}", flush=True)


def show(argv: list[str]) -> int:
    """Run one plugin as Nagios would and print the command, its output and exit code."""
    print(f"\n$ {shlex.join(argv)}", flush=True)
    proc = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=90, check=False
    )
    for line in proc.stdout.splitlines():
        print(f"  {line}")
    if proc.stderr.strip():
        print(f"  (stderr) {proc.stderr.strip()}")
    print(f"  -> exit code {proc.returncode} ({STATES.get(proc.returncode, '?')})", flush=True)
    return proc.returncode


def incident_phase(lab: IncidentLab, access: LabAccess) -> list[Expectation]:
    heading(f"1. PSBL lists the provider's relay {RELAY_IP}, not the submission server {SENDER_IP}")
    print(f"  rbldnsd on {lab.nameserver} serves {ZONE}, listing {', '.join(lab.listed)}")

    heading(f"2. {ALICE} writes to {BOB}")
    message_id = lab.send(ALICE, BOB, "Quarterly report", "The figures are attached.")
    print(
        f"  submitted {message_id} to mail.sender.test {SENDER_IP}; it relays via "
        f"relay.provider.test {RELAY_IP} to mx.recipient.test {MX_IP}"
    )
    bounce = lab.wait_for_bounce(message_id)
    print(
        f'  alice\'s INBOX (Maildir, served by Dovecot) now holds: "{bounce["Subject"]}" '
        f"from {bounce['From']}"
    )
    for line in _diagnostics(bounce):
        print(f"    {line}")

    heading("3. What the three plugins say")
    return [
        Expectation("check_dnsbl, submission server", 0, show(checks.dnsbl(access, SENDER_IP))),
        Expectation("check_dnsbl, relay", 2, show(checks.dnsbl(access, RELAY_IP))),
        Expectation("check_relay_chain round trip", 2, show(checks.relay_chain(access))),
        Expectation("check_bounce_rate", 1, show(checks.bounce_rate_imap(access))),
        Expectation(
            "check_bounce_rate --verify", 2, show(checks.bounce_rate_imap(access, *VERIFIED_BLOCKS))
        ),
    ]


def delisted_phase(lab: IncidentLab, access: LabAccess) -> list[Expectation]:
    heading(f"4. The provider gets {RELAY_IP} removed from {ZONE}")
    lab.unlist(RELAY_IP)
    print(f"  rbldnsd now lists {', '.join(lab.listed) or 'none of the lab addresses'}")
    message_id = lab.send(ALICE, BOB, "Quarterly report, again", "Second try.")
    delivered = lab.wait_for_delivery(BOB, message_id)
    print(f'  alice writes to bob again: "{delivered["Subject"]}" is in bob\'s INBOX')

    heading("5. The same checks again")
    return [
        Expectation("check_dnsbl, relay", 0, show(checks.dnsbl(access, RELAY_IP))),
        Expectation("check_relay_chain round trip", 0, show(checks.relay_chain(access))),
        Expectation(
            "check_bounce_rate --verify", 0, show(checks.bounce_rate_imap(access, *VERIFIED_BLOCKS))
        ),
    ]


def _diagnostics(bounce: EmailMessage) -> list[str]:
    """The report's Diagnostic-Code lines: the remote server's own words, what an admin
    reads first (Postfix puts them in the message/delivery-status part, RFC 3464)."""
    lines = []
    for part in bounce.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload():
            code = block.get("Diagnostic-Code")
            if code:
                lines.append("Diagnostic-Code: " + " ".join(str(code).split()))
    return lines


def main() -> int:
    if os.geteuid() != 0:
        print("the lab runs Postfix in a private mount namespace: run me as root", file=sys.stderr)
        return 2
    started = time.monotonic()
    heading("Starting the lab: rbldnsd, Dovecot, three Postfix instances (loopback only)")
    with IncidentLab() as lab, tempfile.TemporaryDirectory(prefix="mailrep-demo-") as secrets:
        access = LabAccess.of(lab, Path(secrets))
        print(
            f"  up in {time.monotonic() - started:.1f} s; mailbox passwords are read from "
            f"files in {secrets}"
        )
        results = incident_phase(lab, access) + delisted_phase(lab, access)
        heading("Stopping the lab")
    heading("Summary")
    for r in results:
        mark = "as expected" if r.met else f"EXPECTED {STATES[r.wanted]}"
        print(f"  {r.what:<34} {STATES[r.got]:<9} {mark}")
    print(f"\n  {time.monotonic() - started:.1f} s in all")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
