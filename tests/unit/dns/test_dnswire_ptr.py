"""PTR answers in the wire codec: names, compressed or not, checked against dnspython."""

import struct

import dns.message
import dns.name
import dns.rrset
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mailrep.dns import wire as dnswire

QNAME = "12.87.56.185.in-addr.arpa."


def _ptr_response(query_wire: bytes, *targets: str) -> bytes:
    """dnspython's answer (it compresses names wherever it can)."""
    query = dns.message.from_wire(query_wire)
    response = dns.message.make_response(query)
    name = query.question[0].name
    response.answer.append(dns.rrset.from_text(name, 60, "IN", "PTR", *targets))
    return response.to_wire()


def _parse(wire: bytes, query: bytes) -> dnswire.Response:
    return dnswire.parse_response(wire, dnswire.question_bytes(query))


def test_ptr_type_code_is_the_rfc_1035_one():
    assert dnswire.TYPE_PTR == 12


def test_ptr_query_is_read_by_dnspython_as_a_ptr_question():
    wire = dnswire.build_query(7, QNAME, dnswire.TYPE_PTR)
    msg = dns.message.from_wire(wire)
    assert msg.question[0].rdtype == dns.rdatatype.PTR
    assert msg.question[0].name.to_text() == QNAME


def test_ptr_name_is_returned_absolute():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    resp = _parse(_ptr_response(q, "av1.provider.example."), q)
    assert resp.records == ("av1.provider.example.",)


def test_every_ptr_record_is_read():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    resp = _parse(_ptr_response(q, "a.example.", "b.example."), q)
    assert sorted(resp.records) == ["a.example.", "b.example."]


def test_ptr_name_compressed_against_the_question_is_expanded():
    # The target shares the suffix "in-addr.arpa." with the question: dnspython compresses it.
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    wire = _ptr_response(q, "host.in-addr.arpa.")
    assert b"\xc0" in wire[len(q) :]  # the answer really uses a pointer
    assert _parse(wire, q).records == ("host.in-addr.arpa.",)


def _handmade(q: bytes, rdata: bytes) -> bytes:
    """A response to ``q`` with one PTR record whose rdata we write byte by byte."""
    header = struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", dnswire.TYPE_PTR, 1, 60, len(rdata)) + rdata
    return header + dnswire.question_bytes(q) + rr


def test_pointer_into_the_rdata_itself_is_rejected():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    rdata_offset = 12 + len(dnswire.question_bytes(q)) + 2 + 10
    loop = struct.pack("!H", 0xC000 | rdata_offset)
    with pytest.raises(dnswire.WireError):
        _parse(_handmade(q, loop), q)


def test_pointer_past_the_end_is_rejected():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    with pytest.raises(dnswire.WireError):
        _parse(_handmade(q, b"\xc3\xff"), q)


def test_ptr_rdata_longer_than_its_name_is_rejected():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    with pytest.raises(dnswire.WireError):
        _parse(_handmade(q, b"\x01a\x00\x00"), q)


def test_name_over_255_octets_is_rejected():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00"
    with pytest.raises(dnswire.WireError):
        _parse(_handmade(q, long_name), q)


def test_a_classless_delegation_cname_is_followed_to_the_ptr():
    # RFC 2317: the reverse name is a CNAME into the customer's own zone.
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    query = dns.message.from_wire(q)
    response = dns.message.make_response(query)
    name = query.question[0].name
    delegated = "12.0-25.56.185.in-addr.arpa."
    response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", delegated))
    response.answer.append(dns.rrset.from_text(delegated, 60, "IN", "PTR", "mx.example."))
    assert _parse(response.to_wire(), q).records == ("mx.example.",)


label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)


@given(st.lists(label, min_size=1, max_size=6))
def test_any_ptr_name_dnspython_writes_is_read_back_identically(labels):
    target = ".".join(labels) + "."
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    assert _parse(_ptr_response(q, target), q).records == (target,)


@given(st.binary(max_size=80))
def test_arbitrary_ptr_rdata_is_read_or_rejected_never_crashes(rdata):
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    try:
        resp = _parse(_handmade(q, rdata), q)
    except dnswire.WireError:
        return
    assert len(resp.records) == 1 and resp.records[0].endswith(".")


def test_read_name_agrees_with_dnspython_on_a_compressed_message():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_PTR)
    wire = _ptr_response(q, "x.in-addr.arpa.")
    pos = 12 + len(dnswire.question_bytes(q))  # the answer's owner name (a pointer)
    name, after = dnswire.read_name(wire, pos)
    assert dns.name.from_text(name) == dns.name.from_text(QNAME)
    assert after == pos + 2
