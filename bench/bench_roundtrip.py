"""check_relay_chain's round trip against Debian's check_email_delivery, in the same run.

    .venv/bin/python bench/bench_roundtrip.py [--runs 5] [--json]

Both send a message through the incident lab's real Postfix chain (submission server ->
provider relay -> recipient MX, tests/support/servers/mailflow.py) and wait for it in the same
Dovecot mailbox over plain IMAP on loopback; each deletes its message afterwards. Whole-process wall
time, median of interleaved runs; ratio = ours / peer (lower is better; target <= 0.5).

check_email_delivery 0.7.1 (monitoring-plugins-contrib) sleeps ``--wait`` (default 5 s)
before its first IMAP search and then polls every ``--imap-check-interval`` (default 5 s);
it is run with its defaults, as it ships, and once more tuned to its fastest (``--wait 1
--imap-check-interval 1``). Ours additionally parses the chain and checks
every hop on the lab's blocklist (rbldnsd) plus FCrDNS: the same work it does in production.

Needs root (the lab binds port 53 and runs Postfix), and the Debian packages postfix,
dovecot-imapd, rbldnsd, monitoring-plugins-contrib, libmail-imapclient-perl.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers.mailflow import ALICE, PROBE, ZONE, IncidentLab  # noqa: E402

BIN = Path(sys.executable).parent
PEER = "/usr/lib/nagios/plugins/check_email_delivery"
PEER_LIBEXEC = "/usr/lib/nagios/plugins"
# As installed by pip: byte-compiled (see bench_dnsbl.py).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def ours(lab: IncidentLab, password_file: Path) -> list[str]:
    host, port = lab.submission
    imap = lab.imap()
    return [
        str(BIN / "check_relay_chain"),
        "-n", lab.nameserver, "-z", ZONE, "--allow-nonglobal",
        "--smtp-host", host, "--smtp-port", str(port), "--smtp-plain",
        "--from", ALICE, "--to", PROBE,
        "--imap-host", str(imap["host"]), "--imap-port", str(imap["imap_port"]), "--imap-plain",
        "--imap-user", PROBE, "--password-file", str(password_file),
        "--wait", "60", "-t", "90",
    ]  # fmt: skip


def peer(lab: IncidentLab, tuned: bool = False) -> list[str]:
    """As shipped, or ``tuned`` to its fastest: ``--wait 1 --imap-check-interval 1`` (a wait
    of 0 is read as "unset" and becomes the 5 s default)."""
    host, port = lab.submission
    imap = lab.imap()
    fast = ["--wait", "1", "--imap-check-interval", "1"] if tuned else []
    return [
        PEER, "--libexec", PEER_LIBEXEC,
        "--smtp-server", host, "--smtp-port", str(port),
        "--imap-server", str(imap["host"]), "--imap-port", str(imap["imap_port"]),
        "--username", PROBE, "--password", lab.passwords[PROBE],
        "--mailto", PROBE, "--mailfrom", ALICE, "--hires", *fast,
    ]  # fmt: skip


def timed(argv: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=ENV, timeout=180, check=False)
    elapsed = time.perf_counter() - started
    return elapsed, proc.returncode, proc.stdout.decode(errors="replace").splitlines()[0:1][0]


def left_behind(lab: IncidentLab, before: set[str]) -> dict[str, int]:
    """Messages the runs left in the probe mailbox, by whose they are (Subject prefix)."""
    assert lab.dovecot is not None
    counts = {"ours": 0, "peer": 0, "other": 0}
    for name in set(lab.dovecot.snapshot(PROBE)) - before:
        path = next(lab.dovecot.maildir(PROBE).glob(f"*/{name}*"))
        head = path.read_bytes().split(b"\n\n", 1)[0]
        if b"Subject: mailrep probe" in head:
            counts["ours"] += 1
        elif b"Subject: Nagios Message SMTP" in head:
            counts["peer"] += 1
        else:
            counts["other"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    opts = parser.parse_args()
    with IncidentLab() as lab:
        assert lab.dovecot is not None
        password_file = lab.dovecot.workdir / "probe.pw"
        password_file.write_text(lab.passwords[PROBE] + "\n")
        password_file.chmod(0o600)
        lab.dovecot.sync(PROBE)
        before = lab.dovecot.snapshot(PROBE)
        a: list[float] = []
        b: list[float] = []
        c: list[float] = []
        first: dict[str, str] = {}
        for _ in range(opts.runs):  # interleaved so drift hits all alike
            t, code, line = timed(ours(lab, password_file))
            a.append(t)
            first["ours"] = f"exit {code}: {line}"
            t, code, line = timed(peer(lab))
            b.append(t)
            first["peer"] = f"exit {code}: {line}"
            t, code, line = timed(peer(lab, tuned=True))
            c.append(t)
            first["peer_tuned"] = f"exit {code}: {line}"
        lab.dovecot.sync(PROBE)
        left = left_behind(lab, set(before))
    result = {
        "runs": opts.runs,
        "ours_median_s": round(statistics.median(a), 3),
        "peer_median_s": round(statistics.median(b), 3),
        "ratio": round(statistics.median(a) / statistics.median(b), 3),
        "peer_tuned_median_s": round(statistics.median(c), 3),
        "ratio_tuned": round(statistics.median(a) / statistics.median(c), 3),
        "ours_all_s": [round(x, 3) for x in a],
        "peer_all_s": [round(x, 3) for x in b],
        "peer_tuned_all_s": [round(x, 3) for x in c],
        "last_output": first,
        "messages_left_in_mailbox": left,
    }
    if opts.json:
        print(json.dumps(result, indent=2))
        return
    print(f"round trip, median of {opts.runs} interleaved runs (whole process wall time)")
    print(f"  check_relay_chain      {result['ours_median_s']:.3f} s   {first['ours']}")
    print(f"  check_email_delivery   {result['peer_median_s']:.3f} s   {first['peer']}")
    print(f"  ratio ours/peer        {result['ratio']:.2f}   (target <= 0.5)")
    print(f"  peer tuned (--wait 1)  {result['peer_tuned_median_s']:.3f} s   {first['peer_tuned']}")
    print(f"  ratio ours/tuned peer  {result['ratio_tuned']:.2f}")
    print(f"  messages left behind   ours {left['ours']}, peer {left['peer']}")


if __name__ == "__main__":
    main()
