"""The stub resolver against scripted servers: failures are errors, never empty answers."""

import socket
import time

import dns.rcode
import pytest
from mailrep.dns import wire as dnswire
from mailrep.dns.resolver import Question, StubResolver, parse_nameserver, system_nameservers

from tests.support.fakes.dns_server import a_reply, rcode_reply, silent

Q = Question("2.0.0.127.bl.test.", dnswire.TYPE_A)


def ask(server: str | list[str], question=Q, timeout=1.0, deadline=None):
    servers = [server] if isinstance(server, str) else server
    resolver = StubResolver(
        [parse_nameserver(s) for s in servers], query_timeout=timeout, deadline=deadline
    )
    return resolver.ask_all([question])[question]


def test_answer_records_are_returned(fake):
    reply = ask(fake(a_reply("127.0.0.2", "127.0.0.4")).nameserver)
    assert reply.ok and sorted(reply.records) == ["127.0.0.2", "127.0.0.4"]


def test_servfail_is_an_error(fake):
    assert ask(fake(rcode_reply(dns.rcode.SERVFAIL)).nameserver).error == "SERVFAIL"


def test_refused_is_an_error(fake):
    assert ask(fake(rcode_reply(dns.rcode.REFUSED)).nameserver).error == "REFUSED"


def test_silent_server_times_out_as_an_error(fake):
    reply = ask(fake(silent).nameserver, timeout=0.3)
    assert reply.error == "timeout" and reply.records == ()


def test_silent_server_is_retransmitted_to(fake):
    server = fake(silent)
    ask(server.nameserver, timeout=0.6)
    assert len(server.queries) >= 2


def test_closed_port_fails_fast_instead_of_waiting_for_the_timeout():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    started = time.monotonic()
    reply = ask(f"127.0.0.1:{port}", timeout=3)
    assert reply.error and "refused" in reply.error
    assert time.monotonic() - started < 2


def test_a_failing_server_hands_over_to_the_next(fake):
    bad = fake(rcode_reply(dns.rcode.SERVFAIL))
    good = fake(a_reply("127.0.0.2"))
    reply = ask([bad.nameserver, good.nameserver, bad.nameserver])
    assert reply.ok and reply.records == ("127.0.0.2",)


def test_run_deadline_bounds_a_question(fake):
    started = time.monotonic()
    reply = ask(fake(silent).nameserver, timeout=5, deadline=time.monotonic() + 0.3)
    assert reply.error and time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:5353", "::1", 5353),
        ("::1", "::1", 53),
    ],
)
def test_nameserver_syntax(text, host, port):
    ns = parse_nameserver(text)
    assert (ns.host, ns.port) == (host, port)


@pytest.mark.parametrize("text", ["dns.example", "1.2.3.4:0", "[::1", "1.2.3.4:x"])
def test_bad_nameserver_is_refused(text):
    with pytest.raises(ValueError):
        parse_nameserver(text)


def test_resolv_conf_nameserver_lines_are_read(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.test\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n")
    assert [str(n) for n in system_nameservers(str(conf))] == ["192.0.2.53:53", "[fe80::1]:53"]
