"""contrib/icinga against the real Icinga 2 (Debian package icinga2-bin).

``icinga2 daemon -C`` loads the ITL, the plugin commands and our files exactly as a master
would, validates every object (the example hosts' services included) and dumps the objects
it built, so the tests also read what Icinga made of the templates and imports. Run as root
without systemd, with a private cache directory; nothing under /etc or /var is touched.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mailrep.dnsbl.catalogue import load_default
from mailrep.mail.credentials import load_password
from mailrep.plugin.mailbox_options import IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV

from tests.unit.plugin.test_contrib_options import (
    PLUGINS,
    read_check_commands,
    resolved_arguments,
    resolved_env,
)

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "icinga"
COMMANDS = CONTRIB / "mailrep.conf"
ZONES = CONTRIB / "mailrep-zones.conf"
SERVICES = CONTRIB / "mailrep-services.conf"
HOSTS = CONTRIB / "example-hosts.conf"
README = Path(__file__).resolve().parents[2] / "README.rst"


@dataclass
class Validation:
    code: int
    output: str
    objects: list[dict[str, Any]]

    def named(self, type_: str, name: str) -> dict[str, Any]:
        found = self.of_type(type_)
        assert name in found, f"no {type_} {name!r}"
        return found[name]

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        """Objects by full name (``host!service`` for services)."""
        return {
            o["properties"]["__name"]: o["properties"] for o in self.objects if o["type"] == type_
        }


def read_netstrings(data: str) -> list[dict[str, Any]]:
    """The object dump (icinga2.debug) is a sequence of ``<length>:<json>,`` netstrings."""
    objects, i = [], 0
    while i < len(data):
        colon = data.index(":", i)
        length = int(data[i:colon])
        objects.append(json.loads(data[colon + 1 : colon + 1 + length]))
        i = colon + 1 + length + 1
    return objects


@pytest.fixture(scope="session")
def icinga2() -> str:
    path = shutil.which("icinga2")
    if path is None:  # a missing server is a failure, never a skip
        pytest.fail("icinga2 not found: install the Debian package icinga2-bin")
    return path


def validate(
    icinga2: str,
    workdir: Path,
    *files: Path,
    itl: str = "<itl>\n<plugins>",
    defines: tuple[str, ...] = (),
) -> Validation:
    """Run ``icinga2 daemon -C`` on a main file that includes the ITL and ``files``."""
    cache = workdir / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    includes = [f"include {lib}" for lib in itl.split()]
    includes += [f'include "{f}"' for f in files]
    main = workdir / "validate.conf"
    main.write_text("\n".join(includes) + "\n")
    proc = subprocess.run(
        [
            icinga2,
            "daemon",
            "-C",
            "-c",
            str(main),
            "-DPluginDir=/usr/lib/nagios/plugins",
            "-DPluginContribDir=/usr/lib/nagios/plugins",
            "-DManubulonPluginDir=/usr/lib/nagios/plugins",
            "-DConfiguration.RunAsUser=root",
            "-DConfiguration.RunAsGroup=root",
            f"-DConfiguration.CacheDir={cache}",
            *(f"-D{d}" for d in defines),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    dump = cache / "icinga2.debug"
    objects = read_netstrings(dump.read_text()) if proc.returncode == 0 else []
    return Validation(proc.returncode, proc.stdout + proc.stderr, objects)


@pytest.fixture(scope="module")
def examples(icinga2, tmp_path_factory) -> Validation:
    """Everything contrib/icinga has, on top of the ITL including its contrib commands (so a
    name collision with any ITL command is an error here)."""
    return validate(
        icinga2,
        tmp_path_factory.mktemp("icinga"),
        COMMANDS,
        ZONES,
        SERVICES,
        HOSTS,
        itl="<itl> <plugins> <plugins-contrib>",
    )


def test_commands_rules_and_example_hosts_pass_icinga_validation(examples):
    assert examples.code == 0, examples.output
    assert "Finished validating the configuration file(s)." in examples.output


def test_the_commands_alone_validate_with_itl_and_plugins(icinga2, tmp_path):
    result = validate(icinga2, tmp_path, COMMANDS)
    assert result.code == 0, result.output


def test_the_plugin_dir_defaults_to_the_readmes_virtualenv(icinga2, tmp_path):
    result = validate(icinga2, tmp_path, COMMANDS)
    assert result.named("CheckCommand", "dnsbl")["vars"]["mailrep_plugin_dir"] == "/opt/mailrep/bin"


def test_a_plugin_dir_constant_defined_first_wins_so_the_file_can_be_synced(icinga2, tmp_path):
    """A node's constants.conf (loaded before zones.d) or -D sets MailrepPluginDir."""
    constants = tmp_path / "constants.conf"
    constants.write_text('const MailrepPluginDir = "/usr/local/bin"\n')
    results = [
        validate(icinga2, tmp_path / "file", constants, COMMANDS),
        validate(icinga2, tmp_path / "define", COMMANDS, defines=("MailrepPluginDir=/opt/x",)),
    ]
    assert [r.code for r in results] == [0, 0], [r.output for r in results]
    dirs = [r.named("CheckCommand", "bounce_rate")["vars"]["mailrep_plugin_dir"] for r in results]
    assert dirs == ["/usr/local/bin", "/opt/x"]


