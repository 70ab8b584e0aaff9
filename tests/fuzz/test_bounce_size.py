"""Hostile size: a 15 MB bounce is analysed in under a second, with bounded memory.

A bounce that returns a big attachment whole is ordinary mail (Sisimai took six minutes on
one, its issue #492). The shapes below put the bulk where analysis might read it: a
returned message/rfc822, a base64 text part, a plain-text original after its marker or
with none, a flood of DSN fields, a report naming one address a thousand times. Time is
measured without tracing; memory with tracemalloc, for 15 MB and for 60 MB of the same
shape: what analysis allocates must not grow with the input (the parse is capped at
mime.MAX_BYTES).
"""

import base64
import os
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.analysis import analyse

MB = 1024 * 1024
DSN_HEAD = (
    b"From: MAILER-DAEMON@mx.example.net\r\nTo: sender@example.org\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\n<bob@example.com>: host mx.example.com said: "
    b"550 5.1.1 User unknown\r\n"
    b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
    b"Final-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
)
PLAIN_HEAD = (
    b"From: MAILER-DAEMON@mx.example.net\r\nSubject: failure notice\r\n\r\n"
    b"<bob@example.com>:\r\n550 5.1.1 no such user\r\n"
)


def blob(size: int) -> bytes:
    return base64.encodebytes(os.urandom(size * 3 // 4))


def returned_attachment(size: int) -> bytes:
    return (
        DSN_HEAD + b"--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: sender@example.org\r\n"
        b"Content-Type: multipart/mixed; boundary=C\r\n\r\n--C\r\nContent-Type: application/pdf"
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob(size) + b"--C--\r\n--B--\r\n"
    )


def base64_text_part(size: int) -> bytes:
    return (
        DSN_HEAD
        + b"--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob(size)
        + b"--B--\r\n"
    )


def inline_original(size: int) -> bytes:
    return PLAIN_HEAD + b"--- Below this line is a copy of the message.\r\n\r\n" + blob(size)


def no_marker(size: int) -> bytes:
    return PLAIN_HEAD + b"\r\n" + blob(size)


def dsn_field_flood(size: int) -> bytes:
    block = b"Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\n\n"
    return PLAIN_HEAD + block * (size // len(block))


def one_address_everywhere(size: int) -> bytes:
    line = b"550 5.1.1 <bob@example.com>... User unknown\r\n"
    return PLAIN_HEAD + line * (size // len(line))


SHAPES = [
    returned_attachment,
    base64_text_part,
    inline_original,
    no_marker,
    dsn_field_flood,
    one_address_everywhere,
]


@settings(max_examples=len(SHAPES) * 2, deadline=None)
@given(st.sampled_from(SHAPES), st.integers(min_value=15 * MB, max_value=16 * MB))
def test_a_15_mb_bounce_is_analysed_in_under_a_second(shape, size):
    raw = shape(size)
    started = time.perf_counter()
    result = analyse(raw)
    elapsed = time.perf_counter() - started
    assert result.kind == "bounce"
    assert result.recipients and result.recipients[0].recipient in (
        "bob@example.com",
        "a@b.example",
    )
    assert elapsed < 1.0, f"{shape.__name__}: {elapsed:.2f} s"


def peak(raw: bytes) -> int:
    tracemalloc.start()
    try:
        analyse(raw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", SHAPES, ids=[s.__name__ for s in SHAPES])
def test_memory_does_not_grow_with_the_size_of_the_bounce(shape):
    small, large = peak(shape(15 * MB)), peak(shape(60 * MB))
    assert small < 48 * MB, f"{small / MB:.1f} MiB for 15 MB"
    assert large < small * 1.1 + MB, f"{small / MB:.1f} MiB at 15 MB, {large / MB:.1f} at 60 MB"
