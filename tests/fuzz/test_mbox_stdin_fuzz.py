"""An mbox piped to check_bounce_rate --file -: whatever follows its first From_ line is
split into messages without raising, and no message holds bytes that were not given."""

import io
import sys
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.mail import sources

LINES = st.sampled_from(
    [
        b"From MAILER-DAEMON Wed Mar  4 05:06:07 2026\n",
        b"From nobody\n",
        b"From \n",
        b">From escaped\n",
        b"Date: not a date\n",
        b"Date: Tue, 03 Mar 2026 10:00:00 +0100\n",
        b"\n",
        b"\r\n",
        b"\xff\xfe\x00 binary\n",
    ]
)


@contextmanager
def stdin_bytes(raw: bytes):
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        yield
    finally:
        sys.stdin = saved


@settings(max_examples=200, deadline=2000)
@given(st.lists(st.one_of(LINES, st.binary(max_size=80)), max_size=40))
def test_stdin_mbox_splits_without_raising_or_inventing_bytes(lines):
    raw = b"From first Wed Mar  4 05:06:07 2026\n" + b"".join(lines)
    with stdin_bytes(raw):
        got = list(sources.read_file("-"))
    assert [m.source for m in got] == [f"stdin#{i}" for i in range(len(got))]
    assert len(got) == 1 + raw.count(b"\nFrom ")
    assert all(m.raw in raw for m in got)
