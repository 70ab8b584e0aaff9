"""Counted nouns on status lines, and outside text made safe to print."""

from hypothesis import given
from hypothesis import strategies as st
from mailrep.plugin.text import counted, plugin_text, printable, status_text

CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + ["\u2028", "\u2029"]


def test_one_takes_the_singular():
    assert counted(1, "list") == "1 list"


def test_other_counts_take_the_plural():
    assert [counted(n, "list") for n in (0, 2)] == ["0 lists", "2 lists"]


def test_an_irregular_plural_is_given():
    assert counted(2, "cites", "cite") == "2 cite"


def test_line_breaks_in_outside_text_become_spaces():
    assert printable("Listed\r\nsee http://x.test/\n") == "Listed  see http://x.test/ "


def test_escape_sequences_lose_their_escape():
    assert printable("\x1b[31mred\x1b[0m") == "[31mred[0m"


def test_c1_controls_del_and_nul_are_removed():
    assert printable("a\x00b\x7fc\x9bd\x85e") == "abcd e"


def test_printable_text_and_non_ascii_letters_are_kept():
    assert printable("Zürich — ok, 127.0.0.2") == "Zürich — ok, 127.0.0.2"


def test_plugin_text_keeps_the_perfdata_separator_out():
    assert plugin_text("a | b\n") == "a / b "


def test_status_text_has_no_semicolon_nagios_would_rewrite():
    assert status_text("2 bounced; 1 cites psbl") == "2 bounced, 1 cites psbl"


@given(st.text(alphabet=st.sampled_from([*CONTROLS, "a", " ", "|", ";", "é"])))
def test_no_control_character_survives(text):
    out = status_text(text)
    assert not any(c in out for c in CONTROLS) and "|" not in out and ";" not in out
    assert out == status_text(out)  # cleaning twice changes nothing


@given(st.text())
def test_printable_output_is_one_line(text):
    assert len(printable(text + "x").splitlines()) == 1


def test_lone_surrogates_from_undecodable_bytes_become_the_replacement_character():
    from mailrep.plugin.text import printable

    text = printable(b"relay \xff.example".decode("utf-8", "surrogateescape"))
    assert text == "relay \ufffd.example"
    text.encode("utf-8")  # printable output can always be written
