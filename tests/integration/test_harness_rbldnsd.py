"""The rbldnsd harness serves what a test writes, as a blocklist would, and reloads on update."""

from __future__ import annotations

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.support.lab import LISTED_IP
from tests.support.servers.rbldnsd import Rbldnsd, RbldnsdZone

DEFAULT = ":127.0.0.2:Listed, see http://lookup.test/$"


def ask(server: Rbldnsd, name: str, rdtype: str = "A") -> dns.message.Message:
    return dns.query.udp(
        dns.message.make_query(name, rdtype), server.host, port=server.port, timeout=2
    )


def values(reply: dns.message.Message, rdtype: str) -> list[str]:
    want = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in reply.answer if rrset.rdtype == want for rd in rrset)


def test_nameserver_is_host_colon_port(psbl):
    assert psbl.nameserver == f"127.0.0.1:{psbl.port}"
    assert psbl.port > 0


def test_listed_address_answers_its_a_value(psbl):
    assert values(ask(psbl, "7.2.0.192.psbl.surriel.com."), "A") == ["127.0.0.2"]


def test_clean_address_is_nxdomain(psbl):
    assert ask(psbl, "8.2.0.192.psbl.surriel.com.").rcode() == dns.rcode.NXDOMAIN


def test_txt_substitutes_the_queried_address(psbl):
    assert values(ask(psbl, "7.2.0.192.psbl.surriel.com.", "TXT"), "TXT") == [
        '"Listed, see http://lookup.test/192.0.2.7"'
    ]


def test_two_datasets_under_one_name_give_several_a_records(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone("zen.spamhaus.org", "ip4set", [f"{LISTED_IP} :127.0.0.2:"]),
            RbldnsdZone("zen.spamhaus.org", "ip4set", [f"{LISTED_IP} :127.0.0.10:"]),
        ]
    )
    assert values(ask(server, "7.2.0.192.zen.spamhaus.org."), "A") == ["127.0.0.10", "127.0.0.2"]


def test_wildcard_range_lists_every_address(rbldnsd):
    server = rbldnsd([RbldnsdZone("dead.example.test", "ip4set", ["0.0.0.0/1", "128.0.0.0/1"])])
    assert values(ask(server, "1.0.0.127.dead.example.test."), "A") == ["127.0.0.2"]
    assert values(ask(server, "7.113.0.203.dead.example.test."), "A") == ["127.0.0.2"]


def test_ip6_zone_lists_an_address_by_nibbles(rbldnsd):
    server = rbldnsd(
        [RbldnsdZone("v6.example.test", "ip6trie", [":127.0.0.2:v6 listed", "2001:db8::/64"])]
    )
    name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.v6.example.test."
    assert values(ask(server, name), "A") == ["127.0.0.2"]
    clean = name.replace("8.b.d.0", "9.b.d.0")
    assert ask(server, clean).rcode() == dns.rcode.NXDOMAIN


def test_dnset_zone_lists_a_domain_and_its_wildcard_subdomains(rbldnsd):
    server = rbldnsd(
        [
            RbldnsdZone(
                "dbl.example.test",
                "dnset",
                [":127.0.1.2:domain listed", "bad.test", "*.worse.test"],
            )
        ]
    )
    assert values(ask(server, "bad.test.dbl.example.test."), "A") == ["127.0.1.2"]
    assert values(ask(server, "www.worse.test.dbl.example.test."), "A") == ["127.0.1.2"]
    assert ask(server, "good.test.dbl.example.test.").rcode() == dns.rcode.NXDOMAIN


def test_generic_zone_serves_literal_records(rbldnsd):
    server = rbldnsd(
        [RbldnsdZone("gen.example.test", "generic", ['info TXT "hello"', "info A 127.0.0.5"])]
    )
    assert values(ask(server, "info.gen.example.test.", "TXT"), "TXT") == ['"hello"']
    assert values(ask(server, "info.gen.example.test."), "A") == ["127.0.0.5"]


def test_update_lists_a_new_address_once_it_returns(psbl):
    psbl.update("psbl.surriel.com", [DEFAULT, "127.0.0.2", "198.51.100.7"])
    assert values(ask(psbl, "7.100.51.198.psbl.surriel.com."), "A") == ["127.0.0.2"]
    assert ask(psbl, "7.2.0.192.psbl.surriel.com.").rcode() == dns.rcode.NXDOMAIN


def test_updates_in_quick_succession_are_all_seen(psbl):
    for last in (1, 2, 3):
        psbl.update("psbl.surriel.com", [DEFAULT, f"198.51.100.{last}"])
        assert values(ask(psbl, f"{last}.100.51.198.psbl.surriel.com."), "A") == ["127.0.0.2"]


def test_update_of_an_unknown_zone_is_an_error(psbl):
    with pytest.raises(KeyError):
        psbl.update("nosuch.example.test", [])


def test_given_address_and_port_are_used(rbldnsd):
    server = rbldnsd([RbldnsdZone("x.example.test", "ip4set", [LISTED_IP])], host="127.0.0.54")
    assert server.host == "127.0.0.54"
    assert values(ask(server, "7.2.0.192.x.example.test."), "A") == ["127.0.0.2"]


def test_broken_zone_file_fails_with_rbldnsd_log():
    server = Rbldnsd([RbldnsdZone("x.example.test", "nosuchdataset", ["1.2.3.4"])])
    with pytest.raises(RuntimeError, match="rbldnsd exited"):
        server.start()
    server.stop()
