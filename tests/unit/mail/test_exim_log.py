"""Exim main log lines: deliveries, deferrals and failures as delivery events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mailrep.mail.exim_log import parse_line, read_events
from mailrep.mail.maillog import Unparsed, count_events

UTC0 = timezone(timedelta(0))
ID = "1rAbCd-000123-Xy"
REFUSAL = (
    f"2026-12-01 09:18:33 {ID} ** bob@example.net R=dnslookup T=remote_smtp "
    "H=mx.example.net [203.0.113.5]: SMTP error from remote mail server after RCPT "
    "TO:<bob@example.net>: 554 5.7.1 Service unavailable; Client host [198.51.100.7] "
    "blocked using psbl.surriel.com"
)


def event(line: str):
    return parse_line(line, UTC0)


def test_a_failure_gives_the_remote_host_and_its_own_reply():
    ev = event(REFUSAL)
    assert (ev.queue_id, ev.recipient, ev.status, ev.remote) == (
        ID,
        "bob@example.net",
        "bounced",
        "mx.example.net",
    )
    assert ev.reply == (
        "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using psbl.surriel.com"
    )
    assert ev.stamp == datetime(2026, 12, 1, 9, 18, 33, tzinfo=UTC)


def test_a_deferral_with_pid_and_time_zone_is_read():
    ev = event(
        f"2026-12-01 10:18:33 +0100 [4711] {ID} == bob@example.net R=dnslookup "
        "T=remote_smtp defer (-44) H=mx.example.net [203.0.113.5]: SMTP error from remote "
        "mail server after pipelined RCPT TO:<bob@example.net>: 451 4.7.1 Try again later"
    )
    assert (ev.status, ev.reply) == ("deferred", "451 4.7.1 Try again later")
    assert ev.stamp == datetime(2026, 12, 1, 9, 18, 33, tzinfo=UTC)


def test_a_remote_delivery_is_sent_and_a_local_one_is_local():
    remote = event(
        f"2026-12-01 09:18:33 {ID} => bob@example.net R=dnslookup T=remote_smtp "
        'H=mx.example.net [203.0.113.5] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 C="250 2.0.0 Ok"'
    )
    local = event(f"2026-12-01 09:18:33 {ID} => alice <alice@example.org> R=local T=appendfile")
    assert (remote.status, remote.local, local.status, local.local) == ("sent", False, "sent", True)


def test_an_unroutable_address_is_a_failure_with_exims_words():
    ev = event(f"2026-12-01 09:18:33 {ID} ** nobody@nowhere.example: Unrouteable address")
    assert (ev.recipient, ev.status, ev.reply) == (
        "nobody@nowhere.example",
        "bounced",
        "Unrouteable address",
    )


def test_new_long_message_ids_and_cutthrough_deliveries_are_read():
    ev = event(
        "2026-12-01 09:18:33 1rAbCd-0000000123-XyZw >> bob@example.net R=dnslookup "
        "T=remote_smtp H=mx.example.net [203.0.113.5]"
    )
    assert (ev.queue_id, ev.status) == ("1rAbCd-0000000123-XyZw", "sent")


def test_arrivals_suppressed_deliveries_and_other_lines_are_not_events():
    lines = [
        f"2026-12-01 09:18:33 {ID} <= alice@example.org H=localhost [127.0.0.1] P=esmtp S=500",
        f"2026-12-01 09:18:33 {ID} *> bob@example.net R=dnslookup T=remote_smtp",
        f"2026-12-01 09:18:33 {ID} Completed",
        "2026-12-01 09:18:33 exim 4.96 daemon started: pid=1, -q30m",
    ]
    assert list(read_events(lines)) == []


def test_a_flagged_line_that_cannot_be_read_is_counted():
    found = list(read_events([f"2026-13-01 09:18:33 {ID} ** bob@x: y", f"junk ** {ID} =>"]))
    assert [type(f) for f in found] == [Unparsed, Unparsed]


def test_a_recipient_deferred_twice_and_delivered_is_one_sent():
    deferral = REFUSAL.replace(" ** ", " == ").replace("554 5.7.1", "451 4.7.1")
    delivered = (
        f"2026-12-01 09:48:33 {ID} => bob@example.net R=dnslookup T=remote_smtp "
        "H=mx.example.net [203.0.113.5]"
    )
    lines = [deferral, deferral, delivered]
    counts = count_events(read_events(lines), None)
    assert (counts.sent, counts.bounced, counts.deferred) == (1, 0, 0)
