"""Local mailbox sources: one file or stdin, a directory, Maildir and mbox, read-only."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from mailrep.mail import sources
from mailrep.mail.sources import Message, SourceError

STAMP = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def message(subject: str, date: str = "Tue, 03 Mar 2026 10:00:00 +0100") -> bytes:
    return (
        f"From: a@example.org\nTo: b@example.org\nSubject: {subject}\nDate: {date}\n\n"
        f"body of {subject}\n"
    ).encode()


def set_mtime(path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def snapshot(root) -> dict[str, tuple[bytes, float]]:
    """Every file under root with its content and mtime: what a reader must not change."""
    found = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = (handle.read(), os.stat(path).st_mtime)
    return found


# -- one file ---------------------------------------------------------------------------


def test_file_yields_its_bytes_unchanged(tmp_path):
    path = tmp_path / "bounce.eml"
    path.write_bytes(message("one"))
    [got] = sources.read_file(str(path))
    assert got.raw == message("one")
    assert got.source == "bounce.eml"


def test_file_arrival_is_its_mtime(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(message("one"))
    set_mtime(path, STAMP)
    [got] = sources.read_file(str(path))
    assert got.arrived == STAMP


def test_stdin_arrival_is_the_date_header(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(message("in"))))
    [got] = sources.read_file("-")
    assert got.source == "stdin"
    assert got.arrived == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_stdin_without_date_has_no_arrival(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Subject: x\n\nbody\n")))
    [got] = sources.read_file("-")
    assert got.arrived is None


def test_missing_file_is_a_source_error_naming_it(tmp_path):
    with pytest.raises(SourceError, match=r"absent\.eml"):
        list(sources.read_file(str(tmp_path / "absent.eml")))


def test_source_error_is_reported_as_unknown_by_the_plugins():
    from mailrep.errors import CannotJudge

    assert issubclass(SourceError, CannotJudge)


# -- a directory ------------------------------------------------------------------------


def test_directory_yields_regular_files_in_name_order(tmp_path):
    for name in ("b.eml", "a.eml", "c.txt"):
        (tmp_path / name).write_bytes(message(name))
    assert [m.source for m in sources.read_dir(str(tmp_path))] == ["a.eml", "b.eml", "c.txt"]


def test_directory_skips_hidden_files_and_subdirectories(tmp_path):
    (tmp_path / ".hidden").write_bytes(message("h"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.eml").write_bytes(message("x"))
    (tmp_path / "m.eml").write_bytes(message("m"))
    assert [m.source for m in sources.read_dir(str(tmp_path))] == ["m.eml"]


def test_missing_directory_is_a_source_error(tmp_path):
    with pytest.raises(SourceError):
        list(sources.read_dir(str(tmp_path / "nope")))


# -- Maildir ----------------------------------------------------------------------------


@pytest.fixture
def maildir(tmp_path):
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1000.A.host").write_bytes(message("new one"))
    (root / "cur" / "900.B.host:2,S").write_bytes(message("seen one"))
    (root / "cur" / "950.C.host:2,RS").write_bytes(message("answered one"))
    (root / "tmp" / "999.D.host").write_bytes(message("half written"))
    set_mtime(root / "cur" / "900.B.host:2,S", STAMP)
    set_mtime(root / "cur" / "950.C.host:2,RS", STAMP + timedelta(hours=1))
    set_mtime(root / "new" / "1000.A.host", STAMP + timedelta(hours=2))
    return root


def test_maildir_reads_new_and_cur_but_not_tmp(maildir):
    subjects = {
        m.raw.split(b"Subject: ")[1].split(b"\n")[0] for m in sources.read_maildir(str(maildir))
    }
    assert subjects == {b"new one", b"seen one", b"answered one"}


def test_maildir_yields_oldest_first_with_mtime_as_arrival(maildir):
    got = list(sources.read_maildir(str(maildir)))
    assert [m.arrived for m in got] == [STAMP + timedelta(hours=h) for h in (0, 1, 2)]


def test_maildir_source_is_the_key_without_flags(maildir):
    assert [m.source for m in sources.read_maildir(str(maildir))] == [
        "900.B.host",
        "950.C.host",
        "1000.A.host",
    ]


def test_maildir_read_changes_nothing(maildir):
    before = snapshot(maildir)
    list(sources.read_maildir(str(maildir)))
    assert snapshot(maildir) == before


def test_directory_that_is_a_maildir_is_read_as_one(maildir):
    assert len(list(sources.read_dir(str(maildir)))) == 3


def test_not_a_maildir_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not a Maildir"):
        list(sources.read_maildir(str(tmp_path)))


# -- mbox -------------------------------------------------------------------------------


@pytest.fixture
def mbox(tmp_path):
    path = tmp_path / "bounces.mbox"
    path.write_bytes(
        b"From MAILER-DAEMON Wed Mar  4 05:06:07 2026\n"
        + message("first")
        + b"\n"
        + b"From someone@example.org Thu Mar  5 06:00:00 2026\n"
        + message("second")
        + b"\n"
    )
    return path


def test_mbox_yields_every_message_without_the_from_line(mbox):
    got = list(sources.read_mbox(str(mbox)))
    assert len(got) == 2
    assert got[0].raw.startswith(b"From: a@example.org")
    assert b"Subject: second" in got[1].raw


def test_mbox_arrival_comes_from_the_from_line(mbox):
    got = list(sources.read_mbox(str(mbox)))
    assert [m.arrived for m in got] == [STAMP, datetime(2026, 3, 5, 6, 0, tzinfo=UTC)]


def test_mbox_source_names_file_and_index(mbox):
    assert [m.source for m in sources.read_mbox(str(mbox))] == ["bounces.mbox#0", "bounces.mbox#1"]


def test_mbox_read_changes_nothing_and_leaves_no_lock(mbox):
    before = snapshot(mbox.parent)
    list(sources.read_mbox(str(mbox)))
    assert snapshot(mbox.parent) == before


def test_missing_mbox_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="absent"):
        list(sources.read_mbox(str(tmp_path / "absent")))


def test_from_line_without_a_date_falls_back_to_date_header(tmp_path):
    path = tmp_path / "m.mbox"
    path.write_bytes(b"From nobody\n" + message("x"))
    [got] = sources.read_mbox(str(path))
    assert got.arrived == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


# -- a file or standard input that holds an mbox ------------------------------------------


def test_file_starting_with_a_from_line_is_read_as_the_mbox_it_is(mbox, tmp_path):
    saved = tmp_path / "saved.eml"
    saved.write_bytes(mbox.read_bytes())
    got = list(sources.read_file(str(saved)))
    assert [(m.source, m.arrived) for m in got] == [
        ("saved.eml#0", STAMP),
        ("saved.eml#1", datetime(2026, 3, 5, 6, 0, tzinfo=UTC)),
    ]


def test_stdin_holding_an_mbox_yields_every_message(monkeypatch, mbox):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(mbox.read_bytes())))
    got = list(sources.read_file("-"))
    assert [(m.source, m.arrived) for m in got] == [
        ("stdin#0", STAMP),
        ("stdin#1", datetime(2026, 3, 5, 6, 0, tzinfo=UTC)),
    ]


def test_stdin_mbox_messages_are_the_bytes_the_mbox_reader_gives(monkeypatch, mbox):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(mbox.read_bytes())))
    assert [m.raw for m in sources.read_file("-")] == [m.raw for m in sources.read_mbox(str(mbox))]


def test_directory_entry_holding_an_mbox_yields_its_messages(mbox, tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "a.eml").write_bytes(message("alone"))
    (folder / "b.eml").write_bytes(mbox.read_bytes())
    assert [m.source for m in sources.read_dir(str(folder))] == ["a.eml", "b.eml#0", "b.eml#1"]


# -- the window -------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2w", timedelta(weeks=2)),
        (" 1.5h ", timedelta(minutes=90)),
        ("12H", timedelta(hours=12)),
    ],
)
def test_since_durations_count_back_from_now(text, delta):
    assert sources.parse_since(text, now=NOW) == NOW - delta


def test_since_all_means_no_window():
    assert sources.parse_since("all") is None


def test_since_is_aware_without_a_given_now():
    assert sources.parse_since("1h").tzinfo is not None


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "yesterday", "24 hours", "1y"])
def test_since_rejects_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        sources.parse_since(text)


@pytest.mark.parametrize("text", ["99999999999d", "9" * 400 + "w", "3000000000w"])
def test_since_longer_than_the_calendar_is_refused_not_an_overflow(text):
    with pytest.raises(ValueError, match="before any date"):
        sources.parse_since(text, now=NOW)


def test_message_is_immutable():
    m = Message("x", None, b"")
    with pytest.raises(AttributeError):
        m.raw = b"changed"  # type: ignore[misc]
