"""A private mount namespace whose /etc/resolv.conf names the test nameserver.

Postfix's smtpd (``reject_rbl_client``) and postscreen ask the *system* resolver about
blocklists; they have no per-instance nameserver setting. Changing the machine's
/etc/resolv.conf would break everything else on it, so a long-lived holder process
(``unshare --mount --propagation private``) bind-mounts a file of ours over /etc/resolv.conf
in its own mount namespace and sleeps; Postfix commands run inside it via
``nsenter --target PID --mount``. Daemons they start stay in the namespace; nothing leaks
out (propagation is private), and the mount disappears with the holder.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path

READY = b"namespace-ready\n"


class NamespaceError(RuntimeError):
    """The namespace could not be made (needs root / CAP_SYS_ADMIN and util-linux)."""


class ResolverNamespace:
    """Holder of a mount namespace in which ``/etc/resolv.conf`` says ``nameserver``."""

    def __init__(
        self, nameserver: str = "127.0.0.53", binds: dict[str, Path] | None = None
    ) -> None:
        """``binds`` maps more files to bind over (target -> our file), e.g. an /etc/passwd
        that knows a daemon's user (tests/support/servers/exim.py)."""
        self.nameserver = nameserver
        self.binds = dict(binds or {})
        self.workdir = Path(tempfile.mkdtemp(prefix="resolvns-"))
        self.workdir.chmod(0o755)
        self.resolv_conf = self.workdir / "resolv.conf"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "start() first"
        return self.proc.pid

    def start(self) -> ResolverNamespace:
        for tool in ("unshare", "nsenter", "mount"):
            if shutil.which(tool) is None:
                raise NamespaceError(
                    f"{tool} is missing: install the Debian package 'util-linux' (mount: 'mount')"
                )
        if os.geteuid() != 0:
            raise NamespaceError("a private mount namespace needs root (run tests as root)")
        # attempts:1 and a short timeout: a listing that does not answer should fail fast.
        self.resolv_conf.write_text(f"nameserver {self.nameserver}\noptions timeout:2 attempts:1\n")
        self.resolv_conf.chmod(0o644)
        extra = "".join(
            f'mount --bind "${{{2 * i + 2}}}" "${{{2 * i + 3}}}" && '
            for i in range(len(self.binds))
        )
        script = (
            f'mount --bind "$1" /etc/resolv.conf && {extra}printf "namespace-ready\\n" '
            "&& exec sleep infinity"
        )
        pairs = [str(arg) for target, ours in self.binds.items() for arg in (ours, target)]
        # unshare and sh exec in place, so Popen's pid is the sleeping holder itself.
        self.proc = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                script,
                "sh",
                str(self.resolv_conf),
                *pairs,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if ready else b""
        if line != READY:
            self.stop()
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise NamespaceError(f"could not make a private resolv.conf namespace: {err}")
        return self

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` wrapped to run inside the namespace."""
        return ["nsenter", "--target", str(self.pid), "--mount", "--", *argv]

    def run(
        self, argv: list[str], *, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.command(argv), capture_output=True, text=True, env=env)
        if check and result.returncode != 0:
            raise NamespaceError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ResolverNamespace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