def test_the_commands_need_the_itl_plugin_templates(icinga2, tmp_path):
    """dnsbl imports the ITL's ipv4-or-ipv6, so 'include <plugins>' comes first (README)."""
    result = validate(icinga2, tmp_path, COMMANDS, itl="<itl>")
    assert result.code != 0
    assert "ipv4-or-ipv6" in result.output


def test_a_service_whose_command_is_missing_fails_validation(icinga2, tmp_path):
    """Proves the validation reaches the example services: rename the command they use."""
    broken = tmp_path / "mailrep.conf"
    text = COMMANDS.read_text()
    assert 'object CheckCommand "bounce_rate" {' in text
    broken.write_text(
        text.replace('object CheckCommand "bounce_rate" {', 'object CheckCommand "x" {')
    )
    result = validate(icinga2, tmp_path, broken, ZONES, SERVICES, HOSTS)
    assert result.code != 0
    assert "bounce_rate" in result.output


def test_a_command_named_like_an_itl_command_fails_validation(icinga2, tmp_path):
    """Why the names dnsbl/relay_chain/bounce_rate matter: a collision is a hard error."""
    clash = tmp_path / "mailrep.conf"
    clash.write_text(COMMANDS.read_text().replace('CheckCommand "dnsbl"', 'CheckCommand "rbl"'))
    result = validate(icinga2, tmp_path, clash, itl="<itl> <plugins> <plugins-contrib>")
    assert result.code != 0
    assert "rbl" in result.output


@pytest.mark.parametrize("command", sorted(PLUGINS))
def test_icinga_builds_the_arguments_and_environment_the_option_test_reads(examples, command):
    """tests/unit/plugin/test_contrib_options.py reads the file; here Icinga agrees with it."""
    defs = read_check_commands(COMMANDS.read_text())
    built = examples.named("CheckCommand", command)
    assert sorted(built["arguments"]) == sorted(resolved_arguments(defs, command))
    assert built["env"] == resolved_env(defs, command)
    assert built["command"] == [f"$mailrep_plugin_dir$/check_{command}"]


def test_dnsbl_defaults_to_the_hosts_check_address(examples):
    built = examples.named("CheckCommand", "dnsbl")
    assert built["vars"]["dnsbl_address"] == "$check_address$"
    assert "ipv4-or-ipv6" in built["templates"]


def test_rules_make_one_service_per_outbound_address_relay_path_and_bounce_mailbox(examples):
    services = {
        name: (props["check_command"], props.get("command_endpoint", ""))
        for name, props in examples.of_type("Service").items()
    }
    satellite = "satellite-mail.example.com"
    assert services == {
        "mx-out.example.com!dnsbl own address": ("dnsbl", satellite),
        "mx-out.example.com!dnsbl provider relay": ("dnsbl", satellite),
        "mx-out.example.com!dnsbl sending domain": ("dnsbl", satellite),
        "mx-out.example.com!relay chain via provider": ("relay_chain", satellite),
        "mx-out.example.com!bounce rate bounces": ("bounce_rate", satellite),
        "mail2.example.com!dnsbl IPv6": ("dnsbl", "mail2.example.com"),
        "mail2.example.com!bounce rate postmaster": ("bounce_rate", "mail2.example.com"),
        "mail2.example.com!bounce rate mail log": ("bounce_rate", "mail2.example.com"),
    }


