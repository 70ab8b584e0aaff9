"""Hostile and broken messages: analyse() must return, quickly, and never raise."""

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.analysis import analyse

KINDS = {"bounce", "delay", "feedback", "success", "autoreply", "challenge", "mdn", "not-bounce"}
HEADERS = st.sampled_from(
    [
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n",
        b"Content-Type: multipart/mixed; boundary=B\r\n",
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail\r\n",
        b"Auto-Submitted: auto-replied\r\n",
    ]
)
PARTS = st.sampled_from(
    [
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;",
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n",
        b"--B\r\nContent-Type: text/plain; charset=utf-7\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\nQUJD=",
        b"--B--\r\n",
        b"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 blocked using ",
        b"\xff\xfe\x00<a@b>:\r\n",
    ]
)


@settings(max_examples=200, deadline=2000)
@given(
    st.lists(HEADERS, max_size=6), st.lists(st.one_of(PARTS, st.binary(max_size=200)), max_size=20)
)
def test_broken_mime_never_raises(headers, parts):
    result = analyse(b"".join(headers) + b"\r\n" + b"".join(parts))
    assert result.kind in KINDS


@settings(max_examples=100, deadline=2000)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(raw):
    assert analyse(raw).kind


@settings(max_examples=5, deadline=10000)
@given(st.integers(min_value=500, max_value=2000))
def test_deeply_nested_multiparts_are_cut_off(depth):
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    assert analyse(head + b"Content-Type: text/plain\r\n\r\nhello\r\n").kind


@settings(max_examples=3, deadline=20000)
@given(st.integers(min_value=100_000, max_value=300_000))
def test_huge_header_returns(size):
    tail = b"\r\nFrom: MAILER-DAEMON@x.example\r\n\r\n<a@b.example>:\r\n"
    raw = b"Subject: " + b"x" * size + tail
    assert analyse(raw).kind


@settings(max_examples=2, deadline=1000)
@given(st.integers(min_value=400, max_value=800))
def test_transcript_with_many_recipients_and_a_long_tail_returns(count):
    # each recipient's words are searched for a host break: the search must stay near the
    # recipient's line, not run to the end of a megabyte for every one of them
    lines = b"".join(
        b"554 <a%d@example.com>... Remote protocol error\r\n" % i for i in range(count)
    )
    raw = (
        b"From: MAILER-DAEMON@x.example\r\nSubject: Returned mail\r\n\r\n"
        b"<<< 550 refused\r\n" + lines + (b"x" * 70 + b"\r\n") * 15000
    )
    assert analyse(raw).kind == "bounce"
