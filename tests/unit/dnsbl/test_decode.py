"""One reply of one zone decoded: a failure is never clean, an unknown code never a listing."""

import pytest
from mailrep.dns import wire as dnswire
from mailrep.dns.resolver import Question, Reply
from mailrep.dnsbl import catalogue
from mailrep.dnsbl.decode import Status, decode

Q = Question("7.2.0.192.zen.spamhaus.org.", dnswire.TYPE_A)
CATALOGUE = catalogue.load_default()
ZEN = CATALOGUE.get("zen.spamhaus.org")


def reply(*records, rcode="NOERROR", error=None, cnames=()):
    return Reply(Q, rcode, tuple(records), error, 0.01, "127.0.0.1:53", tuple(cnames))


@pytest.mark.parametrize("error", ["timeout", "SERVFAIL", "truncated answer, TCP retry failed"])
def test_failed_question_is_an_error(error):
    assert decode(ZEN, reply(rcode=None, error=error)).status is Status.ERROR


def test_cname_chain_without_a_final_a_is_an_error_naming_the_chain():
    found = decode(ZEN, reply(cnames=("a.test.", "b.test.")))
    assert found.status is Status.ERROR and "-> a.test. -> b.test." in found.error


def test_cname_chain_to_nxdomain_is_an_error_not_clean():
    assert decode(ZEN, reply(rcode="NXDOMAIN", cnames=("gone.test.",))).status is Status.ERROR


def test_cname_chain_that_ends_in_a_listing_is_a_listing():
    assert decode(ZEN, reply("127.0.0.2", cnames=("a.test.",))).status is Status.LISTED


def test_nxdomain_is_clean():
    assert decode(ZEN, reply(rcode="NXDOMAIN")).status is Status.CLEAN


@pytest.mark.parametrize("code", ["127.0.0.1", "127.0.0.8", "127.0.0.0", "127.1.2.3"])
def test_code_the_catalogue_does_not_document_is_an_error_with_the_raw_code(code):
    found = decode(ZEN, reply(code))
    assert found.status is Status.ERROR and code in found.error


def test_undocumented_code_alone_says_undocumented():
    found = decode(ZEN, reply("127.0.0.8"))
    assert (
        found.error.startswith("undocumented answer 127.0.0.8") and not found.answers[0].documented
    )


def test_documented_listing_beside_an_undocumented_code_is_a_listing_showing_both():
    found = decode(ZEN, reply("127.0.0.2", "127.0.0.8"))
    assert found.status is Status.LISTED and [a.code for a in found.answers] == [
        "127.0.0.2",
        "127.0.0.8",
    ]


def test_documented_error_code_beside_a_listing_makes_the_whole_answer_an_error():
    assert decode(ZEN, reply("127.0.0.2", "127.255.255.254")).status is Status.ERROR


def test_answer_outside_loopback_is_an_error():
    assert decode(ZEN, reply("0.0.0.0")).status is Status.ERROR