def test_a_rule_entry_becomes_the_services_variables(examples):
    relay = examples.named("Service", "mx-out.example.com!dnsbl provider relay")
    assert relay["vars"]["dnsbl_address"] == "203.0.113.7"
    assert "psbl.surriel.com" in relay["vars"]["mailrep_zones"]


# --- what the apply rules make of an entry --------------------------------------------------


def services(examples: Validation) -> dict[str, dict[str, Any]]:
    return examples.of_type("Service")


def test_an_entrys_schedule_keys_set_the_service_and_stay_out_of_its_variables(examples):
    relay = examples.named("Service", "mx-out.example.com!dnsbl provider relay")
    assert (relay["check_interval"], relay["retry_interval"]) == (300, 60)
    own = examples.named("Service", "mx-out.example.com!dnsbl own address")
    assert (own["check_interval"], own["retry_interval"]) == (900, 300)  # the template's
    keys = {"check_interval", "retry_interval", "check_timeout"}
    assert not [n for n, s in services(examples).items() if keys & set(s["vars"] or {})]


def test_an_entrys_check_timeout_is_the_services(examples):
    postmaster = examples.named("Service", "mail2.example.com!bounce rate postmaster")
    assert (postmaster["check_interval"], postmaster["check_timeout"]) == (3600, 300)


def test_a_longer_minus_t_raises_check_timeout_so_the_plugin_reports_first(examples):
    probe = examples.named("Service", "mx-out.example.com!relay chain via provider")
    assert probe["vars"]["mailrep_timeout"] == 150 and probe["check_timeout"] == 160


def test_without_either_the_commands_own_timeout_holds(examples):
    assert (
        examples.named("Service", "mx-out.example.com!dnsbl own address")["check_timeout"] is None
    )


def readme_anchor(title: str) -> str:
    """The id docutils (and the forges) give a section heading."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_every_service_links_to_its_checks_section_of_the_readme(examples):
    headings = set(re.findall(r"^(check_\w+)\n=+$", README.read_text(), re.M))
    base = "file:///opt/mailrep/share/doc/mailrep/README.rst#"
    for name, service in services(examples).items():
        plugin = f"check_{service['check_command']}"
        assert plugin in headings
        assert service["notes_url"] == base + readme_anchor(plugin), name


def expected_removal_page(service: dict[str, Any], host: dict[str, Any]) -> str:
    """From the catalogue itself: the first list checked that has a page, address filled in."""
    catalogue = load_default()
    zones = service["vars"].get("mailrep_zones") or [z.name for z in catalogue.defaults()]
    address = service["vars"].get("dnsbl_address", host["address"])
    if service["vars"].get("check_ipv6"):
        address = host["address6"]
    domain = address == []
    if domain:
        address = service["vars"]["dnsbl_domain"][0]
    for name in zones:
        zone = catalogue.get(name)
        if zone.lookup_url and zone.is_domain_list == domain:
            return zone.lookup_url.replace("{address}", address)
    return ""


def test_a_dnsbl_service_links_to_the_removal_page_of_its_first_list_that_has_one(examples):
    hosts = examples.of_type("Host")
    dnsbl = {n: s for n, s in services(examples).items() if s["check_command"] == "dnsbl"}
    assert len(dnsbl) == 4
    for name, service in dnsbl.items():
        page = expected_removal_page(service, hosts[service["host_name"]])
        assert page and service["action_url"] == page, name
    relay = examples.named("Service", "mx-out.example.com!dnsbl provider relay")
    assert relay["action_url"] == "https://psbl.org/listing?ip=203.0.113.7"


def test_relay_and_bounce_services_have_no_single_removal_page(examples):
    others = [s for s in services(examples).values() if s["check_command"] != "dnsbl"]
    assert others and all(not s.get("action_url") for s in others)


def test_a_readme_url_constant_defined_first_wins(icinga2, tmp_path):
    constants = tmp_path / "constants.conf"
    constants.write_text('const MailrepReadmeUrl = "https://git.example.com/mailrep/README.rst"\n')
    result = validate(icinga2, tmp_path, constants, COMMANDS, ZONES, SERVICES, HOSTS)
    assert result.code == 0, result.output
    own = result.named("Service", "mx-out.example.com!dnsbl own address")
    assert own["notes_url"] == "https://git.example.com/mailrep/README.rst#check-dnsbl"


def test_the_rules_need_the_generated_zones_file(icinga2, tmp_path):
    result = validate(icinga2, tmp_path, COMMANDS, SERVICES, HOSTS)
    assert result.code != 0
    assert "MailrepDefaultZones" in result.output


def test_no_checkcommand_offers_an_output_format_icinga_cannot_parse(examples):
    for command in PLUGINS:
        assert "--format" not in examples.named("CheckCommand", command)["arguments"]


# --- the command lines Icinga really runs ---------------------------------------------------

#: A stand-in for the three plugins: records its argv and MAILREP_* environment, keyed by the
#: -t value each scenario sets, and reports OK.
RECORDER = """#!{python}
import json, os, sys
argv = sys.argv
key = argv[argv.index("-t") + 1] if "-t" in argv else "none"
env = {{k: v for k, v in os.environ.items() if k.startswith("MAILREP_")}}
with open(os.path.join({records!r}, key + ".json"), "w") as out:
    json.dump({{"argv": argv, "env": env}}, out)
