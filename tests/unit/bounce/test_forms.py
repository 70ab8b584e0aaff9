"""Messages that are not bounces are recognised as what they are, and never counted.

Feedback reports (ARF, ARF fields in a text part, Microsoft JMRP forwards), challenge and
whitelist holds, MDNs and RFC 3834 auto-replies; and the near misses that stay bounces.
"""

from mailrep.bounce.analysis import analyse

from tests.unit.bounce.test_analysis import dsn

ORIGINAL = (
    "From: sender@example.org\r\nTo: carol@example.com\r\nSubject: hello\r\n"
    "Message-ID: <orig-1@example.org>\r\n\r\nhello\r\n"
)


def message(headers: str, body: str) -> bytes:
    return (headers + "\r\n" + body).encode()


def multipart(headers: str, *parts: tuple[str, str], ctype="multipart/mixed") -> bytes:
    body = "".join(f"--B\r\nContent-Type: {t}\r\n\r\n{b}\r\n" for t, b in parts) + "--B--\r\n"
    return message(headers + f'Content-Type: {ctype}; boundary="B"\r\n', body)


def test_a_jmrp_complaint_with_the_message_attached_is_feedback():
    raw = multipart(
        "From: staff@hotmail.com\r\nSubject: complaint about message from 192.0.2.1\r\n",
        ("message/rfc822", "X-HmXmrOriginalRecipient: carol@example.com\r\n" + ORIGINAL),
    )
    a = analyse(raw)
    assert (a.kind, [r.recipient for r in a.recipients]) == ("feedback", ["carol@example.com"])


def test_a_jmrp_complaint_forwarded_as_is_is_feedback():
    raw = message(
        "From: sender@example.org\r\nX-HmXmrOriginalRecipient: dave@example.com\r\n"
        "Subject: hello\r\n",
        "hello\r\n",
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].recipient, a.recipients[0].reason) == (
        "feedback",
        "dave@example.com",
        "feedback",
    )


def test_arf_fields_written_into_a_text_part_are_feedback():
    body = (
        "This is an email abuse report.\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\n"
        "Version: 1\r\nOriginal-Rcpt-To: erin@example.com\r\n"
    )
    raw = message("From: fbl@isp.example\r\nSubject: Abuse report\r\n", body)
    a = analyse(raw)
    assert (a.kind, [r.recipient for r in a.recipients]) == ("feedback", ["erin@example.com"])


def test_a_feedback_type_line_alone_is_not_a_feedback_report():
    raw = message("From: someone@example.org\r\nSubject: notes\r\n", "Feedback-Type: abuse\r\n")
    assert analyse(raw).kind == "not-bounce"


def test_a_disposition_notification_is_an_mdn_not_a_bounce():
    raw = multipart(
        "From: joe@example.com\r\nSubject: Disposition notification\r\n",
        ("text/plain", "The message was displayed."),
        (
            "message/disposition-notification",
            "Final-Recipient: rfc822; joe@example.com\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n",
        ),
        ctype="multipart/report; report-type=disposition-notification",
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].recipient, a.recipients[0].cause) == (
        "mdn",
        "joe@example.com",
        "ignore",
    )


def test_a_dsn_shaped_challenge_is_not_a_bounce():
    a = analyse(dsn(action="failed", status="4.7.0", diag="Sender not pre-approved."))
    assert a.kind == "challenge"
    raw = dsn(status="5.0.0", diag="X-Boxbe-Notice; Follow instructions in above notice")
    assert analyse(raw.replace(b"smtp; X-Boxbe", b"X-Boxbe")).kind == "challenge"


def test_a_server_confirmation_demand_is_a_challenge():
    diag = "550 Your server requires confirmation. Visit http://example.net/w to confirm it."
    assert analyse(dsn(status="5.0.0", diag=diag)).kind == "challenge"


def test_a_blocklist_refusal_inviting_whitelisting_stays_a_bounce():
    diag = "550 5.7.1 Mail appears to be unsolicited - ask them to add you to our whitelist"
    assert analyse(dsn(status="5.7.1", diag=diag)).kind == "bounce"


def test_a_challenge_beside_a_real_failure_leaves_the_report_a_bounce():
    raw = dsn(diag="550 5.1.1 user unknown").replace(
        b"\r\n\r\n--B\r\nContent-Type: message/rfc822",
        b"\r\n\r\nFinal-Recipient: rfc822; al@example.net\r\nAction: failed\r\n"
        b"Status: 4.7.0\r\nDiagnostic-Code: smtp; Sender not pre-approved\r\n\r\n"
        b"--B\r\nContent-Type: message/rfc822",
    )
    assert analyse(raw).kind == "bounce"


def test_a_challenge_stamped_by_its_header_is_a_challenge():
    raw = message(
        "From: user@example.net\r\nSubject: RE: hello\r\nX-Bluebottle-Request: <1>\r\n",
        "Your message was received.\r\n",
    )
    assert analyse(raw).kind == "challenge"


def test_an_encoded_foreign_auto_reply_subject_is_an_auto_reply():
    subject = "=?iso-8859-2?Q?[Automatyczna_odpowied=BC]_test?="
    raw = message(f"From: a@example.pl\r\nSubject: {subject}\r\n", "Jestem na urlopie.\r\n")
    assert analyse(raw).kind == "autoreply"


def test_rfc3834_auto_prefix_is_an_auto_reply():
    raw = message("From: a@example.org\r\nSubject: Auto: hello\r\n", "Back on Monday.\r\n")
    assert analyse(raw).kind == "autoreply"


def test_a_null_return_path_with_bulk_precedence_is_an_auto_reply():
    raw = message(
        "Return-Path: <>\r\nFrom: a@example.org\r\nPrecedence: bulk\r\n"
        "Subject: Thank you for your e-mail\r\n",
        "We will answer soon.\r\n",
    )
    assert analyse(raw).kind == "autoreply"


def test_list_traffic_with_bulk_precedence_is_not_an_auto_reply():
    raw = message(
        "Return-Path: <list-bounces@example.org>\r\nFrom: a@example.org\r\n"
        "Precedence: bulk\r\nSubject: Newsletter\r\n",
        "News.\r\n",
    )
    assert analyse(raw).kind == "not-bounce"


def test_a_declared_delivery_report_naming_no_recipient_is_still_a_bounce():
    raw = message(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\r\n"
        "Subject: Returned mail: see transcript for details\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n',
        "<<< No Message Collected >>>\r\n",
    )
    a = analyse(raw)
    assert (a.kind, a.recipients) == ("bounce", ())
