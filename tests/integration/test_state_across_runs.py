"""State across runs, as cron and Nagios see it: the installed plugins against real rbldnsd.

Every test names its own --state-dir and runs the plugin several times as separate
processes. "Time passes" by editing the stored ``since`` of a listing, never by sleeping.
A delisting is a second rbldnsd that does not list the address: the nameserver is not part
of a check's identity, so both runs are the same check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.fixtures import make_bounces as mk
from tests.support.lab import LISTED_IP
from tests.support.plugin_runner import BIN, as_user_command, run_plugin
from tests.support.servers.rbldnsd import ip4set

ZONE = "psbl.surriel.com"
DAY = 86400.0


@pytest.fixture
def clean(rbldnsd):
    return rbldnsd([ip4set(ZONE)])


def dnsbl(ns: str, state_dir: Path, *args: str, **kw):
    return run_plugin(
        "check_dnsbl",
        *["-n", ns, "--allow-nonglobal", "-z", ZONE, "-H", LISTED_IP],
        *["--state-dir", str(state_dir), *args],
        **kw,
    )


def state_file(state_dir: Path) -> Path:
    (found,) = state_dir.glob("check_dnsbl-*.json")
    return found


def backdate(state_dir: Path, seconds: float) -> float:
    """Move every stored ``since`` back; returns the new one."""
    path = state_file(state_dir)
    doc = json.loads(path.read_text())
    for entry in doc["entries"]:
        entry["since"] -= seconds
    path.write_text(json.dumps(doc))
    return doc["entries"][0]["since"]


def test_a_listing_says_since_when(psbl, tmp_path):
    first = dnsbl(psbl.nameserver, tmp_path)
    assert f"{LISTED_IP} listed on {ZONE} since " in first.stdout
    assert "(first seen in this run)" in first.stdout
    since = backdate(tmp_path, 3 * DAY)
    again = dnsbl(psbl.nameserver, tmp_path, "--format", "json")
    stamp = datetime.fromtimestamp(since, UTC)
    (listed,) = [r for r in again.json["results"] if r["status"] == "listed"]
    assert listed["listed_since"] == stamp.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = dnsbl(psbl.nameserver, tmp_path)
    assert f"{LISTED_IP} listed on {ZONE} since {stamp:%Y-%m-%d %H:%M} UTC (3 days)" in text.lines


def test_a_delisting_is_reported_once(psbl, clean, tmp_path):
    dnsbl(psbl.nameserver, tmp_path)
    backdate(tmp_path, 2 * DAY)
    ended = dnsbl(clean.nameserver, tmp_path)
    assert ended.code == 0
    assert sum(f"{LISTED_IP} delisted from {ZONE}" in line for line in ended.lines) == 1
    assert f"delisted from {ZONE}" not in dnsbl(clean.nameserver, tmp_path).stdout


def test_a_failed_lookup_is_not_a_delisting(psbl, rbldnsd, tmp_path):
    dnsbl(psbl.nameserver, tmp_path)
    other = rbldnsd([ip4set("bl.example.test")])  # does not serve ZONE: the lookup fails
    failed = dnsbl(other.nameserver, tmp_path)
    assert failed.code == 3 and "delisted" not in failed.stdout
    back = dnsbl(psbl.nameserver, tmp_path)
    assert "(first seen in this run)" not in back.stdout  # the listing's since survived


def test_only_changes_prints_only_when_something_changed(psbl, clean, tmp_path):
    quiet = ["--only-changes"]
    first = dnsbl(psbl.nameserver, tmp_path, *quiet)
    assert first.code == 2 and first.status.startswith("DNSBL CRITICAL")
    same = dnsbl(psbl.nameserver, tmp_path, *quiet)
    assert (same.code, same.stdout) == (0, "")
    over = dnsbl(clean.nameserver, tmp_path, *quiet)
    assert over.code == 0 and over.status.startswith("DNSBL OK") and "delisted" in over.stdout
    assert dnsbl(clean.nameserver, tmp_path, *quiet).stdout == ""


def test_a_first_run_that_is_ok_is_quiet(clean, tmp_path):
    r = dnsbl(clean.nameserver, tmp_path, "--only-changes")
    assert (r.code, r.stdout) == (0, "")


def test_only_changes_refuses_an_exposition(psbl, tmp_path):
    r = dnsbl(psbl.nameserver, tmp_path, "--only-changes", "--format", "openmetrics")
    assert r.code == 3 and "mailrep_check_state" in r.stdout
    assert "--only-changes cannot be used with --format openmetrics" in r.stderr
    assert list(tmp_path.iterdir()) == []  # a usage error is no run of the check


def test_an_unknown_run_is_a_change_and_so_is_the_recovery(psbl, tmp_path):
    dnsbl(psbl.nameserver, tmp_path, "--only-changes")
    down = dnsbl("127.0.0.1:9", tmp_path, "--only-changes", "-t", "2")
    assert down.code == 3 and down.status.startswith("DNSBL UNKNOWN")
    assert dnsbl("127.0.0.1:9", tmp_path, "--only-changes", "-t", "2").stdout == ""
    assert dnsbl(psbl.nameserver, tmp_path, "--only-changes").code == 2


def test_two_concurrent_runs_report_a_delisting_exactly_once(psbl, clean, tmp_path):
    dnsbl(psbl.nameserver, tmp_path)
    argv = [str(BIN / "check_dnsbl"), "-n", clean.nameserver, "--allow-nonglobal", "-z", ZONE]
    argv += ["-H", LISTED_IP, "--state-dir", str(tmp_path)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=30)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum("delisted from" in out for out in outputs) == 1
    json.loads(state_file(tmp_path).read_text())  # whole, not interleaved


# --- damage never changes the verdict -----------------------------------------------------------


def verdict(r) -> tuple[int, str]:
    return r.code, r.status


def test_a_missing_state_file_only_adds_a_note(psbl, tmp_path):
    r = dnsbl(psbl.nameserver, tmp_path / "new")
    assert verdict(r) == (2, f"DNSBL CRITICAL - {LISTED_IP} listed on {ZONE} (1 of 1 list)")
    assert any(line.startswith("state: no earlier state in ") for line in r.lines)


@pytest.mark.parametrize("garbage", [b"{", b"\x00" * 40, b'{"format": "mailrep-state 1"}'])
def test_a_corrupt_state_file_only_adds_a_note(psbl, tmp_path, garbage):
    good = dnsbl(psbl.nameserver, tmp_path)
    state_file(tmp_path).write_bytes(garbage)
    r = dnsbl(psbl.nameserver, tmp_path)
    assert verdict(r) == verdict(good)
    assert any("started afresh" in line for line in r.lines)
    assert "(first seen in this run)" not in dnsbl(psbl.nameserver, tmp_path).stdout  # saved


@pytest.fixture
def shared_dir():
    """A directory everyone may traverse (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="mailrep-state-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_an_unwritable_state_directory_only_adds_a_note(psbl, shared_dir):
    """The state written by root, then a run as an unprivileged user that may read but not
    write it: the nagios user facing a directory an admin forgot to give it."""
    good = dnsbl(psbl.nameserver, shared_dir)
    state_file(shared_dir).chmod(0o644)
    r = dnsbl(psbl.nameserver, shared_dir, as_user="nobody")
    assert verdict(r) == verdict(good)
    assert any("not updated: cannot lock (Permission denied)" in line for line in r.lines)
    assert "(first seen in this run)" not in r.stdout  # it read the history all the same


def test_an_unreadable_state_file_only_adds_a_note(psbl, shared_dir):
    good = dnsbl(psbl.nameserver, shared_dir)  # the file is root's, mode 0600
    r = dnsbl(psbl.nameserver, shared_dir, as_user="nobody")
    assert verdict(r) == verdict(good)
    assert any("cannot read" in line and "not kept this run" in line for line in r.lines)


def test_a_state_directory_that_cannot_exist_only_adds_a_note(psbl, tmp_path):
    (tmp_path / "file").write_text("")
    good = dnsbl(psbl.nameserver, tmp_path / "ok")
    r = dnsbl(psbl.nameserver, tmp_path / "file" / "state", "--only-changes")
    assert verdict(r) == verdict(good)  # and --only-changes prints: it cannot tell
    assert any("not updated" in line for line in r.lines)


def test_no_state_directory_at_all_only_adds_a_note(psbl, tmp_path):
    """As under a monitoring daemon: no HOME, no XDG_STATE_HOME, /var/lib/mailrep not the
    user's (the test runs the plugin as nobody, who cannot create it)."""
    command, user_env = as_user_command("nobody", "check_dnsbl")
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_STATE_HOME")}
    argv = [*command, "-n", psbl.nameserver, "--allow-nonglobal", "-z", ZONE]
    proc = subprocess.run(
        [*argv, "-H", LISTED_IP],
        capture_output=True,
        env={**env, **user_env},
        timeout=30,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 2
    assert "state: not kept: no state directory" in out


# --- check_bounce_rate: since when a cited address bounces --------------------------------------


def bounces(box: Path, state_dir: Path, *args: str):
    return run_plugin("check_bounce_rate", "--dir", str(box), "--state-dir", str(state_dir), *args)


def test_bounce_rate_remembers_since_when_an_address_bounces(tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    (box / "1.eml").write_bytes(mk.blocklisted(ip="192.0.2.11"))
    first = bounces(box, tmp_path / "s")
    assert f"bounces cite {ZONE} for 192.0.2.11 since " in first.stdout
    (path,) = (tmp_path / "s").glob("check_bounce_rate-*.json")
    doc = json.loads(path.read_text())
    doc["entries"][0]["since"] -= 5 * 3600
    path.write_text(json.dumps(doc))
    again = bounces(box, tmp_path / "s", "--format", "json")
    assert again.json["citations"][0]["bouncing_since"]
    assert "(5 hours)" in bounces(box, tmp_path / "s").stdout
    (box / "1.eml").unlink()
    (box / "2.eml").write_bytes(mk.unknown_user())
    over = bounces(box, tmp_path / "s")
    assert f"bounces no longer cite {ZONE} for 192.0.2.11" in over.stdout


def test_relay_chain_remembers_a_listed_hop(psbl, tmp_path):
    fixture = Path(__file__).resolve().parents[1] / "support/fixtures/relay_chain"
    args = ["-n", psbl.nameserver, "-z", ZONE, "--file", str(fixture / "provider_relay.eml")]
    args += ["--state-dir", str(tmp_path)]
    run_plugin("check_relay_chain", *args)
    r = run_plugin("check_relay_chain", *args, "--format", "json")
    listed = [b for h in r.json["hops"] for b in h["blocklists"] if b["status"] == "listed"]
    assert listed and all(b["listed_since"] for b in listed)
    assert r.json["history"]["changed"] is False


def test_the_state_file_is_small_and_private(psbl, tmp_path):
    dnsbl(psbl.nameserver, tmp_path)
    path = state_file(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.stat().st_size < 1024
    assert time.time() - json.loads(path.read_text())["last_run"]["time"] < 60
