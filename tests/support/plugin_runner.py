"""Run an installed plugin the way Nagios does: a separate process, stdout and exit code.

Each run gets a state directory of its own (``XDG_STATE_HOME`` pointing at a fresh temporary
directory) unless the test names one (``--state-dir`` or ``XDG_STATE_HOME`` in ``env``):
the tests run as root, and the plugins' default, /var/lib/mailrep, would otherwise carry
history from one test (and one test run) into the next.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
_STAGE: list[Path] = []


def readable_copy() -> Path:
    """The plugins and their runtime dependencies, copied where any user may read them.

    The checkout may sit in a private (0700) directory, as root's home is, which a
    monitoring user cannot enter; a run ``as_user`` uses this copy (made once per session)
    with the same interpreter.
    """
    if not _STAGE:
        import atexit
        import shutil

        import imapclient
        import nagiosplugin

        root = Path(tempfile.mkdtemp(prefix="mailrep-readable-"))
        root.chmod(0o755)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "plugins", root / "lib", ignore=skip)
        for module in (nagiosplugin, imapclient):
            source = Path(module.__file__ or "").parent
            shutil.copytree(source, root / "lib" / source.name, ignore=skip)
        for path in root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        atexit.register(shutil.rmtree, root, True)
        _STAGE.append(root)
    return _STAGE[0]


def as_user_command(user: str, name: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run plugin ``name`` as ``user`` (setpriv, from
    util-linux), as a monitoring daemon would, from :func:`readable_copy`."""
    entry = pwd.getpwnam(user)
    prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    interpreter = getattr(sys, "_base_executable", sys.executable)
    lib = readable_copy() / "lib"
    return [*prefix, interpreter, "-B", "-s", "-m", name], {"PYTHONPATH": str(lib)}


@dataclass
class PluginRun:
    code: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def first_line(self) -> str:
        return self.lines[0] if self.lines else ""

    @property
    def status(self) -> str:
        """The text of the first line before the perfdata."""
        return self.first_line.split(" | ", 1)[0]

    @property
    def perfdata(self) -> dict[str, str]:
        if " | " not in self.first_line:
            return {}
        out = {}
        for item in self.first_line.split(" | ", 1)[1].split():
            label, _, rest = item.partition("=")
            out[label] = rest.split(";")[0]
        return out

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run_plugin(
    name: str,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = 60,
    as_user: str | None = None,
) -> PluginRun:
    """Run ``name`` (a console script of this venv) and check the plugin contract holds;
    ``as_user`` runs it as that user (setpriv, from util-linux), as a monitoring daemon would."""
    command, user_env = [str(BIN / name)], {}
    if as_user:
        command, user_env = as_user_command(as_user, name)
    with tempfile.TemporaryDirectory(prefix="mailrep-state-") as state_home:
        full_env = {**os.environ, "XDG_STATE_HOME": state_home, **user_env, **(env or {})}
        started = time.monotonic()
        proc = subprocess.run(
            [*command, *args],
            capture_output=True,
            env=full_env,
            input=stdin,
            timeout=timeout,
            check=False,
        )
    result = PluginRun(
        proc.returncode, proc.stdout.decode(), proc.stderr.decode(), time.monotonic() - started
    )
    assert result.code in (0, 1, 2, 3), result
    assert "Traceback" not in result.stdout + result.stderr, result
    return result
