"""Postfix log lines: delivery events, and final outcomes counted (the rate's denominator)."""

from datetime import UTC, datetime, timedelta

from mailrep.mail.maillog import SyslogClock, Unparsed
from mailrep.mail.postfix_log import count_lines, parse_line, read_events, remote_reply

NOW = datetime(2026, 11, 28, 15, 0, 0, tzinfo=UTC)


def smtp(stamp: str, qid: str, rcpt: str, status: str, agent: str = "smtp") -> str:
    return (
        f"{stamp} mx postfix/{agent}[4711]: {qid}: to=<{rcpt}>, relay=mx.example.net"
        f"[203.0.113.5]:25, delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status={status} (x)"
    )


def test_each_recipient_counts_once_with_its_final_outcome():
    lines = [
        smtp("Nov 28 14:00:00", "AAA111", "bob@example.net", "deferred"),
        smtp("Nov 28 14:10:00", "AAA111", "bob@example.net", "deferred"),
        smtp("Nov 28 14:20:00", "AAA111", "bob@example.net", "bounced"),
        smtp("Nov 28 14:00:01", "BBB222", "carol@example.net", "sent"),
        smtp("Nov 28 14:00:02", "CCC333", "dave@example.net", "deferred"),
    ]
    counts = count_lines(lines, None, NOW)
    assert (counts.sent, counts.bounced, counts.deferred) == (1, 1, 1)


def test_lines_before_the_window_are_ignored():
    lines = [
        smtp("Nov 27 10:00:00", "AAA111", "bob@example.net", "sent"),
        smtp("Nov 28 14:30:00", "BBB222", "carol@example.net", "sent"),
    ]
    assert count_lines(lines, NOW - timedelta(hours=1), NOW).sent == 1


def test_rfc3339_stamps_are_read():
    lines = [smtp("2026-11-28T14:30:00.123456+00:00", "BBB222", "carol@example.net", "bounced")]
    assert count_lines(lines, NOW - timedelta(hours=1), NOW).bounced == 1


def test_syslog_stamp_in_the_future_belongs_to_last_year():
    lines = [smtp("Dec 31 23:59:00", "AAA111", "bob@example.net", "sent")]
    assert count_lines(lines, NOW - timedelta(days=7), NOW).sent == 0
    assert count_lines(lines, NOW - timedelta(days=400), NOW).sent == 1


def test_local_deliveries_are_not_outbound_mail():
    lines = [
        smtp("Nov 28 14:30:00", "AAA111", "me@localhost", "sent", agent="local"),
        smtp("Nov 28 14:30:00", "BBB111", "me@example.org", "sent", agent="lmtp"),
    ]
    assert count_lines(lines, None, NOW).sent == 0


def test_multi_instance_syslog_names_are_read():
    line = smtp("Nov 28 14:30:00", "AAA111", "bob@example.net", "sent").replace(
        "postfix/smtp", "postfix-out/smtp"
    )
    assert count_lines([line], None, NOW).sent == 1


def test_unrelated_lines_are_skipped():
    lines = [
        "Nov 28 14:30:00 mx postfix/qmgr[1]: AAA111: removed",
        "garbage status=sent",
        "",
        "Nov 28 14:30:00 mx sshd[1]: status=sent",
    ]
    assert count_lines(lines, None, NOW).lines == 0


# --- delivery events ------------------------------------------------------------------------


REFUSED = (
    "Dec 01 09:18:33 relay postfix-relay.provider.test/smtp[26870]: E636620D241: "
    "to=<bob@recipient.test>, relay=127.0.0.12[127.0.0.12]:50887, delay=0.04, "
    "delays=0.01/0.01/0.01/0.02, dsn=5.7.1, status=bounced (host 127.0.0.12[127.0.0.12] said: "
    "554 5.7.1 Service unavailable; Client host [127.0.0.11] blocked using psbl.surriel.com; "
    "Listed by PSBL, see https://psbl.org/listing?ip=127.0.0.11 (in reply to RCPT TO command))"
)


def event(line: str):
    return parse_line(line, SyslogClock(NOW))


def test_a_bounced_line_gives_the_remote_host_and_its_own_words():
    ev = event(REFUSED)
    assert (ev.queue_id, ev.recipient, ev.status, ev.dsn, ev.remote) == (
        "E636620D241",
        "bob@recipient.test",
        "bounced",
        "5.7.1",
        "127.0.0.12",
    )
    assert ev.reply.startswith("554 5.7.1 Service unavailable; Client host [127.0.0.11]")
    assert ev.reply.endswith("listing?ip=127.0.0.11")


def test_a_greeting_refusal_is_the_remote_speaking_too():
    assert remote_reply(
        "delivery temporarily suspended: host mx.example.net[203.0.113.5] refused to talk to "
        "me: 554 5.7.1 blocked using zen.spamhaus.org"
    ) == ("mx.example.net", "554 5.7.1 blocked using zen.spamhaus.org")


def test_a_text_no_remote_spoke_stays_as_postfix_wrote_it():
    text = "connect to mx.example.net[203.0.113.5]:25: Connection timed out"
    assert remote_reply(text) == (None, text)


def test_status_inside_an_address_or_a_reply_is_not_the_lines_own():
    line = smtp("Nov 28 14:00:00", "AAA111", "bob@example.net", "sent").replace(
        "(x)", "(250 ok, status=bounced (host x said: 554 no))"
    )
    line = line.replace("relay=", "orig_to=<status=bounced@example.net>, relay=")
    ev = event(line)
    assert (ev.status, ev.recipient) == ("sent", "bob@example.net")


def test_soft_bounce_keeps_the_recipient_queued():
    ev = event(REFUSED.replace("status=bounced", "status=SOFTBOUNCE"))
    assert ev.status == "deferred"


def test_an_expired_queue_file_is_an_event_of_the_queue_id():
    ev = event("Nov 28 14:00:00 mx postfix/qmgr[9]: AAA111: from=<a@example.org>, "
               "status=expired, returned to sender")  # fmt: skip
    assert (ev.queue_id, ev.recipient, ev.status) == ("AAA111", "", "expired")


def test_a_truncated_status_line_is_counted_as_unparsed():
    found = list(read_events([REFUSED[:120] + " status=bounced (host", REFUSED], NOW))
    assert isinstance(found[0], Unparsed) and found[0].line_number == 1
    assert found[1].status == "bounced"


def test_expiry_bounces_every_recipient_still_deferred():
    lines = [
        smtp("Nov 28 14:00:00", "AAA111", "bob@example.net", "deferred"),
        smtp("Nov 28 14:00:00", "AAA111", "carol@example.net", "deferred"),
        smtp("Nov 28 14:00:00", "AAA111", "dave@example.net", "sent"),
        "Nov 28 14:30:00 mx postfix/qmgr[9]: AAA111: from=<a@example.org>, status=expired, "
        "returned to sender",
    ]
    counts = count_lines(lines, None, NOW)
    assert (counts.sent, counts.bounced, counts.deferred) == (1, 2, 0)


def test_journal_stamps_are_read():
    line = smtp("2026-11-28T14:30:00.123456+0000", "BBB222", "carol@example.net", "sent")
    assert count_lines([line], NOW - timedelta(hours=1), NOW).sent == 1


def test_a_status_line_cut_after_status_is_unparsed():
    cut = REFUSED[: REFUSED.index("status=") + len("status=")]
    assert isinstance(event(cut), Unparsed)
