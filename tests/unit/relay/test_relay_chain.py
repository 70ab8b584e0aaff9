"""From a message to the numbered chain: the receiver's entry hop, sides, and what is checked.

Fixtures in tests/support/fixtures/relay_chain are realistic header blocks written for these tests
(Postfix + amavis + Dovecot LMTP behind a provider's scanning relay; Gmail behind an Exim
relay over IPv6; a message with a forged "by our MX" line below the real one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mailrep.errors import CannotJudge
from mailrep.relay.chain import ENTRY, RECEIVER, SENDER, build_chain
from mailrep.relay.headers import received_headers
from mailrep.relay.received import parse_chain
from mailrep.relay.trust import default_receiver

FIXTURES = Path(__file__).resolve().parents[2] / "support" / "fixtures" / "relay_chain"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def provider_chain():
    return build_chain(fixture("provider_relay.eml"))


# --- numbering and sides ---------------------------------------------------------------------


def test_hops_are_numbered_from_the_origin(provider_chain):
    assert [h.number for h in provider_chain.hops] == [1, 2, 3, 4, 5]
    assert provider_chain.hops[0].ip == "80.187.100.33"


def test_entry_hop_is_the_receivers_first_line_and_names_the_last_sender_relay(provider_chain):
    entry = provider_chain.entry_hop
    assert entry.label() == "hop 3 av1.provider.example [185.56.87.12]"
    assert entry.side == ENTRY and entry.trusted


def test_content_filter_and_lmtp_lines_above_the_entry_are_the_receivers(provider_chain):
    assert [h.side for h in provider_chain.hops] == [SENDER, SENDER, ENTRY, RECEIVER, RECEIVER]
    assert not provider_chain.hops[3].checked and provider_chain.hops[3].skip_reason == (
        "receiver side"
    )


def test_sender_side_hops_are_not_trusted(provider_chain):
    assert [h.trusted for h in provider_chain.hops[:2]] == [False, False]


def test_per_hop_delay_is_the_time_since_the_previous_line(provider_chain):
    assert [h.delay for h in provider_chain.hops] == [None, 2.0, 2.0, 1.0, 1.0]


def test_relay_delay_spans_oldest_to_newest_timestamp(provider_chain):
    assert provider_chain.relay_delay == 6.0


# --- what is checked -------------------------------------------------------------------------


def test_public_relay_addresses_of_sender_and_entry_are_checked_once_each(provider_chain):
    assert provider_chain.checked_ips == ["185.56.87.25", "185.56.87.12"]


def test_authenticated_submission_client_is_reported_but_not_checked(provider_chain):
    origin = provider_chain.hops[0]
    assert origin.public and not origin.checked
    assert "authenticated submission" in origin.skip_reason


def test_non_global_sender_address_is_not_checked_by_default():
    chain = build_chain(fixture("forged_below.eml"))
    origin = chain.hops[0]
    assert (origin.ip, origin.public, origin.checked) == ("192.168.1.20", False, False)
    assert origin.skip_reason == "non-global address"


def test_non_global_sender_address_is_checked_when_allowed():
    chain = build_chain(fixture("forged_below.eml"), allow_nonglobal=True)
    assert "192.168.1.20" in chain.checked_ips


def test_receiver_side_loopback_is_never_checked_even_when_non_global_is_allowed():
    chain = build_chain(fixture("provider_relay.eml"), allow_nonglobal=True)
    assert "127.0.0.1" not in chain.checked_ips


# --- the receiving system --------------------------------------------------------------------


def test_default_receiver_is_the_top_by_host_its_domain_and_internal_hand_offs():
    hops = parse_chain(received_headers(fixture("provider_relay.eml")))
    assert default_receiver(hops) == [
        "imap.recipient.example",
        ".recipient.example",
        "mx1.recipient.example",
    ]


def test_gmail_internal_stamp_without_client_leads_to_the_real_mx():
    chain = build_chain(fixture("gmail_exim_ipv6.eml"))
    assert chain.entry_hop.label() == "hop 2 relay.example.org [2a01:4f8:c17:5c1::2]"
    assert chain.hops[2].side == RECEIVER


def test_exim_authenticated_ipv6_submission_is_not_checked():
    chain = build_chain(fixture("gmail_exim_ipv6.eml"))
    assert chain.checked_ips == ["2a01:4f8:c17:5c1::2"]
    assert chain.hops[0].hop.helo == "laptop.local"


def test_forged_line_claiming_our_mx_below_the_entry_stays_sender_side():
    chain = build_chain(fixture("forged_below.eml"))
    assert chain.entry_hop.ip == "185.56.87.40"
    forged = chain.hops[1]
    assert (forged.hop.by, forged.side, forged.trusted) == ("mx1.recipient.example", SENDER, False)


def test_explicit_receiver_moves_the_entry_down_to_the_named_system():
    chain = build_chain(
        fixture("provider_relay.eml"), ["imap.recipient.example", "mx1.recipient.example"]
    )
    assert chain.entry_hop.number == 3


def test_receiver_by_cidr_matches_address_literal_by_hosts():
    chain = build_chain(fixture("gmail_exim_ipv6.eml"), ["2002:a05::/32", "mx.google.com"])
    assert chain.entry_hop.number == 2


def test_receiver_that_did_not_write_the_newest_line_cannot_be_judged():
    with pytest.raises(CannotJudge, match="--receiver"):
        build_chain(fixture("provider_relay.eml"), ["mx.elsewhere.example"])


def test_message_without_received_lines_cannot_be_judged():
    with pytest.raises(CannotJudge, match="no Received header"):
        build_chain(b"From: a@example.com\nSubject: x\n\nbody\n")


def test_message_whose_received_lines_are_all_unreadable_cannot_be_judged():
    with pytest.raises(CannotJudge, match="could be read"):
        build_chain(b"Received: ;\nSubject: x\n\n")


def test_headers_alone_give_the_same_chain_as_the_whole_message(provider_chain):
    headers_only = build_chain(fixture("provider_relay_headers.txt"))
    assert [h.hop for h in headers_only.hops] == [h.hop for h in provider_chain.hops]


# --- where the receiver's Authentication-Results end -----------------------------------------


def test_first_sender_field_points_at_the_line_below_the_entry(provider_chain):
    # Top-first Received fields: LMTP (0), amavis re-injection (1), entry (2), smtp.example.com (3)
    assert provider_chain.first_sender_field == 3


def test_entry_at_the_origin_has_no_sender_field():
    message = (
        b"Received: from mail.sender.example (mail.sender.example [185.56.87.40])\n"
        b"\tby mx1.recipient.example (Postfix) with ESMTP id 1; Sat, 28 Nov 2026 14:10:05 +0000\n"
        b"\n"
    )
    chain = build_chain(message)
    assert (chain.entry, chain.first_sender_field) == (0, None)


def test_loopback_relays_other_than_localhost_are_not_taken_for_the_receiver():
    # A loopback lab: sender 127.0.0.10 -> relay 127.0.0.11 -> MX 127.0.0.12 on one machine.
    message = (
        b"Received: from relay.provider.test (unknown [127.0.0.11])\n"
        b"\tby mx.recipient.test (Postfix) with ESMTP id A; Sat, 28 Nov 2026 14:00:02 +0000\n"
        b"Received: from mail.sender.test (unknown [127.0.0.10])\n"
        b"\tby relay.provider.test (Postfix) with ESMTP id B; Sat, 28 Nov 2026 14:00:01 +0000\n"
        b"Received: from localhost (localhost [127.0.0.1])\n"
        b"\tby mail.sender.test (Postfix) with ESMTP id C; Sat, 28 Nov 2026 14:00:00 +0000\n"
        b"\n"
    )
    chain = build_chain(message, allow_nonglobal=True)
    assert chain.receiver == ["mx.recipient.test", ".recipient.test"]
    assert chain.entry_hop.label() == "hop 3 relay.provider.test [127.0.0.11]"
    assert chain.checked_ips == ["127.0.0.1", "127.0.0.10", "127.0.0.11"]
