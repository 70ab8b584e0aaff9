"""contrib/icinga against the real Icinga 2 (Debian package icinga2-bin).

``icinga2 daemon -C`` loads the ITL, the plugin commands and our files exactly as a master
would, validates every object (the example hosts' services included) and dumps the objects
it built, so the tests also read what Icinga made of the templates and imports. Run as root
without systemd, with a private cache directory; nothing under /etc or /var is touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_contrib_options import (
    PLUGINS,
    read_check_commands,
    resolved_arguments,
    resolved_env,
)

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "icinga"
COMMANDS = CONTRIB / "mailrep.conf"
SERVICES = CONTRIB / "mailrep-services.conf"
HOSTS = CONTRIB / "example-hosts.conf"


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
    icinga2: str, workdir: Path, *files: Path, itl: str = "<itl>\n<plugins>"
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
    result = validate(icinga2, tmp_path, broken, SERVICES, HOSTS)
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
    """tests/unit/test_contrib_options.py reads the file itself; here Icinga agrees with it."""
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
    }


def test_a_rule_entry_becomes_the_services_variables(examples):
    relay = examples.named("Service", "mx-out.example.com!dnsbl provider relay")
    assert relay["vars"]["dnsbl_address"] == "203.0.113.7"
    assert "psbl.surriel.com" in relay["vars"]["mailrep_zones"]
