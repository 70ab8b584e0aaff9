"""check_bounce_rate as Nagios runs it, over every kind of source and against real servers.

Local sources are real Maildir/mbox/.eml files; IMAP is a real Dovecot; --verify asks a real
rbldnsd; the last tests parse DSNs that a real Postfix wrote.
"""

from __future__ import annotations

import mailbox
import os
import time
from pathlib import Path

import dns.rcode
import pytest

from tests.support.fakes.dns_server import FakeDnsServer, a_reply, rcode_reply
from tests.support.fixtures import make_bounces as mk
from tests.support.plugin_runner import run_plugin
from tests.support.servers.rbldnsd import RbldnsdZone

RELAY = "192.0.2.11"


def bounce_rate(*args: str, **kw) -> object:
    return run_plugin("check_bounce_rate", *args, **kw)


def write_dir(path: Path, messages: list[bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        (path / f"{i:03d}.eml").write_bytes(raw)
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for raw in messages:
        box.add(raw)
    return path


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(str(path))
    for raw in messages:
        box.add(raw)
    box.close()
    return path


MIXED = [mk.blocklisted(ip=RELAY), mk.unknown_user(), mk.delayed(), mk.ordinary(), mk.auto_reply()]


# --- recognising and naming ---------------------------------------------------------------


def test_blocklist_bounce_names_zone_and_ip_on_the_first_line(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", MIXED)), "--sent", "100")
    assert r.status == (
        "BOUNCES WARNING - 1 blocklist bounce, warning above 0: 2 of 100 sent bounced (2.0%), "
        f"1 cites psbl.surriel.com for {RELAY}"
    )
    assert r.code == 1


def test_perfdata_counts_each_kind(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", MIXED)), "--sent", "100")
    assert {
        k: r.perfdata[k]
        for k in ("sent", "bounces", "rate", "hard", "blocked", "deferred", "feedback")
    } == {
        "sent": "100",
        "bounces": "2",
        "rate": "2.0%",
        "hard": "1",
        "blocked": "1",
        "deferred": "1",
        "feedback": "0",
    }


def test_json_lists_every_bounce_with_reason_cause_zone_and_ip(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", MIXED)), "--format", "json")
    rows = [
        (
            b["source"],
            b["recipient"],
            b["reason"],
            b["cause"],
            b["status"],
            b["replycode"],
            b["zone"],
            b["blocked_ip"],
        )
        for b in r.json["bounces"]
    ]
    assert rows == [
        (
            "000.eml",
            "bob@example.net",
            "blocked",
            "block",
            "5.7.1",
            "521",
            "psbl.surriel.com",
            RELAY,
        ),
        ("001.eml", "nobody@example.net", "userunknown", "hard", "5.1.1", "550", None, None),
    ]
    assert r.json["state"] == "WARNING" and r.json["exit_code"] == r.code


def test_ordinary_mail_and_auto_replies_are_not_bounces(tmp_path):
    r = bounce_rate(
        "--dir", str(write_dir(tmp_path / "b", [mk.ordinary(), mk.auto_reply()])), "--sent", "10"
    )
    assert r.code == 0 and r.perfdata["bounces"] == "0"


def test_the_same_bounce_twice_counts_once(tmp_path):
    twice = [
        mk.unknown_user(original_id="<x1@example.org>"),
        mk.unknown_user(original_id="<x1@example.org>"),
    ]
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", twice)), "--format", "json")
    assert len(r.json["bounces"]) == 1


def test_long_output_groups_by_cause_reason_domain_and_blocklist(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", MIXED)))
    assert f"blocklist psbl.surriel.com: 1 bounce for {RELAY}" in r.stdout
    assert "by cause: " in r.stdout and "by reason: " in r.stdout
    assert "by recipient domain: example.net 2" in r.stdout


# --- sources ------------------------------------------------------------------------------


def test_maildir_source(tmp_path):
    r = bounce_rate("--maildir", str(write_maildir(tmp_path / "Maildir", MIXED)), "--sent", "100")
    assert r.perfdata["bounces"] == "2" and r.code == 1


def test_maildir_is_left_unchanged(tmp_path):
    box = write_maildir(tmp_path / "Maildir", MIXED)
    before = sorted(str(p.relative_to(box)) for p in box.rglob("*"))
    bounce_rate("--maildir", str(box))
    assert sorted(str(p.relative_to(box)) for p in box.rglob("*")) == before


def test_mbox_source(tmp_path):
    path = write_mbox(tmp_path / "bounces.mbox", MIXED)
    r = bounce_rate("--mbox", str(path), "--format", "json")
    assert [b["reason"] for b in r.json["bounces"]] == ["blocked", "userunknown"]


def test_single_file_and_stdin(tmp_path):
    f = tmp_path / "one.eml"
    f.write_bytes(mk.blocklisted(ip=RELAY))
    assert bounce_rate("--file", str(f), "--format", "json").json["bounces"][0]["zone"] == (
        "psbl.surriel.com"
    )
    r = bounce_rate("--file", "-", "--format", "json", stdin=mk.blocklisted(ip=RELAY))
    assert r.json["bounces"][0]["blocked_ip"] == RELAY


def test_file_or_stdin_holding_an_mbox_counts_every_bounce_in_it(tmp_path):
    path = write_mbox(tmp_path / "saved-folder", MIXED)
    by_file = bounce_rate("--file", str(path), "--format", "json").json["bounces"]
    by_stdin = bounce_rate("--file", "-", "--format", "json", stdin=path.read_bytes()).json
    assert [b["reason"] for b in by_file] == ["blocked", "userunknown"]
    assert [b["source"] for b in by_stdin["bounces"]] == ["stdin#0", "stdin#1"]


def test_messages_outside_the_window_are_not_counted(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(), mk.blocklisted()])
    old = time.time() - 3 * 86400
    os.utime(d / "001.eml", (old, old))
    r = bounce_rate("--dir", str(d), "--since", "24h", "--format", "json")
    assert [b["reason"] for b in r.json["bounces"]] == ["userunknown"]
    assert (
        len(bounce_rate("--dir", str(d), "--since", "7d", "--format", "json").json["bounces"]) == 2
    )


# --- the rate and its thresholds ----------------------------------------------------------


def test_rate_thresholds_are_on_percent_of_sent(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(3)])
    assert bounce_rate("--dir", str(d), "--sent", "100").code == 0  # 3%
    assert bounce_rate("--dir", str(d), "--sent", "40").code == 1  # 7.5%
    assert bounce_rate("--dir", str(d), "--sent", "20").code == 2  # 15%


def test_without_a_sent_count_thresholds_apply_to_counts_and_the_line_says_so(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(6)])
    r = bounce_rate("--dir", str(d))
    assert r.code == 1 and "(no sent count, warning above 5)" in r.status
    assert "rate" not in r.perfdata


def test_any_blocklist_bounce_is_at_least_warning_at_a_tiny_rate(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", [mk.blocklisted()])), "--sent", "100000")
    assert r.code == 1


def test_blocked_thresholds_can_make_it_critical(tmp_path):
    r = bounce_rate(
        "--dir",
        str(write_dir(tmp_path / "b", [mk.blocklisted()])),
        "--sent",
        "1000",
        "--blocked-critical",
        "0",
    )
    assert r.code == 2


def test_hard_bounce_thresholds(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user()])
    assert bounce_rate("--dir", str(d), "--sent", "1000").code == 0
    assert bounce_rate("--dir", str(d), "--sent", "1000", "--hard-warning", "0").code == 1


def test_postfix_log_gives_the_sent_count(tmp_path):
    log = tmp_path / "mail.log"
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    log.write_text(
        "".join(
            f"{stamp} mx postfix/smtp[1]: Q{i:04X}: to=<u{i}@example.net>, relay=mx.example.net"
            f"[203.0.113.5]:25, delay=1, dsn=2.0.0, status=sent (250 ok)\n"
            for i in range(50)
        )
    )
    r = bounce_rate(
        "--dir", str(write_dir(tmp_path / "b", [mk.unknown_user()])), "--postfix-log", str(log)
    )
    assert r.perfdata["sent"] == "50" and r.perfdata["rate"] == "2.0%"


# --- verification with the lookup core ----------------------------------------------------


def test_verify_says_a_cited_address_is_still_listed(tmp_path, rbldnsd):
    server = rbldnsd(
        [RbldnsdZone("psbl.surriel.com", "ip4set", [":127.0.0.2:", "127.0.0.2", RELAY])]
    )
    r = bounce_rate(
        "--dir",
        str(write_dir(tmp_path / "b", [mk.blocklisted(ip=RELAY)])),
        "--verify",
        "-n",
        server.nameserver,
        "--allow-nonglobal",
    )
    assert r.code == 2 and f"still listed: {RELAY} on psbl.surriel.com" in r.status


def test_verify_says_a_cited_address_is_no_longer_listed(tmp_path, rbldnsd):
    server = rbldnsd([RbldnsdZone("psbl.surriel.com", "ip4set", [":127.0.0.2:", "127.0.0.2"])])
    r = bounce_rate(
        "--dir",
        str(write_dir(tmp_path / "b", [mk.blocklisted(ip=RELAY)])),
        "--verify",
        "-n",
        server.nameserver,
        "--allow-nonglobal",
        "--format",
        "json",
    )
    assert r.json["citations"][0]["now"] == "no longer listed"


def test_verified_delisted_citation_no_longer_counts_as_blocked(tmp_path, rbldnsd):
    server = rbldnsd([RbldnsdZone("psbl.surriel.com", "ip4set", [":127.0.0.2:", "127.0.0.2"])])
    d = write_dir(tmp_path / "b", [mk.blocklisted(ip=RELAY)])
    r = bounce_rate("--dir", str(d), "--verify", "-n", server.nameserver, "--allow-nonglobal")
    assert r.code == 0
    assert (r.perfdata["bounces"], r.perfdata["blocked"], r.perfdata["resolved"]) == ("1", "0", "1")


def test_verify_skips_provider_blocks_that_have_no_dns_list(tmp_path, rbldnsd):
    server = rbldnsd([RbldnsdZone("psbl.surriel.com", "ip4set", [":127.0.0.2:", "127.0.0.2"])])
    raw = mk.dsn(
        "bob@outlook.example",
        "5.7.1",
        f"550 5.7.1 Unfortunately, messages from [{RELAY}] weren't sent. Please contact your "
        "Internet service provider since part of their network is on our block list (S3150).",
    )
    r = bounce_rate(
        "--dir",
        str(write_dir(tmp_path / "b", [raw])),
        "--verify",
        "-n",
        server.nameserver,
        "--allow-nonglobal",
        "--format",
        "json",
    )
    [citation] = r.json["citations"]
    assert citation["zone"] == "microsoft" and citation["now"].startswith("skipped")
    assert r.code == 1


def test_without_verify_an_old_blocklist_bounce_stays_a_warning(tmp_path):
    r = bounce_rate("--dir", str(write_dir(tmp_path / "b", [mk.blocklisted(ip=RELAY)])))
    assert r.code == 1


# --- bad input and dead servers -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--dir", "/nonexistent/bounces"],
        ["--maildir", "/nonexistent/Maildir"],
        ["--dir", "/tmp", "--mbox", "/tmp/x"],
        ["--dir", "/tmp", "--since", "yesterday"],
        ["--dir", "/tmp", "-w", "nonsense:range:"],
        ["--imap-host", "127.0.0.1"],
        ["--dir", "/tmp", "--sent-folder", "Sent"],
    ],
)
def test_bad_input_is_unknown_with_one_line(args):
    r = bounce_rate(*args)
    assert r.code == 3 and r.first_line.startswith("BOUNCES UNKNOWN - ")


def test_dead_imap_server_is_unknown(tmp_path):
    r = bounce_rate(
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        "1",
        "--imap-user",
        "alice",
        "--imap-plain",
        env={"MAILREP_IMAP_PASSWORD": "x"},
    )
    assert r.code == 3 and r.first_line.startswith("BOUNCES UNKNOWN - ")


# --- real IMAP (Dovecot) ------------------------------------------------------------------


@pytest.fixture
def imap_box(dovecot):
    server = dovecot({"alice": "alice-password"})
    for raw in MIXED:
        server.deliver("alice", raw)
    server.deliver("alice", mk.unknown_user("seen@example.net"), subdir="cur", flags="S")
    server.sync("alice")
    return server


def imap_args(server, *extra: str) -> list[str]:
    return [
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        str(server.imaps_port),
        "--imap-user",
        "alice",
        "--imap-tls",
        "--ca-file",
        str(server.ca_file),
        *extra,
    ]


IMAP_ENV = {"MAILREP_IMAP_PASSWORD": "alice-password"}


def test_imap_source_counts_what_the_maildir_path_counts(imap_box):
    over_imap = bounce_rate(*imap_args(imap_box, "--format", "json"), env=IMAP_ENV).json
    on_disk = bounce_rate("--maildir", str(imap_box.maildir("alice")), "--format", "json").json
    assert [(b["recipient"], b["reason"]) for b in over_imap["bounces"]] == [
        (b["recipient"], b["reason"]) for b in on_disk["bounces"]
    ]
    assert over_imap["state"] == on_disk["state"] == "WARNING"


def test_imap_read_changes_no_flag_and_no_uid(imap_box):
    before = imap_box.snapshot("alice")
    r = bounce_rate(*imap_args(imap_box), env=IMAP_ENV)
    assert r.code == 1
    assert imap_box.snapshot("alice") == before


def test_password_file_is_read(imap_box, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("alice-password\n")
    pw.chmod(0o600)
    r = bounce_rate(*imap_args(imap_box, "--password-file", str(pw)))
    assert r.code == 1


def test_wrong_password_is_unknown(imap_box):
    r = bounce_rate(*imap_args(imap_box), env={"MAILREP_IMAP_PASSWORD": "wrong"})
    assert r.code == 3 and "wrong" not in r.stdout


def test_untrusted_certificate_is_refused(imap_box):
    args = [a for a in imap_args(imap_box) if a != str(imap_box.ca_file) and a != "--ca-file"]
    r = bounce_rate(*args, env=IMAP_ENV)
    assert r.code == 3 and "certificate" in r.status.lower()


def test_sent_folder_gives_the_sent_count(imap_box):
    imap_box.add_mailbox_dirs("alice", "Sent")
    for i in range(4):
        imap_box.deliver("alice", mk.ordinary(f"sent {i}"), folder="Sent")
    imap_box.sync("alice", "Sent")
    r = bounce_rate(*imap_args(imap_box, "--sent-folder", "Sent"), env=IMAP_ENV)
    assert r.perfdata["sent"] == "4" and r.perfdata["rate"] == "75.0%"  # 3 bounces


# --- DSNs written by a real Postfix -------------------------------------------------------


@pytest.fixture
def lab_bounces(incident_lab):
    """Two real bounces in alice's Maildir: a blocklist rejection and an unknown user."""
    lab = incident_lab
    lab.reset()
    listed = lab.send("alice@sender.test", "bob@recipient.test", "to bob", "hello")
    lab.wait_for_bounce(listed)
    lab.unlist("127.0.0.11")  # else the MX rejects the relay before it looks at the user
    try:
        unknown = lab.send("alice@sender.test", "nosuchuser@recipient.test", "to nobody", "hi")
        lab.wait_for_bounce(unknown)
    finally:
        lab.reset()
    return lab


def test_real_postfix_blocklist_bounce_yields_zone_and_relay_ip(lab_bounces):
    maildir = lab_bounces.dovecot.maildir("alice@sender.test")
    r = bounce_rate("--maildir", str(maildir), "--format", "json")
    cited = {(b["reason"], b["zone"], b["blocked_ip"]) for b in r.json["bounces"]}
    assert ("blocked", "psbl.surriel.com", "127.0.0.11") in cited
    assert r.code >= 1


def test_real_postfix_unknown_user_bounce_is_hard(lab_bounces):
    maildir = lab_bounces.dovecot.maildir("alice@sender.test")
    r = bounce_rate("--maildir", str(maildir), "--format", "json")
    hard = [b for b in r.json["bounces"] if b["recipient"] == "nosuchuser@recipient.test"]
    assert hard  # every such bounce (one per run of the fixture) reads as a hard unknown user
    assert {(b["reason"], b["cause"], b["status"][:1]) for b in hard} == {
        ("userunknown", "hard", "5")
    }


def _maildir_file_holding(maildir: Path, needle: str) -> bytes:
    """The raw bytes of the one message in ``maildir`` that contains ``needle``."""
    found = [
        p.read_bytes()
        for sub in ("new", "cur")
        for p in (maildir / sub).iterdir()
        if needle.encode() in p.read_bytes()
    ]
    assert len(found) == 1, f"{len(found)} messages hold {needle}"
    return found[0]


def test_real_postscreen_blocklist_bounce_yields_zone_and_relay_ip(incident_lab, tmp_path):
    lab = incident_lab
    lab.reset()
    lab.use_postscreen(True)
    try:
        sent = lab.send("alice@sender.test", "bob@recipient.test", "via postscreen", "hello")
        lab.wait_for_bounce(sent)
    finally:
        lab.reset()
    assert "DNSBL rank" in lab.mx.log()  # postscreen, not smtpd, refused the relay
    bounce = tmp_path / "postscreen-bounce.eml"
    bounce.write_bytes(_maildir_file_holding(lab.dovecot.maildir("alice@sender.test"), sent))
    r = bounce_rate("--file", str(bounce), "--format", "json")
    assert [(b["reason"], b["zone"], b["blocked_ip"]) for b in r.json["bounces"]] == [
        ("blocked", "psbl.surriel.com", "127.0.0.11")
    ]


# --- what set the state, and a denominator that cannot be one -----------------------------


def test_first_line_names_the_hard_bounces_that_made_it_critical(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(3)])
    r = bounce_rate("--dir", str(d), "--sent", "1000", "--hard-critical", "2")
    assert r.code == 2
    assert r.status.startswith("BOUNCES CRITICAL - 3 hard bounces, critical above 2: ")


def test_first_line_names_the_rate_threshold_it_crossed(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(3)])
    r = bounce_rate("--dir", str(d), "--sent", "20")
    assert r.code == 2 and "3 of 20 sent bounced (15.0%, critical above 10)" in r.status


