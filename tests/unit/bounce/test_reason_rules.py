"""Reason rules written from documented meaning, one row per rule and its near misses.

Each row: (what the row shows, status, the remote server's words, expected reason). The
wordings are synthetic, in the documented form (RFC 3463/5321, the MTA's or provider's own
text); the source is named beside the rule in bounce/rules.py or bounce/reason.py.
"""

import pytest
from mailrep.bounce.analysis import analyse
from mailrep.bounce.codes import reason_from_subject
from mailrep.bounce.reason import classify

from tests.unit.bounce.test_analysis import dsn, plain

ROWS = [
    # the address names no user
    (
        "not a known user",
        "5.0.0",
        "550 <a@example.net> is not a known user on this system",
        "userunknown",
    ),
    (
        "no mail box available",
        "5.0.0",
        "550 ** No mail box available for this user **",
        "userunknown",
    ),
    (
        "not an active address",
        "5.0.0",
        "550 a@example.net is not an active address at this host",
        "userunknown",
    ),
    (
        "BAD_RECIPIENT",
        "5.0.0",
        "550 BAD_RECIPIENT - see http://example.net/undelivered",
        "userunknown",
    ),
    (
        "Exchange resolver code",
        "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient a@example.net not found by SMTP",
        "userunknown",
    ),
    # RFC 5321's generic 550 text: the status or the stage decides
    (
        "generic 550, generic status",
        "5.0.0",
        "550 Requested action not taken: mailbox unavailable",
        "filtered",
    ),
    (
        "generic 550, X.1.1",
        "5.1.1",
        "550 Requested action not taken: mailbox unavailable",
        "userunknown",
    ),
    (
        "generic 550 at RCPT (qmail)",
        None,
        "1.2.3.4 does not like recipient. Remote host said: 550 Requested action not taken: "
        "mailbox unavailable",
        "userunknown",
    ),
    (
        "generic 550, Microsoft 5.5.0",
        "5.5.0",
        "550 Requested action not taken: mailbox unavailable (-1:2:-3)",
        "userunknown",
    ),
    # no room left in the mailbox
    (
        "not enough space",
        "5.0.0",
        "552 Account(s) <a@example.net> does not have enough space",
        "mailboxfull",
    ),
    (
        "too many messages stored",
        "5.0.0",
        "550 User has too many messages on the server.",
        "mailboxfull",
    ),
    (
        "X.2.3 whose words say quota",
        "5.2.3",
        "maildir delivery failed: the user's maildir has overdrawn his diskspace quota",
        "mailboxfull",
    ),
    (
        "X.2.3 without such words",
        "5.2.3",
        "552 5.2.3 Message length exceeds administrative limit",
        "exceedlimit",
    ),
    # a 5.1.1 overruled only by a cause of another kind
    (
        "X.1.1 and a size limit",
        "5.1.1",
        "550 RCPT TO:<a@example.net> max message size exceeded",
        "mesgtoobig",
    ),
    ("X.1.1 and suspended", "5.1.1", "550 [SUSPEND] Mailbox currently suspended", "suspend"),
    (
        "X.1.1 and inactive",
        "5.1.1",
        "550 5.1.1 <a@icloud.com>: inactive email address",
        "userunknown",
    ),
    ("a size limit", "5.7.1", "554 5.7.1 Message Rejected Class=size limit=15728640", "mesgtoobig"),
    # relaying
    (
        "qmail rcpthosts",
        "5.7.1",
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        "norelaying",
    ),
    (
        "use me as a relay",
        "5.7.1",
        "553-you are trying to use me [mx.example.net] as a relay, but I have not been "
        "configured to let you do this",
        "norelaying",
    ),
    # spam verdicts
    ("spamming", "5.0.0", "550 Spamming not allowed", "spamdetected"),
    (
        "a spam filter's name",
        "5.0.0",
        "550 Message refused by MailMarshal SpamProfiler",
        "spamdetected",
    ),
    ("URIBL", "5.7.1", "550 5.7.1 Your email breaches local URIBL policy.", "spamdetected"),
    ("content reject", "5.7.3", "553 5.7.3 CONTENT REJECT:1.2.3.4:dspam check:4", "spamdetected"),
    (
        "antispam checks with advice",
        "5.7.1",
        "554 5.7.1 Your message failed several antispam checks; be sure your server is "
        "configured correctly (spf, HELO, PTR)",
        "spamdetected",
    ),
    (
        "a SpamReject score",
        "5.7.1",
        "554 5.7.1 Message cannot be accepted, content filter rejection bbSpamReject>7.5",
        "spamdetected",
    ),
    (
        "blocked using a pattern",
        "5.0.0",
        "553 Blocked using spam pattern, your message may contain the spam contents",
        "spamdetected",
    ),
    (
        "blocked using a zone",
        "5.0.0",
        "554 Client host [192.0.2.1] blocked using bl.spamcop.net",
        "blocked",
    ),
    # the network, the system
    (
        "name service error",
        "5.4.4",
        "Name service error for name=example.net type=MX: Malformed name server reply",
        "networkerror",
    ),
    (
        "loops back to myself",
        "5.0.0",
        "mail for mail.example.net loops back to myself",
        "systemerror",
    ),
    ("a routing loop", "5.4.6", "554 5.4.6 too many hops, routing loop detected", "networkerror"),
    ("temporary failure names no cause", "4.0.0", "<a@example.net>: temporary failure", "onhold"),
    # X.2.1: the words decide, else Sisimai's Filtered
    ("X.2.1, no words", "5.2.1", "550 5.2.1 Mailbox not available", "filtered"),
    (
        "X.2.1, disabled",
        "5.2.1",
        "550 5.2.1 The email account that you tried to reach is disabled.",
        "suspend",
    ),
]


