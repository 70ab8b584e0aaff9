"""``--format openmetrics`` of every plugin, in every state, as Prometheus tools read it.

Each plugin runs as a separate process against real servers (rbldnsd; a scripted DNS server
for SERVFAIL) in an OK, a listed, an error and an UNKNOWN run; the exposition must pass the
real ``promtool check metrics`` and a strict OpenMetrics parser, and carry the state the exit
code gives. The last test hands the ``--output`` files of all three plugins to a real
node_exporter's textfile collector and scrapes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dns.rcode
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fakes.dns_server import FakeDnsServer, rcode_reply
from tests.support.fixtures import make_bounces as mk
from tests.support.lab import AV_RELAY, LISTED_IP
from tests.support.metrics import valid_exposition, value
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import free_port, ip4set

PROVIDER = str(
    Path(__file__).resolve().parents[1] / "support/fixtures/relay_chain/provider_relay.eml"
)
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"  # Debian package prometheus-node-exporter


@pytest.fixture
def servfail() -> Iterator[FakeDnsServer]:
    server = FakeDnsServer(rcode_reply(dns.rcode.SERVFAIL))
    yield server
    server.close()


def exposition(plugin: str, *args: str, code: int) -> dict:
    r = run_plugin(plugin, *args, "--format", "openmetrics")
    assert r.code == code, r.stdout
    families = valid_exposition(r.stdout)
    assert value(families, "mailrep_check_state", plugin=plugin) == code
    return families


# --- check_dnsbl --------------------------------------------------------------------------------


def dnsbl(ns: str, *args: str, code: int) -> dict:
    return exposition(
        "check_dnsbl", "-n", ns, "--allow-nonglobal", "-z", "psbl.surriel.com", *args, code=code
    )


def test_dnsbl_ok(psbl):
    fams = dnsbl(psbl.nameserver, "-H", "192.0.2.1", code=0)
    assert value(fams, "mailrep_dnsbl_listed", target="192.0.2.1", zone="psbl.surriel.com") == 0
    assert value(fams, "mailrep_dnsbl_results", status="clean") == 1


def test_dnsbl_listed(psbl):
    fams = dnsbl(psbl.nameserver, "-H", LISTED_IP, code=2)
    assert value(fams, "mailrep_dnsbl_listed", target=LISTED_IP) == 1
    assert value(fams, "mailrep_dnsbl_listed_since_timestamp_seconds", target=LISTED_IP) > 0
    assert value(fams, "mailrep_dnsbl_zone_lookup_max_seconds", zone="psbl.surriel.com") >= 0


def test_dnsbl_error(psbl):
    """One zone the server does not serve: its lookups fail, the other zone answers."""
    fams = dnsbl(psbl.nameserver, "-z", "bl.spamcop.net", "-H", "192.0.2.1", code=1)
    assert value(fams, "mailrep_dnsbl_lookup_error", zone="bl.spamcop.net") == 1
    assert value(fams, "mailrep_dnsbl_lookup_error", zone="psbl.surriel.com") == 0
    assert value(fams, "mailrep_dnsbl_results", status="error") == 1


def test_dnsbl_no_usable_answer_is_unknown_with_the_errors(servfail):
    fams = dnsbl(servfail.nameserver, "-H", LISTED_IP, code=3)
    assert value(fams, "mailrep_dnsbl_lookup_error", target=LISTED_IP) == 1
    assert value(fams, "mailrep_dnsbl_listed", target=LISTED_IP) == 0


def test_dnsbl_unknown_still_has_an_exposition_with_the_state(psbl):
    fams = exposition("check_dnsbl", "-n", psbl.nameserver, "-H", "not an address", code=3)
    assert "mailrep_dnsbl_listed" not in fams


def test_dnsbl_usage_error_is_an_unknown_exposition():
    fams = exposition("check_dnsbl", "--no-such-option", code=3)
    assert set(fams) >= {"mailrep_check_state", "mailrep_build_info"}


# --- check_relay_chain --------------------------------------------------------------------------


def relay(ns: str, *args: str, code: int) -> dict:
    return exposition("check_relay_chain", "-n", ns, "-z", "psbl.surriel.com", *args, code=code)


def test_relay_chain_ok(rbldnsd):
    server = rbldnsd([ip4set("psbl.surriel.com")])
    fams = relay(server.nameserver, "--file", PROVIDER, code=0)
    assert value(fams, "mailrep_relay_hops") == 5
    assert value(fams, "mailrep_relay_checked_hops") == 2
    assert value(fams, "mailrep_relay_delay_seconds") == 6.0


def test_relay_chain_listed(psbl):
    fams = relay(psbl.nameserver, "--file", PROVIDER, code=2)
    assert value(fams, "mailrep_relay_listed_hops") == 1
    assert value(fams, "mailrep_dnsbl_listed", target=AV_RELAY, zone="psbl.surriel.com") == 1


def test_relay_chain_error(servfail):
    fams = relay(servfail.nameserver, "--file", PROVIDER, code=3)  # no usable answer at all
    assert value(fams, "mailrep_dnsbl_lookup_error", target=AV_RELAY) == 1


def test_relay_chain_unknown(psbl, tmp_path):
    fams = relay(psbl.nameserver, "--file", str(tmp_path / "missing.eml"), code=3)
    assert "mailrep_relay_hops" not in fams


# --- check_bounce_rate --------------------------------------------------------------------------


def bounce_dir(path: Path, messages: list[bytes]) -> str:
    path.mkdir()
    for i, raw in enumerate(messages):
        (path / f"{i}.eml").write_bytes(raw)
    return str(path)


def test_bounce_rate_ok(tmp_path):
    box = bounce_dir(tmp_path / "b", [mk.unknown_user()])
    fams = exposition("check_bounce_rate", "--dir", box, "--sent", "1000", code=0)
    assert value(fams, "mailrep_bounce_recipients", cause="hard") == 1
    assert value(fams, "mailrep_bounce_rate_ratio") == 0.001


def test_bounce_rate_listed(tmp_path):
    box = bounce_dir(tmp_path / "b", [mk.blocklisted(ip="192.0.2.11"), mk.unknown_user()])
    fams = exposition("check_bounce_rate", "--dir", box, "--sent", "1000", code=1)
    cited = {"zone": "psbl.surriel.com", "address": "192.0.2.11"}
    assert value(fams, "mailrep_bounce_citations", **cited) == 1
    assert value(fams, "mailrep_bounce_citation_since_timestamp_seconds", **cited) > 0
    assert value(fams, "mailrep_bounce_reason_recipients", reason="userunknown") == 1


def test_bounce_rate_error(tmp_path, servfail):
    box = bounce_dir(tmp_path / "b", [mk.blocklisted(ip="192.0.2.11")])
    args = ["--dir", box, "--verify", "-n", servfail.nameserver, "--allow-nonglobal"]
    fams = exposition("check_bounce_rate", *args, "--blocked-warning", "5", code=1)
    assert value(fams, "mailrep_bounce_cited_still_listed") == 0


def test_bounce_rate_unknown(tmp_path):
    fams = exposition("check_bounce_rate", "--maildir", str(tmp_path / "none"), code=3)
    assert "mailrep_bounce_recipients" not in fams


# --- node_exporter's textfile collector ---------------------------------------------------------


def scrape(port: int, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                return resp.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_node_exporter_serves_the_output_files_of_all_three_plugins(psbl, tmp_path):
    if not shutil.which(NODE_EXPORTER):
        pytest.fail(f"{NODE_EXPORTER} is missing: install prometheus-node-exporter")
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    box = bounce_dir(tmp_path / "b", [mk.blocklisted(ip="192.0.2.11")])
    runs = {
        "check_dnsbl": ["-n", psbl.nameserver, "-z", "psbl.surriel.com", "-H", LISTED_IP],
        "check_relay_chain": ["-n", psbl.nameserver, "-z", "psbl.surriel.com", "--file", PROVIDER],
        "check_bounce_rate": ["--dir", box],
    }
    for plugin, args in runs.items():
        out = textfiles / f"mailrep_{plugin}.prom"
        r = run_plugin(
            plugin, *args, "--allow-nonglobal", "--format", "openmetrics", "--output", str(out)
        )
        assert r.stdout == "" and r.code in (1, 2)
        assert out.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in textfiles.iterdir()) == sorted(
        f"mailrep_{p}.prom" for p in runs
    )  # no temporary file left behind
    port = free_port()
    proc = subprocess.Popen(
        [
            NODE_EXPORTER,
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfiles}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        text = scrape(port, time.monotonic() + 10)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "node_textfile_scrape_error 0" in text, err.decode()
    served = {f.name: list(f.samples) for f in text_string_to_metric_families(text)}
    assert value(served, "mailrep_check_state", plugin="check_dnsbl") == 2
    assert value(served, "mailrep_check_state", plugin="check_relay_chain") == 2
    assert value(served, "mailrep_check_state", plugin="check_bounce_rate") == 1
    assert value(served, "mailrep_dnsbl_listed", plugin="check_dnsbl", target=LISTED_IP) == 1
    assert value(served, "mailrep_bounce_citations", address="192.0.2.11") == 1


def test_output_to_a_directory_that_cannot_be_written_is_unknown(psbl, tmp_path):
    r = run_plugin(
        "check_dnsbl",
        *["-n", psbl.nameserver, "--allow-nonglobal", "-H", LISTED_IP],
        *["--format", "openmetrics", "--output", str(tmp_path / "missing" / "x.prom")],
    )
    assert r.code == 3
    assert r.first_line.startswith("UNKNOWN - cannot write --output")
    assert not os.path.exists(tmp_path / "missing")
