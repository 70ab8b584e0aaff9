"""Counting bounces: one per original message and recipient; delays and feedback apart."""

from types import SimpleNamespace as NS

from mailrep.bounce.tally import summarise


def rcpt(addr, cause="hard", reason="userunknown", zone=None, ip=None, action="failed"):
    citation = NS(zone=zone, ip=ip) if zone else None
    return NS(recipient=addr, cause=cause, reason=reason, citation=citation, action=action)


def message(source, analysis):
    return NS(source=source, arrived=None, raw=analysis)


def bounce(*recipients, original="<a@example.org>"):
    return NS(kind="bounce", recipients=recipients, original_message_id=original)


def run(*messages):
    return summarise(messages, analyse=lambda raw: raw)


def test_each_failed_recipient_is_one_bounce():
    s = run(message("1", bounce(rcpt("a@x.test"), rcpt("b@x.test"))))
    assert len(s.records) == 2


def test_a_delayed_recipient_inside_a_failure_report_is_not_a_bounce():
    s = run(
        message(
            "1",
            bounce(
                rcpt("a@x.test"),
                rcpt("b@x.test", cause="soft", reason="networkerror", action="delayed"),
            ),
        )
    )
    assert [r.recipient.recipient for r in s.records] == ["a@x.test"]


def test_the_same_original_and_recipient_reported_twice_counts_once():
    s = run(message("1", bounce(rcpt("a@x.test"))), message("2", bounce(rcpt("A@x.test"))))
    assert len(s.records) == 1 and s.skipped == 1


def test_bounces_without_an_original_id_are_not_merged():
    s = run(
        message("1", bounce(rcpt("a@x.test"), original=None)),
        message("2", bounce(rcpt("a@x.test"), original=None)),
    )
    assert len(s.records) == 2


def test_delay_notices_are_deferred_not_bounces():
    s = run(message("1", NS(kind="delay", recipients=(), original_message_id=None)))
    assert (len(s.records), s.deferred) == (0, 1)


def test_feedback_reports_are_counted_apart():
    s = run(message("1", NS(kind="feedback", recipients=(), original_message_id=None)))
    assert (len(s.records), s.feedback) == (0, 1)


def test_ordinary_mail_is_not_counted():
    s = run(message("1", NS(kind="not-bounce", recipients=(), original_message_id=None)))
    assert (len(s.records), s.messages) == (0, 1)


def test_citations_group_by_zone_and_ip():
    s = run(
        message(
            "1",
            bounce(
                rcpt("a@x.test", "block", "blocked", "psbl.surriel.com", "192.0.2.11"),
                rcpt("b@y.test", "block", "blocked", "psbl.surriel.com", "192.0.2.11"),
                rcpt("c@y.test", "hard"),
            ),
        )
    )
    assert s.citations().most_common() == [(("psbl.surriel.com", "192.0.2.11"), 2)]
    assert (s.blocked, s.hard) == (2, 1)


def test_a_citation_counts_as_blocked_whatever_the_cause():
    s = run(message("1", bounce(rcpt("a@x.test", "soft", "rejected", "bl.spamcop.net", None))))
    assert s.blocked == 1


def test_a_refusal_of_the_sending_address_counts_as_a_blocklist_bounce_without_a_zone():
    s = run(
        message(
            "1",
            bounce(
                rcpt("a@x.test", "block", "blocked"), rcpt("b@x.test", "block", "badreputation")
            ),
        )
    )
    assert s.blocked == 2


def test_a_spam_content_rejection_is_a_block_cause_but_not_a_blocklist_bounce():
    s = run(message("1", bounce(rcpt("a@x.test", "block", "spamdetected"))))
    assert (s.count("block"), s.blocked) == (1, 0)
