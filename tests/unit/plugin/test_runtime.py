"""The runtime's contract, in-process: what a usage error and a failed run print."""

from __future__ import annotations

import json

import check_dnsbl
import check_relay_chain
import nagiosplugin
import pytest
from mailrep import __version__
from mailrep.errors import CannotJudge
from mailrep.plugin.runtime import Outcome, PluginParser, add_common_options, run


def run_main(main, argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code), capsys.readouterr().out


@pytest.mark.parametrize("value", ["x", "1:2:3", "10:5", "abc:"])
def test_a_bad_range_says_what_a_nagios_range_looks_like(capsys, value):
    code, out = run_main(check_dnsbl.main, ["-H", "192.0.2.1", "-c", value], capsys)
    first = out.splitlines()[0]
    assert code == 3 and first.startswith("DNSBL UNKNOWN - usage error: argument -c/--critical")
    for form in ("10 (", "10: (", "~:10 (", "10:20 (", "@10:20 ("):
        assert form in first
    assert "invalid literal" not in out and "unpack" not in out


@pytest.mark.parametrize("option", ["--listed-critical", "--errors-warning", "-w"])
def test_every_range_option_of_check_relay_chain_explains_a_bad_range(capsys, option):
    code, out = run_main(check_relay_chain.main, ["--file", "-", option, "1:x"], capsys)
    assert code == 3 and "a range looks like 10" in out and "invalid literal" not in out


def test_a_usage_error_in_json_has_the_envelope_and_check_dnsbls_keys(capsys):
    code, out = run_main(check_dnsbl.main, ["--format", "json", "--bogus"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["state"] == "UNKNOWN" and doc["version"] == __version__
    assert doc["time"].endswith("Z") and "T" in doc["time"]
    for key in ("results", "zones", "targets", "notes"):
        assert doc[key] == []


def test_a_usage_error_in_json_has_check_relay_chains_keys(capsys):
    code, out = run_main(check_relay_chain.main, ["--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["hops"] == [] and doc["zones"] == [] and "entry_hop" in doc


class _Fails(nagiosplugin.Resource):
    def probe(self):
        raise CannotJudge("the mailbox is gone\r\nDNSBL OK - forged")


def _parser() -> PluginParser:
    parser = PluginParser(prog="check_x")
    add_common_options(parser, default_timeout=5)
    return parser


def test_a_run_that_fails_after_building_keeps_what_its_outcome_knows(capsys):
    def build(_args, _ctx):
        return Outcome(nagiosplugin.Check(_Fails()), lambda: {"hops": [{"hop": 1}]})

    with pytest.raises(SystemExit):
        run("X", _parser(), build, ["--format", "json"], json_defaults=lambda: {"hops": [], "n": 0})
    doc = json.loads(capsys.readouterr().out)
    assert doc["hops"] == [{"hop": 1}] and doc["n"] == 0
    assert doc["summary"] == "the mailbox is gone  DNSBL OK - forged"


def test_a_failure_message_with_a_line_break_stays_one_status_line(capsys):
    def build(_args, _ctx):
        return Outcome(nagiosplugin.Check(_Fails()))

    with pytest.raises(SystemExit) as done:
        run("X", _parser(), build, [])
    out = capsys.readouterr().out
    assert done.value.code == 3
    assert out == "X UNKNOWN - the mailbox is gone  DNSBL OK - forged\n"


def test_list_zones_prints_a_users_catalogue_without_control_characters(capsys, tmp_path):
    catalogue = tmp_path / "zones.toml"
    catalogue.write_text(
        '[[zone]]\nname = "own.example.test"\ndescription = "own\\u001b[2J list\\r\\nforged"\n'
    )
    code, out = run_main(check_dnsbl.main, ["--zones-file", str(catalogue), "--list-zones"], capsys)
    [line] = [x for x in out.splitlines() if "own.example.test" in x]
    assert code == 0 and line.endswith("own[2J list  forged") and "\x1b" not in out


def test_check_bounce_rates_json_carries_the_envelope_too(capsys):
    import check_bounce_rate

    code, out = run_main(check_bounce_rate.main, ["--format", "json", "--bogus"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["plugin"] == "BOUNCES" and doc["version"] == __version__
    assert doc["time"].endswith("Z")
