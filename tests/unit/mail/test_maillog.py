"""Where mail log lines come from: a file and its rotations, compressed or not, and the
journal; and what a log that cannot be read says."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mailrep.errors import CannotJudge
from mailrep.mail.logs import open_log
from mailrep.mail.maillog import SyslogClock, journal_command, read_files, read_journal, rotations

NOW = datetime(2026, 11, 28, 15, 0, 0, tzinfo=UTC)


def aged(path: Path, text: str | bytes, days_old: float) -> Path:
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    stamp = time.time() - days_old * 86400
    os.utime(path, (stamp, stamp))
    return path


def test_rotations_the_window_reaches_are_read_oldest_first(tmp_path):
    log = aged(tmp_path / "mail.log", "now\n", 0)
    aged(tmp_path / "mail.log.1", "yesterday\n", 1)
    aged(tmp_path / "mail.log.2.gz", gzip.compress(b"two days ago\n"), 2)
    aged(tmp_path / "mail.log.3.gz", gzip.compress(b"a week ago\n"), 7)
    since = datetime.now(UTC) - timedelta(days=3)
    assert rotations(str(log), since) == [f"{log}.2.gz", f"{log}.1", str(log)]
    assert list(read_files(rotations(str(log), since))) == [
        "two days ago\n",
        "yesterday\n",
        "now\n",
    ]


def test_without_a_window_every_rotation_is_read(tmp_path):
    log = aged(tmp_path / "mail.log", "", 0)
    aged(tmp_path / "mail.log.1.bz2", bz2.compress(b"b\n"), 30)
    aged(tmp_path / "mail.log.2.xz", lzma.compress(b"x\n"), 60)
    assert list(read_files(rotations(str(log), None))) == ["x\n", "b\n"]


def test_a_gap_in_the_rotation_numbers_ends_the_search(tmp_path):
    log = aged(tmp_path / "mail.log", "", 0)
    aged(tmp_path / "mail.log.2", "", 1)
    assert rotations(str(log), None) == [str(log)]


def test_a_missing_log_names_its_path_and_the_reason(tmp_path):
    missing = tmp_path / "nope.log"
    with pytest.raises(CannotJudge, match=f"cannot read the Postfix log {missing}: No such file"):
        list(read_files([str(missing)], "Postfix log"))


def test_an_unreadable_log_names_its_path_and_the_reason(tmp_path):
    log = aged(tmp_path / "mail.log", "x\n", 0)
    log.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make it a directory instead
        log.unlink()
        log.mkdir()
    with pytest.raises(CannotJudge, match=f"cannot read the log {log}: "):
        list(read_files([str(log)]))


def test_a_broken_compressed_rotation_is_an_error_not_an_empty_log(tmp_path):
    log = aged(tmp_path / "mail.log", "now\n", 0)
    aged(tmp_path / "mail.log.1.gz", gzip.compress(os.urandom(5000))[:2000], 1)
    with pytest.raises(CannotJudge, match=r"mail\.log\.1\.gz"):
        list(read_files(rotations(str(log), None)))


def test_syslog_stamps_in_the_future_belong_to_last_year():
    clock = SyslogClock(NOW)
    assert clock.read("Dec 31 23:59:00") == datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    assert clock.read("Nov 28 15:00:30") == datetime(2026, 11, 28, 15, 0, 30, tzinfo=UTC)
    assert clock.read("Feb 30 10:00:00") is None


def test_the_journal_is_asked_for_the_postfix_units_in_the_window():
    cmd = journal_command(NOW - timedelta(hours=1))
    assert cmd[1:] == [
        "--no-pager", "--quiet", "--output", "short-iso-precise",
        "--unit", "postfix.service", "--unit", "postfix@*.service",
        "--since", f"@{int((NOW - timedelta(hours=1)).timestamp())}",
    ]  # fmt: skip


def fake_journalctl(tmp_path: Path, monkeypatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "journalctl"
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return tool


def test_journal_lines_are_read_as_a_postfix_log(tmp_path, monkeypatch):
    line = (
        "2026-11-28T14:30:00.000001+0000 mx postfix/smtp[7]: AB12C: to=<bob@example.net>, "
        "relay=mx.example.net[203.0.113.5]:25, delay=1, dsn=2.0.0, status=sent (250 ok)"
    )
    fake_journalctl(tmp_path, monkeypatch, f"printf '%s\\n' '{line}'\n")
    log = open_log("postfix", "journal", None, now=NOW)
    [ev] = list(log.events)
    assert (log.label, ev.status, ev.recipient) == (
        "Postfix journal (journalctl)",
        "sent",
        "bob@example.net",
    )


def test_a_failing_journalctl_is_unknown_with_what_it_said(tmp_path, monkeypatch):
    fake_journalctl(tmp_path, monkeypatch, "echo 'Failed to open journal: denied' >&2\nexit 1\n")
    with pytest.raises(CannotJudge, match="journalctl failed \\(1\\): Failed to open journal"):
        list(read_journal(None))


def test_a_journalctl_past_the_deadline_is_stopped(tmp_path, monkeypatch):
    fake_journalctl(tmp_path, monkeypatch, "while :; do echo line; sleep 0.05; done\n")
    started = time.monotonic()
    with pytest.raises(CannotJudge, match="did not finish"):
        list(read_journal(None, deadline=time.monotonic() + 0.5))
    assert time.monotonic() - started < 5
