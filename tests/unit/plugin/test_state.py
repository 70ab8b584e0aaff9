"""The state file: its name, its place, and updates that survive damage and concurrency."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
from pathlib import Path

import check_bounce_rate
import check_dnsbl
import check_relay_chain
import pytest
from mailrep.plugin import history, state
from mailrep.plugin.history import LISTED, Sighting

T0 = 1_800_000_000.0


def merger(*sightings, state_code=2, now=T0):
    return lambda doc: history.merge(doc, sightings, False, state_code, now)


# --- identity -------------------------------------------------------------------------------


def parsed(module, *argv):
    return vars(module.build_parser().parse_args(list(argv)))


@pytest.mark.parametrize("module", [check_dnsbl, check_relay_chain, check_bounce_rate])
def test_identity_ignores_how_a_check_is_run_and_shown(module):
    base = ["--file", "m.eml"] if module is not check_dnsbl else ["-H", "192.0.2.7"]
    ident = state.identity(module.__name__, parsed(module, *base))
    shown = ["-vv", "-t", "5", "--format", "json", "-n", "127.0.0.1:5353", "--state-dir", "/x"]
    assert state.identity(module.__name__, parsed(module, *base, *shown)) == ident


def test_identity_differs_for_what_is_checked_and_how_it_is_judged():
    one = state.identity("check_dnsbl", parsed(check_dnsbl, "-H", "192.0.2.7"))
    assert one != state.identity("check_dnsbl", parsed(check_dnsbl, "-H", "192.0.2.8"))
    assert one != state.identity("check_dnsbl", parsed(check_dnsbl, "-H", "192.0.2.7", "-c", "3"))
    assert one != state.identity("check_relay_chain", parsed(check_dnsbl, "-H", "192.0.2.7"))


def test_secrets_never_reach_the_identity():
    with_key = parsed(check_dnsbl, "-H", "192.0.2.7", "--dqs-key", "sekrit")
    assert state.identity("check_dnsbl", with_key) == state.identity(
        "check_dnsbl", parsed(check_dnsbl, "-H", "192.0.2.7")
    )


def test_the_identity_is_the_same_in_another_process():
    argv = ["-H", "192.0.2.7", "-z", "psbl.surriel.com"]
    here = state.identity("check_dnsbl", parsed(check_dnsbl, *argv))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_identity_elsewhere, (argv,)) == here


def _identity_elsewhere(argv):
    import check_dnsbl as again

    return state.identity("check_dnsbl", vars(again.build_parser().parse_args(argv)))


# --- where ------------------------------------------------------------------------------------


def test_xdg_state_home_wins_when_set(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path), "HOME": "/home/u"}
    assert state.default_dir(env, str(tmp_path / "sys")) == str(tmp_path / "mailrep")


def test_the_system_directory_when_writable(tmp_path):
    (tmp_path / "lib").mkdir()
    assert state.default_dir({"HOME": "/home/u"}, str(tmp_path / "lib" / "mailrep")).endswith(
        "lib/mailrep"
    )


def test_home_when_the_system_directory_cannot_be_made(tmp_path):
    (tmp_path / "file").write_text("")
    system = str(tmp_path / "file" / "mailrep")  # parent is a file: never writable
    assert state.default_dir({"HOME": "/home/u"}, system) == "/home/u/.local/state/mailrep"


def test_no_directory_under_a_clean_environment(tmp_path):
    (tmp_path / "file").write_text("")
    assert state.default_dir({}, str(tmp_path / "file" / "mailrep")) is None


def test_relative_variables_are_ignored(tmp_path):
    (tmp_path / "file").write_text("")
    env = {"XDG_STATE_HOME": "rel", "HOME": "rel2"}
    assert state.default_dir(env, str(tmp_path / "file" / "m")) is None


# --- update -----------------------------------------------------------------------------------


def test_a_missing_file_is_a_first_run_and_is_created(tmp_path):
    path = str(tmp_path / "d" / "s.json")
    done = state.update(path, merger(Sighting("192.0.2.7", "z", LISTED)))
    assert done.saved and done.first and done.notes == []
    assert json.loads(Path(path).read_text())["entries"][0]["subject"] == "192.0.2.7"
    assert Path(path).stat().st_mode & 0o777 == 0o600


def test_a_second_update_finds_the_first(tmp_path):
    path = str(tmp_path / "s.json")
    state.update(path, merger(Sighting("192.0.2.7", "z", LISTED)))
    done = state.update(path, merger(Sighting("192.0.2.7", "z", LISTED), now=T0 + 60))
    assert done.notes == [] and done.result.active["192.0.2.7 z"].since == T0


@pytest.mark.parametrize("garbage", [b"{not json", b"\xff\xfe", b'{"format": "other"}', b"[]"])
def test_a_corrupt_file_is_replaced_and_noted(tmp_path, garbage):
    path = tmp_path / "s.json"
    path.write_bytes(garbage)
    done = state.update(str(path), merger(Sighting("192.0.2.7", "z", LISTED)))
    assert done.saved and "started afresh" in done.notes[0]
    assert history.parse(json.loads(path.read_text()))[0]


def test_an_unreadable_file_is_left_alone_and_noted(tmp_path):
    path = tmp_path / "s.json"
    path.mkdir()  # reading a directory fails even for root
    done = state.update(str(path), merger())
    assert (done.result, done.saved) == (None, False)
    assert "cannot read" in done.notes[0]


def test_an_unwritable_directory_is_noted(tmp_path):
    (tmp_path / "file").write_text("")
    done = state.update(str(tmp_path / "file" / "s.json"), merger(Sighting("a", "z", LISTED)))
    assert not done.saved and done.result is not None
    assert any("not updated" in n for n in done.notes)


def test_a_held_lock_is_waited_for_then_noted(tmp_path):
    path = tmp_path / "s.json"
    state.update(str(path), merger())
    before = path.read_text()
    with open(f"{path}.lock", "a") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        done = state.update(str(path), merger(Sighting("a", "z", LISTED)), wait=0.2)
    assert not done.saved and "busy" in done.notes[-1]
    assert path.read_text() == before


def _add_one(path: str, n: int, start) -> bool:
    start.wait()
    return state.update(path, merger(Sighting(f"198.51.100.{n}", "z", LISTED), now=T0 + n)).saved


def test_concurrent_updates_lose_nothing(tmp_path):
    """Eight processes update one file at once; each adds its own listing. With the lock
    every one is merged in; without it the last writer would drop the others."""
    path = str(tmp_path / "s.json")
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        start = manager.Barrier(8)
        with ctx.Pool(8) as pool:
            saved = pool.starmap(_add_one, [(path, n, start) for n in range(8)])
    assert all(saved)
    entries, _ = history.parse(json.loads(Path(path).read_text()))
    assert sorted(e.subject for e in entries.values()) == [f"198.51.100.{n}" for n in range(8)]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert os.path.exists(path + ".lock")
