"""contrib/nagios against the real Nagios 4 (Debian package nagios4-core).

``nagios4 -v`` runs the pre-flight check a reload would: every object resolved, every
service's command defined. The main file names our files with ``cfg_file=`` lines, plus the
few objects every Nagios configuration has (a timeperiod, a contact, and the sample
configuration's generic-service and linux-server templates the examples use). Then the
real daemon runs the example services against a stand-in that records its argv: what
Nagios really passes, and that the plugins' own parsers accept it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mailrep.dnsbl.catalogue import load_default

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


def readable_copies(directory: Path, *files: Path) -> list[Path]:
    """Copies of ``files`` in ``directory``, which the nagios user can read.

    Nagios reads object files as the nagios user, and a checkout in a private directory
    (root's home is mode 0700) is out of its reach: it is given copies, never the
    checkout's own files. A file already in ``directory`` is used as it is."""
    out = []
    for path in files:
        if path.parent == directory:
            out.append(path)
            continue
        copy = directory / path.name
        shutil.copyfile(path, copy)
        copy.chmod(0o644)
        out.append(copy)
    return out


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
    lines = [f"cfg_file={f}" for f in (site, *readable_copies(workdir, *files))]
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
    commands = " ".join(example_services().values())
    assert re.findall(r"--\S*password\S*", commands) == ["--smtp-password-file", "--password-file"]
    assert "--dqs-key " not in commands and "--dqs-key=" not in commands


def service_blocks() -> list[dict[str, str]]:
    return [
        dict(re.findall(r"^\s*(\w+)\s+(.*?)\s*$", block, re.M))
        for block in re.findall(r"define\s+service\s*\{(.*?)\}", SERVICES.read_text(), re.S)
    ]


def inherited(fields: dict[str, str], key: str) -> str:
    """A service attribute, looked up through its ``use`` templates as Nagios does."""
    templates = {b["name"]: b for b in service_blocks() if "name" in b}
    while key not in fields and fields.get("use") in templates:
        fields = templates[fields["use"]]
    return fields.get(key, "")


def registered() -> list[dict[str, str]]:
    return [b for b in service_blocks() if b.get("register") != "0"]


def test_every_example_service_links_to_its_checks_section_of_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.rst").read_text()
    for fields in registered():
        plugin = (
            fields["check_command"].split("!")[0].removesuffix("_address").removesuffix("_domain")
        )
        assert re.search(rf"^{plugin}\n=+$", readme, re.M), plugin
        anchor = plugin.replace("_", "-")
        assert inherited(fields, "notes_url") == (
            f"file:///opt/mailrep/share/doc/mailrep/README.rst#{anchor}"
        ), fields["service_description"]


def test_a_dnsbl_service_links_to_the_removal_page_of_its_first_list_that_has_one():
    catalogue = load_default()
    dnsbl = [f for f in registered() if f["check_command"].startswith("check_dnsbl")]
    assert len(dnsbl) == 3
    for fields in dnsbl:
        command, *args = fields["check_command"].split("!")
        words = shlex.split(args[-1])
        zones = [w for i, w in enumerate(words) if i and words[i - 1] == "-z"]
        zones = zones or [z.name for z in catalogue.defaults()]
        target = args[0] if len(args) > 1 else "$HOSTADDRESS$"
        domain = command == "check_dnsbl_domain"
        page = next(
            catalogue.get(z).lookup_url
            for z in zones
            if catalogue.get(z).lookup_url and catalogue.get(z).is_domain_list == domain
        )
        assert fields["action_url"] == page.replace("{address}", target), fields


# --- the command lines Nagios really runs ---------------------------------------------------

#: A stand-in for the three plugins: records its argv, one word a line, under the service's
#: name (Nagios exports it as NAGIOS_SERVICEDESC with enable_environment_macros=1) and
#: reports OK. A shell script: the nagios user may not reach the test's own Python.
RECORDER = """#!/bin/sh
printf '%s\\n' "$0" "$@" > "{records}/$NAGIOS_SERVICEDESC.args"
echo "RECORDED OK"
"""

#: Seconds are the unit (interval_length=1), so the examples' intervals are short; the
#: daemon's files all live in the work directory.
RUNTIME_SETTINGS = """
interval_length=1
max_service_check_spread=1
service_inter_check_delay_method=n
execute_host_checks=0
enable_notifications=0
enable_environment_macros=1
retain_state_information=0
check_external_commands=0
use_syslog=0
nagios_user=nagios
nagios_group=nagios
log_file={d}/nagios.log
status_file={d}/status.dat
lock_file={d}/nagios.lock
temp_file={d}/nagios.tmp
temp_path={d}
check_result_path={d}/spool
state_retention_file={d}/retention.dat
query_socket={d}/nagios.qh
"""

ALL_WEEK = "\n".join(
    f"    {day}  00:00-24:00"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


def example_services() -> dict[str, str]:
    """service_description -> check_command of the registered example services."""
    found = {}
    for block in re.findall(r"define\s+service\s*\{(.*?)\}", SERVICES.read_text(), re.S):
        fields = dict(re.findall(r"^\s*(\w+)\s+(.*?)\s*$", block, re.M))
        if fields.get("register") != "0":
            found[fields["service_description"]] = fields["check_command"]
    return found


def _our_workers(qh: Path) -> list[int]:
    """Nagios' worker processes of this run: their argv names this run's query socket."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if str(qh).encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def nagios_ran(nagios4) -> Iterator[dict[str, list[str]]]:
    """Run the real Nagios on the examples until every example service has run once."""
    root = Path(tempfile.mkdtemp(prefix="mailrep-nagios-run-"))
    try:
        records, bin_dir = root / "records", root / "bin"
        for d in (records, bin_dir, root / "spool"):
            d.mkdir()
        recorder = bin_dir / "recorder"
        recorder.write_text(RECORDER.format(records=records))
        recorder.chmod(0o755)
        for plugin in ("check_dnsbl", "check_relay_chain", "check_bounce_rate"):
            (bin_dir / plugin).symlink_to(recorder)
        site = SITE_OBJECTS.replace("    monday           00:00-24:00", ALL_WEEK)
        (root / "site.cfg").write_text(site)
        (root / "resource.cfg").write_text(f"$USER1$={bin_dir}\n")
        objects = readable_copies(root, COMMANDS, HOSTS, SERVICES)
        lines = [f"cfg_file={f}" for f in (root / "site.cfg", *objects)]
        lines += [f"resource_file={root / 'resource.cfg'}", "illegal_macro_output_chars=`~$&|'\"<>"]
        (root / "nagios.cfg").write_text("\n".join(lines) + RUNTIME_SETTINGS.format(d=root))
        nagios = pwd.getpwnam("nagios")
        for path in (root, *root.rglob("*")):
            os.lchown(path, nagios.pw_uid, nagios.pw_gid)
        wanted = set(example_services())
        log = (root / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [nagios4, str(root / "nagios.cfg")], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and daemon.poll() is None:
                if {p.stem for p in records.glob("*.args")} >= wanted:
                    break
                time.sleep(0.2)
            got = {p.stem: p.read_text().splitlines() for p in records.glob("*.args")}
        finally:
            daemon.terminate()  # Nagios stops its workers on SIGTERM
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            for pid in _our_workers(root / "nagios.qh"):  # should SIGTERM not have reached them
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            log.close()
        missing = wanted - got.keys()
        assert not missing, f"never ran: {missing}\n{(root / 'nagios.log').read_text()}"
        yield got
    finally:
        shutil.rmtree(root)


def test_nagios_runs_each_example_service_through_user1(nagios_ran):
    assert {Path(argv[0]).parent.name for argv in nagios_ran.values()} == {"bin"}
    assert {Path(argv[0]).name for argv in nagios_ran.values()} == {
        "check_dnsbl",
        "check_relay_chain",
        "check_bounce_rate",
    }


def test_check_dnsbl_puts_the_hosts_address_first(nagios_ran):
    assert nagios_ran["DNSBL own address"][1:] == ["-H", "198.51.100.25", "-n", "127.0.0.1"]


def test_check_dnsbl_address_and_domain_take_their_target_as_the_first_argument(nagios_ran):
    assert nagios_ran["DNSBL provider relay"][1:4] == ["-H", "203.0.113.7", "-n"]
    assert nagios_ran["DNSBL sending domain"][1:] == ["-d", "example.com", "-n", "127.0.0.1"]


def test_the_last_argument_reaches_the_plugin_word_for_word(nagios_ran):
    for name, check_command in example_services().items():
        assert nagios_ran[name][-len(shlex.split(check_command.split("!")[-1])) :] == shlex.split(
            check_command.split("!")[-1]
        ), name


@pytest.mark.parametrize("service", sorted(example_services()))
def test_every_example_command_line_is_accepted_by_the_plugins_parser(nagios_ran, service):
    argv = nagios_ran[service]
    module = importlib.import_module(Path(argv[0]).name)
    module.build_parser().parse_args(argv[1:])  # a usage error raises
