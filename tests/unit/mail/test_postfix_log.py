"""Counting final delivery outcomes from Postfix log lines (the rate's denominator)."""

from datetime import UTC, datetime, timedelta

from mailrep.mail.postfix_log import count_lines

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
