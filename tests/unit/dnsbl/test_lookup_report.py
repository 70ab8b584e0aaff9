"""What the lookup core records: a resolver fault once, every question, no key in errors."""

import ipaddress
import time

import dns.rcode
import pytest
from mailrep.dns.resolver import parse_nameserver
from mailrep.dnsbl import catalogue
from mailrep.dnsbl.lookup import Item, LookupSettings, Status, lookup

from tests.support.fakes.dns_server import (
    FakeDnsServer,
    cname_loop,
    nxdomain_for_everything,
    rcode_reply,
    table,
)

CATALOGUE = catalogue.load_default()
ITEM = Item.for_address(ipaddress.ip_address("192.0.2.7"))


@pytest.fixture
def settings_for():
    servers = []

    def start(handler, **kw):
        server = FakeDnsServer(handler)
        servers.append(server)
        return server, LookupSettings(
            [parse_nameserver(server.nameserver)],
            query_timeout=0.5,
            deadline=time.monotonic() + 5,
            **kw,
        )

    yield start
    for s in servers:
        s.close()


def test_resolver_that_answers_nxdomain_everywhere_is_one_fault_and_nothing_usable(settings_for):
    server, settings = settings_for(nxdomain_for_everything())
    report = lookup([ITEM], CATALOGUE.defaults(), settings)
    assert report.resolver_fault is not None
    assert report.resolver_fault.message.startswith(
        f"resolver {server.nameserver} answers NXDOMAIN for every list's test entry"
    )
    assert report.usable == 0 and report.by_status(Status.CLEAN)  # clean, but not believed


def test_working_resolver_has_no_fault(settings_for):
    _server, settings = settings_for(
        table({("2.0.0.127.psbl.surriel.com.", "A"): ["127.0.0.2"], **_spamcop_test()})
    )
    zones = [CATALOGUE.get("psbl.surriel.com"), CATALOGUE.get("bl.spamcop.net")]
    report = lookup([ITEM], zones, settings)
    assert report.resolver_fault is None and report.usable == 2


def _spamcop_test():
    return {("2.0.0.127.bl.spamcop.net.", "A"): ["127.0.0.2"]}


def test_every_question_is_recorded_with_nameserver_rcode_and_answer(settings_for):
    server, settings = settings_for(
        table(
            {
                ("2.0.0.127.psbl.surriel.com.", "A"): ["127.0.0.2"],
                ("7.2.0.192.psbl.surriel.com.", "A"): ["127.0.0.2"],
                ("7.2.0.192.psbl.surriel.com.", "TXT"): ['"spam source"'],
            }
        )
    )
    report = lookup([ITEM], [CATALOGUE.get("psbl.surriel.com")], settings)
    seen = {(x.purpose, x.name, x.rdtype) for x in report.exchanges}
    assert seen == {
        ("query", "7.2.0.192.psbl.surriel.com.", "A"),
        ("self-test", "2.0.0.127.psbl.surriel.com.", "A"),
        ("self-test", "1.0.0.127.psbl.surriel.com.", "A"),
        ("TXT", "7.2.0.192.psbl.surriel.com.", "TXT"),
    }
    query = next(x for x in report.exchanges if x.purpose == "query")
    assert (query.nameserver, query.rcode, query.records) == (
        server.nameserver,
        "NOERROR",
        ("127.0.0.2",),
    )


def test_a_failed_question_is_recorded_with_its_error(settings_for):
    _server, settings = settings_for(rcode_reply(dns.rcode.SERVFAIL), self_test=False)
    report = lookup([ITEM], [CATALOGUE.get("psbl.surriel.com")], settings)
    [exchange] = report.exchanges
    assert exchange.error == "SERVFAIL" and exchange.records == ()


def test_dqs_key_is_masked_in_errors_and_recorded_questions(settings_for):
    key = "SeCrEtKeY0123456789"
    _server, settings = settings_for(cname_loop(), dqs_key=key)
    report = lookup([ITEM], [CATALOGUE.get("zen.spamhaus.org")], settings)
    [verdict] = report.verdicts
    assert verdict.status is Status.ERROR and "CNAME loop" in verdict.error
    text = repr(report.exchanges) + repr([v.error for v in report.verdicts]) + repr(report.health)
    assert key.lower() not in text.lower() and "<key>.zen.dq.spamhaus.net" in verdict.error


def test_target_errors_are_kept_in_the_report(settings_for):
    _server, settings = settings_for(nxdomain_for_everything(), self_test=False)
    report = lookup(
        [ITEM], [CATALOGUE.get("psbl.surriel.com")], settings, ["x: AAAA lookup failed"]
    )
    assert report.target_errors == ("x: AAAA lookup failed",)
