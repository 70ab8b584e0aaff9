"""README.rst's first two commands: install and run a plugin, run the whole suite.

They are what a new user copies, so they stay at the top and must work as they are: as root
on a fresh Debian or Ubuntu machine, where sudo may not even be installed and the apt lists
may be empty. tests/integration/test_packaging.py proves the install itself (a wheel into a
fresh venv); this file checks that the README says it the way that works.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import check_dnsbl

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.rst").read_text()


def top() -> str:
    """The README before its first section heading."""
    heading = re.search(r"^\S.*\n=+\n", README.split("\n", 3)[3], re.M)
    assert heading is not None
    return README.split("\n", 3)[3][: heading.start()]


def code_blocks(text: str) -> list[str]:
    blocks = re.findall(r"\.\. code-block:: sh\n\n((?:    .*\n|\n)+)", text)
    return [" ".join(b.split()) for b in blocks]


def test_the_first_two_commands_are_at_the_top():
    assert len(code_blocks(top())) == 2


def test_the_install_command_works_as_root_without_sudo_on_a_fresh_machine():
    install = code_blocks(top())[0]
    steps = [s.strip() for s in install.split("&&")]
    assert "sudo" not in install
    assert steps[:2] == ["apt-get update", "apt-get install -y python3-venv"]
    assert steps[2:4] == ["python3 -m venv /opt/mailrep", "/opt/mailrep/bin/pip install ."]


def test_the_install_command_ends_in_a_check_the_plugin_accepts():
    last = shlex.split(code_blocks(top())[0].split("&&")[-1])
    assert last[0] == "/opt/mailrep/bin/check_dnsbl"
    args = check_dnsbl.build_parser().parse_args(last[1:])
    assert args.host == ["127.0.0.2"] and args.allow_nonglobal


def test_the_suite_command_is_the_script_ci_runs():
    assert code_blocks(top())[1] == "bash tests/run.sh"
    assert "tests/run.sh" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_names_the_python_setup_cfg_requires_and_the_systems_that_ship_it():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    required = cfg["options"]["python_requires"].removeprefix(">=")
    text = " ".join(top().split())
    assert f"Python {required} or later" in text
    assert "Debian 12" in text and "Ubuntu 24.04" in text
