"""The culprit hop: a bounce's cited address placed on the sender's path from its returned
headers (and the trusted hand-off of the bounce itself)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.analysis import analyse
from mailrep.bounce.returned import returned_headers
from mailrep.relay.path import ReturnedPath, locate, path, public_hops, read_path

from tests.support.fixtures import make_bounces as mk

COMPANY, COMPANY_IP = "mail.company-example.jp", "198.51.100.10"
RELAY, RELAY_IP = "av-relay.hosting-example.jp", "203.0.113.7"
MX_IP = "203.0.113.99"
STAMP = "Tue, 1 Dec 2026 09:18:33 +0000"

#: the returned original as the relay bounced it: submitted by an authenticated user, then
#: relayed by the company's server to the provider's virus-scan relay (top first)
RETURNED = [
    f"from {COMPANY} ({COMPANY} [{COMPANY_IP}]) by {RELAY} (Postfix) with ESMTP id AAA1 "
    f"for <bob@example.net>; {STAMP}",
    f"from [192.0.2.50] (unknown [192.0.2.50]) (Authenticated sender: alice) by {COMPANY} "
    f"(Postfix) with ESMTPSA id BBB2 for <bob@example.net>; {STAMP}",
]
#: the bounce's own way back: the relay hands it to the company's server
HANDOFF = [
    f"from {RELAY} ({RELAY} [{RELAY_IP}]) by {COMPANY} (Postfix) with ESMTP id CCC3 "
    f"for <alice@company-example.jp>; {STAMP}",
    f"by {RELAY} (Postfix) id DDD4; {STAMP}",
]


def returned_path(raw: bytes, allow_nonglobal: bool = True) -> ReturnedPath:
    found = returned_headers(raw)
    return read_path(found.headers, raw, found.reporting_mta, allow_nonglobal=allow_nonglobal)


def refusal(ip: str = RELAY_IP, **kw: object) -> bytes:
    kw.setdefault("returned_received", RETURNED)
    kw.setdefault("own_received", HANDOFF)
    kw.setdefault("reporting_mta", RELAY)
    return mk.blocklisted(ip=ip, **kw)  # type: ignore[arg-type]


def placed(raw: bytes, ip: str, allow_nonglobal: bool = True):
    return locate(ip, returned_path(raw, allow_nonglobal=allow_nonglobal))


def test_the_path_is_the_servers_the_message_passed_with_their_addresses():
    servers = path(returned_path(refusal()))
    assert [(h.number, h.name, h.ip, h.role) for h in servers] == [
        (1, COMPANY, COMPANY_IP, "the submission server"),
        (2, RELAY, RELAY_IP, f"the relay after {COMPANY}"),
    ]


def test_the_refused_relay_is_named_from_the_bounce_it_handed_to_us():
    found = placed(refusal(), RELAY_IP)
    assert found.phrase() == f"{RELAY}, hop 2 of your path"
    assert found.how == "bounce hand-off"
    assert found.sentence() == (
        f"{RELAY_IP} is {RELAY}, hop 2 of your path, the relay after {COMPANY} "
        "(the address that handed the bounce to you)"
    )


def test_an_address_recorded_in_the_returned_chain_is_the_server_it_names():
    found = placed(refusal(COMPANY_IP), COMPANY_IP)
    assert (found.hop.number, found.hop.name, found.how) == (1, COMPANY, "returned chain")


def test_the_submitting_client_is_not_a_hop_of_the_path():
    found = placed(refusal("192.0.2.50"), "192.0.2.50")
    assert found.hop.number == 0
    assert found.phrase() == "192.0.2.50, the client that submitted it"


def test_a_cited_address_nowhere_in_the_headers_is_said_to_be_missing():
    found = placed(refusal("198.51.100.200"), "198.51.100.200")
    assert not found.found
    assert found.phrase() == "not in the returned chain"
    assert found.sentence() == (
        f"198.51.100.200 is not in the returned chain (its last server: {RELAY}, hop 2)"
    )


def test_a_bounce_without_returned_received_lines_names_no_place():
    found = placed(mk.blocklisted(ip=RELAY_IP), RELAY_IP)
    assert not found.found and found.phrase() == ""
    assert found.sentence() == f"{RELAY_IP}: the bounce returned no Received headers"


def test_a_hand_off_from_a_client_of_another_name_is_not_the_last_server():
    other = [HANDOFF[0].replace(f"from {RELAY} ({RELAY}", "from smtp.elsewhere.example (x")]
    found = placed(refusal(own_received=other), RELAY_IP)
    assert not found.found


def test_the_reporting_mta_name_also_ties_the_hand_off_to_the_last_server():
    # the relay greets with another name, but the DSN says it reported the failure
    own = [HANDOFF[0].replace(f"from {RELAY} ({RELAY}", "from out7 (out7")]
    raw = refusal(own_received=own, reporting_mta=RELAY.upper())
    assert not placed(raw, RELAY_IP).found  # the hand-off names "out7", not the relay
    assert placed(refusal(own_received=own, reporting_mta="out7"), RELAY_IP).found


def test_a_forged_line_below_our_own_hand_off_is_not_believed():
    forged = [
        f"from mx.forger.example (mx.forger.example [198.51.100.66]) by {COMPANY} (Postfix) "
        f"with ESMTP id EEE5; {STAMP}",
        f"from {RELAY} ({RELAY} [{RELAY_IP}]) by mx.forger.example; {STAMP}",
    ]
    assert not placed(refusal(own_received=forged), RELAY_IP).found


def test_a_content_filter_reinjection_is_one_server_and_its_client_is_itself():
    returned = [
        f"from localhost (localhost [127.0.0.1]) by {RELAY} (Postfix) with ESMTP id R2; {STAMP}",
        *RETURNED,
    ]
    servers = path(returned_path(refusal(returned_received=returned)))
    assert [h.name for h in servers] == [COMPANY, RELAY]
    assert servers[0].ip == COMPANY_IP


def test_the_recipient_mx_line_of_an_accepted_then_bounced_message_names_the_relay():
    returned = [
        f"from {RELAY} ({RELAY} [{RELAY_IP}]) by mx.example.net (Postfix) with ESMTP id M1; "
        f"{STAMP}",
        *RETURNED,
    ]
    raw = refusal(returned_received=returned, own_received=(), reporting_mta="mx.example.net")
    found = placed(raw, RELAY_IP)
    assert (found.hop.number, found.hop.name, found.how) == (2, RELAY, "returned chain")


def test_a_plain_text_bounce_quoting_the_original_gives_its_chain():
    raw = (
        "From: MAILER-DAEMON@av-relay.hosting-example.jp\nTo: alice@company-example.jp\n"
        "Subject: failure notice\n\n"
        "Hi. This is the qmail-send program at av-relay.hosting-example.jp.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        f"<bob@example.net>:\n{MX_IP} does not like recipient.\n"
        f"Remote host said: 554 5.7.1 client [{RELAY_IP}] blocked using psbl.surriel.com\n\n"
        "--- Below this line is a copy of the message.\n\n"
        + "".join(f"Received: {v}\n" for v in RETURNED)
        + "From: alice@company-example.jp\nSubject: report\n\nbody\n"
    ).encode()
    assert analyse(raw).recipients[0].citation.ip == RELAY_IP
    servers = path(returned_path(raw))
    assert [h.name for h in servers] == [COMPANY, RELAY]


def test_returned_headers_sent_quoted_printable_are_decoded():
    raw = refusal().replace(
        b"Content-Type: text/rfc822-headers\n",
        b"Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: quoted-printable\n",
    )
    raw = raw.replace(
        b"for <bob@example.net>; " + STAMP.encode(),
        b"for <bob=\n@example.net>; =\n" + STAMP.encode(),
    )
    assert [h.name for h in path(returned_path(raw))] == [COMPANY, RELAY]


def test_public_hops_leave_out_the_authenticated_user_and_keep_the_relay():
    assert public_hops(returned_path(refusal(), allow_nonglobal=True)) == [COMPANY_IP, RELAY_IP]
    assert public_hops(returned_path(refusal(), allow_nonglobal=False)) == []  # RFC 5737


_octet = st.integers(min_value=1, max_value=254)
_ip = st.builds(lambda a, b: f"198.51.{a}.{b}", _octet, _octet)
_host = st.from_regex(r"[a-z]{1,8}\.example\.(?:jp|net)", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(hosts=st.lists(st.tuples(_host, _ip), min_size=1, max_size=6), cited=_ip)
def test_a_place_found_always_carries_the_cited_address_from_the_headers(hosts, cited):
    lines = []
    for i, (name, ip) in enumerate(hosts):
        by = hosts[i + 1][0] if i + 1 < len(hosts) else "last.example.org"
        lines.append(f"from {name} ({name} [{ip}]) by {by} (Postfix) id Q{i}; {STAMP}")
    raw = refusal(cited, returned_received=list(reversed(lines)))
    found = placed(raw, cited)
    if found.found:
        assert found.hop.ip == cited
        assert cited.encode() in raw.split(b"Content-Type: text/rfc822-headers", 1)[1] or (
            found.how == "bounce hand-off"
        )
    else:
        assert cited not in {ip for _, ip in hosts}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_hostile_bytes_never_raise(data):
    raw = refusal().replace(b"From: alice@example.org", data + b"\nFrom: alice@example.org")
    found = locate(RELAY_IP, returned_path(raw, allow_nonglobal=True))
    assert found.ip == RELAY_IP
