"""An MTA log as a bounce source: each event judged by the bounce analyser's own rules,
attempts of one queued recipient tied together by queue id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.bounce.logsource import _Judge, read_log
from mailrep.bounce.measure import from_log
from mailrep.bounce.recipient import Said, build
from mailrep.dnsbl.recheck import Recheck
from mailrep.mail.maillog import Delivery, Unparsed

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BLOCKED = "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using psbl.surriel.com"
DEFER_BLOCKED = "450 4.7.1 Client host [198.51.100.7] blocked using psbl.surriel.com; try later"


def ev(qid: str, rcpt: str, status: str, reply: str = "", minutes: int = 0, dsn: str | None = None):
    return Delivery(
        T0 + timedelta(minutes=minutes), qid, rcpt, status, dsn, "mx.example.net", reply
    )


def test_a_bounced_line_is_judged_like_the_same_words_in_a_dsn():
    out = read_log([ev("Q1", "bob@example.net", "bounced", BLOCKED, dsn="5.7.1")], None, "mail.log")
    [rec] = out.summary.records
    r = rec.recipient
    assert (rec.source, r.recipient, r.reason, r.cause, r.status, r.replycode) == (
        "mail.log:Q1", "bob@example.net", "blocked", "block", "5.7.1", "554")  # fmt: skip
    assert (rec.zone, rec.blocked_ip, r.remote_host) == (
        "psbl.surriel.com",
        "198.51.100.7",
        "mx.example.net",
    )


def test_deferred_three_times_then_bounced_is_one_bounce_and_no_deferral():
    events = [ev("Q1", "bob@example.net", "deferred", DEFER_BLOCKED, m) for m in (0, 10, 20)]
    events.append(ev("Q1", "bob@example.net", "bounced", BLOCKED, 30))
    out = read_log(events, None, "mail.log")
    assert (len(out.summary.records), out.deferrals, out.deferred, out.sent) == (1, [], 0, 0)


def test_a_blocklist_deferral_still_queued_is_kept_once():
    events = [ev("Q1", "bob@example.net", "deferred", DEFER_BLOCKED, m) for m in (0, 10)]
    out = read_log(events, None, "mail.log")
    [rec] = out.deferrals
    assert (rec.zone, rec.blocked_ip, rec.recipient.status, out.deferred) == (
        "psbl.surriel.com", "198.51.100.7", "4.7.1", 1)  # fmt: skip
    assert out.summary.records == []


def test_a_blocklist_deferral_delivered_later_still_says_mail_was_refused():
    events = [
        ev("Q1", "bob@example.net", "deferred", DEFER_BLOCKED, 0),
        ev("Q1", "bob@example.net", "sent", "250 ok", 30),
    ]
    out = read_log(events, None, "mail.log")
    assert (len(out.deferrals), out.deferred, out.sent) == (1, 0, 1)


def test_a_bounce_without_a_reply_takes_the_last_deferrals_words():
    events = [
        ev("Q1", "bob@example.net", "deferred", DEFER_BLOCKED, 0),
        ev("Q1", "bob@example.net", "deferred", "retry time not reached", 5),
        ev("Q1", "bob@example.net", "bounced", "retry timeout exceeded", 60),
    ]
    [rec] = read_log(events, None, "exim").summary.records
    assert rec.zone == "psbl.surriel.com" and "retry timeout exceeded" in rec.recipient.diagnostic


def test_an_expired_queue_file_bounces_its_deferred_recipients_with_their_last_words():
    events = [
        ev("Q1", "bob@example.net", "deferred", DEFER_BLOCKED, 0),
        ev("Q1", "carol@example.net", "deferred", "connect to mx: Connection timed out", 0),
        Delivery(T0 + timedelta(days=5), "Q1", "", "expired"),
    ]
    out = read_log(events, None, "mail.log")
    assert sorted((r.recipient.recipient, r.zone) for r in out.summary.records) == [
        ("bob@example.net", "psbl.surriel.com"),
        ("carol@example.net", None),
    ]
    assert out.deferred == 0 and out.deferrals == []


def test_events_before_the_window_and_local_deliveries_are_left_out():
    events = [
        ev("Q1", "bob@example.net", "bounced", BLOCKED, -120),
        Delivery(T0, "Q2", "me@example.org", "sent", local=True),
        ev("Q3", "carol@example.net", "sent", "250 ok", 0),
    ]
    out = read_log(events, T0 - timedelta(hours=1), "mail.log")
    assert (out.summary.records, out.sent, out.lines) == ([], 1, 1)


def test_unreadable_lines_are_counted():
    out = read_log([Unparsed(3), Unparsed(9), ev("Q1", "a@example.net", "sent")], None, "x")
    assert (out.unparsed, out.lines) == (2, 1)


def test_the_log_is_its_own_denominator():
    events = [ev(f"S{i}", f"u{i}@example.net", "sent") for i in range(97)]
    events += [ev("B1", "bob@example.net", "bounced", BLOCKED, dsn="5.7.1")]
    events += [ev(f"D{i}", f"d{i}@example.net", "deferred", DEFER_BLOCKED) for i in range(2)]
    m = from_log(read_log(events, None, "mail.log"), "Postfix log mail.log")
    assert (m.sent, m.bounces, m.rate, m.deferred_blocked) == (100, 1, 1.0, 2)
    assert m.sent_source == "the same log (97 sent, 1 bounced, 2 deferred)"


def test_verify_rechecks_deferral_citations_and_a_delisted_one_no_longer_warns():
    events = [ev("D1", "d@example.net", "deferred", DEFER_BLOCKED)]
    asked = []

    def recheck(pairs):
        asked.extend(pairs)
        return {p: Recheck("clean") for p in pairs}

    m = from_log(read_log(events, None, "mail.log"), "Postfix log", recheck)
    assert asked == [("psbl.surriel.com", "198.51.100.7")]
    assert m.deferred_blocked == 0


def test_identical_reply_texts_are_judged_once(monkeypatch):
    from mailrep.bounce import logsource

    calls = []
    real = logsource.build

    def counting(said):
        calls.append(said.diagnostic)
        return real(said)

    monkeypatch.setattr(logsource, "build", counting)
    events = [ev(f"Q{i}", f"u{i}@example.net", "bounced", BLOCKED) for i in range(50)]
    out = read_log(events, None, "mail.log")
    assert len(calls) == 1 and len({r.recipient.recipient for r in out.summary.records}) == 50


REPLIES = [
    "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    "552 5.2.2 <{rcpt}>: Mailbox full, quota exceeded",
    "550 5.7.1 <{rcpt}>: Relay access denied",
    "450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted",
    "550 {rcpt} no such user here",
    "554 5.7.1 {rcpt} blocked using zen.spamhaus.org, client [198.51.100.7]",
    "550 5.1.1 The email account that you tried to reach does not exist: {rcpt}",
    "<{rcpt}>",
    "{rcpt}",
]


@settings(max_examples=150, deadline=None)
@given(
    template=st.sampled_from(REPLIES),
    local=st.from_regex(r"[a-z0-9._+-]{1,24}", fullmatch=True),
    domain=st.sampled_from(["example.net", "yahoo.com", "gmail.com", "mx.example.org"]),
    action=st.sampled_from(["failed", "delayed"]),
    upper=st.booleans(),
)
def test_standing_in_for_the_address_judges_exactly_as_the_address_itself(
    template, local, domain, action, upper
):
    rcpt = f"{local}@{domain}"
    text = template.format(rcpt=rcpt.upper() if upper else rcpt)
    event = Delivery(T0, "Q1", rcpt, "bounced", None, "mx.example.net", text)
    direct = build(Said(rcpt, action, None, text, "mx.example.net"))
    judged = _Judge()(event, action)
    assert judged.reason == direct.reason and judged.cause == direct.cause
    assert (judged.status, judged.replycode, judged.citation) == (
        direct.status,
        direct.replycode,
        direct.citation,
    )
    assert judged.diagnostic.lower() == direct.diagnostic.lower()
    assert (judged.recipient, judged.remote_host) == (rcpt, "mx.example.net")
