"""A real Exim on loopback with its own config, spool and log (class ``EximInstance``,
fixture ``exim_instance``).

Debian's exim4-daemon-light conflicts with Postfix (both are the mail-transport-agent), so it
is unpacked, not installed (tests/unpack-debs.sh, which tests/run.sh runs) under
``/opt/mailrep-tests/root``. The binary is built for the user ``Debian-exim``, which only its
package's maintainer script would create: the instance runs in a private mount namespace
whose /etc/passwd and /etc/group are copies that add it (the machine's are not touched).

The instance listens on its own 127.0.0.x address, sends from it (``interface``), routes all
remote mail to one host and port (``manualroute``, no DNS) and keeps bounces it writes in a
Maildir of its work directory. Retries are cut to seconds: a deferred recipient is retried
every queue run (``-q1s``) and given up ("retry timeout exceeded") after ``give_up``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import smtplib
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest

from tests.support.servers.namespace import NamespaceError, ResolverNamespace
from tests.support.servers.postfix import free_port_on

ROOT = Path(os.environ.get("MAILREP_UNPACK_ROOT", "/opt/mailrep-tests/root"))
EXIM = ROOT / "usr" / "sbin" / "exim4"
USER = "Debian-exim"
START_TIMEOUT = 20.0


class EximError(RuntimeError):
    """Exim is not unpacked, or could not be configured, started or driven."""


def _free_id(taken: set[int], start: int = 64990) -> int:
    n = start
    while n in taken:
        n -= 1
    return n


def _identity_files(workdir: Path) -> tuple[Path, Path, int, int]:
    """Copies of /etc/passwd and /etc/group that know Debian-exim (uid, gid unused here)."""
    passwd, group = workdir / "passwd", workdir / "group"
    shutil.copyfile("/etc/passwd", passwd)
    shutil.copyfile("/etc/group", group)
    try:
        entry = pwd.getpwnam(USER)
        return passwd, group, entry.pw_uid, entry.pw_gid
    except KeyError:
        pass
    uids = {p.pw_uid for p in pwd.getpwall()}
    gids = {
        int(line.split(":")[2]) for line in group.read_text().splitlines() if line.count(":") >= 3
    }
    uid, gid = _free_id(uids), _free_id(gids)
    with passwd.open("a") as fh:
        fh.write(f"{USER}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")
    with group.open("a") as fh:
        fh.write(f"{USER}:x:{gid}:\n")
    for path in (passwd, group):
        path.chmod(0o644)
    return passwd, group, uid, gid


_CONFIG = """\
exim_path = {exim}
primary_hostname = {name}
spool_directory = {work}/spool
log_file_path = {work}/log/%slog
daemon_smtp_ports = {port}
local_interfaces = {address}
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
qualify_domain = {domain}
acl_smtp_rcpt = acl_check_rcpt
keep_environment =

begin acl
acl_check_rcpt:
  accept hosts = 127.0.0.0/8
  deny

begin routers
own_domain:
  driver = accept
  domains = {domain}
  transport = bounce_maildir

everything_else:
  driver = manualroute
  domains = *
  transport = remote_smtp
  route_list = * {next_ip}
  self = send

begin transports
remote_smtp:
  driver = smtp
  interface = {address}
  port = {next_port}

bounce_maildir:
  driver = appendfile
  directory = {work}/mail
  maildir_format
  user = {user}
  group = {user}

begin retry
* * F,{give_up}s,1s
"""


class EximInstance:
    """One Exim: ``name`` (its primary_hostname) on ``address``:``port``, relaying every
    domain but its own to ``next_hop`` (ip, port)."""

    def __init__(
        self, name: str, address: str, next_hop: tuple[str, int], *, give_up: int = 3
    ) -> None:
        self.name = name
        self.address = address
        self.next_hop = next_hop
        self.give_up = give_up
        self.domain = name.split(".", 1)[1] if "." in name else name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"exim-{name}-"))
        self.workdir.chmod(0o755)
        self.port = 0
        self.namespace: ResolverNamespace | None = None

    @property
    def mainlog(self) -> Path:
        return self.workdir / "log" / "mainlog"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "exim.pid"

    def log(self) -> str:
        return self.mainlog.read_text(errors="replace") if self.mainlog.exists() else ""

    def start(self) -> EximInstance:
        if not EXIM.exists():
            raise EximError(
                f"{EXIM} is missing: run 'bash tests/unpack-debs.sh' (tests/run.sh does)"
            )
        passwd, group, uid, gid = _identity_files(self.workdir)
        for sub in ("spool", "log", "mail"):
            (self.workdir / sub).mkdir()
            os.chown(self.workdir / sub, uid, gid)
        self.port = free_port_on(self.address)
        config = self.workdir / "exim.conf"
        config.write_text(
            _CONFIG.format(
                exim=EXIM,
                name=self.name,
                work=self.workdir,
                port=self.port,
                address=self.address,
                domain=self.domain,
                next_ip=self.next_hop[0],
                next_port=self.next_hop[1],
                user=USER,
                give_up=self.give_up,
            )
        )
        config.chmod(0o644)
        self.namespace = ResolverNamespace(binds={"/etc/passwd": passwd, "/etc/group": group})
        try:
            self.namespace.start()
            self.namespace.run(
                [str(EXIM), "-C", str(config), "-bd", "-q1s", "-oP", str(self.pid_file)]
            )
        except NamespaceError as exc:
            raise EximError(f"exim did not start: {exc}\n{self.log()}") from exc
        self._wait_banner()
        return self

    def _wait_banner(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.address, self.port), timeout=2) as s:
                    s.settimeout(5)
                    if s.recv(200).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise EximError(f"{self.name} did not greet on {self.address}:{self.port}:\n{self.log()}")

    def send(self, sender: str, recipient: str, subject: str) -> str:
        """Submit one message by SMTP; its Message-ID."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, recipient, subject
        message["Date"] = formatdate()
        message["Message-ID"] = mid = make_msgid(domain=self.domain)
        message.set_content("sent through the test Exim\n")
        with smtplib.SMTP(self.address, self.port, timeout=30) as smtp:
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        return mid

    def wait_for_log(self, match: Callable[[str], bool], timeout: float = 30.0) -> str:
        """The first main log line that ``match``es, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if match(line):
                    return line
            time.sleep(0.2)
        raise EximError(f"no matching line in {self.mainlog} within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        if self.namespace is not None:
            self.namespace.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


EximFactory = Callable[..., EximInstance]


@pytest.fixture
def exim_instance() -> Iterator[EximFactory]:
    """Factory: ``exim_instance(name, address, next_hop=(ip, port), give_up=3)`` -> a started
    EximInstance, stopped at teardown. Exim not unpacked or not starting FAILS the test."""
    started: list[EximInstance] = []

    def start(name: str, address: str, next_hop: tuple[str, int], **kw: int) -> EximInstance:
        instance = EximInstance(name, address, next_hop, **kw)
        started.append(instance)
        try:
            return instance.start()
        except EximError as exc:
            pytest.fail(str(exc))

    yield start
    for instance in started:
        instance.stop()
