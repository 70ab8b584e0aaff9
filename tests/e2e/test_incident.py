"""The incident, end to end, with real mail servers and each plugin's installed script.

The story (issue 5): alice's submission server mail.sender.test (127.0.0.10) relays all
outbound mail through the provider's virus-scan relay relay.provider.test (127.0.0.11); the
recipient's MX mx.recipient.test (127.0.0.12) rejects clients listed on psbl.surriel.com,
which rbldnsd serves and which lists the relay but not the submission server. alice writes to
bob, the MX refuses the relay, and "Undelivered Mail Returned to Sender" lands in alice's
Maildir (served by Dovecot). Then check_dnsbl, check_relay_chain and check_bounce_rate must
each see the incident — and, once the relay is delisted, each must say OK.

One lab serves the whole module (it takes seconds to start), so the tests run in file order:
first the incident phase, then the phase after delisting. A test of the incident phase that
finds the relay already delisted fails rather than asserting on the wrong world.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename
import pytest

from tests.e2e import checks
from tests.e2e.checks import VERIFIED_BLOCKS, LabAccess
from tests.support.plugin_runner import PluginRun, run_plugin
from tests.support.servers.mailflow import (
    ALICE,
    BOB,
    BOUNCE_SUBJECT,
    RELAY_IP,
    SENDER_IP,
    ZONE,
    IncidentLab,
    running_lab,
)

WARNING, CRITICAL = 1, 2


# --- the lab ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[IncidentLab]:
    """The lab for this module alone, so alice's mailbox holds only this story's mail.
    A server that cannot start FAILS the tests (running_lab), it never skips them."""
    yield from running_lab()


@pytest.fixture(scope="module")
def access(lab: IncidentLab, tmp_path_factory: pytest.TempPathFactory) -> LabAccess:
    return LabAccess.of(lab, tmp_path_factory.mktemp("secrets"))


@pytest.fixture(scope="module")
def bounce(lab: IncidentLab) -> EmailMessage:
    """The incident itself: alice -> bob through the listed relay, bounced back to alice."""
    message_id = lab.send(ALICE, BOB, "Quarterly report", "The figures are attached.")
    return lab.wait_for_bounce(message_id)


@pytest.fixture
def incident(lab: IncidentLab, bounce: EmailMessage) -> IncidentLab:
    """The incident phase: the bounce has happened and the relay is still listed."""
    if RELAY_IP not in lab.listed:
        pytest.fail("an incident-phase test ran after the relay was delisted (run in order)")
    return lab


@pytest.fixture(scope="module")
def delisted(lab: IncidentLab, bounce: EmailMessage) -> IncidentLab:
    """After the incident: PSBL has removed the relay (the bounce stays in the mailbox)."""
    lab.unlist(RELAY_IP)
    return lab


def run(argv: list[str]) -> PluginRun:
    return run_plugin(argv[0], *argv[1:], timeout=60)


def zone_answer(lab: IncidentLab, address: str) -> list[str]:
    """What rbldnsd itself answers for ``address`` on the zone (independent of mailrep)."""
    host, port = lab.nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [host], int(port), 5.0
    name = dns.reversename.from_address(address, v4_origin=dns.name.from_text(ZONE))
    try:
        return [r.to_text() for r in resolver.resolve(name, dns.rdatatype.A)]
    except dns.resolver.NXDOMAIN:
        return []


def only_bounce(result: PluginRun) -> dict:
    bounces = result.json["bounces"]
    assert len(bounces) == 1, bounces
    return bounces[0]


def citation(result: PluginRun) -> dict:
    """The one citation, without ``bouncing_since`` (the plugin's history, dated from the
    run: its presence is checked here, its value by tests/integration/test_state_across_runs)."""
    [cited] = result.json["citations"]
    assert cited.pop("bouncing_since")
    return cited


# --- the incident ----------------------------------------------------------------------------


def test_the_relay_is_listed_on_psbl_and_the_submission_server_is_not(incident):
    assert zone_answer(incident, RELAY_IP) == ["127.0.0.2"]
    assert zone_answer(incident, SENDER_IP) == []


def test_mail_to_bob_comes_back_to_alice_as_undelivered_mail(incident, bounce):
    assert bounce["Subject"] == BOUNCE_SUBJECT
    assert bounce.get_content_type() == "multipart/report"
    in_alices_maildir = [m["Subject"] for _path, m in incident.messages(ALICE)]
    assert in_alices_maildir == [BOUNCE_SUBJECT]


def test_check_dnsbl_finds_the_submission_server_clean(incident, access):
    r = run(checks.dnsbl(access, SENDER_IP))
    assert r.code == 0, r.stdout
    assert r.status == f"DNSBL OK - {SENDER_IP} not listed on 1 list"


def test_check_dnsbl_finds_the_relay_critical_on_psbl(incident, access):
    r = run(checks.dnsbl(access, RELAY_IP))
    assert r.code == CRITICAL, r.stdout
    assert r.status == f"DNSBL CRITICAL - {RELAY_IP} listed on {ZONE} (1 of 1 list)"


def test_round_trip_is_critical_naming_the_relay_hop(incident, access):
    r = run(checks.relay_chain(access))
    assert r.code == CRITICAL, r.stdout
    assert r.status.startswith(f"RELAY CHAIN CRITICAL - hop 3 relay.provider.test [{RELAY_IP}]")
    assert r.status.endswith(f"listed on {ZONE}")


def test_bounce_check_over_imaps_names_blocked_psbl_and_the_relay(incident, access):
    r = run(checks.bounce_rate_imap(access, "--format", "json"))
    assert r.code in (WARNING, CRITICAL), r.stdout
    found = only_bounce(r)
    assert (found["recipient"], found["reason"], found["zone"], found["blocked_ip"]) == (
        BOB, "blocked", ZONE, RELAY_IP)  # fmt: skip


def test_bounce_check_status_line_cites_psbl_for_the_relay_and_names_its_hop(incident, access):
    r = run(checks.bounce_rate_imap(access))
    assert r.code in (WARNING, CRITICAL), r.stdout
    assert r.status.endswith(
        f"1 cites {ZONE} for {RELAY_IP} (relay.provider.test, hop 2 of your path)"
    )


def test_bounce_check_long_output_says_the_cited_address_is_the_relay_after_the_server(
    incident, access
):
    r = run(checks.bounce_rate_maildir(access))
    assert r.lines[2] == (
        f"culprit: {RELAY_IP} is relay.provider.test, hop 2 of your path, the relay after "
        "mail.sender.test (the address that handed the bounce to you)"
    )


def test_bounce_check_verify_finds_a_listed_hop_the_bounce_does_not_cite(incident, access):
    incident.list(SENDER_IP)
    try:
        r = run(checks.bounce_rate_imap(access, *VERIFIED_BLOCKS, "--format", "json"))
    finally:
        incident.unlist(SENDER_IP)
    assert r.code == CRITICAL, r.stdout
    assert f"path hop listed: {SENDER_IP} (mail.sender.test, hop 1) on {ZONE}" in r.json["summary"]
    hops = {h["ip"]: h["listed_on"] for h in r.json["path_hops"]}
    assert hops[SENDER_IP] == [ZONE] and hops[RELAY_IP] == [ZONE]


def test_bounce_check_on_the_maildir_agrees_with_imaps(incident, access):
    over_imap = run(checks.bounce_rate_imap(access, "--format", "json"))
    on_disk = run(checks.bounce_rate_maildir(access, "--format", "json"))
    fields = ("recipient", "reason", "cause", "status", "zone", "blocked_ip")
    assert on_disk.code == over_imap.code
    assert [{k: b[k] for k in fields} for b in on_disk.json["bounces"]] == [
        {k: b[k] for k in fields} for b in over_imap.json["bounces"]]  # fmt: skip


def test_bounce_check_with_verify_is_critical_while_the_relay_is_still_listed(incident, access):
    r = run(checks.bounce_rate_imap(access, *VERIFIED_BLOCKS, "--format", "json"))
    assert r.code == CRITICAL, r.stdout
    cited = citation(r)
    assert {k: cited[k] for k in ("zone", "ip", "bounces", "now")} == {
        "zone": ZONE, "ip": RELAY_IP, "bounces": 1, "now": "still listed"}  # fmt: skip
    assert (cited["culprit"]["host"], cited["culprit"]["hop"]) == ("relay.provider.test", 2)


# --- after delisting -------------------------------------------------------------------------


def test_check_dnsbl_finds_the_relay_clean_once_delisted(delisted, access):
    r = run(checks.dnsbl(access, RELAY_IP))
    assert r.code == 0, r.stdout
    assert r.status == f"DNSBL OK - {RELAY_IP} not listed on 1 list"


def test_round_trip_is_ok_once_the_relay_is_delisted(delisted, access):
    r = run(checks.relay_chain(access))
    assert r.code == 0, r.stdout
    assert r.status.startswith("RELAY CHAIN OK - 3 of 3 hops checked, none listed")


def test_bounce_check_with_verify_is_ok_once_the_cited_relay_is_delisted(delisted, access):
    """The old bounce is still in the mailbox and still counted; --verify finds the address
    it cites no longer listed, and that is what an OK means here (see checks.VERIFIED_BLOCKS)."""
    r = run(checks.bounce_rate_imap(access, *VERIFIED_BLOCKS, "--format", "json"))
    assert r.code == 0, r.stdout
    assert only_bounce(r)["blocked_ip"] == RELAY_IP
    cited = citation(r)
    assert {k: cited[k] for k in ("zone", "ip", "bounces", "now")} == {
        "zone": ZONE, "ip": RELAY_IP, "bounces": 1, "now": "no longer listed"}  # fmt: skip


def test_bounce_check_without_verify_still_warns_about_the_old_bounce(delisted, access):
    """Without --verify the plugin cannot know the relay was delisted: a blocklist bounce in
    the window is WARNING (its default), which is why the monitoring command uses --verify."""
    r = run(checks.bounce_rate_maildir(access))
    assert r.code == WARNING, r.stdout


def test_mail_to_bob_is_delivered_once_the_relay_is_delisted(delisted):
    message_id = delisted.send(ALICE, BOB, "Quarterly report, again", "Second try.")
    assert delisted.wait_for_delivery(BOB, message_id)["Subject"] == "Quarterly report, again"
