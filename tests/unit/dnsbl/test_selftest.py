"""RFC 5782 self-tests: a list's fault is named per list, a resolver's fault once."""

import pytest
from mailrep.dns import wire as dnswire
from mailrep.dns.resolver import Question, Reply
from mailrep.dnsbl import catalogue
from mailrep.dnsbl.selftest import resolver_fault, zone_health

CATALOGUE = catalogue.load_default()
ZONES = [z for z in CATALOGUE.defaults() if not z.is_domain_list]


def reply(*records, rcode="NOERROR", error=None, ns="127.0.0.54:53"):
    q = Question("2.0.0.127.x.test.", dnswire.TYPE_A)
    return Reply(q, rcode, tuple(records), error, 0.01, ns)


NXDOMAIN = reply(rcode="NXDOMAIN")


def test_every_list_nxdomain_for_its_test_entry_is_the_resolvers_fault():
    fault = resolver_fault([(z, NXDOMAIN) for z in ZONES])
    assert fault is not None and fault.zones == len(ZONES)
    assert fault.message == (
        "resolver 127.0.0.54 answers NXDOMAIN for every list's test entry: "
        "it does not reach the lists"
    )


@pytest.mark.parametrize(
    ("failed", "how"),
    [
        (reply(rcode=None, error="timeout"), "times out on"),
        (reply(rcode=None, error="SERVFAIL"), "answers SERVFAIL for"),
        (reply(rcode=None, error="connection refused"), "fails (connection refused) for"),
        (reply(), "answers no record for"),
        (reply("0.0.0.0"), "answers 0.0.0.0 for"),
    ],
)
def test_the_same_failure_everywhere_is_named_once(failed, how):
    fault = resolver_fault([(z, failed) for z in ZONES])
    assert fault is not None and fault.how == how


def test_one_list_answering_its_test_entry_clears_the_resolver():
    tests = [(z, NXDOMAIN) for z in ZONES[1:]] + [(ZONES[0], reply("127.0.0.2"))]
    assert resolver_fault(tests) is None


def test_different_failures_are_the_lists_own():
    tests = [(ZONES[0], NXDOMAIN), (ZONES[1], reply(rcode=None, error="timeout"))]
    assert resolver_fault(tests) is None


def test_one_list_alone_says_nothing_about_the_resolver():
    assert resolver_fault([(ZONES[0], NXDOMAIN)]) is None


def test_questions_the_run_had_no_time_to_send_blame_no_resolver():
    never_sent = reply(rcode=None, error="timeout (run deadline)", ns=None)
    assert resolver_fault([(z, never_sent) for z in ZONES]) is None


def test_every_nameserver_that_answered_is_named():
    tests = [
        (z, reply(rcode="NXDOMAIN", ns=f"192.0.2.{i % 2 + 1}:53")) for i, z in enumerate(ZONES)
    ]
    fault = resolver_fault(tests)
    assert fault is not None and fault.nameservers == ("192.0.2.1", "192.0.2.2")


def test_test_entry_answered_with_an_undocumented_code_is_still_listed():
    zone = CATALOGUE.get("all.spamrats.com")  # documents 127.0.0.36-43, not 127.0.0.2
    health = zone_health(zone, zone.name, reply("127.0.0.2"), NXDOMAIN)
    assert not health.suspect and not health.broken and not health.error


def test_never_listed_entry_answered_with_an_undocumented_code_is_a_broken_zone():
    zone = CATALOGUE.get("psbl.surriel.com")
    health = zone_health(zone, zone.name, reply("127.0.0.2"), reply("127.0.0.4"))
    assert health.broken


def test_never_listed_entry_answered_with_a_documented_error_is_an_error_not_broken():
    zone = CATALOGUE.get("zen.spamhaus.org")
    health = zone_health(zone, zone.name, reply("127.0.0.2"), reply("127.255.255.254"))
    assert not health.broken and "public" in health.error
