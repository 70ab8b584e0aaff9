"""Extracting Received values from a message, and where the receiving side's trust begins."""

from mailrep.relay.headers import MAX_HOPS, received_headers
from mailrep.relay.received import parse_chain
from mailrep.relay.trust import handoff_hop, matches_receiver, sender_side

MESSAGE = (
    b"Return-Path: <a@example.org>\r\n"
    b"Received: from mx.example.net (mx.example.net [198.51.100.5])\r\n"
    b"\tby imap.example.net with LMTP id 1; Tue, 29 Aug 2023 16:20:14 +0000\r\n"
    b"received: from out.example.org (out.example.org [192.0.2.25]) by mx.example.net\r\n"
    b" (Postfix) with ESMTPS id 2; Tue, 29 Aug 2023 16:20:13 +0000\r\n"
    b"Subject: Received: not a header\r\n"
    b"\r\n"
    b"Received: from body.example (body [192.0.2.99]) by nowhere; "
    b"Tue, 29 Aug 2023 16:20:13 +0000\r\n"
)


def test_received_headers_unfolds_values_in_message_order():
    values = received_headers(MESSAGE)
    assert values == [
        "from mx.example.net (mx.example.net [198.51.100.5])\tby imap.example.net with LMTP id 1;"
        " Tue, 29 Aug 2023 16:20:14 +0000",
        "from out.example.org (out.example.org [192.0.2.25]) by mx.example.net (Postfix) with "
        "ESMTPS id 2; Tue, 29 Aug 2023 16:20:13 +0000",
    ]


def test_received_headers_stops_at_the_body():
    assert all("body.example" not in v for v in received_headers(MESSAGE.decode()))


def test_received_headers_caps_the_number_of_hops():
    many = "".join(
        f"Received: from h{i}.example by x.example; Tue, 29 Aug 2023 16:20:13 +0000\n"
        for i in range(MAX_HOPS * 3)
    )
    assert len(received_headers(many)) == MAX_HOPS


def test_received_headers_survives_undecodable_bytes():
    assert received_headers(b"Received: from \xff\xfe by x.example\n\n") == [
        "from \ufffd\ufffd by x.example"
    ]


def hop_line(client: str, ip: str, by: str, sec: int) -> str:
    return (
        f"from {client} ({client} [{ip}]) by {by} with ESMTP id {sec}; "
        f"Tue, 29 Aug 2023 16:20:{sec:02d} +0000"
    )


# Top (newest) first, as in the message.
CHAIN = [
    "from mx.example.net by imap.example.net with LMTP id 9; Tue, 29 Aug 2023 16:20:30 +0000",
    hop_line("filter.example.net", "198.51.100.7", "mx.example.net", 20),
    hop_line("out.example.org", "192.0.2.25", "filter.example.net", 15),
    hop_line("inside.example.org", "10.0.0.5", "out.example.org", 10),
    hop_line("laptop", "10.0.0.99", "inside.example.org", 5),
]
RECEIVER = matches_receiver([".example.net"])


def test_matches_receiver_by_suffix_exact_name_and_cidr():
    hops = parse_chain(
        [
            "from a by mx1.example.net; Tue, 29 Aug 2023 16:20:30 +0000",
            "from a by relay.example.com; Tue, 29 Aug 2023 16:20:30 +0000",
            "from a by 2001:db8::7; Tue, 29 Aug 2023 16:20:30 +0000",
            "from a by other.example; Tue, 29 Aug 2023 16:20:30 +0000",
        ]
    )[::-1]
    pred = matches_receiver([".example.net", "relay.example.com", "2001:db8::/32"])
    assert [pred(h) for h in hops] == [True, True, True, False]


def test_sender_side_ends_with_the_receivers_handoff_line():
    path = sender_side(parse_chain(CHAIN), RECEIVER)
    assert [h.by for h in path] == ["inside.example.org", "out.example.org", "filter.example.net"]
    assert path[-1].ip == "192.0.2.25"


def test_handoff_hop_records_the_senders_last_relay():
    hop = handoff_hop(parse_chain(CHAIN), RECEIVER)
    assert hop is not None
    assert hop.ip == "192.0.2.25"


def test_a_forged_line_claiming_our_host_below_the_handoff_is_not_trusted():
    forged = hop_line("evil.example.org", "203.0.113.66", "mx.example.net", 12)
    chain = [*CHAIN[:3], forged, *CHAIN[3:]]
    hop = handoff_hop(parse_chain(chain), RECEIVER)
    assert hop is not None
    assert hop.ip == "192.0.2.25"


def test_loopback_handoff_inside_the_receiver_is_followed():
    chain = [
        hop_line("localhost", "127.0.0.1", "mx.example.net", 25),
        hop_line("out.example.org", "192.0.2.25", "mx.example.net", 20),
    ]
    hop = handoff_hop(parse_chain(chain), RECEIVER)
    assert hop is not None
    assert hop.ip == "192.0.2.25"


def test_nothing_is_trusted_when_the_newest_line_is_not_the_receivers():
    assert sender_side(parse_chain(CHAIN), matches_receiver(["mx.example.com"])) == []
