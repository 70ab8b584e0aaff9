"""Recipient addresses come out exactly as the report gives them."""

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.analysis import analyse
from mailrep.bounce.text import recipients

from tests.unit.bounce.test_analysis import dsn, plain

ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-", min_size=1
)
LOCAL = st.lists(ATOM, min_size=1, max_size=4).map(".".join)
KEYWORD_LOCAL = st.sampled_from(["recipient", "Recipient", "rcpt", "original-recipient", "to"])
LINE = st.sampled_from(
    [
        "Recipient: {a}",
        "Original-Recipient: {a}",
        "rcpt to: <{a}>",
        "RCPT TO:<{a}>",
        "<{a}>:",
        "    {a}",
        "{a}... User unknown",
        "1. {a}",
        "550 5.1.1 <{a}>... User unknown",
    ]
)


def test_an_address_that_begins_with_a_keyword_is_kept_whole():
    body = "Recipient: recipient.one@example.test\r\nReason: 550 5.1.1 user unknown\r\n"
    assert [r.recipient for r in analyse(plain(body)).recipients] == ["recipient.one@example.test"]


def test_the_address_keeps_the_case_the_report_gives():
    r = analyse(dsn(rcpt="Bob.Smith@Example.COM", diag="550 5.1.1 user unknown")).recipients[0]
    assert r.recipient == "Bob.Smith@Example.COM"


def test_one_address_in_two_cases_is_one_recipient():
    body = "<Bob@example.com>: 550 user unknown\r\n550 5.1.1 <bob@example.com>... User unknown\r\n"
    assert [a for a, _ in recipients(body, set())] == ["Bob@example.com"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(LOCAL, st.tuples(KEYWORD_LOCAL, LOCAL).map(".".join)), LINE)
def test_every_recipient_line_form_yields_the_whole_address(local, line):
    address = f"{local}@mail.example.test"
    text = "The following recipient failed:\n" + line.format(a=address) + "\n"
    assert [a for a, _ in recipients(text, set(), sure=True)] == [address]
