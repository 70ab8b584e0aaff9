"""The fast scans of the bounce analyser find what the plain patterns find.

Several searches are written for speed (newline-anchored instead of ``^`` with MULTILINE,
only lines holding an "@" or a marker word tried, look-behinds moved after the first
character). Each property here states the plain form as the specification and checks the
fast form against it on texts made of the fragments that matter.
"""

import email.message
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce import mime as bounce_mime
from mailrep.bounce import parts as bounce_parts
from mailrep.bounce import rules as bounce_rules
from mailrep.bounce import text as bounce_text

FRAGMENTS = [
    "\n",
    "\r\n",
    "\n\n",
    " ",
    "\t",
    ">",
    "-",
    "--",
    "---",
    ":",
    "x",
    "İ",
    "K",
    "\udcff",
    # one piece of every original-message marker (bounce_parts._ORIGINAL_MARKERS)
    "Original message",
    "original message follows",
    "Original message:",
    "The first 50 lines of your original message follow:",
    "Returned message",
    "returned headers",
    "Below this line is a copy of the message",
    "--- Below this line",
    "This is a copy of your message",
    "The original message was received",
    "Original message headers",
    "Unsent message below",
    "Unsent message follows",
    "Message header follows",
    "Message headers follow",
    "Below is a copy of the original message",
    "The header of the original message is following",
    "Content-Type: message/rfc822",
    # header fields, read and not read
    "Content-Type: text/plain",
    "content-transfer-encoding: base64",
    "From: a@b.example",
    "SUBJECT: x",
    "To : y",
    "X-Mailer: m",
    "Received: r",
    "Content-Typo: z",
    "From ",
    # recipient lines, status and reply codes
    "a@b.example",
    "<user@example.com>",
    "rfc822;",
    "recipient:",
    "RCPT TO:",
    "1. ",
    "* ",
    ">>> ",
    "<<< ",
    "550 ",
    "550-",
    "5.1.1",
    "4.4.7 ",
    "5.7.1.",
    "2.0.0-3",
    "(421",
    "<250",
    "x550",
    "٥",
    "5.",
    ".",
    "\u00a0",
    ".5.1.1",
    "15.0.0",
    "v4.4.7",
    "mx.example.com",
    "host ",
    "Server: ",
    "talking to ",
    "[192.0.2.1]",
]
SOUP = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
# lines as a bounce writes them: an indent or a rule of dashes, then a fragment or two
LINES = st.lists(
    st.tuples(
        st.sampled_from(["", " ", "-", "--- ", ">", "\t-- "]),
        st.sampled_from(FRAGMENTS),
        st.sampled_from(["", " ", "-----", ":", "x"]),
    ).map("".join),
    max_size=12,
).flatmap(lambda lines: st.sampled_from(["\n", "\r\n"]).map(lambda nl: nl.join(lines)))
TEXTS = st.one_of(SOUP, LINES)


def _cut_spec(text):
    m = re.compile(bounce_parts._ORIGINAL_MARKERS, re.I | re.M).search(text)
    if m is None or (m.start() == 0 and len(text) < 40):
        return text, ""
    return text[: m.start()], text[m.start() :]


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_cut_original_finds_the_first_marker_line(text):
    assert bounce_parts.cut_original(text) == _cut_spec(text)


_FIELD_SPEC = re.compile(r"^([!-9;-~]+)[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.M)


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_header_fields_read_are_the_fields_of_interest(text):
    raw = text.encode("utf-8", "surrogateescape")
    spec = raw.decode("ascii", "surrogateescape")
    if spec.startswith("From "):
        spec = spec.partition("\n")[2]
    expected = [
        (m.group(1), m.group(2).rstrip("\r\n"))
        for m in _FIELD_SPEC.finditer(spec)
        if m.group(1).lower() in bounce_mime._READ
    ]
    got = [(k, str(v)) for k, v in bounce_mime._headers(raw).items()]
    reference = email.message.Message()
    for k, v in expected[:101]:
        reference[k] = v
    assert got == [(k, str(v)) for k, v in reference.items()]


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_recipient_lines_are_the_pattern_matches(text):
    found = [m.span() for m in bounce_text._recipient_lines(text)]
    assert found == [m.span() for m in bounce_text._RCPT_LINE.finditer(text)]


_STATUS_SPEC = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]|-\d)")
_REPLY_SPEC = re.compile(r"(?:^|[\s(:<])([245][0-5]\d)(?:[ -]|[:,](?=\s)|$)", re.M)


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_status_and_reply_codes_as_the_plain_patterns(text):
    def spans(rx):
        return [(m.groups(), m.span(1)) for m in rx.finditer(text)]

    assert spans(bounce_text._STATUS) == spans(_STATUS_SPEC)
    m, spec = bounce_text._REPLY.search(text), _REPLY_SPEC.search(text)
    assert (m and m.span(1)) == (spec and spec.span(1))
    lowered = re.compile(bounce_text._REMOTE.pattern, re.I).search(text)
    expected = lowered.group(1).lower().rstrip(".") if lowered else None
    assert bounce_text.find_remote_host(text) == expected


# Words the reason rules bound with "\b", and their neighbours in and out of words.
RULE_WORDS = [
    "spf",
    "xspf",
    "spf_",
    "dkim",
    "dmarc",
    "spam",
    "spams",
    "antispam",
    "spamming",
    "rbl",
    "uribl",
    "surbl",
    "_rbl",
    "dnsbl",
    "cbl",
    "sorbs",
    "s3150",
    "ts3150",
    "tss04",
    "tss09",
    "ip=192.0.2.1 - x (bl)",
    "zip=1",
    "551 not our customer",
    "1551 not our customer",
    "ube",
    "tube",
    "open relay",
    "reopen-relay",
    "size limit",
    "filesize limit",
    "ofr_506",
    "dspam",
    "é",
    "1",
    "_",
    "-",
    " ",
    "\n",
    ".",
]
RULE_SOUP = st.lists(st.sampled_from(RULE_WORDS), max_size=12).map("".join)


RULE_PAIRS = [
    (re.compile(p.lower()), re.compile(bounce_rules.fast(p.lower())))
    for _, p in bounce_rules._TEXT_RULES
]


@settings(max_examples=300, deadline=None)
@given(RULE_SOUP)
def test_moving_word_boundaries_behind_words_finds_the_same_matches(text):
    for plain, quick in RULE_PAIRS:
        found, fast_found = plain.search(text), quick.search(text)
        assert (found and found.span()) == (fast_found and fast_found.span()), plain.pattern