def test_sent_zero_with_bounces_is_stated_not_shown_as_a_rate(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(3)])
    r = bounce_rate("--dir", str(d), "--sent", "0")
    assert "%" not in r.status.split("|")[0]
    assert "3 bounces in the last 24h but only 0 sent (no rate" in r.status
    assert r.perfdata["rate"] == "U" and r.perfdata["sent"] == "0"


def test_sent_smaller_than_the_bounces_judges_the_count_instead(tmp_path):
    d = write_dir(tmp_path / "b", [mk.unknown_user(f"u{i}@example.net") for i in range(6)])
    r = bounce_rate("--dir", str(d), "--sent", "2")
    assert r.code == 1  # six bounces against -w 5, not 300% against -c 10
    assert "300" not in r.stdout and "but only 2 sent (no rate, warning above 5)" in r.status
    assert "smaller than the bounces read" in r.stdout


def test_perfdata_labels_are_the_same_whatever_the_mailbox_holds(tmp_path):
    quiet = write_dir(tmp_path / "quiet", [mk.ordinary()])
    busy = write_dir(tmp_path / "busy", [mk.blocklisted(ip=RELAY), mk.unknown_user()])
    labels = [
        set(bounce_rate("--dir", str(d), "--sent", s).perfdata)
        for d, s in ((quiet, "10"), (busy, "10"), (busy, "1"), (quiet, "0"))
    ]
    assert all(found == labels[0] for found in labels)
    assert {"blocked", "rate", "sent", "hard", "bounces"} <= labels[0]


