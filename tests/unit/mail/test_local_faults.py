"""Local mailboxes that fight back, and the promise that reading one changes nothing.

An mbox is opened read-only (the standard library's ``mailbox.mbox`` opens it ``rb+``, which
as root succeeds on a mode 0444 file and fails on an immutable one); a Maildir entry that
cannot be a message (a symlink loop, ``/dev/zero``, a FIFO) is a SourceError naming it, found
without blocking and without reading it.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.mail import sources
from mailrep.mail.sources import SourceError

MBOX = (
    b"From MAILER-DAEMON Wed Mar  4 05:06:07 2026\n"
    b"From: a@example.org\nSubject: first\n\nbody one\n\n"
    b"From someone@example.org Thu Mar  5 06:00:00 2026\n"
    b"From: b@example.org\nSubject: second\n\nbody two\n\n"
)


def access_mode_of_open_file(path: Path) -> int:
    """The O_ACCMODE bits of this process's open descriptor for ``path`` (from procfs)."""
    target = os.path.realpath(path)
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                flags = Path(f"/proc/self/fdinfo/{fd}").read_text().split("flags:")[1].split()[0]
                return int(flags, 8) & os.O_ACCMODE
    raise AssertionError(f"{path} is not open")


def state(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_mode


@pytest.fixture
def mbox(tmp_path) -> Path:
    path = tmp_path / "box" / "bounces.mbox"
    path.parent.mkdir()
    path.write_bytes(MBOX)
    return path


def test_the_mbox_is_open_for_reading_only_while_it_is_read(mbox):
    messages = sources.read_mbox(str(mbox))
    next(messages)
    try:
        assert access_mode_of_open_file(mbox) == os.O_RDONLY
    finally:
        messages.close()


def test_an_mbox_file_of_mode_0444_in_a_directory_of_mode_0555_is_read_unchanged(mbox):
    mbox.chmod(0o444)
    mbox.parent.chmod(0o555)
    try:
        before = state(mbox), sorted(os.listdir(mbox.parent))
        got = list(sources.read_mbox(str(mbox)))
        assert [b"Subject: first" in got[0].raw, b"Subject: second" in got[1].raw] == [True] * 2
        assert (state(mbox), sorted(os.listdir(mbox.parent))) == before
    finally:
        mbox.parent.chmod(0o755)


def test_an_immutable_mbox_is_read_unchanged(mbox):
    """chattr +i: even root cannot open it for writing (mailbox.mbox failed with EPERM)."""
    subprocess.run(["chattr", "+i", str(mbox)], check=True)
    try:
        before = state(mbox)
        assert len(list(sources.read_mbox(str(mbox)))) == 2
        assert state(mbox) == before
    finally:
        subprocess.run(["chattr", "-i", str(mbox)], check=True)


@pytest.fixture
def public_dir():
    """A directory the unprivileged user can reach: pytest's own (under /tmp/pytest-of-root,
    mode 0700) and a checkout in root's home are not."""
    path = Path(tempfile.mkdtemp(prefix="mailrep-public-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


def test_an_mbox_read_as_an_unprivileged_user_is_read_unchanged(public_dir):
    """The way a monitoring agent reads it: as nobody, the file owned by root, mode 0444 in
    a directory of mode 0555; the reader is a copy of the package the user can read."""
    package = Path(sources.__file__).resolve().parents[1]
    shutil.copytree(package, public_dir / "lib" / "mailrep", ignore=shutil.ignore_patterns("*.pyc"))
    box = public_dir / "box" / "bounces.mbox"
    box.parent.mkdir()
    box.write_bytes(MBOX)
    box.chmod(0o444)
    box.parent.chmod(0o555)
    before = state(box)
    code = "import sys; from mailrep.mail import local; print(len([*local.read_mbox(sys.argv[1])]))"
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    proc = subprocess.run(
        [*as_nobody, "/usr/bin/python3", "-B", "-c", code, str(box)],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PYTHONPATH": str(public_dir / "lib"), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=30,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "2"), proc.stderr
    assert state(box) == before


LINES = st.sampled_from(
    [
        b"From MAILER-DAEMON Wed Mar  4 05:06:07 2026\n",
        b"From nobody\n",
        b">From escaped\n",
        b"Subject: x\n",
        b"\n",
        b"\r\n",
        b"body\n",
        b"no newline at the end",
    ]
)


@settings(
    max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(LINES, max_size=30))
def test_the_mbox_is_split_exactly_as_the_standard_library_splits_it(tmp_path, lines):
    """mailbox.mbox, the independent oracle (read only, here in a test), must agree."""
    path = tmp_path / "oracle.mbox"
    path.write_bytes(b"From first Wed Mar  4 05:06:07 2026\n" + b"".join(lines))
    box = mailbox.mbox(str(path), create=False)
    try:
        expected = []
        for key in box.iterkeys():
            with box.get_file(key, from_=True) as handle:
                handle.readline()
                expected.append(handle.read())
    finally:
        box.close()
    assert [m.raw for m in sources.read_mbox(str(path))] == expected


# -- Maildir entries that cannot be messages -----------------------------------------------


@pytest.fixture
def maildir(tmp_path) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "cur" / "1.a:2,S").write_bytes(b"Subject: kept\n\nbody\n")
    return root


@contextlib.contextmanager
def within(seconds: float):
    """Fail (not hang) when the block blocks: a FIFO opened without O_NONBLOCK would."""

    def alarm(_signum, _frame):
        raise AssertionError(f"blocked for more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_symlink_loop_in_a_maildir_is_a_source_error_naming_it(maildir):
    (maildir / "new" / "loop").symlink_to(maildir / "new" / "loop")
    with pytest.raises(SourceError, match=r"new/loop: Too many levels of symbolic links"):
        list(sources.read_maildir(str(maildir)))


def test_dev_zero_in_a_maildir_is_a_source_error_and_is_not_read(maildir):
    """Read in a child whose address space is capped, as under ``ulimit -v``: a reader that
    regressed to reading /dev/zero fails there with a MemoryError, not by eating the
    machine's memory."""
    (maildir / "new" / "zero").symlink_to("/dev/zero")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from mailrep.mail import sources\n"
        "try:\n"
        "    list(sources.read_maildir(sys.argv[1]))\n"
        "except sources.SourceError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(maildir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.strip().endswith(
        "new/zero: not a regular file (a device, FIFO or directory)"
    )


def test_a_fifo_in_a_maildir_is_a_source_error_without_waiting_for_a_writer(maildir):
    os.mkfifo(maildir / "new" / "fifo")
    assert stat.S_ISFIFO(os.stat(maildir / "new" / "fifo").st_mode)
    with within(5), pytest.raises(SourceError, match=r"new/fifo: not a regular file"):
        list(sources.read_maildir(str(maildir)))


def test_a_file_that_is_an_mbox_on_a_pipe_is_read_once_from_its_start(tmp_path):
    """--file <(cat box): a pipe cannot be reopened, so the mbox is read on from the same
    descriptor (reopening lost the first line and with it the first message)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f'cat > "{fifo}"'], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(MBOX)
    writer.stdin.close()
    with within(10):
        got = list(sources.read_file(str(fifo)))
    writer.wait(timeout=10)
    assert [m.source for m in got] == ["pipe#0", "pipe#1"]
