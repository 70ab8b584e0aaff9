"""A real Unbound recursive resolver on loopback (fixture ``unbound``).

It plays the user's local resolver: it answers A/AAAA for test hostnames from local-data and
forwards the blocklist zones to rbldnsd through stub zones, the set-up the README recommends
for Spamhaus (never a public resolver).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers.process import stop_process

BINARY = "/usr/sbin/unbound"


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Unbound:
    workdir: Path
    records: dict[str, list[str]] = field(default_factory=dict)  # name -> ["A 192.0.2.1", ...]
    stubs: dict[str, str] = field(default_factory=dict)  # zone -> "127.0.0.1@PORT"
    #: zone -> local-zone type, e.g. "always_nxdomain": what a filtering resolver does.
    local_zones: dict[str, str] = field(default_factory=dict)
    tcp: bool = True  # False: no TCP listener, so a truncated answer cannot be retried
    host: str = "127.0.0.1"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def nameserver(self) -> str:
        return f"{self.host}:{self.port}"

    def _config(self) -> str:
        lines = [
            "server:",
            f"  interface: {self.host}@{self.port}",
            "  port: 53",
            "  do-ip6: no",
            f"  do-tcp: {'yes' if self.tcp else 'no'}",
            '  username: ""',
            '  chroot: ""',
            f'  directory: "{self.workdir}"',
            f'  pidfile: "{self.workdir}/unbound.pid"',
            "  use-syslog: no",
            "  verbosity: 0",
            '  module-config: "iterator"',
            "  do-not-query-localhost: no",
            "  access-control: 127.0.0.0/8 allow",
            "  cache-max-ttl: 0",
            "  cache-max-negative-ttl: 0",
            '  local-zone: "test." static',
        ]
        for zone, kind in self.local_zones.items():
            lines.append(f'  local-zone: "{zone}." {kind}')
        for name, rrs in self.records.items():
            for rr in rrs:
                lines.append(f'  local-data: "{name}. 60 IN {rr}"')
        for zone in self.stubs:
            lines.append(f'  domain-insecure: "{zone}"')
            lines.append(f'  local-zone: "{zone}." transparent')
        for zone, addr in self.stubs.items():
            lines += ["stub-zone:", f'  name: "{zone}"', f"  stub-addr: {addr}"]
        lines += ["remote-control:", "  control-enable: no"]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        if not Path(BINARY).exists():
            pytest.fail(f"{BINARY} is missing: install the Debian package 'unbound'")
        self.port = self.port or free_udp_port(self.host)
        conf = self.workdir / "unbound.conf"
        conf.write_text(self._config())
        log = open(self.workdir / "unbound.log", "wb")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen([BINARY, "-d", "-c", str(conf)], stdout=log, stderr=log)
        self._wait()

    def _wait(self) -> None:
        import dns.message
        import dns.query

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail("unbound exited: " + (self.workdir / "unbound.log").read_text())
            try:
                dns.query.udp(
                    dns.message.make_query("localhost.", "A"),
                    self.host,
                    port=self.port,
                    timeout=0.2,
                )
                return
            except Exception:
                time.sleep(0.05)
        pytest.fail("unbound did not answer within 10 s")

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def unbound(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Factory: ``unbound(records={...}, stubs={zone: rbldnsd.nameserver},
    local_zones={zone: "always_nxdomain"}, tcp=True)``."""
    started: list[Unbound] = []

    def start(
        records: dict[str, list[str]] | None = None,
        stubs: dict[str, str] | None = None,
        local_zones: dict[str, str] | None = None,
        tcp: bool = True,
    ) -> Unbound:
        workdir = tmp_path_factory.mktemp("unbound")
        stub_addrs = {z: ns.replace(":", "@") for z, ns in (stubs or {}).items()}
        server = Unbound(workdir, dict(records or {}), stub_addrs, dict(local_zones or {}), tcp)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
