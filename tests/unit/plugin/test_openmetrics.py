"""The exposition writer: valid OpenMetrics and Prometheus text for any label value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.plugin.openmetrics import MAX_LABEL_VALUE, Family, Sample, gauge, label_value, render

from tests.support.metrics import openmetrics, promtool_check, valid_exposition


def test_each_family_has_help_and_type_and_the_text_ends_with_eof():
    text = render([gauge("mailrep_x", "An x.", 3)])
    assert text.splitlines() == [
        "# HELP mailrep_x An x.",
        "# TYPE mailrep_x gauge",
        "mailrep_x 3",
        "# EOF",
    ]
    assert text.endswith("# EOF\n")


def test_a_unit_gets_a_unit_line():
    text = render([gauge("mailrep_t_seconds", "A time.", 0.25, "seconds")])
    assert "# UNIT mailrep_t_seconds seconds" in text.splitlines()
    assert openmetrics(text)["mailrep_t_seconds"][0].value == 0.25


def test_families_without_samples_are_left_out():
    text = render([Family("mailrep_empty", "Nothing.", []), gauge("mailrep_one", "One.", 1)])
    assert "mailrep_empty" not in text
    valid_exposition(text)


def test_common_labels_come_first_on_every_sample():
    text = render([gauge("mailrep_x", "An x.", 1, zone="z")], [("plugin", "check_dnsbl")])
    assert 'mailrep_x{plugin="check_dnsbl",zone="z"} 1' in text


def test_an_empty_exposition_is_still_valid():
    assert render([]) == "# EOF\n"
    openmetrics(render([]))


@pytest.mark.parametrize(
    "family",
    [
        gauge("mailrep-x", "Bad name.", 1),
        gauge("mailrep_x", "Unit not at the end.", 1, "seconds"),
        gauge("mailrep_x", 'A "quoted" help.', 1),
        Family("mailrep_x", "Twice.", [Sample((("a", "1"),), 1), Sample((("a", "1"),), 2)]),
        Family("mailrep_x", "Bad label.", [Sample((("zone-name", "1"),), 1)]),
    ],
    ids=["name", "unit", "help", "duplicate-labels", "label-name"],
)
def test_a_malformed_family_is_refused(family):
    with pytest.raises(ValueError):
        render([family])


def test_a_family_given_twice_is_refused():
    with pytest.raises(ValueError):
        render([gauge("mailrep_x", "X.", 1), gauge("mailrep_x", "X.", 2)])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_label_value_round_trips_through_the_strict_parser(text):
    """Zones and addresses come from mail a stranger sent: quotes, backslashes, newlines,
    control characters and very long values must never break the exposition."""
    families = openmetrics(render([gauge("mailrep_x", "X.", 1, zone=text)]))
    assert families["mailrep_x"][0].labels["zone"] == label_value(text)


def test_label_values_are_cut_to_a_bounded_length():
    assert len(label_value("z" * 10_000)) == MAX_LABEL_VALUE
    assert label_value("z" * 10_000).endswith("...")


def test_hostile_label_values_pass_promtool():
    hostile = ['a"b', "a\\b", "line\nbreak", "tab\there", "\x00nul", "é.ü.example", "} 1\nx 2"]
    fam = Family(
        "mailrep_x", "X.", [Sample((("zone", h), ("i", str(i))), 1) for i, h in enumerate(hostile)]
    )
    promtool_check(render([fam]))


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**53), 2**53))
def test_any_number_is_written_as_the_parser_reads_it(number):
    sample = openmetrics(render([gauge("mailrep_x", "X.", number)]))["mailrep_x"][0]
    if number != number:  # NaN
        assert sample.value != sample.value
    else:
        assert sample.value == float(number)
