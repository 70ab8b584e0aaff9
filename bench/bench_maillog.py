"""check_bounce_rate reading a Postfix log against Debian's pflogsumm, on the same file.

    .venv/bin/python bench/bench_maillog.py [--lines 1000000] [--runs 3] [--json]

A realistic log is generated first (seeded, so every run reads the same file): for each
message the smtpd connect/client/disconnect lines, cleanup, qmgr from=/removed, TLS notes,
one status line per recipient and attempt, and noise from postscreen, anvil and local
deliveries. About 2% of recipients bounce (unknown users, full mailboxes, blocklist
refusals citing zen/spamcop/psbl with the client address), about 4% are deferred one to
three times first (greylisting, timeouts, a blocklist's 4xx), some of those expire. Every
recipient address is different, as in real mail, so reply texts rarely repeat.

Both tools read the whole file: ``check_bounce_rate --postfix-log FILE --since all``
(every bounce and deferral judged by the bounce analyser, the sent count, the plugin's
output) and ``pflogsumm FILE`` (its full report). Whole-process wall time, median of
interleaved runs after one warm-up each; maximum resident set size from GNU time. Ratio =
ours / pflogsumm (lower is better; target <= 0.5). pflogsumm (Debian package pflogsumm) and
GNU time (package time, for the RSS) are installed with apt-get when missing: the bench
needs them, the tests do not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PEER = "/usr/sbin/pflogsumm"
TIME = "/usr/bin/time"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MONTH = "Nov"

BOUNCES = [
    ("5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual "
     "mailbox table"),
    ("5.2.2", "552 5.2.2 <{rcpt}>: Mailbox full, quota exceeded"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [{ip}] blocked using "
     "zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"),
    ("5.7.1", "550 5.7.1 Rejected: {ip} listed at bl.spamcop.net"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [{ip}] blocked using "
     "psbl.surriel.com; Listed by PSBL, see https://psbl.org/listing?ip={ip}"),
    ("5.1.2", "550 5.1.2 <{rcpt}>: Recipient address rejected: Domain not found"),
]  # fmt: skip
DEFERRALS = [
    ("4.7.1", "450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see "
     "https://postgrey.schweikert.ch/help/{domain}.html"),
    ("4.4.1", None),  # connect timeout: Postfix's own words
    ("4.7.1", "451 4.7.1 Client host [{ip}] blocked using psbl.surriel.com; try again later"),
    ("4.2.2", "452 4.2.2 <{rcpt}>: Mailbox temporarily over quota"),
]  # fmt: skip
OUR_IPS = ["198.51.100.7", "198.51.100.8", "203.0.113.44"]


class Writer:
    """Emits log lines of one simulated day, in time order."""

    def __init__(self, rnd: random.Random, out) -> None:
        self.rnd = rnd
        self.out = out
        self.lines = 0
        self.second = 0
        self.queue = 0
        self.pid = 1000

    def stamp(self) -> str:
        s = min(self.second, 86399)
        return f"{MONTH} 28 {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

    def line(self, agent: str, text: str) -> None:
        self.out.write(f"{self.stamp()} mail postfix/{agent}[{self.pid}]: {text}\n")
        self.lines += 1

    def qid(self) -> str:
        self.queue += 1
        return f"{self.queue:010X}"[-10:]

    def status(self, qid: str, rcpt: str, mx: str, dsn: str, status: str, text: str) -> None:
        d = self.rnd.random() * 3
        self.line(
            "smtp",
            f"{qid}: to=<{rcpt}>, relay={mx}[203.0.113.{self.rnd.randrange(1, 250)}]:25, "
            f"delay={d:.2f}, delays=0.01/0.01/{d / 2:.2f}/{d / 2:.2f}, dsn={dsn}, "
            f"status={status} ({text})",
        )

    def said(self, mx: str, reply: str) -> str:
        return f"host {mx}[203.0.113.9] said: {reply} (in reply to RCPT TO command)"

    def message(self, n: int) -> None:
        """One submitted message: its smtpd, cleanup and qmgr lines, then each recipient."""
        rnd = self.rnd
        self.second = n * 86400 // 200_000
        self.pid = 1000 + n % 30000
        qid = self.qid()
        user = f"user{n % 500}@example.org"
        client = f"10.0.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        self.line("smtpd", f"connect from unknown[{client}]")
        self.line(
            "smtpd", f"{qid}: client=unknown[{client}], sasl_method=PLAIN, sasl_username={user}"
        )
        self.line("cleanup", f"{qid}: message-id=<{n}.{rnd.randrange(10**9)}@example.org>")
        count = rnd.choice((1, 1, 1, 2, 3))
        rcpts = [f"r{n}x{i}@d{rnd.randrange(5000)}.example.net" for i in range(count)]
        size = rnd.randrange(900, 90000)
        self.line("qmgr", f"{qid}: from=<{user}>, size={size}, nrcpt={count} (queue active)")
        self.line("smtpd", f"disconnect from unknown[{client}] ehlo=1 auth=1 mail=1 commands=3")
        expired = [self.recipient(qid, rcpt) for rcpt in rcpts]
        if any(expired):
            self.line("qmgr", f"{qid}: from=<{user}>, status=expired, returned to sender")
        self.line("qmgr", f"{qid}: removed")
        self.noise(n, user)

    def recipient(self, qid: str, rcpt: str) -> bool:
        """The attempts for one recipient; True when it stays queued until it expires."""
        rnd = self.rnd
        domain = rcpt.split("@")[1]
        mx = f"mx{rnd.randrange(3)}.{domain}"
        ip = rnd.choice(OUR_IPS)
        if rnd.random() < 0.5:
            self.line(
                "smtp",
                f"Trusted TLS connection established to {mx}[203.0.113.9]:25: TLSv1.3 with "
                "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            )
        if rnd.random() < 0.04:
            for _ in range(rnd.randrange(1, 4)):
                dsn, reply = rnd.choice(DEFERRALS)
                if reply is None:
                    text = f"connect to {mx}[203.0.113.9]:25: Connection timed out"
                else:
                    text = self.said(mx, reply.format(rcpt=rcpt, ip=ip, domain=domain))
                self.status(qid, rcpt, mx, dsn, "deferred", text)
            if rnd.random() < 0.15:
                return True
        if rnd.random() < 0.02:
            dsn, reply = rnd.choice(BOUNCES)
            text = self.said(mx, reply.format(rcpt=rcpt, ip=ip))
            self.status(qid, rcpt, mx, dsn, "bounced", text)
            self.line("bounce", f"{qid}: sender non-delivery notification: {self.qid()}")
        else:
            text = f"250 2.0.0 Ok: queued as {rnd.randrange(16**8):08X}"
            self.status(qid, rcpt, mx, "2.0.0", "sent", text)
        return False

    def noise(self, n: int, user: str) -> None:
        """Lines that are no outbound delivery: postscreen, a local delivery, anvil."""
        if n % 7 == 0:
            peer = f"[192.0.2.{n % 250 + 1}]:4{n % 9999:04d}"
            self.line("postscreen", f"CONNECT from {peer} to [198.51.100.7]:25")
            self.line("postscreen", f"PASS OLD {peer}")
        if n % 11 == 0:
            self.line(
                "virtual",
                f"{self.qid()}: to=<{user}>, relay=virtual, delay=0.01, delays=0/0/0/0, "
                "dsn=2.0.0, status=sent (delivered to maildir)",
            )
        if n % 1000 == 0:
            self.line("anvil", "statistics: max connection rate 12/60s for (smtp:10.0.0.9)")


def generate(path: Path, lines: int, seed: int = 14) -> int:
    rnd = random.Random(seed)
    with path.open("w", buffering=1 << 20) as out:
        w = Writer(rnd, out)
        n = 0
        while w.lines < lines:
            w.message(n)
            n += 1
    return w.lines


def timed(argv: list[str], work: Path) -> tuple[float, int, int, str]:
    """(seconds, exit code, max RSS in KiB, first output line) of one whole process.

    The RSS comes from GNU time: a child forked from this (large) benchmark process would
    report this process's pages as its own maximum (Linux keeps the pre-exec high-water mark).
    """
    rss_file = work / "rss"
    started = time.perf_counter()
    proc = subprocess.run(
        [TIME, "-f", "%M", "-o", str(rss_file), *argv],
        capture_output=True,
        env=ENV,
        timeout=1800,
        check=False,
    )
    elapsed = time.perf_counter() - started
    first = proc.stdout.decode(errors="replace").splitlines()[:1]
    rss = int(rss_file.read_text().split()[-1])
    return elapsed, proc.returncode, rss, first[0] if first else ""


def ensure_tools() -> None:
    """pflogsumm and GNU time, from Debian (apt-get) when missing: the bench needs them, the
    tests do not."""
    missing = [
        pkg for path, pkg in ((PEER, "pflogsumm"), (TIME, "time")) if not Path(path).exists()
    ]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        subprocess.run(cmd, check=True, env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="bench-maillog-"))
    try:
        log = work / "mail.log"
        written = generate(log, args.lines)
        ours_cmd = [
            str(BIN / "check_bounce_rate"),
            *("--postfix-log", str(log), "--since", "all", "-t", "600"),
        ]
        peer_cmd = [PEER, str(log)]
        timed(ours_cmd, work), timed(peer_cmd, work)  # warm the page cache and the .pyc files
        runs: dict[str, list[tuple[float, int, int, str]]] = {"ours": [], "pflogsumm": []}
        for _ in range(args.runs):
            runs["ours"].append(timed(ours_cmd, work))
            runs["pflogsumm"].append(timed(peer_cmd, work))
        ours_s = statistics.median(r[0] for r in runs["ours"])
        peer_s = statistics.median(r[0] for r in runs["pflogsumm"])
        result = {
            "lines": written,
            "bytes": log.stat().st_size,
            "ours_s": round(ours_s, 3),
            "pflogsumm_s": round(peer_s, 3),
            "ratio": round(ours_s / peer_s, 3),
            "ours_max_rss_kib": max(r[2] for r in runs["ours"]),
            "pflogsumm_max_rss_kib": max(r[2] for r in runs["pflogsumm"]),
            "ours_first_line": runs["ours"][0][3],
            "ours_exit": runs["ours"][0][1],
            "runs": args.runs,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
