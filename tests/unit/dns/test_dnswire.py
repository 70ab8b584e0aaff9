"""The DNS wire codec, checked against dnspython as an independent implementation."""

import contextlib

import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mailrep.dns import wire as dnswire


def _response(query_wire: bytes, *records: tuple[str, str], rcode: int = 0) -> bytes:
    query = dns.message.from_wire(query_wire)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    name = query.question[0].name
    for rdtype, value in records:
        response.answer.append(dns.rrset.from_text(name, 60, "IN", rdtype, value))
    return response.to_wire()


def test_built_query_is_read_by_dnspython_as_the_same_question():
    wire = dnswire.build_query(4711, "2.0.0.127.zen.spamhaus.org.", dnswire.TYPE_A)
    msg = dns.message.from_wire(wire)
    assert msg.id == 4711
    assert msg.question[0].name.to_text() == "2.0.0.127.zen.spamhaus.org."
    assert msg.question[0].rdtype == dnswire.TYPE_A


def test_every_a_record_of_an_answer_is_read():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    wire = _response(q, ("A", "127.0.0.2"), ("A", "127.0.0.4"), ("A", "127.0.0.10"))
    resp = dnswire.parse_response(wire, dnswire.question_bytes(q))
    assert sorted(resp.records) == ["127.0.0.10", "127.0.0.2", "127.0.0.4"]


def test_txt_strings_are_joined():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_TXT)
    wire = _response(q, ("TXT", '"Listed, see " "http://example.test/"'))
    resp = dnswire.parse_response(wire, dnswire.question_bytes(q))
    assert resp.records == ("Listed, see http://example.test/",)


def test_nxdomain_is_read_as_rcode_without_records():
    q = dnswire.build_query(1, "1.0.0.127.x.test.", dnswire.TYPE_A)
    resp = dnswire.parse_response(_response(q, rcode=dns.rcode.NXDOMAIN), dnswire.question_bytes(q))
    assert (resp.rcode_name, resp.records) == ("NXDOMAIN", ())


def test_answer_to_another_question_is_rejected():
    q1 = dnswire.build_query(1, "1.0.0.127.x.test.", dnswire.TYPE_A)
    q2 = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    with pytest.raises(dnswire.WireError):
        dnswire.parse_response(_response(q2, ("A", "127.0.0.2")), dnswire.question_bytes(q1))


def test_question_echo_is_compared_case_insensitively():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    upper = dnswire.build_query(1, "2.0.0.127.X.TEST.", dnswire.TYPE_A)
    resp = dnswire.parse_response(_response(upper, ("A", "127.0.0.2")), dnswire.question_bytes(q))
    assert resp.records == ("127.0.0.2",)


def test_records_of_other_types_in_a_cname_chain_are_skipped():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    wire = _response(q, ("CNAME", "target.test."), ("A", "127.0.0.3"))
    assert dnswire.parse_response(wire, dnswire.question_bytes(q)).records == ("127.0.0.3",)


def test_a_query_packet_is_not_accepted_as_a_response():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    with pytest.raises(dnswire.WireError):
        dnswire.parse_response(q, dnswire.question_bytes(q))


def test_labels_longer_than_63_octets_are_refused():
    with pytest.raises(dnswire.WireError):
        dnswire.encode_name("a" * 64 + ".test.")


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_wire_error(data):
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    with contextlib.suppress(dnswire.WireError):
        dnswire.parse_response(data, dnswire.question_bytes(q))


@given(st.binary(max_size=200))
def test_valid_responses_with_garbage_appended_never_crash(tail):
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    wire = _response(q, ("A", "127.0.0.2"))
    cut = wire[: len(wire) - len(tail) % 7] + tail
    with contextlib.suppress(dnswire.WireError):
        dnswire.parse_response(cut, dnswire.question_bytes(q))
