"""Received parser throughput against mail-parser's, on the same corpus lines in the same run.

    .venv/bin/python bench/bench_received.py [--repeat 20] [--rounds 5]

Needs (PyPI) mail-parser (the ``bench`` extra). Reads ../shared/corpus/received-lines.jsonl.
Each round parses every line ``--repeat`` times with each parser, interleaved; the best round
counts (least disturbed by the machine). Also reports how many lines each parser returned a
client IP for: mail-parser leaves the from clause as text, so it gives none; the throughput
comparison is therefore ours doing more work.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINES = REPO / ".." / "shared" / "corpus" / "received-lines.jsonl"


def load_lines() -> list[str]:
    with LINES.open(encoding="utf-8") as fh:
        return [json.loads(line)["received"] for line in fh if line.strip()]


def ours() -> Callable[[str], object]:
    from mailrep.relay.received import parse_received

    return parse_received


def mail_parser() -> Callable[[str], object]:
    from mailparser.utils import MailParserReceivedParsingError, parse_received

    def parse(value: str) -> object:
        try:
            return parse_received(value)
        except MailParserReceivedParsingError:
            return None

    return parse


def lines_per_second(parse: Callable[[str], object], lines: list[str], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for line in lines:
            parse(line)
    return len(lines) * repeat / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    lines = load_lines()
    parsers = {"mailrep": ours(), "mail-parser": mail_parser()}
    best = dict.fromkeys(parsers, 0.0)
    for _ in range(args.rounds):
        for name, parse in parsers.items():
            best[name] = max(best[name], lines_per_second(parse, lines, args.repeat))
    with_ip = sum(1 for line in lines if getattr(parsers["mailrep"](line), "ip", None))
    peer_version = importlib.metadata.version("mail-parser")
    print(f"lines: {len(lines)} x {args.repeat} repeats, best of {args.rounds} rounds")
    print(f"python {sys.version.split()[0]}, mail-parser {peer_version}")
    print(f"mailrep      {best['mailrep']:>10,.0f} lines/s  (client IP found on {with_ip} lines)")
    print(f"mail-parser  {best['mail-parser']:>10,.0f} lines/s  (no client IP: from as text)")
    print(f"ratio ours/peer: {best['mailrep'] / best['mail-parser']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
