"""IMAP source cost: a 24 h window over a 10,000-message folder vs a naive full fetch.

    sudo .venv/bin/python bench/bench_imap.py [--messages 10000] [--rounds 5]

Runs a real Dovecot (tests/support/servers/dovecot.py: loopback, IMAPS with a throw-away CA) over a
Maildir of generated messages (2-24 KB, bounce-like); a third of them arrived (file mtime,
which Dovecot reports as INTERNALDATE) inside the last 24 hours, the rest 1-90 days ago.
Each round, interleaved, times whole reads (TCP connect, TLS, LOGIN, EXAMINE, SEARCH,
FETCH, LOGOUT) through ``mailrep.mail.sources.read_imap``:

* window:         ``since=24h`` (SEARCH SINCE, exact INTERNALDATE filter, BODY.PEEK[])
* window headers: the same with ``headers_only`` (what counting a Sent folder needs)
* naive:          every message's BODY.PEEK[], filtered by date on the client

and reports the median of the rounds, messages and bytes fetched. Needs root (the Maildir
belongs to the mail user) and the Debian package dovecot-imapd.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mailrep.mail.sources import FetchStats, ImapSettings, read_imap  # noqa: E402

from tests.support.servers.dovecot import Dovecot  # noqa: E402

USER, PASSWORD = "bench", "bench-password"
DAY = 86400.0


def generate(dovecot: Dovecot, count: int, rng: random.Random) -> int:
    """Deliver ``count`` messages; returns how many arrived inside the last 24 h."""
    now = time.time()
    inside = 0
    for n in range(count):
        recent = n % 3 == 0
        ago = rng.uniform(60, DAY - 600) if recent else rng.uniform(DAY + 600, 90 * DAY)
        inside += recent
        lines = rng.randint(30, 400)
        text = (
            f"From: MAILER-DAEMON@mx{n % 7}.example.net\nTo: user{n % 50}@example.org\n"
            f"Subject: Undelivered Mail Returned to Sender {n}\n"
            f"Message-ID: <bench{n}@example.net>\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(now - ago))}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n"
            + "".join(
                f"diagnostic line {i} 550 5.7.1 blocked using zen.example {n}\n"
                for i in range(lines)
            )
        )
        path = dovecot.deliver(USER, text, subdir="cur", flags="S" if n % 2 else "")
        os.utime(path, (now - ago, now - ago))
    dovecot.sync(USER)
    return inside


def timed(read: Callable[[FetchStats], int]) -> tuple[float, int, FetchStats]:
    stats = FetchStats()
    start = time.perf_counter()
    kept = read(stats)
    return time.perf_counter() - start, kept, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with Dovecot({USER: PASSWORD}) as dovecot:
        t0 = time.perf_counter()
        inside = generate(dovecot, args.messages, random.Random(42))
        print(
            f"generated {args.messages} messages ({inside} in the last 24 h) in "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        settings = ImapSettings(
            "localhost",
            dovecot.imaps_port,
            USER,
            PASSWORD,
            "tls",
            ca_file=str(dovecot.ca_file),
            timeout=60,
        )

        def window(stats: FetchStats, headers_only: bool = False) -> int:
            since = datetime.now(UTC) - timedelta(hours=24)
            return sum(
                1 for _ in read_imap(settings, since, headers_only=headers_only, stats=stats)
            )

        def naive(stats: FetchStats) -> int:
            since = datetime.now(UTC) - timedelta(hours=24)
            return sum(
                1
                for m in read_imap(settings, None, stats=stats)
                if m.arrived is not None and m.arrived >= since
            )

        cases = {
            "window 24h, BODY.PEEK[]": window,
            "window 24h, headers only": lambda s: window(s, headers_only=True),
            "naive: all, filter locally": naive,
        }
        window(FetchStats())  # warm Dovecot's index and caches once
        times: dict[str, list[float]] = {name: [] for name in cases}
        last: dict[str, tuple[int, FetchStats]] = {}
        for _ in range(args.rounds):
            for name, read in cases.items():
                seconds, kept, stats = timed(read)
                times[name].append(seconds)
                last[name] = (kept, stats)

    naive_time = statistics.median(times["naive: all, filter locally"])
    naive_bytes = last["naive: all, filter locally"][1].bytes
    print(
        f"{'read':28}  {'median':>8}  {'kept':>6}  {'fetched':>7}  {'bytes':>11}  "
        f"{'time/naive':>10}  {'bytes/naive':>11}"
    )
    for name in cases:
        kept, stats = last[name]
        median = statistics.median(times[name])
        print(
            f"{name:28}  {median:7.3f}s  {kept:6}  {stats.messages:7}  {stats.bytes:11,}  "
            f"{median / naive_time:10.2f}  {stats.bytes / naive_bytes:11.3f}"
        )
    ok = all(last[name][0] == inside for name in cases)
    print(f"every read kept the {inside} messages of the window: {ok}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
