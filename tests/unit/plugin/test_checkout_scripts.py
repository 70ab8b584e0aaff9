"""Every plugin runs straight from a checkout (``./plugins/check_x.py``), as installed ones do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
NAMES = ["check_dnsbl", "check_relay_chain", "check_bounce_rate"]


@pytest.mark.parametrize("name", NAMES)
def test_plugin_script_is_executable(name):
    assert os.access(PLUGINS / f"{name}.py", os.X_OK)


@pytest.mark.parametrize("name", NAMES)
def test_plugin_script_from_the_checkout_prints_its_version(name):
    # run by path from another directory, as a user or Nagios would, with this Python
    proc = subprocess.run(
        [sys.executable, str(PLUGINS / f"{name}.py"), "-V"],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
        timeout=30,
    )
    assert (proc.returncode, proc.stdout.split()[0]) == (3, name)