@pytest.mark.parametrize(
    ("status", "text", "reason"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_a_documented_wording_gives_its_reason(status, text, reason):
    assert classify(status, text) == reason


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("5.1.99", "userunknown"),
        ("5.2.9", "filtered"),
        ("4.3.8", "systemerror"),
        ("4.4.99", "networkerror"),
        ("5.5.7", "syntaxerror"),
        ("5.6.8", "contenterror"),
        ("5.7.99", "securityerror"),
        ("5.0.0", None),
        ("5.9.9", None),
        ("5.0.911", None),
    ],
)
def test_an_unknown_detail_falls_back_on_its_subject(status, reason):
    assert reason_from_subject(status) == reason


def test_a_status_with_an_unknown_detail_and_no_words_is_not_onhold():
    assert classify("5.7.99", "550 5.7.99") == "securityerror"
    assert classify("5.0.0", "550 5.0.0") == "onhold"


def test_qmail_failed_after_sending_the_message_is_after_data():
    text = "1.2.3.4 failed after I sent the message. Remote host said: 550 Unknown user a@b.example"
    assert classify(None, text) == "filtered"


def test_a_user_unknown_for_the_text_command_is_after_data():
    text = "SMTP error from remote server for TEXT command, reason: 550 User unknown"
    assert classify(None, text) == "filtered"


def test_a_client_sent_to_its_providers_relay_is_blocked():
    text = "550 Mail from dynamic addresses refused. Please use the smtp server of your ISP"
    assert classify("5.0.0", text) == "blocked"
    assert classify("5.7.1", "554 Sender address rejected: use your ISP's mail server") == (
        "blocked"
    )


def test_a_long_reports_lead_names_the_cause_of_its_only_recipient():
    body = (
        "Error: Invalid user address, no such user here.\r\n\r\n"
        "<bob@example.com>: Subject: hello, Sent: Monday 10:00\r\n"
        + "  Note: nothing to see here.\r\n"
        * 200
    )
    assert analyse(plain(body)).recipients[0].reason == "userunknown"


def test_the_first_lines_of_the_original_are_not_the_diagnostic():
    body = (
        '"bob@example.com" has failed due to a full mailbox.\r\n'
        "The first 50 lines of your original message follow:\r\n"
        "X-Spam: [F=0.2]\r\nSubject: hello\r\n"
    )
    assert analyse(plain(body)).recipients[0].reason == "mailboxfull"


def test_an_exchange_dsn_of_a_recipient_not_found_is_a_user_unknown():
    diag = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient bob@example.com not found"
    assert analyse(dsn(status="5.1.10", diag=diag)).recipients[0].reason == "userunknown"
