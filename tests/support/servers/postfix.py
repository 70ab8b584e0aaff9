"""Independent real Postfix instances on loopback (class ``PostfixInstance``, fixture
``postfix_instance``).

Each instance has its own config, queue and data directories in a tmp dir, listens on its own
127.0.0.x address and port, sends from that address (``smtp_bind_address``) so the next hop
sees who it is, and logs to its own file (``maillog_file``). master.cf runs nothing chrooted,
because a chroot would hide the namespace's resolv.conf and the test Maildirs. Every command
runs inside a :class:`ResolverNamespace`, so DNSBL lookups go to the test rbldnsd. There are
no MX lookups: routes are transport_maps entries to ``[ip]:port``.

Queue timers are cut to a second so deferred mail is retried at once and tests stay fast.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.servers.namespace import NamespaceError, ResolverNamespace

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
PACKAGE = "postfix"
START_TIMEOUT = 20.0


class PostfixError(RuntimeError):
    """A Postfix instance could not be configured, started or driven."""


def free_port_on(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# type  private unpriv chroot wakeup maxproc command
_MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

_POSTSCREEN_SERVICES = """\
smtpd     pass  -       -       n       -       -       smtpd -o max_use=1
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
"""


class PostfixInstance:
    """One Postfix: ``name`` (also its myhostname), ``address``:``port`` for SMTP.

    ``main`` holds extra main.cf parameters (they win over the defaults), ``maps`` extra
    texthash files written to the config directory (``{"transport": ["dom smtp:[ip]:p"]}``
    -> ``texthash:CONFIG/transport``; texthash needs no postmap). ``postscreen_port`` adds a
    second listener on the same address run by postscreen; ``services`` are extra master.cf
    lines (e.g. a submission listener with ``-o`` overrides).
    """

    def __init__(
        self,
        name: str,
        address: str,
        namespace: ResolverNamespace,
        *,
        port: int = 0,
        main: dict[str, str] | None = None,
        maps: dict[str, list[str]] | None = None,
        postscreen_port: int | None = None,
        services: list[str] | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.namespace = namespace
        self.main = dict(main or {})
        self.maps = {k: list(v) for k, v in (maps or {}).items()}
        self.postscreen_port = postscreen_port
        self.services = list(services or [])  # extra master.cf lines (more listeners)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"postfix-{name}-"))
        self.workdir.chmod(0o755)
        self.config_dir = self.workdir / "etc"
        self.running = False

    # -- public API ----------------------------------------------------------------------

    @property
    def queue_dir(self) -> Path:
        return self.workdir / "spool"

    @property
    def maillog(self) -> Path:
        return self.workdir / "maillog"

    def map_path(self, name: str) -> str:
        """The ``texthash:`` lookup table name for map ``name``."""
        return f"texthash:{self.config_dir / name}"

    def start(self) -> PostfixInstance:
        if not Path(POSTFIX).exists():
            raise PostfixError(f"{POSTFIX} is missing: install the Debian package '{PACKAGE}'")
        self.port = self.port or free_port_on(self.address)
        if self.postscreen_port == 0:
            self.postscreen_port = free_port_on(self.address)
        self.config_dir.mkdir(exist_ok=True)
        (self.workdir / "spool").mkdir(exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        entry = pwd.getpwnam("postfix")
        os.chown(self.workdir / "data", entry.pw_uid, entry.pw_gid)
        self.write_maps()
        (self.config_dir / "main.cf").write_text(self._main_cf())
        (self.config_dir / "master.cf").write_text(self._master_cf())
        self.postfix("start")  # runs "postfix check", which creates the queue directories
        self.running = True
        self._wait_banner(self.port)
        if self.postscreen_port:
            self._wait_banner(self.postscreen_port)
        return self

    def write_maps(self) -> None:
        for name, lines in self.maps.items():
            (self.config_dir / name).write_text("".join(f"{line}\n" for line in lines))

    def set_map(self, name: str, lines: list[str]) -> None:
        """Replace a texthash map and reload (long-running daemons read maps at start)."""
        self.maps[name] = list(lines)
        self.write_maps()
        self.reload()

    def set_main(self, **params: str) -> None:
        """Change main.cf parameters and reload."""
        self.main.update(params)
        (self.config_dir / "main.cf").write_text(self._main_cf())
        self.reload()

    def reload(self) -> None:
        self.postfix("reload")

    def postfix(self, *args: str) -> str:
        """Run ``postfix -c CONFIG ARGS`` inside the namespace; its output."""
        try:
            return self.namespace.run([POSTFIX, "-c", str(self.config_dir), *args]).stdout
        except NamespaceError as exc:
            raise PostfixError(
                f"{exc}{self._tty_diagnostics(args)}\n--- {self.name} maillog ---\n{self.log()}"
            ) from exc

    def _tty_diagnostics(self, args: tuple[str, ...]) -> str:
        """Postfix prints early fatal errors only to a terminal (else to syslog, which a
        container may lack); rerun the failed command under script(1) to see them."""
        if shutil.which("script") is None:
            return ""
        cmd = " ".join(self.namespace.command([POSTFIX, "-c", str(self.config_dir), *args]))
        result = subprocess.run(
            ["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60
        )
        return "\n" + result.stdout

    def flush(self) -> None:
        """``postqueue -f``: retry deferred mail now."""
        self.namespace.run([POSTQUEUE, "-c", str(self.config_dir), "-f"])

    def queue(self) -> str:
        """``postqueue -p`` output (empty queue: "Mail queue is empty")."""
        return self.namespace.run([POSTQUEUE, "-c", str(self.config_dir), "-p"]).stdout

    def queue_is_empty(self) -> bool:
        return "Mail queue is empty" in self.queue()

    def log(self) -> str:
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    def stop(self) -> None:
        if self.running:
            self.namespace.run([POSTFIX, "-c", str(self.config_dir), "abort"], check=False)
            self._wait_master_gone()
            self.running = False
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- internals -----------------------------------------------------------------------

    def _main_cf(self) -> str:
        w = self.workdir
        params = {
            "compatibility_level": "3.6",
            "queue_directory": f"{w}/spool",
            "data_directory": f"{w}/data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": f"{w}/maillog",
            "maillog_file_prefixes": str(w),
            "syslog_name": f"postfix-{self.name}",
            "myhostname": self.name,
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "loopback-only",  # 127.0.0.x are not interface addresses
            "inet_protocols": "ipv4",
            "smtp_bind_address": self.address,
            "mynetworks": f"{self.address}/32",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "local_transport": "error:no local delivery in the test lab",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "smtpd_peername_lookup": "no",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "100",
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            "smtputf8_enable": "no",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "0h",
            "smtp_connect_timeout": "5s",
            "in_flow_delay": "0",
            "postscreen_dnsbl_min_ttl": "1s",
            "postscreen_dnsbl_max_ttl": "1s",
            "postscreen_greet_wait": "1s",
        }
        params.update(self.main)
        return "".join(f"{k} = {v}\n" for k, v in params.items())

    def _master_cf(self) -> str:
        # smtpd caches DNSBL answers for its whole life; one session per process makes a
        # listing change visible to the very next connection.
        lines = [
            f"{self.address}:{self.port} inet n - n - - smtpd -o max_use=1\n",
            _MASTER_SERVICES,
        ]
        if self.postscreen_port:
            lines.append(f"{self.address}:{self.postscreen_port} inet n - n - 1 postscreen\n")
            lines.append(_POSTSCREEN_SERVICES)
        lines.extend(f"{line}\n" for line in self.services)
        return "".join(lines)

    def _wait_banner(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.address, port), timeout=2) as s:
                    s.settimeout(5)
                    if s.recv(200).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise PostfixError(
            f"{self.name} did not greet on {self.address}:{port} within "
            f"{START_TIMEOUT} s:\n{self.log()}"
        )

    def _wait_master_gone(self) -> None:
        pid_file = self.queue_dir / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)


PostfixFactory = Callable[..., PostfixInstance]


@pytest.fixture
def resolver_namespace() -> Iterator[ResolverNamespace]:
    """A private mount namespace whose resolv.conf says ``nameserver 127.0.0.53``."""
    namespace = ResolverNamespace()
    try:
        namespace.start()
    except NamespaceError as exc:
        pytest.fail(str(exc))
    yield namespace
    namespace.stop()


@pytest.fixture
def postfix_instance(resolver_namespace: ResolverNamespace) -> Iterator[PostfixFactory]:
    """Factory: ``postfix_instance(name, address, port=0, main={...}, maps={...},
    postscreen_port=None) -> PostfixInstance`` (started; stopped at teardown)."""
    started: list[PostfixInstance] = []

    def start(name: str, address: str, **kwargs: object) -> PostfixInstance:
        instance = PostfixInstance(name, address, resolver_namespace, **kwargs)  # type: ignore[arg-type]
        started.append(instance)
        try:
            return instance.start()
        except PostfixError as exc:
            pytest.fail(str(exc))

    yield start
    if started:  # each master takes a second or two to wind down: stop them together
        with ThreadPoolExecutor(len(started)) as pool:
            list(pool.map(PostfixInstance.stop, started))


# conftest.py registers this module, not mailflow, so the lab's fixtures are declared here;
# mailflow is imported lazily because it builds on this module.
@pytest.fixture(scope="session")
def incident_lab_session() -> Iterator[object]:
    """The one incident lab of the test session (it owns port 53 on its DNS address)."""
    from tests.support.servers.mailflow import running_lab

    yield from running_lab()


@pytest.fixture
def incident_lab(incident_lab_session: object) -> object:
    """The session's lab reset to the incident (relay listed, smtpd on the MX): see
    :class:`tests.support.servers.mailflow.IncidentLab`."""
    incident_lab_session.reset()  # type: ignore[attr-defined]
    return incident_lab_session
