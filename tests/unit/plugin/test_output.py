"""The output path every plugin shares: the rules a consumer relies on, enforced once."""

import json
import re

from hypothesis import given
from hypothesis import strategies as st
from mailrep import __version__
from mailrep.plugin.output import bounded, check_time, json_text, nagios_text, status_line

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def test_status_line_keeps_perfdata_semicolons_and_drops_the_summarys():
    line = status_line("DNSBL", 2, "a listed; b listed", ["listed=2;;0;0"])
    assert line == "DNSBL CRITICAL - a listed, b listed | listed=2;;0;0"


@given(st.text(), st.lists(st.from_regex(r"\A[a-z]+=[0-9]+;;0;0\Z")))
def test_no_semicolon_or_control_character_before_the_perfdata(summary, perfdata):
    text = nagios_text("DNSBL", 1, summary, perfdata, ["detail\r\nline"])
    first = text.split("\n")[0]
    before = first.split(" | ")[0] if perfdata else first
    assert ";" not in before and not CONTROL.search(before)
    assert len(text.rstrip("\n").split("\n")) == 2  # the detail's CR LF forged no line


def test_a_txt_record_with_a_newline_does_not_forge_a_status_line():
    text = nagios_text("DNSBL", 0, "ok", [], ['LISTED: x TXT "a\nDNSBL OK - fine"'])
    assert text.splitlines() == ["DNSBL OK - ok", 'LISTED: x TXT "a DNSBL OK - fine"']


def test_long_output_is_bounded_at_8_kib_without_verbose():
    details = [f"ERROR: zone{i}.example: timeout for 192.0.2.{i % 256}" for i in range(2000)]
    text = nagios_text("DNSBL", 1, "errors", [], details, verbose=0)
    assert len(text.encode()) <= 8 * 1024
    assert text.splitlines()[-1].endswith("more lines left out (-v shows more)")


def test_long_output_is_bounded_at_64_kib_at_v1_and_whole_at_vv():
    details = ["x" * 99] * 2000
    assert len(nagios_text("X", 0, "s", [], details, verbose=1).encode()) <= 64 * 1024
    assert len(nagios_text("X", 0, "s", [], details, verbose=2).splitlines()) == 2001


def test_output_within_the_bound_is_untouched():
    lines = ["X OK - s", "a", "b"]
    assert bounded(lines, 8192) == lines


def test_json_envelope_carries_version_and_time():
    doc = json.loads(json_text("DNSBL", 0, "ok", checked_at=check_time(0)))
    assert doc["version"] == __version__ and doc["time"] == "1970-01-01T00:00:00Z"
    assert ISO_UTC.match(check_time())


def test_json_envelope_wins_over_a_plugin_key_of_the_same_name():
    doc = json.loads(json_text("X", 1, "s", checked_at="t", extra={"state": "OK", "own": 1}))
    assert doc["state"] == "WARNING" and doc["own"] == 1


def test_json_strings_lose_control_characters_everywhere():
    extra = {"results": [{"txt": ["a\x1b[2Jb\r\n"]}], "k\n": "v"}
    doc = json.loads(json_text("X", 0, "s;\x07", checked_at="t", details=["d\x00"], extra=extra))
    assert doc["results"][0]["txt"] == ["a[2Jb  "] and "k " in doc
    assert doc["summary"] == "s," and doc["details"] == ["d"]