# --- --verify goes through the self-tested lookup core (issue 11, item 6) ------------------


def verify_json(tmp_path: Path, bounce: bytes, nameserver: str, *extra: str):
    """check_bounce_rate --verify --format json over one bounce, through ``nameserver``."""
    folder = write_dir(tmp_path / "b", [bounce])
    args = ("--dir", str(folder), "--verify", "-n", nameserver, "--allow-nonglobal", *extra)
    return bounce_rate(*args, "--format", "json")


def test_verify_through_a_resolver_that_says_nxdomain_to_everything_is_an_error(tmp_path):
    server = FakeDnsServer(rcode_reply(dns.rcode.NXDOMAIN))
    try:
        r = verify_json(tmp_path, mk.blocklisted(ip=RELAY), server.nameserver)
    finally:
        server.close()
    [citation] = r.json["citations"]
    assert citation["now"].startswith("error: psbl.surriel.com failed its self-test")
    assert r.code != 0 and r.json["state"] != "OK"
    assert {"label": "resolved", "value": 0} in [
        {"label": p["label"], "value": p["value"]} for p in r.json["perfdata"]
    ]


def test_verify_on_a_wildcard_zone_is_an_error_not_still_listed(tmp_path):
    server = FakeDnsServer(a_reply("127.0.0.2"))  # lists everything, 127.0.0.1 included
    try:
        r = verify_json(tmp_path, mk.blocklisted(ip=RELAY), server.nameserver)
    finally:
        server.close()
    [citation] = r.json["citations"]
    assert citation["now"].startswith("error:") and "still" not in citation["now"]


def _cites(zone: str) -> bytes:
    return mk.blocklisted(ip=RELAY, zone=zone)


def test_verify_never_queries_a_zone_only_the_bounce_names(tmp_path):
    server = FakeDnsServer(rcode_reply(dns.rcode.NXDOMAIN))
    try:
        r = verify_json(tmp_path, _cites("bl.attacker-chosen.example"), server.nameserver)
        asked = list(server.queries)
    finally:
        server.close()
    [citation] = r.json["citations"]
    assert citation["zone"] == "bl.attacker-chosen.example"
    assert citation["now"].startswith("skipped: a list the catalogue does not know")
    assert not any("attacker-chosen" in q for q in asked)


def test_verify_zone_lets_the_user_verify_a_list_the_catalogue_does_not_know(tmp_path, rbldnsd):
    zone = "bl.local-list.example"
    server = rbldnsd([RbldnsdZone(zone, "ip4set", [":127.0.0.2:", "127.0.0.2", RELAY])])
    r = verify_json(tmp_path, _cites(zone), server.nameserver, "--verify-zone", zone)
    [citation] = r.json["citations"]
    assert citation["now"] == "still listed" and r.code == 2
