"""check_bounce_rate reading the logs real MTAs wrote: the incident lab's Postfix instances
(``maillog_file``), a real Exim's main log, and a real journal read by the real journalctl.

The lab (tests/support/servers/mailflow.py): alice's server relays through
relay.provider.test (127.0.0.11), which psbl.surriel.com lists; the recipient's MX refuses
it. The relay is the MTA the MX refused, so its log is the one that holds the refusal: the
log an admin of a sending server reads. The lab is shared by the session, so every test
finds its own mail in the logs by queue id.
"""

from __future__ import annotations

import gzip
import os
import re
import time
from datetime import datetime

import pytest

from tests.support.fixtures import make_bounces as mk
from tests.support.plugin_runner import run_plugin
from tests.support.servers.journal import journalctl_on, write_journal
from tests.support.servers.mailflow import ALICE, BOB, MX_IP, PROBE, RELAY_IP, ZONE

EXIM_IP = "127.0.0.13"


def bounce_rate(*args: str, **kw) -> object:
    return run_plugin("check_bounce_rate", *args, **kw)


def queue_id(log: str, message_id: str) -> str:
    """The queue id a Postfix log gave the message ``message_id``."""
    m = re.search(r": ([0-9A-F]{6,}): message-id=" + re.escape(message_id), log)
    assert m, f"{message_id} not in the log:\n{log[-3000:]}"
    return m.group(1)