print("RECORDED OK")
"""

#: Each service sets mailrep_timeout to a distinct value: the recorder's file name.
RUNTIME_CONF = """
include <itl>
include <plugins>
include "{commands}"

object CheckerComponent "checker" {{ }}

object Host "mx" {{
	address = "192.0.2.7"
	address6 = "2001:db8::7"
	check_command = "dummy"
	enable_active_checks = false
	vars.mailrep_plugin_dir = "{bin}"
}}

template Service "fast" {{
	host_name = "mx"
	check_interval = 1s
	retry_interval = 1s
}}

object Service "dnsbl default" {{
	import "fast"
	check_command = "dnsbl"
	vars.mailrep_timeout = 11
	vars.mailrep_verbose = 2
	vars.mailrep_zones = [ "a.example", "b.example" ]
	vars.mailrep_dqs_key = "dqs-secret"
}}
object Service "dnsbl domain only" {{
	import "fast"
	check_command = "dnsbl"
	vars.mailrep_timeout = 12
	vars.dnsbl_address = []
	vars.dnsbl_domain = [ "example.com" ]
}}
object Service "dnsbl ipv6" {{
	import "fast"
	check_command = "dnsbl"
	vars.mailrep_timeout = 13
	vars.check_ipv6 = true
}}
object Service "bounce rate" {{
	import "fast"
	check_command = "bounce_rate"
	vars.mailrep_timeout = 14
	vars.bounce_rate_imap_host = "imap.example.com"
	vars.bounce_rate_imap_password = "imap-secret"
	vars.bounce_rate_imap_security = "starttls"
	vars.bounce_rate_verify = true
	vars.bounce_rate_insecure = false
}}
object Service "relay chain bare" {{
	import "fast"
	check_command = "relay_chain"
	vars.mailrep_timeout = 15
}}
"""

SCENARIOS = {"11", "12", "13", "14", "15"}


@pytest.fixture(scope="module")
def ran(icinga2, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Run the real daemon (root, no systemd, private directories) until every scenario's
    check has run once; returns the recordings by scenario."""
    root = tmp_path_factory.mktemp("icinga-run")
    records, bin_dir = root / "records", root / "bin"
    records.mkdir()
    bin_dir.mkdir()
    recorder = bin_dir / "recorder"
    recorder.write_text(RECORDER.format(python=sys.executable, records=str(records)))
    recorder.chmod(0o755)
    for plugin in PLUGINS.values():
        (bin_dir / plugin).symlink_to(recorder)
    main = root / "main.conf"
    main.write_text(RUNTIME_CONF.format(commands=COMMANDS, bin=bin_dir))
    dirs = {name: root / name for name in ("data", "log", "cache", "spool", "run")}
    for d in dirs.values():
        d.mkdir()
    defines = {
        "RunAsUser": "root",
        "RunAsGroup": "root",
        "DataDir": dirs["data"],
        "LogDir": dirs["log"],
        "CacheDir": dirs["cache"],
        "SpoolDir": dirs["spool"],
        "InitRunDir": dirs["run"],
        "PidPath": dirs["run"] / "icinga2.pid",
        "StatePath": dirs["data"] / "icinga2.state",
        "ModAttrPath": dirs["data"] / "modified-attributes.conf",
        "ObjectsPath": dirs["cache"] / "icinga2.debug",
        "VarsPath": dirs["cache"] / "icinga2.vars",
        "ZonesDir": root / "zones.d",
    }
    argv = [icinga2, "daemon", "-c", str(main), "-DPluginDir=/usr/lib/nagios/plugins"]
    argv += [f"-DConfiguration.{k}={v}" for k, v in defines.items()]
    log = (root / "daemon.log").open("w")
    # A session of its own: Icinga forks a main process and a check executor, and the
    # teardown ends exactly that process group.
    daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and daemon.poll() is None:
            if {p.stem for p in records.glob("*.json")} >= SCENARIOS:
                break
            time.sleep(0.2)
        got = {p.stem: json.loads(p.read_text()) for p in records.glob("*.json")}
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(daemon.pid, sig)
            try:
                daemon.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # the forked children, if they linger
            os.killpg(daemon.pid, signal.SIGKILL)
        log.close()
    missing = SCENARIOS - got.keys()
    assert not missing, f"checks never ran: {missing}\n{(root / 'daemon.log').read_text()}"
    return got


