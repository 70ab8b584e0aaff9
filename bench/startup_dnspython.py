"""What importing dnspython would add to every plugin start.

Nagios and Icinga start a fresh process per check, so import time is paid on every run. The
plugins carry their own small DNS codec (mailrep.dns.wire) instead of dnspython; this script
measures what dnspython's modules would cost on top of a plugin's own start-up: each variant
runs as a fresh interpreter, interleaved with the others so machine load hits all alike, and
the minimum of the runs is reported (the least disturbed run).

    .venv/bin/python bench/startup_dnspython.py [RUNS]
"""

from __future__ import annotations

import subprocess
import sys
import time

VARIANTS = {
    "check_dnsbl -V": "import check_dnsbl\ntry: check_dnsbl.main(['-V'])\nexcept SystemExit: pass",
    "+ import dns.message": "import check_dnsbl, dns.message",
    "+ dns.message, dns.resolver": "import check_dnsbl, dns.message, dns.resolver",
    "+ ... dns.asyncresolver": "import check_dnsbl, dns.message, dns.resolver, dns.asyncresolver",
}


def one(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(runs: int) -> None:
    best = dict.fromkeys(VARIANTS, float("inf"))
    for _ in range(runs):
        for name, code in VARIANTS.items():
            best[name] = min(best[name], one(code))
    base = best["check_dnsbl -V"]
    python = sys.version.split()[0]
    print(f"fresh interpreter per run, minimum of {runs} interleaved runs (Python {python})")
    for name, seconds in best.items():
        extra = "" if name == "check_dnsbl -V" else f"  (+{(seconds - base) * 1000:.0f} ms)"
        print(f"{name:<32} {seconds * 1000:6.0f} ms{extra}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