def wait_for(predicate, what: str, timeout: float = 30.0, flush=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if flush is not None:
            flush()
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def ours(result, qid: str, key: str = "bounces") -> list[dict]:
    return [b for b in result.json[key] if b["source"].endswith(":" + qid)]


# --- Postfix: the relay's own log -----------------------------------------------------------


def test_the_relays_log_after_the_mx_refused_it_names_psbl_and_the_relay(incident_lab):
    lab = incident_lab
    mid = lab.send(ALICE, BOB, "refused at the MX", "hello")
    lab.wait_for_bounce(mid)
    qid = queue_id(lab.relay.log(), mid)
    log = str(lab.relay.maillog)
    r = bounce_rate("--postfix-log", log, "--since", "1h", "--format", "json")
    assert r.code in (1, 2), r.stdout
    [found] = ours(r, qid)
    assert (found["recipient"], found["reason"], found["zone"], found["blocked_ip"]) == (
        BOB, "blocked", ZONE, RELAY_IP)  # fmt: skip
    line = bounce_rate("--postfix-log", log, "--since", "1h")
    assert re.search(rf"\d+ cites? {ZONE} for {RELAY_IP}", line.status), line.stdout
    assert line.perfdata["unparsed"] == "0"
    verified = bounce_rate(
        "--postfix-log", log, "--since", "1h", "--verify", "-n", lab.nameserver,
        "--allow-nonglobal", "--format", "json",
    )  # fmt: skip
    assert verified.code == 2, verified.stdout
    assert {(c["zone"], c["ip"], c["now"]) for c in verified.json["citations"]} >= {
        (ZONE, RELAY_IP, "still listed")
    }


def test_a_deferral_citing_the_list_warns_and_its_later_bounce_counts_once(incident_lab):
    lab = incident_lab
    lab.soft_bounce(True)  # the MX answers 450: the relay keeps the mail queued and retries
    mid = lab.send(ALICE, BOB, "refused for now", "hello")
    wait_for(lambda: mid in lab.relay.log(), "the relay to queue the message")
    qid = queue_id(lab.relay.log(), mid)
    deferred = re.compile(rf"{qid}: to=<{BOB}>.*status=deferred")
    wait_for(lambda: len(deferred.findall(lab.relay.log())) >= 2, "two deferrals", flush=lab.flush)
    log = str(lab.relay.maillog)

    queued = bounce_rate("--postfix-log", log, "--since", "1h", "--format", "json")
    assert queued.code >= 1, queued.stdout
    [deferral] = ours(queued, qid, "deferrals")
    assert (deferral["zone"], deferral["blocked_ip"], deferral["status"][:1]) == (
        ZONE, RELAY_IP, "4")  # fmt: skip
    assert ours(queued, qid) == []
    line = bounce_rate("--postfix-log", log, "--since", "1h")
    assert re.search(rf"\d+ deferrals? cites? {ZONE} for {RELAY_IP}", line.status), line.stdout

    lab.soft_bounce(False)
    lab.wait_for_bounce(mid)
    bounced = bounce_rate("--postfix-log", log, "--since", "1h", "--format", "json")
    assert len(ours(bounced, qid)) == 1  # deferred again and again, then one bounce
    assert ours(bounced, qid, "deferrals") == []


def test_the_journal_holding_the_relays_lines_reads_like_the_file(incident_lab, tmp_path):
    lab = incident_lab
    mid = lab.send(ALICE, BOB, "refused, read from the journal", "hello")
    lab.wait_for_bounce(mid)
    qid = queue_id(lab.relay.log(), mid)
    lines = [line for line in lab.relay.log().splitlines() if line.strip()]
    journal = tmp_path / "journal"
    write_journal(lines, journal, datetime.now().year, "postfix@-.service")
    bin_dir = tmp_path / "bin"
    journalctl_on(journal, bin_dir)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    r = bounce_rate("--postfix-log", "journal", "--since", "1h", "--format", "json", env=env)
    [found] = ours(r, qid)
    assert (found["zone"], found["blocked_ip"], found["source"]) == (
        ZONE, RELAY_IP, f"journal:{qid}")  # fmt: skip
    from_file = bounce_rate("--postfix-log", str(lab.relay.maillog), "--since", "1h")
    via_journal = bounce_rate("--postfix-log", "journal", "--since", "1h", env=env)
    assert via_journal.code == from_file.code


# --- Exim ------------------------------------------------------------------------------------


@pytest.fixture
def exim(incident_lab, exim_instance):
    """A real Exim on 127.0.0.13 relaying to the lab's MX, its address listed too."""
    incident_lab.list(EXIM_IP)
    return exim_instance("exim.sender.test", EXIM_IP, (MX_IP, incident_lab.mx.port), give_up=3)


def test_exims_main_log_after_the_mx_refused_it_names_psbl_and_its_address(exim):
    exim.send(ALICE, PROBE, "from exim, to the monitoring mailbox")  # accepted whatever the list
    exim.send(ALICE, BOB, "from exim, refused")
    exim.wait_for_log(lambda line: f" ** {BOB}" in line)
    exim.wait_for_log(lambda line: f" => {PROBE}" in line)
    r = bounce_rate("--exim-log", str(exim.mainlog), "--since", "1h", "--format", "json")
    assert r.code in (1, 2), r.stdout
    assert (r.json["log"]["sent"], r.json["sent"]) == (1, 2)  # the => delivery, and the bounce
    assert [
        (b["recipient"], b["reason"], b["zone"], b["blocked_ip"]) for b in r.json["bounces"]
    ] == [(BOB, "blocked", ZONE, EXIM_IP)]
    line = bounce_rate("--exim-log", str(exim.mainlog), "--since", "1h")
    assert f"1 cites {ZONE} for {EXIM_IP}" in line.status, line.stdout


def test_exims_deferrals_warn_and_its_retry_timeout_is_one_bounce_with_the_refusals_words(
    incident_lab, exim
):
    incident_lab.soft_bounce(True)
    exim.send(ALICE, BOB, "from exim, deferred")
    exim.wait_for_log(lambda line: f" == {BOB}" in line and "SMTP error" in line)
    queued = bounce_rate("--exim-log", str(exim.mainlog), "--since", "1h", "--format", "json")
    assert queued.code >= 1, queued.stdout
    assert [(d["zone"], d["blocked_ip"]) for d in queued.json["deferrals"]] == [(ZONE, EXIM_IP)]
    exim.wait_for_log(lambda line: "retry timeout exceeded" in line, timeout=40)
    r = bounce_rate("--exim-log", str(exim.mainlog), "--since", "1h", "--format", "json")
    [found] = r.json["bounces"]
    assert (found["zone"], found["blocked_ip"]) == (ZONE, EXIM_IP)
    assert "retry timeout exceeded" in found["diagnostic"] and r.json["deferrals"] == []


# --- files the plugin cannot read, rotations -------------------------------------------------


@pytest.mark.parametrize("option", ["--postfix-log", "--exim-log"])
def test_a_log_that_cannot_be_read_is_unknown_with_its_path_and_why(tmp_path, option):
    missing = tmp_path / "mail.log"
    r = bounce_rate(option, str(missing))
    assert r.code == 3
    assert r.status.startswith("BOUNCES UNKNOWN - cannot read the ")
    assert f"{missing}: No such file or directory" in r.status


def postfix_line(when: str, qid: str, status: str, reply: str) -> str:
    return (
        f"{when} mx postfix/smtp[7]: {qid}: to=<bob@example.net>, "
        f"relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, "
        f"status={status} (host mx.example.net[203.0.113.5] said: {reply} (in reply to RCPT TO "
        "command))\n"
    )


def test_a_deferral_in_a_rotated_file_and_its_bounce_today_are_one_bounce(tmp_path):
    now = time.time()
    today = time.strftime("%b %e %H:%M:%S", time.localtime(now - 60))
    yesterday = time.strftime("%b %e %H:%M:%S", time.localtime(now - 86400))
    refusal = "450 4.7.1 Client host [198.51.100.7] blocked using psbl.surriel.com"
    log = tmp_path / "mail.log"
    log.write_text(postfix_line(today, "AB12CD", "bounced", refusal.replace("450 4.", "554 5.")))
    rotated = tmp_path / "mail.log.1.gz"
    rotated.write_bytes(
        gzip.compress(postfix_line(yesterday, "AB12CD", "deferred", refusal).encode())
    )
    os.utime(rotated, (now - 86000, now - 86000))
    r = bounce_rate("--postfix-log", str(log), "--since", "2d", "--format", "json")
    assert [b["source"] for b in r.json["bounces"]] == ["mail.log:AB12CD"]
    assert r.json["log"]["source"] == f"Postfix log {log} (and 1 rotation)"
    assert r.json["log"]["lines"] == 2
    short = bounce_rate("--postfix-log", str(log), "--since", "1h", "--format", "json")
    assert short.json["log"]["lines"] == 1  # the rotation is older than the window: not read


def test_unreadable_delivery_lines_are_counted_not_fatal(tmp_path):
    when = time.strftime("%b %e %H:%M:%S", time.localtime())
    log = tmp_path / "mail.log"
    log.write_text(
        postfix_line(when, "AB12CD", "sent", "250 ok")
        + f"{when} mx postfix/smtp[7]: AB12CE: to=<trunc@example.net>, relay=x, status=\n"
        + "\x00\x01 binary status= junk \xff\n"
    )
    r = bounce_rate("--postfix-log", str(log))
    assert r.code == 0, r.stdout
    assert r.perfdata["unparsed"] == "1" and r.perfdata["sent"] == "1"


def test_with_a_mailbox_the_exim_log_is_the_denominator(tmp_path):
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 60))
    log = tmp_path / "mainlog"
    log.write_text(
        "".join(
            f"{when} 1rAbCd-0001{i:02d}-Xy => u{i}@example.net R=dnslookup T=remote_smtp "
            "H=mx.example.net [203.0.113.5]\n"
            for i in range(50)
        )
    )
    bounces = tmp_path / "bounces"
    bounces.mkdir()
    (bounces / "1.eml").write_bytes(mk.unknown_user())
    r = bounce_rate("--dir", str(bounces), "--exim-log", str(log))
    assert (r.perfdata["sent"], r.perfdata["rate"]) == ("50", "2.0%")
    assert "sent count from Exim log (50 sent, 0 bounced, 0 deferred)" in r.stdout


def test_a_log_too_long_for_the_time_given_is_unknown_within_t(tmp_path):
    when = time.strftime("%b %e %H:%M:%S", time.localtime())
    log = tmp_path / "mail.log"
    with log.open("w") as fh:
        for block in range(40):
            fh.write(
                "".join(
                    postfix_line(when, f"{block:04X}{i:06X}", "deferred", "450 4.2.0 try later")
                    for i in range(10_000)
                )
            )
    r = bounce_rate("--postfix-log", str(log), "-t", "1")
    assert r.code == 3 and "timeout" in r.status, r.stdout
    assert r.elapsed < 5
