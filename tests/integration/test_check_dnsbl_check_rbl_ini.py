"""check_dnsbl --zones-file on Debian's own check_rbl.ini, unedited, against a real rbldnsd.

The file names 207 zones, 23 of them dead (22 SORBS zones and the CBL). rbldnsd serves every
live one, as a real list would (its RFC 5782 test entry listed); psbl.surriel.com also lists
the address under test. The dead zones are not served at all: were one queried, the run
would show an error for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mailrep.dnsbl.catalogue import load_default

from tests.support.check_rbl_ini import server_names, shipped_text
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import Rbldnsd, RbldnsdError, RbldnsdZone

LISTED_IP = "192.0.2.7"
CLEAN_IP = "192.0.2.1"
DOMAIN = "example.test"


def expected_dead(names: list[str]) -> list[str]:
    """What the issue calls dead: all of SORBS, the CBL, and the catalogue's dead record."""
    record = {name for name, zone in load_default().zones.items() if zone.dead}
    return [n for n in names if n.endswith(".sorbs.net") or n == "cbl.abuseat.org" or n in record]


@pytest.fixture(scope="module")
def ini(tmp_path_factory) -> tuple[str, list[str], list[str]]:
    """A copy of the shipped file, its live zones and its dead ones."""
    text = shipped_text()
    path = tmp_path_factory.mktemp("check_rbl") / "check_rbl.ini"
    path.write_text(text)
    names = server_names(text)
    dead = expected_dead(names)
    return str(path), [n for n in names if n not in dead], dead


@pytest.fixture(scope="module")
def lists(ini) -> Iterator[Rbldnsd]:
    _path, live, _dead = ini
    catalogue = load_default()
    zones = []
    for name in live:
        if catalogue.get(name).is_domain_list:
            zones.append(RbldnsdZone(name, "dnset", [":127.0.0.2:", "test"]))
        else:
            entries = ["127.0.0.2", *([LISTED_IP] if name == "psbl.surriel.com" else [])]
            zones.append(RbldnsdZone(name, "ip4set", [":127.0.0.2:Listed", *entries]))
    server = Rbldnsd(zones)
    try:
        server.start()
    except RbldnsdError as exc:
        server.stop()
        pytest.fail(str(exc))
    yield server
    server.stop()


def check(lists: Rbldnsd, ini_path: str, *args: str):
    return run_plugin(
        "check_dnsbl",
        "-n",
        lists.nameserver,
        "--allow-nonglobal",
        "--zones-file",
        ini_path,
        "-d",
        DOMAIN,
        *args,
        timeout=90,
    )


def test_the_shipped_file_names_23_dead_lists(ini):
    _path, live, dead = ini
    assert len(dead) == 23 and len(live) == 184


def test_every_live_list_of_the_shipped_file_is_checked_and_none_fails(lists, ini):
    path, live, _dead = ini
    r = check(lists, path, "-H", LISTED_IP, "--format", "json")
    checked = {x["zone"] for x in r.json["results"]}
    assert checked == set(live)
    assert [x for x in r.json["results"] if x["status"] == "error"] == []


def test_the_live_lists_decide_the_state_a_listing_is_critical(lists, ini):
    r = check(lists, ini[0], "-H", LISTED_IP)
    assert r.code == 2, r.stdout
    assert "psbl.surriel.com" in r.status


def test_the_live_lists_decide_the_state_a_clean_address_is_ok(lists, ini):
    r = check(lists, ini[0], "-H", CLEAN_IP)
    assert r.code == 0, r.stdout


def test_the_dead_lists_are_named_once_in_the_long_output(lists, ini):
    path, _live, dead = ini
    r = check(lists, path, "-H", CLEAN_IP)
    skipped = [line for line in r.lines[1:] if line.startswith("skipped ")]
    assert len(skipped) == 1 and skipped[0].startswith("skipped 23 dead lists: ")
    named = skipped[0].removeprefix("skipped 23 dead lists: ").split(" — ")[0].split(", ")
    assert named == dead  # each once, in the file's order
    assert not [line for line in r.lines if "sorbs.net" in line and line != skipped[0]]
    assert "SORBS was shut down on 2024-06-05 (22)" in skipped[0]


def test_a_dead_list_given_with_z_is_still_unknown_even_beside_the_file(lists, ini):
    r = check(lists, ini[0], "-H", CLEAN_IP, "-z", "cbl.abuseat.org")
    assert r.code == 3 and "cbl.abuseat.org is a dead list" in r.status
