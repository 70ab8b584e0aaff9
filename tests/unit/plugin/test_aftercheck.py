"""Between judging and printing: what --only-changes, the history and the formats add."""

from __future__ import annotations

import argparse

import pytest
from mailrep.plugin import aftercheck, delivery
from mailrep.plugin.facts import Facts
from mailrep.plugin.history import CLEAN, LISTED, Sighting
from mailrep.plugin.openmetrics import gauge
from mailrep.plugin.state_options import check_usage

from tests.support.metrics import valid_exposition, value

IP, ZONE = "192.0.2.7", "psbl.surriel.com"


def args(tmp_path, **kw) -> argparse.Namespace:
    base = {"state_dir": str(tmp_path), "only_changes": False, "format": "nagios", "output": None}
    return argparse.Namespace(host=[IP], **{**base, **kw})


def facts(*sightings: Sighting) -> Facts:
    return Facts(list(sightings), False, lambda since: [gauge("mailrep_test", "T.", len(since))])


def finish(a, code, f, extra=None, fmt="nagios"):
    return aftercheck.finish("check_dnsbl", a, code, lambda: f, extra or {}, fmt=fmt, wait=0.5)


def test_only_changes_is_quiet_when_nothing_changed(tmp_path):
    a = args(tmp_path, only_changes=True)
    assert not finish(a, 2, facts(Sighting(IP, ZONE, LISTED))).silent  # first run, CRITICAL
    assert finish(a, 2, facts(Sighting(IP, ZONE, LISTED))).silent
    assert not finish(a, 0, facts(Sighting(IP, ZONE, CLEAN))).silent  # delisted: news
    assert finish(a, 0, facts(Sighting(IP, ZONE, CLEAN))).silent


def test_only_changes_speaks_when_the_state_cannot_be_kept(tmp_path):
    (tmp_path / "file").write_text("")
    a = args(tmp_path / "file", only_changes=True)
    done = finish(a, 0, facts())
    assert not done.silent
    assert any("not updated" in line for line in done.lines)


def test_without_only_changes_nothing_is_silent(tmp_path):
    a = args(tmp_path)
    finish(a, 0, facts())
    assert not finish(a, 0, facts()).silent


def test_a_failing_facts_callable_costs_only_a_note(tmp_path):
    def broken() -> Facts:
        raise RuntimeError("boom")

    done = aftercheck.finish("check_dnsbl", args(tmp_path), 2, broken, {}, fmt="nagios", wait=0)
    assert any("not remembered" in line and "boom" in line for line in done.lines)


def test_json_results_get_listed_since(tmp_path):
    extra = {"results": [{"address": IP, "zone": ZONE}, {"address": "192.0.2.1", "zone": ZONE}]}
    done = finish(args(tmp_path), 2, facts(Sighting(IP, ZONE, LISTED)), extra)
    first, second = done.extra["results"]
    assert first["listed_since"].endswith("Z") and second["listed_since"] is None
    assert done.extra["history"]["listings"][0]["listed_since"] == first["listed_since"]


def test_relay_hops_and_bounce_citations_are_annotated_too(tmp_path):
    extra = {
        "hops": [{"ip": IP, "blocklists": [{"zone": ZONE}]}, {"ip": None, "blocklists": []}],
        "citations": [{"zone": ZONE, "ip": IP}],
    }
    done = finish(args(tmp_path), 2, facts(Sighting(IP, ZONE, LISTED)), extra)
    assert done.extra["hops"][0]["blocklists"][0]["listed_since"]
    assert done.extra["citations"][0]["bouncing_since"]


def test_no_state_directory_is_a_note(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    system = str(tmp_path / "file" / "mailrep")
    monkeypatch.setattr(aftercheck.state, "SYSTEM_DIR", system)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    done = finish(args(tmp_path, state_dir=None), 2, facts(Sighting(IP, ZONE, LISTED)))
    assert done.lines == [
        f"state: not kept: no state directory ({system} is not writable and neither "
        "XDG_STATE_HOME nor HOME is set): give --state-dir"
    ]
    assert done.extra["history"]["saved"] is False


def test_the_exposition_has_the_state_and_the_plugins_families(tmp_path):
    done = finish(args(tmp_path), 1, facts(Sighting(IP, ZONE, LISTED)), fmt="openmetrics")
    fams = valid_exposition(done.exposition)
    assert value(fams, "mailrep_check_state", plugin="check_dnsbl") == 1
    assert value(fams, "mailrep_test") == 1  # the plugin's families saw the history
    assert value(fams, "mailrep_state_saved") == 1


def test_a_run_without_a_command_line_still_has_an_exposition():
    done = aftercheck.finish("check_dnsbl", None, 3, None, {}, fmt="openmetrics", wait=0)
    assert value(valid_exposition(done.exposition), "mailrep_check_state") == 3
    assert done.extra["history"] is None


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"only_changes": True, "format": "openmetrics"}, "--format openmetrics"),
        ({"only_changes": True, "output": "/x.prom"}, "--output"),
        ({"only_changes": True, "format": "json"}, ""),
        ({"format": "openmetrics", "output": "/x.prom"}, ""),
    ],
)
def test_only_changes_is_for_cron_mail_only(tmp_path, kw, problem):
    found = check_usage(args(tmp_path, **kw))
    assert (problem in found) if problem else found == ""
    assert bool(found) is bool(problem)


@pytest.mark.parametrize(
    ("argv", "fmt"),
    [
        (["--format", "openmetrics"], "openmetrics"),
        (["--format=json", "-H"], "json"),
        (["-H", "x", "--format"], "nagios"),
        (["--format", "xml"], "nagios"),
    ],
)
def test_the_format_of_a_bad_command_line_is_found(argv, fmt):
    assert delivery.wanted_format(argv) == fmt


def test_a_failing_family_builder_still_gives_an_exposition_with_the_state(tmp_path):
    def broken(_since):
        raise RuntimeError("boom")

    done = finish(args(tmp_path), 2, Facts([], False, broken), fmt="openmetrics")
    assert value(valid_exposition(done.exposition), "mailrep_check_state") == 2
    assert any("exposition: only the state" in line for line in done.lines)


def test_bounce_entries_in_the_history_say_bouncing_since(tmp_path):
    cited = Facts([Sighting(IP, ZONE, "cited")], True, lambda since: [])
    done = finish(args(tmp_path), 1, cited)
    (entry,) = done.extra["history"]["listings"]
    assert "bouncing_since" in entry and "listed_since" not in entry


def test_the_first_run_note_comes_only_with_something_to_date(tmp_path):
    quiet = finish(args(tmp_path / "a"), 0, facts(Sighting(IP, ZONE, CLEAN)))
    assert not any(line.startswith("state:") for line in quiet.lines)
    listed = finish(args(tmp_path / "b"), 2, facts(Sighting(IP, ZONE, LISTED)))
    assert listed.lines[-1].startswith("state: no earlier state in ")
