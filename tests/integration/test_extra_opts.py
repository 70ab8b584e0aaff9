"""--extra-opts as Nagios runs it: the installed plugins, their options from an ini file,
against the real rbldnsd and Dovecot.

Site defaults (nameserver, zones, a password file) live in one file; the command lines keep
only what differs per check. What the file holds never reaches argv or the output.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.fixtures import make_bounces as mk
from tests.support.lab import LISTED_IP
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import ip4set

CLEAN_IP = "192.0.2.1"


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_dnsbl_takes_nameserver_zones_and_flags_from_the_plugins_section(psbl, tmp_path):
    ini = write(
        tmp_path / "plugins.ini",
        f"[check_dnsbl]\nnameserver = {psbl.nameserver}\nzone = psbl.surriel.com\n"
        "allow-nonglobal\n",
    )
    r = run_plugin("check_dnsbl", f"--extra-opts=@{ini}", "-H", LISTED_IP)
    assert r.code == 2 and "psbl.surriel.com" in r.status


def test_the_default_file_is_found_through_mp_config_file(psbl, tmp_path):
    ini = write(
        tmp_path / "monitoring-plugins.ini",
        f"[check_dnsbl]\nnameserver = {psbl.nameserver}\nzone = psbl.surriel.com\n"
        "allow-nonglobal =\n",
    )
    r = run_plugin("check_dnsbl", "--extra-opts", "-H", CLEAN_IP, env={"MP_CONFIG_FILE": ini})
    assert r.code == 0, r.stdout


def test_the_default_file_is_found_through_nagios_config_path(psbl, tmp_path):
    write(
        tmp_path / "nagios-plugins.ini",
        f"[mail]\nnameserver = {psbl.nameserver}\nzone = psbl.surriel.com\nallow-nonglobal\n",
    )
    env = {"NAGIOS_CONFIG_PATH": f"/nonexistent:{tmp_path}", "MP_CONFIG_FILE": ""}
    r = run_plugin("check_dnsbl", "--extra-opts=mail", "-H", LISTED_IP, env=env)
    assert r.code == 2, r.stdout


def test_the_command_line_overrides_the_file(rbldnsd, tmp_path):
    server = rbldnsd([ip4set("psbl.surriel.com", LISTED_IP), ip4set("clean.example.test")])
    ini = write(
        tmp_path / "plugins.ini",
        f"[check_dnsbl]\nnameserver = {server.nameserver}\nzone = psbl.surriel.com\n"
        "allow-nonglobal\n",
    )
    r = run_plugin(
        "check_dnsbl", f"--extra-opts=@{ini}", "-H", LISTED_IP, "-z", "clean.example.test"
    )
    assert r.code == 0, r.stdout


def test_a_missing_section_is_unknown_and_names_section_and_file(tmp_path):
    ini = write(tmp_path / "plugins.ini", "[check_relay_chain]\nverbose\n")
    r = run_plugin("check_dnsbl", f"--extra-opts=@{ini}", "-H", CLEAN_IP)
    assert r.code == 3
    assert r.status == f"DNSBL UNKNOWN - --extra-opts: no section [check_dnsbl] in {ini}"


def test_a_missing_file_is_unknown_and_names_it(tmp_path):
    r = run_plugin("check_bounce_rate", f"--extra-opts=bounces@{tmp_path}/none.ini")
    assert r.code == 3 and f"cannot read {tmp_path}/none.ini" in r.status


def test_a_password_key_is_unknown_and_the_password_is_never_shown(tmp_path):
    ini = write(tmp_path / "plugins.ini", "[check_bounce_rate]\npassword = alice-password\n")
    r = run_plugin("check_bounce_rate", f"--extra-opts=@{ini}", "--imap-host", "127.0.0.1")
    assert r.code == 3 and "password-file" in r.status
    assert "alice-password" not in r.stdout + r.stderr


def test_bounce_rate_reads_imap_settings_and_the_password_file_from_the_file(dovecot, tmp_path):
    server = dovecot({"alice": "alice-password"})
    server.deliver("alice", mk.unknown_user())
    server.sync("alice")
    pw = tmp_path / "alice.pw"
    pw.write_text("alice-password\n")
    pw.chmod(0o600)
    ini = write(
        tmp_path / "plugins.ini",
        "[bounces]\nimap-host = 127.0.0.1\n"
        f"imap-port = {server.imaps_port}\nimap-user = alice\nimap-tls\n"
        f"ca-file = {server.ca_file}\npassword-file = {pw}\nsent = 10\n",
    )
    r = run_plugin("check_bounce_rate", f"--extra-opts=bounces@{ini}", "--format", "json")
    assert r.json["exit_code"] == r.code and r.code in (1, 2)
    assert len(r.json["bounces"]) == 1
    assert "alice-password" not in r.stdout + r.stderr


def test_the_dqs_key_comes_from_a_key_file_named_in_the_file(rbldnsd, tmp_path):
    key = "abcdefghijklmnopqrstuvwxyz"
    server = rbldnsd([ip4set(f"{key}.zen.dq.spamhaus.net", LISTED_IP)])
    key_file = tmp_path / "dqs.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    ini = write(
        tmp_path / "plugins.ini",
        f"[check_dnsbl]\nnameserver = {server.nameserver}\nzone = zen.spamhaus.org\n"
        f"dqs-key-file = {key_file}\nallow-nonglobal\n",
    )
    r = run_plugin("check_dnsbl", f"--extra-opts=@{ini}", "-H", LISTED_IP, "-vvv")
    assert r.code == 2, r.stdout
    assert key not in r.stdout + r.stderr


def test_relay_chain_reads_its_options_from_the_file_too(psbl, tmp_path):
    fixture = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "relay_chain"
    ini = write(
        tmp_path / "plugins.ini",
        f"[check_relay_chain]\nnameserver = {psbl.nameserver}\nzone = psbl.surriel.com\n"
        f"file = {fixture / 'provider_relay.eml'}\n",
    )
    r = run_plugin("check_relay_chain", f"--extra-opts=@{ini}")
    assert r.code == 2 and "psbl.surriel.com" in r.status


def test_an_output_format_from_the_file_is_the_one_printed(tmp_path):
    box = tmp_path / "bounces"
    box.mkdir()
    (box / "b.eml").write_bytes(mk.unknown_user())
    ini = write(tmp_path / "plugins.ini", f"[check_bounce_rate]\ndir = {box}\nformat = json\n")
    r = run_plugin("check_bounce_rate", f"--extra-opts=@{ini}", "--since", "all")
    assert r.json["exit_code"] == r.code and len(r.json["bounces"]) == 1
