"""Bounce analysis throughput against Debian's Sisimai, over the same Maildir in the same run.

    .venv/bin/python bench/bench_bounces.py [--messages 10000] [--rounds 3]

Needs the Debian package libsisimai-perl (Sisimai 4.25). Copies the bounce corpus
(../shared/corpus/set-of-emails and every file of ../shared/corpus/ext-bounces: bounces,
feedback reports and negatives, repeated in that order) into a temporary Maildir of about
``--messages`` messages, then per round: our analyser over every file in one process
(files read inside the timed loop, as Sisimai reads them), and ``bench/sisimai_make.pl``
(``Sisimai->make``) over the same Maildir. The best round of each counts; Sisimai's time
is the one its own script measured around ``make()`` (perl start-up and module loading
excluded, in its favour). The temporary Maildir is deleted afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "corpus"
CORPUS = SHARED / "set-of-emails"
EXT = SHARED / "ext-bounces"
PERL = Path(__file__).with_name("sisimai_make.pl")


def build_maildir(root: Path, target: int) -> int:
    sources = sorted(CORPUS.glob("*.eml")) + sorted(EXT.rglob("*.eml"))
    if not sources or not EXT.exists():
        sys.exit(f"no corpus at {CORPUS} and {EXT}")
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    n = 0
    while n < target:
        for src in sources:
            if n >= target:
                break
            shutil.copyfile(src, root / "new" / f"{n:06d}.bench.{src.stem}")
            n += 1
    return n


def run_ours(root: Path) -> tuple[int, float]:
    from mailrep.bounce.analysis import analyse

    files = sorted((root / "new").iterdir())
    t0 = time.perf_counter()
    bounces = 0
    for path in files:
        if analyse(path.read_bytes()).kind not in ("not-bounce", "autoreply", "challenge", "mdn"):
            bounces += 1
    return bounces, time.perf_counter() - t0


def run_sisimai(root: Path) -> tuple[int, float]:
    out = subprocess.run(
        ["perl", str(PERL), str(root / "new")], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bounces-") as tmp:
        root = Path(tmp) / "Maildir"
        n = build_maildir(root, args.messages)
        ours_best = peer_best = float("inf")
        ours_found = peer_found = 0
        for _ in range(args.rounds):
            ours_found, t = run_ours(root)
            ours_best = min(ours_best, t)
            peer_found, t = run_sisimai(root)
            peer_best = min(peer_best, t)
    print(f"messages: {n}")
    print(f"ours:    {n / ours_best:9.0f} msg/s  ({ours_best:.2f} s, {ours_found} reports)")
    print(f"sisimai: {n / peer_best:9.0f} msg/s  ({peer_best:.2f} s, {peer_found} decoded)")
    print(f"ratio (ours/sisimai, msg/s): {peer_best / ours_best:.2f}")


if __name__ == "__main__":
    main()