def args_of(record: dict[str, Any]) -> list[str]:
    return record["argv"][1:]


def test_icinga_runs_the_plugin_from_the_hosts_plugin_dir(ran):
    assert Path(ran["11"]["argv"][0]).name == "check_dnsbl"
    assert Path(ran["14"]["argv"][0]).name == "check_bounce_rate"
    assert Path(ran["15"]["argv"][0]).parent.name == "bin"


def test_dnsbl_checks_the_hosts_address_repeats_zones_and_spells_verbosity_as_vv(ran):
    assert args_of(ran["11"]) == [
        "-H",
        "192.0.2.7",
        "-t",
        "11",
        "-vv",
        "-z",
        "a.example",
        "-z",
        "b.example",
    ]


def test_dnsbl_address_set_to_an_empty_array_checks_only_the_domain(ran):
    assert args_of(ran["12"]) == ["-d", "example.com", "-t", "12"]


def test_dnsbl_follows_check_ipv6_to_the_hosts_ipv6_address(ran):
    assert args_of(ran["13"]) == ["-H", "2001:db8::7", "-t", "13"]


def test_bounce_rate_security_choice_becomes_exactly_one_flag(ran):
    assert args_of(ran["14"]) == [
        "--imap-host",
        "imap.example.com",
        "--imap-starttls",
        "--verify",
        "-t",
        "14",
    ]


def test_unset_variables_add_no_arguments(ran):
    assert args_of(ran["15"]) == ["-t", "15"]


def test_secrets_reach_the_plugins_environment_and_never_its_argv(ran):
    assert ran["11"]["env"]["MAILREP_DQS_KEY"] == "dqs-secret"
    assert ran["14"]["env"]["MAILREP_IMAP_PASSWORD"] == "imap-secret"
    every_argv = " ".join(" ".join(r["argv"]) for r in ran.values())
    assert "dqs-secret" not in every_argv
    assert "imap-secret" not in every_argv


def test_an_unset_secret_arrives_empty_and_the_plugins_read_that_as_no_password(ran, monkeypatch):
    env = ran["15"]["env"]
    assert env == {"MAILREP_DQS_KEY": "", "MAILREP_IMAP_PASSWORD": "", "MAILREP_SMTP_PASSWORD": ""}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_password(None, None, IMAP_PASSWORD_ENV) is None
    assert load_password(None, None, SMTP_PASSWORD_ENV) is None


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_command_line_icinga_builds_is_accepted_by_the_plugins_parser(ran, scenario):
    argv = ran[scenario]["argv"]
    module = importlib.import_module(Path(argv[0]).name)
    module.build_parser().parse_args(argv[1:])  # a usage error raises
