"""check_dnsbl against its peers, measured in the same run on the same rbldnsd zones.

    .venv/bin/python bench/bench_dnsbl.py [--runs 15]

Needs (Debian): rbldnsd, monitoring-plugins-contrib (check_rbl) with libnet-ip-perl,
libnet-dns-perl, libreadonly-perl, libmonitoring-plugin-perl, libcapture-tiny-perl,
libdata-validate-domain-perl, libdata-validate-ip-perl; (PyPI) pydnsbl. The bench refuses
to run when check_rbl cannot start. Run as root:
the latency proxy listens on 127.0.0.54:53 because check_rbl's -n takes an address only.

Scenarios (whole processes, median wall time; ratios are ours / peer, lower is better):
  1. one clean IP x 6 zones behind a proxy adding 50 ms per answer, vs check_rbl;
  2. one clean IP x 25 zones, same proxy, vs check_rbl (it queries 20 at a time);
  3. one listed IP x 6 zones (ours also fetches TXT for the listing), vs check_rbl;
  4. ``-V`` start-up wall time and peak RSS, vs check_rbl -V;
  5. a /22 x 10 zones, no added latency: queries/s vs pydnsbl (c-ares) in the same run,
     with how many answers each decoded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CHECK_RBL = "/usr/lib/nagios/plugins/check_rbl"
PROXY = ("127.0.0.54", 53)
DIRECT = "127.0.0.55"  # rbldnsd itself on port 53: pydnsbl (c-ares) takes addresses only
LISTED = "198.18.0.7"  # benchmarking range (RFC 2544)
CLEAN = "198.18.0.1"

ZONES = [f"bl{i:02d}.bench.test" for i in range(25)]

# As installed by pip: byte-compiled. A session with PYTHONDONTWRITEBYTECODE would otherwise
# recompile every module on every run and measure the compiler, not the plugin.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_rbldnsd(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    args = [
        "rbldnsd",
        "-n",
        "-f",
        "-u",
        "nobody",
        "-r",
        str(workdir),
        "-b",
        f"127.0.0.1/{port}",
        "-b",
        f"{DIRECT}/53",
    ]
    for zone in ZONES:
        (workdir / zone).write_text(":127.0.0.2:listed\n127.0.0.2\n198.18.0.7\n198.18.1.0/28\n")
        args.append(f"{zone}:ip4set:{zone}")
    os.chmod(workdir, 0o755)
    for f in workdir.iterdir():
        os.chmod(f, 0o644)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def timed(argv: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (KiB) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def peer_works() -> None:
    """A peer that cannot start (a missing Perl module exits 2 in milliseconds) would make
    every ratio a lie: refuse to measure unless check_rbl -V prints its version."""
    out = subprocess.run([CHECK_RBL, "-V"], capture_output=True, text=True, env=ENV)
    if not out.stdout.startswith("check_rbl "):
        sys.exit(f"check_rbl does not run here: {(out.stderr or out.stdout).strip()[:300]}")


def compare(name: str, ours: list[str], peer: list[str], runs: int) -> dict[str, float]:
    a, b = [], []
    for _ in range(runs):  # interleaved so drift hits both alike
        a.append(timed(ours))
        b.append(timed(peer))
    ours_s = statistics.median(x[0] for x in a)
    peer_s = statistics.median(x[0] for x in b)
    row = {
        "scenario": name,
        "ours_s": round(ours_s, 4),
        "peer_s": round(peer_s, 4),
        "ratio": round(ours_s / peer_s, 3),
        "ours_rss_kib": max(x[2] for x in a),
        "peer_rss_kib": max(x[2] for x in b),
        "ours_exit": a[0][1],
        "peer_exit": b[0][1],
    }
    print(json.dumps(row), flush=True)
    return row


def ours_cmd(ip: str, zones: list[str], ns: str, *extra: str) -> list[str]:
    cmd = [str(BIN / "check_dnsbl"), "-H", ip, "--allow-nonglobal", "-n", ns]
    for z in zones:
        cmd += ["-z", z]
    return cmd + list(extra)


def rbl_cmd(ip: str, zones: list[str], ns: str) -> list[str]:
    cmd = [CHECK_RBL, "-H", ip, "-n", ns, "-t", "30"]
    for z in zones:
        cmd += ["-s", z]
    return cmd


PYDNSBL_PEER = r"""
import asyncio, ipaddress, sys, time
from pydnsbl import DNSBLIpChecker
from pydnsbl.providers import Provider
zones = sys.argv[2].split(",")
ips = [str(a) for a in ipaddress.ip_network("198.18.0.0/22")]
checker = DNSBLIpChecker(providers=[Provider(z) for z in zones], timeout=4, tries=2)
checker._resolver.nameservers = [sys.argv[3]]
t = time.perf_counter()
results = checker.bulk_check(ips)
elapsed = time.perf_counter() - t
answered = sum(1 for r in results for p in r.providers if p not in r.failed_providers)
print(elapsed, answered, sum(1 for r in results if r.blacklisted))
"""


def bulk(runs: int) -> dict[str, float]:
    zones = ZONES[:10]
    queries = 1024 * len(zones)
    ours, peer = [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            ours_cmd(
                "198.18.0.0/22",
                zones,
                f"{DIRECT}:53",
                "--max-addresses",
                "1024",
                "--format",
                "json",
                "-t",
                "60",
                "--concurrency",
                "500",
            ),
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        wall = time.perf_counter() - started
        doc = json.loads(out.stdout)
        decoded = sum(1 for r in doc["results"] if r["status"] in ("listed", "clean", "policy"))
        ours.append((wall, decoded, sum(1 for r in doc["results"] if r["status"] == "listed")))
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", PYDNSBL_PEER, "0", ",".join(zones), DIRECT],
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        wall = time.perf_counter() - started
        _inner, answered, listed_ips = out.stdout.split()
        peer.append((wall, int(answered), int(listed_ips)))
    o = statistics.median(x[0] for x in ours)
    p = statistics.median(x[0] for x in peer)
    row = {
        "scenario": "/22 x 10 zones, loopback, whole process",
        "queries": queries,
        "ours_qps": round(queries / o),
        "pydnsbl_qps": round(queries / p),
        "ratio_qps": round(p / o, 3),
        "ours_decoded_min": min(x[1] for x in ours),
        "pydnsbl_answered_min": min(x[1] for x in peer),
        "ours_listed_pairs": ours[0][2],
        "pydnsbl_listed_ips": peer[0][2],
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for tool in ("rbldnsd", CHECK_RBL):
        if not shutil.which(tool):
            sys.exit(f"missing {tool}: see the module docstring")
    peer_works()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "plugins")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as tmp:
        rbl, port = start_rbldnsd(Path(tmp))
        proxy = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "latency_proxy.py"),
                *map(str, PROXY),
                "127.0.0.1",
                str(port),
                "50",
            ],
            stdout=subprocess.PIPE,
        )
        assert proxy.stdout is not None
        proxy.stdout.readline()
        ns_ours, ns_peer = f"{PROXY[0]}:{PROXY[1]}", PROXY[0]
        try:
            for ip, n in ((CLEAN, 6), (CLEAN, 25), (LISTED, 6)):
                compare(
                    f"{'listed' if ip == LISTED else 'clean'} IP x {n} zones, +50 ms",
                    ours_cmd(ip, ZONES[:n], ns_ours),
                    rbl_cmd(ip, ZONES[:n], ns_peer),
                    args.runs,
                )
            compare("-V start-up", [str(BIN / "check_dnsbl"), "-V"], [CHECK_RBL, "-V"], args.runs)
            bulk(max(3, args.runs // 3))
        finally:
            proxy.terminate()
            rbl.terminate()
    print(
        f"# python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"maxrss unit KiB, getrusage={resource.RUSAGE_CHILDREN}"
    )


if __name__ == "__main__":
    main()
