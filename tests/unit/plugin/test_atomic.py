"""Atomic replacement: a reader sees the old file or the new one, never a part of either."""

from __future__ import annotations

import os
import threading

import pytest
from mailrep.plugin import atomic
from mailrep.plugin.atomic import write_atomically


def test_the_file_gets_the_text_and_a_mode_others_can_read(tmp_path):
    target = tmp_path / "mailrep_dnsbl.prom"
    write_atomically(str(target), "x 1\n# EOF\n")
    assert target.read_text() == "x 1\n# EOF\n"
    assert target.stat().st_mode & 0o777 == 0o644  # node_exporter runs as another user
    assert os.listdir(tmp_path) == ["mailrep_dnsbl.prom"]


def test_a_private_mode_can_be_asked_for(tmp_path):
    write_atomically(str(tmp_path / "s.json"), "{}", 0o600)
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o600


def test_readers_never_see_a_partial_file(tmp_path):
    target = tmp_path / "m.prom"
    old, new = "a" * 1_000_000, "b" * 1_500_000
    write_atomically(str(target), old)
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(len(target.read_text()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            write_atomically(str(target), new if i % 2 == 0 else old)
    finally:
        stop.set()
        reader.join()
    assert seen <= {len(old), len(new)}


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "m.prom"
    write_atomically(str(target), "old\n")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError):
        write_atomically(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["m.prom"]


def test_a_missing_directory_is_an_oserror(tmp_path):
    with pytest.raises(OSError):
        write_atomically(str(tmp_path / "nope" / "m.prom"), "x\n")


def test_the_temporary_file_is_hidden_from_the_textfile_collector(tmp_path, monkeypatch):
    """node_exporter reads ``*.prom``: the temporary name must not end so."""
    names: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        names.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    write_atomically(str(tmp_path / "m.prom"), "x 1\n")
    assert names and names[0].startswith(".") and not names[0].endswith(".prom")
