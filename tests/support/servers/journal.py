"""A real systemd journal file, for tests of ``--postfix-log journal`` without journald.

The test machine has no running journald (and a test must not write to the machine's
journal), so syslog lines are turned into journal export records with the fields journald
would have stored for a Postfix daemon (``_SYSTEMD_UNIT=postfix@-.service``,
``SYSLOG_IDENTIFIER=postfix/smtp``, ...) and written into a journal file by the real
``systemd-journal-remote`` (unpacked by tests/unpack-debs.sh, like Exim). The plugin then
runs the real ``journalctl``, pointed at that directory by a wrapper first on ``PATH``.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

from tests.support.servers.exim import ROOT

JOURNAL_REMOTE = ROOT / "lib" / "systemd" / "systemd-journal-remote"
JOURNALCTL = Path("/usr/bin/journalctl")
BOOT_ID = "0123456789abcdef0123456789abcdef"
_SYSLOG = re.compile(r"^(\S+ +\d+ [\d:]+) (\S+) ([^\[:\s]+)(?:\[(\d+)\])?: (.*)$")


class JournalError(RuntimeError):
    """systemd-journal-remote is not unpacked or failed."""


def export_record(line: str, year: int, unit: str) -> bytes:
    """One syslog line as a journal export record of ``unit``."""
    m = _SYSLOG.match(line)
    if m is None:
        raise JournalError(f"not a syslog line: {line!r}")
    stamp, host, ident, pid, message = m.groups()
    when = datetime.strptime(f"{year} {stamp}", "%Y %b %d %H:%M:%S").astimezone()
    usec = int(when.timestamp() * 1_000_000)
    fields = {
        "__REALTIME_TIMESTAMP": str(usec),
        "__MONOTONIC_TIMESTAMP": str(usec),
        "_BOOT_ID": BOOT_ID,
        "_SYSTEMD_UNIT": unit,
        "_HOSTNAME": host,
        "SYSLOG_IDENTIFIER": ident,
        "_PID": pid or "1",
        "MESSAGE": message,
    }
    return "".join(f"{k}={v}\n" for k, v in fields.items()).encode() + b"\n"


def write_journal(lines: list[str], directory: Path, year: int, unit: str) -> Path:
    """A journal file in ``directory`` holding ``lines`` as ``unit``'s messages."""
    if not JOURNAL_REMOTE.exists():
        raise JournalError(
            f"{JOURNAL_REMOTE} is missing: run 'bash tests/unpack-debs.sh' (tests/run.sh does)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    export = directory / "records.export"
    export.write_bytes(b"".join(export_record(line, year, unit) for line in lines))
    target = directory / "remote.journal"
    result = subprocess.run(
        [str(JOURNAL_REMOTE), f"--output={target}", str(export)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    export.unlink()
    if result.returncode != 0:
        raise JournalError(f"systemd-journal-remote failed: {result.stderr.strip()}")
    return target


def journalctl_on(directory: Path, bin_dir: Path) -> Path:
    """A ``journalctl`` in ``bin_dir`` that runs the real one on ``directory``'s journal."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "journalctl"
    wrapper.write_text(f'#!/bin/sh\nexec {JOURNALCTL} --directory={directory} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper
