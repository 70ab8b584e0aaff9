"""The DNS wire codec, checked against dnspython as an independent implementation."""

import contextlib
import itertools

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


def test_a_cname_chain_is_followed_to_the_records_at_its_end():
    q = dnswire.build_query(1, "2.0.0.127.x.test.", dnswire.TYPE_A)
    response = dns.message.make_response(dns.message.from_wire(q))
    response.answer.append(dns.rrset.from_text("2.0.0.127.x.test.", 60, "IN", "CNAME", "t.test."))
    response.answer.append(dns.rrset.from_text("t.test.", 60, "IN", "A", "127.0.0.3"))
    resp = dnswire.parse_response(response.to_wire(), dnswire.question_bytes(q))
    assert (resp.records, resp.cnames) == (("127.0.0.3",), ("t.test.",))


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


# --- every answer record must belong to the question -----------------------------------------


def _answer(query_wire: bytes, *rrsets: tuple[str, str, str, str], rcode: int = 0) -> bytes:
    """A response with (owner, class, type, value) records, written by dnspython."""
    response = dns.message.make_response(dns.message.from_wire(query_wire))
    response.set_rcode(rcode)
    for owner, rdclass, rdtype, value in rrsets:
        response.answer.append(dns.rrset.from_text(owner, 60, rdclass, rdtype, value))
    return response.to_wire()


QNAME = "2.0.0.127.x.test."


def test_a_record_owned_by_another_name_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, ("3.0.0.127.x.test.", "IN", "A", "127.0.0.2"))
    with pytest.raises(dnswire.MalformedAnswer, match="does not match"):
        dnswire.parse_response(wire, dnswire.question_bytes(q))


def test_owner_name_in_other_letter_case_is_the_same_name():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, (QNAME.upper(), "IN", "A", "127.0.0.2"))
    assert dnswire.parse_response(wire, dnswire.question_bytes(q)).records == ("127.0.0.2",)


def test_owner_name_that_is_a_pointer_to_itself_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = bytearray(_response(q))
    wire[6:8] = b"\x00\x01"
    here = len(wire)
    wire += bytes([0xC0 | (here >> 8), here & 0xFF]) + b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
    wire += bytes([127, 0, 0, 2])
    with pytest.raises(dnswire.MalformedAnswer, match="pointer"):
        dnswire.parse_response(bytes(wire), dnswire.question_bytes(q))


def test_record_of_another_class_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = bytearray(_answer(q, (QNAME, "IN", "A", "127.0.0.2")))
    wire[-12:-10] = b"\x00\x03"  # the record's class: CH instead of IN
    with pytest.raises(dnswire.MalformedAnswer, match="class"):
        dnswire.parse_response(bytes(wire), dnswire.question_bytes(q))


def test_record_of_another_type_for_the_question_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, (QNAME, "IN", "TXT", '"listed"'))
    with pytest.raises(dnswire.MalformedAnswer, match="type 16"):
        dnswire.parse_response(wire, dnswire.question_bytes(q))


def test_cname_loop_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(
        q, (QNAME, "IN", "CNAME", "loop.invalid."), ("loop.invalid.", "IN", "CNAME", QNAME)
    )
    with pytest.raises(dnswire.MalformedAnswer, match="CNAME loop"):
        dnswire.parse_response(wire, dnswire.question_bytes(q))


def test_cname_chain_without_a_final_record_is_reported_with_its_chain():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, (QNAME, "IN", "CNAME", "a.test."), ("a.test.", "IN", "CNAME", "b.test."))
    resp = dnswire.parse_response(wire, dnswire.question_bytes(q))
    assert (resp.records, resp.cnames) == ((), ("a.test.", "b.test."))


def test_a_record_beside_the_cname_of_the_same_name_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, (QNAME, "IN", "CNAME", "a.test."), (QNAME, "IN", "A", "127.0.0.2"))
    with pytest.raises(dnswire.MalformedAnswer):
        dnswire.parse_response(wire, dnswire.question_bytes(q))


def test_nxdomain_that_carries_an_answer_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    wire = _answer(q, (QNAME, "IN", "A", "127.0.0.2"), rcode=dns.rcode.NXDOMAIN)
    with pytest.raises(dnswire.MalformedAnswer):
        dnswire.parse_response(wire, dnswire.question_bytes(q))


def test_answer_to_another_question_is_a_stray_packet_not_a_malformed_answer():
    q1 = dnswire.build_query(1, "1.0.0.127.x.test.", dnswire.TYPE_A)
    q2 = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    with pytest.raises(dnswire.WireError) as raised:
        dnswire.parse_response(_response(q2, ("A", "127.0.0.2")), dnswire.question_bytes(q1))
    assert not isinstance(raised.value, dnswire.MalformedAnswer)


def test_cname_chain_longer_than_the_limit_is_a_malformed_answer():
    q = dnswire.build_query(1, QNAME, dnswire.TYPE_A)
    names = [QNAME] + [f"c{i}.test." for i in range(dnswire.MAX_CNAMES + 1)]
    links = [(a, "IN", "CNAME", b) for a, b in itertools.pairwise(names)]
    with pytest.raises(dnswire.MalformedAnswer, match="longer than"):
        dnswire.parse_response(_answer(q, *links), dnswire.question_bytes(q))
