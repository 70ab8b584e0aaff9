"""A real rbldnsd on loopback (fixture ``rbldnsd``).

Tests of DNS blocklist logic are only believable against the daemon the lists really run, so
this harness writes rbldnsd dataset files and runs ``/usr/sbin/rbldnsd`` in the foreground.

Why the details look the way they do:

- rbldnsd refuses to run as root and opens its files *after* dropping privileges, so the
  files live in a world-readable directory of their own (pytest's tmp dirs are 0700).
- Every zone gets one extra ``generic`` dataset holding a serial TXT record at
  ``_harness-serial.<zone>``. ``update()`` rewrites the data, then the serial, and waits until
  the new serial is served: rbldnsd reloads changed files every ``-c 1`` second, so seeing
  the serial proves the data written before it is loaded too.
- No ``-f``: it forks a child that keeps answering from the *old* data while the parent
  reloads (and that child was seen lingering), so a confirmed update could still be
  contradicted by a stale answer. Test zones are tiny; the reload pause is negligible.
- rbldnsd notices changes by mtime; two writes in the same second would look unchanged, so
  the harness moves each rewritten file's mtime strictly forward.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers.process import stop_process

BINARY = "/usr/sbin/rbldnsd"
PACKAGE = "rbldnsd"
SERIAL_LABEL = "_harness-serial"
START_TIMEOUT = 10.0


class RbldnsdError(RuntimeError):
    """rbldnsd could not be started or did not serve what it was given."""


@dataclass
class RbldnsdZone:
    """One dataset of a zone: rbldnsd's ``name:dataset:file``.

    ``lines`` are the dataset file's lines, verbatim (e.g. ``":127.0.0.2:Listed $"``,
    ``"192.0.2.1"``, ``"192.0.2.7 :127.0.0.10:"``). Several RbldnsdZone with one name form a
    single zone, as repeated names do on rbldnsd's command line.
    """

    name: str
    dataset: str
    lines: list[str] = field(default_factory=list)


def ip4set(name: str, *listed: str, txt: str = ":127.0.0.2:Listed, see http://lookup.test/$"):
    """An ip4set zone that, like every real list, lists its RFC 5782 test entry 127.0.0.2,
    and ``listed`` with the default A record and TXT (``$`` is the address asked)."""
    return RbldnsdZone(name, "ip4set", [txt, "127.0.0.2", *listed])


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP right now (rbldnsd listens on UDP only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _unprivileged_user() -> str | None:
    """The user rbldnsd drops to when we are root (it refuses to serve as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("rbldns", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RbldnsdError("no unprivileged user (rbldns or nobody) for rbldnsd to run as")


class Rbldnsd:
    """One running rbldnsd serving ``zones`` on ``host:port`` (UDP)."""

    def __init__(
        self,
        zones: list[RbldnsdZone],
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: Path | None = None,
    ) -> None:
        if not zones:
            raise ValueError("rbldnsd needs at least one zone")
        self.zones = [RbldnsdZone(z.name, z.dataset, list(z.lines)) for z in zones]
        self.host = host
        self.port = port
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="rbldnsd-"))
        self.workdir.chmod(0o755)
        self.proc: subprocess.Popen[bytes] | None = None
        self.serial = 1
        self._files: list[tuple[RbldnsdZone, str]] = []

    # -- public API ----------------------------------------------------------------------

    @property
    def nameserver(self) -> str:
        """``"HOST:PORT"``, the form the plugins' ``--nameserver`` option takes."""
        return f"{self.host}:{self.port}"

    @property
    def zone_names(self) -> list[str]:
        return list(dict.fromkeys(z.name for z in self.zones))

    def start(self) -> Rbldnsd:
        if not Path(BINARY).exists():
            raise RbldnsdError(f"{BINARY} is missing: install the Debian package '{PACKAGE}'")
        self.port = self.port or free_port(self.host)
        specs = []
        for i, zone in enumerate(self.zones):
            fname = f"zone{i}.{zone.dataset}"
            self._write(fname, zone.lines)
            self._files.append((zone, fname))
            specs.append(f"{zone.name}:{zone.dataset}:{fname}")
        for i, name in enumerate(self.zone_names):
            fname = f"serial{i}.generic"
            self._write(fname, [self._serial_line()])
            specs.append(f"{name}:generic:{fname}")
        cmd = [
            BINARY,
            "-n",
            "-c",
            "1",
            "-e",
            "-t",
            "1",
            "-b",
            f"{self.host}/{self.port}",
            "-w",
            str(self.workdir),
        ]
        user = _unprivileged_user()
        if user:
            cmd += ["-u", user]
        self._log = open(self.workdir / "rbldnsd.log", "wb")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            cmd + specs, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self._wait_for_serial(START_TIMEOUT)
        return self

    def update(self, zone_name: str, lines: list[str], dataset: str | None = None) -> None:
        """Replace the lines of ``zone_name``'s dataset; return once rbldnsd serves them.

        With several datasets under one name, ``dataset`` picks one by type (default: the
        first).
        """
        for zone, fname in self._files:
            if zone.name == zone_name and (dataset is None or zone.dataset == dataset):
                zone.lines = list(lines)
                self._write(fname, zone.lines)
                break
        else:
            suffix = f" with dataset {dataset}" if dataset else ""
            raise KeyError(f"no zone {zone_name!r}{suffix}")
        self.serial += 1
        index = self.zone_names.index(zone_name)
        self._write(f"serial{index}.generic", [self._serial_line()])
        self._wait_for_serial(START_TIMEOUT, only=zone_name)

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        """What rbldnsd said (load statistics, zone errors): attach it to failures."""
        path = self.workdir / "rbldnsd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Rbldnsd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------

    def _serial_line(self) -> str:
        return f'{SERIAL_LABEL} TXT "{self.serial}"'

    def _write(self, fname: str, lines: list[str]) -> None:
        """Write atomically (rbldnsd never reads half a file), mtime strictly forward."""
        path = self.workdir / fname
        old = path.stat().st_mtime if path.exists() else None
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines))
        tmp.chmod(0o644)
        if old is not None:
            new = max(time.time(), old + 1)
            os.utime(tmp, (new, new))
        os.replace(tmp, path)

    def _wait_for_serial(self, timeout: float, only: str | None = None) -> None:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rdatatype

        want = f'"{self.serial}"'
        pending = [only] if only else self.zone_names
        deadline = time.monotonic() + timeout
        while pending:
            if self.proc is not None and self.proc.poll() is not None:
                raise RbldnsdError(f"rbldnsd exited ({self.proc.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RbldnsdError(
                    f"rbldnsd did not serve serial {self.serial} for {pending} "
                    f"within {timeout} s:\n{self.log()}"
                )
            query = dns.message.make_query(f"{SERIAL_LABEL}.{pending[0]}.", "TXT")
            try:
                reply = dns.query.udp(query, self.host, port=self.port, timeout=0.2)
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
                continue
            texts = [
                rd.to_text()
                for rrset in reply.answer
                if rrset.rdtype == dns.rdatatype.TXT
                for rd in rrset
            ]
            if want in texts:
                pending.pop(0)
            else:
                time.sleep(0.1)


RbldnsdFactory = Callable[..., Rbldnsd]


@pytest.fixture
def rbldnsd() -> Iterator[RbldnsdFactory]:
    """Factory: ``rbldnsd(zones, host="127.0.0.1", port=0) -> Rbldnsd``; stopped at teardown.

    A missing binary or a daemon that will not start FAILS the test (never a skip).
    """
    started: list[Rbldnsd] = []

    def start(zones: list[RbldnsdZone], host: str = "127.0.0.1", port: int = 0) -> Rbldnsd:
        server = Rbldnsd(zones, host=host, port=port)
        started.append(server)
        try:
            return server.start()
        except RbldnsdError as exc:
            pytest.fail(str(exc))

    yield start
    for server in started:
        server.stop()
