"""contrib/nagios against the real Nagios 4 (Debian package nagios4-core).

``nagios4 -v`` runs the pre-flight check a reload would: every object resolved, every
service's command defined. The main file names our files with ``cfg_file=`` lines, plus the
few objects every Nagios configuration has (a timeperiod, a contact, and the sample
configuration's generic-service and linux-server templates the examples use).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "nagios"
COMMANDS = CONTRIB / "mailrep-commands.cfg"
SERVICES = CONTRIB / "mailrep-services.cfg"
HOSTS = CONTRIB / "example-hosts.cfg"

#: What a site's own configuration provides (Nagios' sample templates.cfg, trimmed).
SITE_OBJECTS = """
define timeperiod {
    timeperiod_name  24x7
    alias            Always
    monday           00:00-24:00
}
define command {
    command_name  notify-nobody
    command_line  /bin/true
}
define command {
    command_name  check-host-alive
    command_line  /bin/true
}
define contact {
    contact_name                   admin
    service_notification_period    24x7
    host_notification_period       24x7
    service_notification_options   n
    host_notification_options      n
    service_notification_commands  notify-nobody
    host_notification_commands     notify-nobody
}
define contactgroup {
    contactgroup_name  admins
    alias              Admins
    members            admin
}
define host {
    name                   linux-server
    check_command          check-host-alive
    max_check_attempts     3
    check_period           24x7
    notification_period    24x7
    notification_interval  60
    contact_groups         admins
    register               0
}
define service {
    name                   generic-service
    max_check_attempts     3
    check_interval         10
    retry_interval         2
    check_period           24x7
    notification_period    24x7
    notification_interval  60
    contact_groups         admins
    register               0
}
"""


@dataclass
class Preflight:
    code: int
    output: str

    def checked(self, what: str) -> int:
        m = re.search(rf"Checked (\d+) {what}\.", self.output)
        assert m, self.output
        return int(m.group(1))


@pytest.fixture
def workdir() -> Iterator[Path]:
    """Nagios reads object files as the nagios user, who cannot enter pytest's private
    workdir: a directory of its own under /tmp instead."""
    path = Path(tempfile.mkdtemp(prefix="mailrep-nagios-"))
    shutil.chown(path, "nagios", "nagios")
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="session")
def nagios4() -> str:
    path = shutil.which("nagios4")
    if path is None:  # a missing server is a failure, never a skip
        pytest.fail("nagios4 not found: install the Debian package nagios4-core")
    return path


def preflight(nagios4: str, workdir: Path, *files: Path) -> Preflight:
    """``nagios4 -v`` on a main file naming the site objects and ``files``."""
    site = workdir / "site.cfg"
    site.write_text(SITE_OBJECTS)
    resource = workdir / "resource.cfg"
    resource.write_text("$USER1$=/usr/local/bin\n")
    main = workdir / "nagios.cfg"
    lines = [f"cfg_file={f}" for f in (site, *files)]
    lines += [f"resource_file={resource}", "illegal_macro_output_chars=`~$&|'\"<>"]
    main.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(
        [nagios4, "-v", str(main)], capture_output=True, text=True, timeout=60, check=False
    )
    return Preflight(proc.returncode, proc.stdout + proc.stderr)


def defined(path: Path, kind: str) -> int:
    """How many registered objects of a kind a file defines."""
    blocks = re.findall(rf"define\s+{kind}\s*\{{(.*?)\}}", path.read_text(), re.S)
    return sum(1 for b in blocks if not re.search(r"^\s*register\s+0\s*$", b, re.M))


def test_commands_services_and_example_host_pass_the_preflight_check(nagios4, workdir):
    result = preflight(nagios4, workdir, COMMANDS, HOSTS, SERVICES)
    assert result.code == 0, result.output
    assert "Total Warnings: 0" in result.output
    assert "Total Errors:   0" in result.output


def test_every_example_service_and_command_is_loaded(nagios4, workdir):
    result = preflight(nagios4, workdir, COMMANDS, HOSTS, SERVICES)
    assert result.checked("services") == defined(SERVICES, "service")
    assert result.checked("commands") == defined(COMMANDS, "command") + 2  # + the site's two


def test_the_commands_alone_pass_the_preflight_check(nagios4, workdir):
    """A site that writes its own services includes only mailrep-commands.cfg."""
    host = workdir / "host.cfg"
    host.write_text(
        "define host {\n use linux-server\n host_name h\n address 192.0.2.1\n}\n"
        "define service {\n use generic-service\n host_name h\n service_description d\n"
        " check_command check_dnsbl!-n 127.0.0.1\n}\n"
    )
    result = preflight(nagios4, workdir, COMMANDS, host)
    assert result.code == 0, result.output


def test_a_service_whose_command_is_missing_fails_the_preflight_check(nagios4, workdir):
    """Proves the check reaches the services: rename the command one of them uses."""
    broken = workdir / "mailrep-commands.cfg"
    text = COMMANDS.read_text()
    assert "command_name    check_bounce_rate\n" in text
    broken.write_text(text.replace("command_name    check_bounce_rate\n", "command_name    x\n"))
    result = preflight(nagios4, workdir, broken, HOSTS, SERVICES)
    assert result.code != 0
    assert "check_bounce_rate" in result.output


def test_every_command_runs_a_mailrep_plugin_from_user1():
    lines = re.findall(r"command_line\s+(\S+)", COMMANDS.read_text())
    assert lines
    assert {line.rsplit("/", 1)[1] for line in lines} == {
        "check_dnsbl",
        "check_relay_chain",
        "check_bounce_rate",
    }
    assert all(line.startswith("$USER1$/") for line in lines)


def test_no_example_puts_a_password_on_the_command_line():
    text = SERVICES.read_text()
    assert re.findall(r"--\S*password\S*", text) == [
        "--smtp-password-file",
        "--password-file",
        "--password-file",
    ]
    assert "--dqs-key" not in text
