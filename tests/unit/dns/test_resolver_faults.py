"""The stub resolver against the faults of broken or hostile servers: each is an error of the
question, never an empty (\"not listed\") answer."""

import time

import pytest
from mailrep.dns import wire as dnswire
from mailrep.dns.resolver import Question, StubResolver, parse_nameserver

from tests.support.fakes.dns_server import (
    a_reply,
    cname_chain,
    cname_loop,
    self_pointing_owner,
    silent,
    truncated,
    wrong_owner,
)

Q = Question("2.0.0.127.bl.test.", dnswire.TYPE_A)


def ask(*servers, timeout=1.0):
    resolver = StubResolver(
        [parse_nameserver(s.nameserver) for s in servers], query_timeout=timeout
    )
    return resolver.ask_all([Q])[Q]


@pytest.mark.parametrize("tcp", ["refuse", "close", "hang"])
def test_truncated_answer_whose_tcp_retry_fails_is_an_error(fake, tcp):
    server = fake(truncated(), tcp=tcp)
    started = time.monotonic()
    reply = ask(server, timeout=0.6)
    assert reply.error and reply.error.startswith("truncated answer")
    assert reply.records == () and time.monotonic() - started < 1.5


def test_the_records_that_fit_a_truncated_answer_are_never_used(fake):
    reply = ask(fake(truncated("127.0.0.2")))
    assert reply.error and "TCP retry failed: connection refused" in reply.error
    assert reply.records == ()


def test_truncated_answer_is_asked_again_over_tcp_at_the_server_that_sent_it(fake):
    # The first nameserver never answers and refuses TCP; the answer comes from the second.
    quiet = fake(silent)
    server = fake(truncated(), tcp="serve", tcp_handler=a_reply("127.0.0.2"))
    reply = ask(quiet, server, timeout=1.5)
    assert reply.ok and reply.records == ("127.0.0.2",)
    assert server.tcp_queries == [Q.name] and reply.nameserver == server.nameserver


def test_tcp_retry_that_is_truncated_again_is_an_error(fake):
    reply = ask(fake(truncated(), tcp="serve"))
    assert reply.error == "truncated answer, TCP retry gave no complete answer"


def test_cname_loop_is_an_error(fake):
    reply = ask(fake(cname_loop()))
    assert reply.error and reply.error.startswith("malformed answer (CNAME loop")


def test_cname_chain_that_ends_without_a_record_is_returned_with_its_chain(fake):
    reply = ask(fake(cname_chain("a.test.", "b.test.")))
    assert reply.ok and reply.records == () and reply.cnames == ("a.test.", "b.test.")


def test_answer_for_another_owner_is_an_error_at_once(fake):
    started = time.monotonic()
    reply = ask(fake(wrong_owner("3.0.0.127.bl.test.", "127.0.0.2")), timeout=3)
    assert reply.error and reply.error.startswith("malformed answer")
    assert time.monotonic() - started < 1


def test_owner_that_points_at_itself_is_an_error(fake):
    reply = ask(fake(self_pointing_owner("127.0.0.2")))
    assert reply.error and "compression pointer" in reply.error


def test_a_malformed_answer_hands_over_to_the_next_server(fake):
    bad = fake(wrong_owner("other.test.", "127.0.0.2"))
    good = fake(a_reply("127.0.0.4"))
    reply = ask(bad, good)
    assert reply.ok and reply.records == ("127.0.0.4",) and reply.nameserver == good.nameserver
