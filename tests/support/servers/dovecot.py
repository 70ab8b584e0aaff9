"""A real Dovecot IMAP/IMAPS server on loopback (fixture ``dovecot``).

The bounce and probe checks read mailboxes over IMAP; their promise is "read-only", and only a
real server with real Maildirs can show they keep it. So this harness runs Dovecot from a
private config (own base_dir, state_dir, log; nothing under /etc is read or touched):
a passwd-file passdb, one Maildir per user, IMAP with STARTTLS and IMAPS with a certificate
from a throw-away CA (``.ca_file``), so clients verify it as they would in production.

Mail belongs to ``nobody`` because Dovecot (and Postfix's virtual delivery, which shares these
Maildirs in the mail lab) will not access mail as root; the directory tree therefore lives in
its own world-traversable tmp dir rather than pytest's private one.

``snapshot()`` reads the Maildir from disk (file names carry Maildir flags, dovecot-uidlist the
UIDs) so that looking does not itself change what is looked at.
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers.process import stop_process
from tests.support.servers.tls import TlsFiles, make_tls

BINARY = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
PACKAGE = "dovecot-imapd"
MAIL_USER = "nobody"
START_TIMEOUT = 15.0
_counter = itertools.count()


class DovecotError(RuntimeError):
    """Dovecot could not be started or a mailbox operation failed."""


@dataclass(frozen=True)
class MessageState:
    """What a client could change about one stored message."""

    folder: str  # "INBOX" or the Maildir++ folder name ("Sent", "Junk")
    subdir: str  # "new" or "cur"
    uid: int | None  # None until Dovecot has seen the message
    flags: str  # Maildir info letters after ":2," (S seen, R answered, T deleted, ...)


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _mail_ids() -> tuple[int, int]:
    entry = pwd.getpwnam(MAIL_USER)
    return entry.pw_uid, entry.pw_gid


class Dovecot:
    """One running Dovecot: ``imap_port`` (plain + STARTTLS) and ``imaps_port`` on ``host``."""

    def __init__(
        self,
        users: dict[str, str],
        host: str = "127.0.0.1",
        workdir: Path | None = None,
        tls: TlsFiles | None = None,
        extra_config: str = "",
    ) -> None:
        self.users = dict(users)
        self.extra_config = extra_config  # appended to dovecot.conf (e.g. a capability list)
        self.host = host
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="dovecot-"))
        self.workdir.chmod(0o755)
        self.config = self.workdir / "dovecot.conf"
        self.imap_port = 0
        self.imaps_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.tls: TlsFiles | None = tls  # None: a CA of its own is made at start()

    # -- public API ----------------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        """The CA that signed the server certificate (valid for localhost and 127.0.0.1)."""
        assert self.tls is not None, "start() first"
        return self.tls.ca_file

    @property
    def mail_root(self) -> Path:
        return self.workdir / "mail"

    @property
    def auth_socket(self) -> Path:
        """Dovecot's SASL socket for Postfix (``smtpd_sasl_type = dovecot``)."""
        return self.workdir / "run" / "auth-postfix"

    def maildir(self, user: str) -> Path:
        """The user's Maildir (INBOX); folders are Maildir++ ``.Name`` subdirectories."""
        return self.mail_root / user / "Maildir"

    def start(self) -> Dovecot:
        for path in (BINARY, DOVEADM):
            if not Path(path).exists():
                raise DovecotError(f"{path} is missing: install the Debian package '{PACKAGE}'")
        if self.tls is None:
            self.tls = make_tls(self.workdir / "tls")
        self.imap_port = self.imap_port or free_tcp_port(self.host)
        self.imaps_port = self.imaps_port or free_tcp_port(self.host)
        for sub in ("run", "state"):
            (self.workdir / sub).mkdir(exist_ok=True)
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, *_mail_ids())
        for user in self.users:
            self.add_mailbox_dirs(user)
        self._write_passwd()
        self.config.write_text(self._config_text())
        self._log = open(self.workdir / "dovecot.stderr", "wb")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [BINARY, "-F", "-c", str(self.config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def add_mailbox_dirs(self, user: str, folder: str | None = None) -> Path:
        """Create (owned by the mail user) the Maildir of ``user`` or one of its folders."""
        uid, gid = _mail_ids()
        home = self.mail_root / user
        base = self.maildir(user)
        target = base if folder in (None, "INBOX") else base / f".{folder}"
        for path in (home, base, target, *(target / s for s in ("new", "cur", "tmp"))):
            path.mkdir(exist_ok=True)
            os.chown(path, uid, gid)
        if target != base:
            marker = target / "maildirfolder"
            marker.touch()
            os.chown(marker, uid, gid)
        return target

    def deliver(
        self,
        user: str,
        message: bytes | str,
        *,
        subdir: str = "new",
        flags: str = "",
        folder: str | None = None,
    ) -> Path:
        """Drop a raw RFC 5322 message into ``new/`` (unseen) or ``cur/`` with Maildir flags.

        Written to ``tmp/`` and renamed, as an MDA does, so Dovecot never sees half a file.
        """
        if subdir not in ("new", "cur"):
            raise ValueError("subdir must be 'new' or 'cur'")
        if flags and subdir == "new":
            raise ValueError("messages in new/ carry no flags; use subdir='cur'")
        data = message.encode() if isinstance(message, str) else message
        data = data.replace(b"\r\n", b"\n")
        target = self.add_mailbox_dirs(user, folder)
        base = f"{int(time.time())}.M{next(_counter)}P{os.getpid()}.mailrep-test"
        name = base if subdir == "new" else f"{base}:2,{''.join(sorted(flags))}"
        tmp = target / "tmp" / base
        tmp.write_bytes(data)
        os.chown(tmp, *_mail_ids())
        final = target / subdir / name
        os.rename(tmp, final)
        return final

    def sync(self, user: str, folder: str = "INBOX") -> None:
        """Let Dovecot index the mailbox (assign UIDs) so snapshots before and after a
        read-only client compare like with like."""
        self.doveadm("mailbox", "status", "-u", user, "messages uidnext", folder)

    def read_by_a_client(self, user: str, folder: str = "INBOX") -> None:
        """What a mail client does when it opens a folder: SELECT it read-write, which takes
        the \\Recent flag from its new messages (Dovecot moves them from new/ to cur/)."""
        import imaplib

        with imaplib.IMAP4(self.host, self.imap_port, timeout=10) as client:
            client.login(user, self.users[user])
            status, _ = client.select(folder)
            if status != "OK":
                raise DovecotError(f"SELECT {folder} failed for {user}")

    def snapshot(self, user: str) -> dict[str, MessageState]:
        """Every message of every folder, keyed by its Maildir base name, read from disk."""
        result: dict[str, MessageState] = {}
        base = self.maildir(user)
        subfolders = sorted((p.name[1:], p) for p in base.glob(".*") if p.is_dir())
        folders = [("INBOX", base), *subfolders]
        for folder, path in folders:
            uids = _read_uidlist(path / "dovecot-uidlist")
            for subdir in ("new", "cur"):
                directory = path / subdir
                if not directory.is_dir():
                    continue
                for entry in sorted(directory.iterdir()):
                    name, _, info = entry.name.partition(":2,")
                    result[name] = MessageState(folder, subdir, uids.get(name), info)
        return result

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c CONFIG ARGS`` against this instance; its stdout."""
        result = subprocess.run(
            [DOVEADM, "-c", str(self.config), *args], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise DovecotError(f"doveadm {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def log(self) -> str:
        parts = []
        for name in ("dovecot.stderr", "dovecot.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        # The whole process group at once: the master alone waits ~1 s for its children.
        stop_process(self.proc, timeout=10, group=True)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------

    def _write_passwd(self) -> None:
        lines = []
        for user, password in self.users.items():
            if ":" in user or ":" in password or "\n" in user + password:
                raise ValueError("user names and passwords must not contain ':' or newlines")
            lines.append(f"{user}:{{PLAIN}}{password}::::::\n")
        path = self.workdir / "passwd"
        path.write_text("".join(lines), encoding="utf-8")  # a password may be non-ASCII
        path.chmod(0o640)  # the auth process runs as the dovecot user
        if os.geteuid() == 0:
            os.chown(path, 0, grp.getgrnam("dovecot").gr_gid)

    def _config_text(self) -> str:
        uid, gid = _mail_ids()
        w = self.workdir
        assert self.tls is not None
        return f"""\
# Written by tests/support/servers/dovecot.py; nothing outside {w} is used.
instance_name = mailrep-test-{w.name}
base_dir = {w}/run
state_dir = {w}/state
log_path = {w}/dovecot.log
protocols = imap
listen = {self.host}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
last_valid_uid = {uid}
auth_mechanisms = plain login
auth_failure_delay = 0
disable_plaintext_auth = no
ssl = yes
ssl_cert = <{self.tls.cert_file}
ssl_key = <{self.tls.key_file}
ssl_min_protocol = TLSv1.2
mail_location = maildir:{w}/mail/%u/Maildir
mailbox_list_index = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {w}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={w}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
{self.extra_config}"""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pending = [self.imap_port]
        while pending:
            if self.proc is not None and self.proc.poll() is not None:
                raise DovecotError(f"dovecot exited ({self.proc.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise DovecotError(
                    f"dovecot did not greet within {START_TIMEOUT} s:\n" + self.log()
                )
            try:
                with socket.create_connection((self.host, pending[0]), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        pending.pop(0)
                        continue
            except OSError:
                pass
            time.sleep(0.05)


def _read_uidlist(path: Path) -> dict[str, int]:
    """Map Maildir base names to UIDs from dovecot-uidlist (format version 3)."""
    if not path.exists():
        return {}
    uids: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines()[1:]:
        match = re.match(r"(\d+)\s+(?:\S+\s+)*?:(\S+)$", line) or re.match(r"(\d+)\s+(\S+)$", line)
        if match:
            uids[match.group(2)] = int(match.group(1))
    return uids


DovecotFactory = Callable[..., Dovecot]


@pytest.fixture
def dovecot() -> Iterator[DovecotFactory]:
    """Factory: ``dovecot(users={"alice": "pw"}) -> Dovecot``; stopped at teardown.

    Default users: ``{"alice": "alice-password"}``. A missing binary FAILS (never skips).
    """
    started: list[Dovecot] = []

    def start(
        users: dict[str, str] | None = None, host: str = "127.0.0.1", extra_config: str = ""
    ) -> Dovecot:
        server = Dovecot(users or {"alice": "alice-password"}, host=host, extra_config=extra_config)
        started.append(server)
        try:
            return server.start()
        except DovecotError as exc:
            pytest.fail(str(exc))

    yield start
    for server in started:
        server.stop()
