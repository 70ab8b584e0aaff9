"""The plugins never import dnspython: a check that looks lists up runs with it made
unimportable.

dnspython is only a test dependency (the tests cross-check the wire codec against it, and the
harness probes servers with it): importing it would add about 0.1 s to every start of a
plugin, which Nagios pays on every check (bench/startup_dnspython.py). Each plugin runs here
with ``sys.modules["dns"] = None``, so any ``import dns...`` fails and the plugin would
report "missing dependency: dns" as UNKNOWN, against a real rbldnsd.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.fixtures import make_bounces as mk
from tests.support.lab import AV_RELAY, LISTED_IP

PROVIDER = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "relay_chain"

WRAPPER = """
import sys
sys.modules["dns"] = None  # every "import dns.x" now raises ImportError
import {module}
{module}.main(sys.argv[1:])
"""


def run_without_dnspython(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WRAPPER.format(module=module), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_dnsbl_finds_a_listing_without_dnspython(psbl):
    proc = run_without_dnspython(
        "check_dnsbl", "-n", psbl.nameserver, "-z", "psbl.surriel.com", "--allow-nonglobal",
        "-H", LISTED_IP,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "psbl.surriel.com" in proc.stdout


def test_check_relay_chain_finds_the_listed_relay_without_dnspython(psbl):
    proc = run_without_dnspython(
        "check_relay_chain", "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        "--file", str(PROVIDER / "provider_relay.eml"),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert AV_RELAY in proc.stdout


def test_check_bounce_rate_verifies_a_citation_without_dnspython(psbl, tmp_path):
    (tmp_path / "b.eml").write_bytes(mk.blocklisted(ip=AV_RELAY))
    proc = run_without_dnspython(
        "check_bounce_rate", "--dir", str(tmp_path), "--since", "all", "--verify",
        "-n", psbl.nameserver, "--format", "json",
    )  # fmt: skip
    assert "missing dependency" not in proc.stdout, proc.stdout
    assert proc.returncode == 2, proc.stdout + proc.stderr
    perfdata = {p["label"]: p["value"] for p in json.loads(proc.stdout)["perfdata"]}
    assert perfdata["still_listed"] == 1
