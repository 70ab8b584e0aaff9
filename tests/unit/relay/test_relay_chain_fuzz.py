"""Hostile header blocks: building a chain either works or says it cannot judge, never more.

Whatever the Received lines say, the chain must not raise anything but CannotJudge, must not
check an address that is not in the text, and must never check a receiver-side hop.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from mailrep.errors import CannotJudge
from mailrep.relay.chain import RECEIVER, build_chain

WORDS = st.sampled_from(
    [
        "from", "by", "with", "id", "for", "via", "(", ")", "[", "]", ";", "ESMTPSA", "LMTP",
        "localhost", "127.0.0.1", "[10.0.0.1]", "185.56.87.12", "[IPv6:2001:db8::1]",
        "::ffff:185.56.87.13", "mx.example.net", ".example.net", "helo=x", "(EHLO a)",
        "Sat, 28 Nov 2026 14:00:00 +0000", "authenticated", "unknown", "2002:a05::1",
    ]
)  # fmt: skip
LINE = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=14).map(" ".join)


def message(lines: list[str]) -> str:
    return "".join(f"Received: {line.replace(chr(10), ' ').replace(chr(13), ' ')}\n"
                   for line in lines) + "\nbody\n"  # fmt: skip


def addresses_in(text: str) -> set[str]:
    """Every address written in the text, canonical (``::ffff:`` mapped ones as IPv4)."""
    found = set()
    for run in re.findall(r"[0-9A-Fa-f:.]+", text):
        for candidate in {run, run.strip(":."), run.rstrip("."), run.split(":", 1)[-1]}:
            try:
                addr = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            mapped = getattr(addr, "ipv4_mapped", None)
            found.add(str(mapped or addr))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=8), st.booleans())
def test_any_received_block_builds_a_chain_or_cannot_be_judged(lines, allow):
    text = message(lines)
    try:
        chain = build_chain(text, allow_nonglobal=allow)
    except CannotJudge:
        return
    assert chain.hops and 0 <= chain.entry < len(chain.hops)
    for hop in chain.hops:
        assert not (hop.checked and hop.side == RECEIVER)
        if hop.checked:
            assert hop.ip is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=8))
@example(["from a ([IPv6:2001:db8::1]) by mx.example.net", "from b (b [::ffff:185.56.87.13]) by a"])
def test_checked_addresses_come_from_the_text(lines):
    text = message(lines)
    try:
        chain = build_chain(text, allow_nonglobal=True)
    except CannotJudge:
        return
    in_text = addresses_in(text)
    for ip in chain.checked_ips:
        assert ip in in_text, ip


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_cannot_judge(data):
    with contextlib.suppress(CannotJudge):
        build_chain(data)
