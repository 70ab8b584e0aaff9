"""Debian's shipped ``/etc/nagios-plugins/check_rbl.ini``, read from the installed package.

The migration the README promises ("--zones-file /etc/nagios-plugins/check_rbl.ini") is only
proven on the file Debian really ships, so tests read it at test time from the installed
package monitoring-plugins-contrib (tests/debian-packages.txt) and never commit a copy. A
conffile can be edited by the local admin: its checksum is compared with the one dpkg recorded
at installation, and an edited, missing or unregistered file FAILS the test (never a skip).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

PACKAGE = "monitoring-plugins-contrib"
PATH = Path("/etc/nagios-plugins/check_rbl.ini")


def _recorded_md5() -> str:
    """The md5 dpkg recorded for the conffile (``dpkg-query -W -f='${Conffiles}'``)."""
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"Debian package {PACKAGE} is not installed: {proc.stderr.strip()}")
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == str(PATH):
            return fields[1]
    pytest.fail(f"{PACKAGE} does not register {PATH} as a conffile")


def shipped_text() -> str:
    """The file's content exactly as the package shipped it."""
    if not PATH.is_file():
        pytest.fail(f"{PATH} is missing: reinstall {PACKAGE}")
    data = PATH.read_bytes()
    if hashlib.md5(data).hexdigest() != _recorded_md5():
        pytest.fail(f"{PATH} was edited locally: the test needs the file as {PACKAGE} ships it")
    return data.decode("utf-8")


def server_names(text: str) -> list[str]:
    """The zones of its ``server=`` lines, in order (what check_rbl would query)."""
    names = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "server" and value.strip():
            names.append(value.strip().rstrip(".").lower())
    return list(dict.fromkeys(names))
