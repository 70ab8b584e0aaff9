"""Bounce analysis rules, one behaviour per test, on small synthetic messages."""

from mailrep.bounce.analysis import analyse
from mailrep.bounce.citation import cite, normalise_zone
from mailrep.bounce.reason import classify
from mailrep.bounce.reasons import Reason
from mailrep.bounce.text import find_replycode

DSN = (
    "From: MAILER-DAEMON@mx.example.net\r\n"
    "To: sender@example.org\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"
    "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
    "Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
    "Remote-MTA: dns; in.example.com\r\nDiagnostic-Code: smtp; {diag}\r\n\r\n"
    "--B\r\nContent-Type: message/rfc822\r\n\r\n"
    "Message-ID: <orig-1@example.org>\r\nFrom: sender@example.org\r\n"
    "Received: from x ([192.0.2.99]) by y\r\nSubject: hello\r\n\r\nlisted on fake.zone.example\r\n"
    "--B--\r\n"
)


def dsn(
    rcpt="bob@example.com",
    action="failed",
    status="5.1.1",
    diag="550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
    text="I'm sorry to have to inform you.",
) -> bytes:
    return DSN.format(rcpt=rcpt, action=action, status=status, diag=diag, text=text).encode()


def test_rfc3464_failed_action_is_a_bounce_despite_auto_submitted():
    assert analyse(dsn()).kind == "bounce"


def test_dsn_recipient_fields_are_read():
    r = analyse(dsn()).recipients[0]
    assert (r.recipient, r.action, r.status, r.replycode, r.remote_host) == (
        "bob@example.com",
        "failed",
        "5.1.1",
        "550",
        "in.example.com",
    )


def test_user_unknown_is_a_hard_bounce():
    r = analyse(dsn()).recipients[0]
    assert (r.reason, r.cause, r.hardbounce) == ("userunknown", "hard", True)


def test_security_and_virus_refusals_are_blocks_like_spam_refusals():
    assert [Reason(r).cause for r in ("securityerror", "virusdetected", "spamdetected")] == [
        "block",
        "block",
        "block",
    ]


def test_delayed_action_is_a_delay_notice():
    assert analyse(dsn(action="delayed", status="4.4.1", diag="connect timed out")).kind == "delay"


def test_delivered_action_is_a_success_notice():
    assert analyse(dsn(action="delivered", status="2.0.0", diag="250 ok")).kind == "success"


def _mixed_report() -> bytes:
    """One report, three recipients: failed, delivered, delayed (in that order)."""
    block = (
        "Final-Recipient: rfc822; {0}\r\nAction: {1}\r\nStatus: {2}\r\n"
        "Diagnostic-Code: smtp; {3}\r\n\r\n"
    )
    extra = block.format("carol@example.com", "delivered", "2.1.5", "250 ok") + block.format(
        "dave@example.com", "delayed", "4.4.1", "connect timed out"
    )
    raw = dsn().decode()
    i = raw.index("--B\r\nContent-Type: message/rfc822")
    return (raw[:i] + extra + raw[i:]).encode()


def test_a_mixed_report_keeps_every_recipient_in_the_reports_order():
    rcpts = analyse(_mixed_report()).recipients
    assert [(r.recipient, r.action) for r in rcpts] == [
        ("bob@example.com", "failed"),
        ("carol@example.com", "delivered"),
        ("dave@example.com", "delayed"),
    ]


def test_a_delivered_recipient_inside_a_failure_report_is_marked_delivered():
    r = analyse(_mixed_report()).recipients[1]
    assert (r.reason, r.cause, r.hardbounce) == ("delivered", "ignore", False)


def test_original_message_id_comes_from_the_returned_message():
    assert analyse(dsn()).original_message_id == "<orig-1@example.org>"


def test_citation_names_the_zone_and_the_client_ip_of_the_rejection():
    diag = "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using psbl.surriel.com"
    r = analyse(dsn(status="5.7.1", diag=diag)).recipients[0]
    assert r.citation is not None
    assert (r.citation.zone, r.citation.ip) == ("psbl.surriel.com", "203.0.113.7")
    assert r.reason == "blocked"


def test_returned_original_is_not_matched_for_citations():
    r = analyse(dsn()).recipients[0]
    assert r.citation is None


def test_spamhaus_lookup_url_gives_zone_and_ip():
    c = cite("550 rejected, see https://www.spamhaus.org/query/ip/198.51.100.4")
    assert c is not None and (c.zone, c.ip) == ("zen.spamhaus.org", "198.51.100.4")


def test_spamcop_url_gives_zone_and_ip():
    c = cite("554 blocked - see http://www.spamcop.net/bl.shtml?198.51.100.5")
    assert c is not None and (c.zone, c.ip) == ("bl.spamcop.net", "198.51.100.5")


def test_dqs_key_is_masked():
    assert normalise_zone("abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net") == "zen.dq.spamhaus.net"


def test_microsoft_banned_sending_ip_is_cited():
    c = cite("550 5.7.606 Access denied, banned sending IP [198.51.100.6]")
    assert c is not None and c.ip == "198.51.100.6"


def test_invalid_ip_is_not_kept():
    c = cite("blocked using bl.example.net; client [999.1.1.1]")
    assert c is not None and c.ip is None


def test_mailbox_full_text_beats_a_vague_status():
    assert classify("5.0.0", "552 Mailbox is full") == "mailboxfull"


def test_status_decides_when_the_text_says_nothing_known():
    assert classify("5.2.2", "xyz") == "mailboxfull"


def test_quoted_printable_diagnostic_is_decoded_before_matching():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Delivery failure\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"<bob@example.com>:\r\n198.51.100.1 does not like recipient.\r\n"
        b"Remote host said: 550 Mailbox quota exc=\r\needed\r\n"
        b"--- Below this line is a copy of the message.\r\n\r\nTo: bob@example.com\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "mailboxfull")


def test_plain_auto_reply_is_not_a_bounce():
    raw = (
        b"From: alice@example.com\r\nSubject: Out of office\r\n"
        b"Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n"
    )
    assert analyse(raw).kind == "autoreply"


def test_ordinary_mail_is_not_a_bounce():
    raw = b"From: alice@example.com\r\nSubject: lunch?\r\n\r\nNoon at the usual place.\r\n"
    assert analyse(raw).kind == "not-bounce"


def test_arf_report_is_feedback():
    raw = (
        b"From: fbl@isp.example\r\nSubject: FW: spam\r\nContent-Type: multipart/report; "
        b"report-type=feedback-report; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n"
        b"\r\nabuse report\r\n--B\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: abuse\r\nOriginal-Rcpt-To: carol@isp.example\r\n\r\n--B--\r\n"
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].recipient, a.recipients[0].reason) == (
        "feedback",
        "carol@isp.example",
        "feedback",
    )


def test_garbage_never_raises():
    assert analyse(b"\x00\xff" * 1000).kind == "not-bounce"


def plain(body: str, subject: str = "Undelivered Mail Returned to Sender") -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nSubject: {subject}\r\n"
        f"Content-Type: text/plain\r\n\r\n{body}"
    ).encode()


def test_user_unknown_after_data_is_filtered():
    r = analyse(plain("<bob@example.com>:\r\n>>> DATA\r\n<<< 550 Unknown user bob@example.com\r\n"))
    assert r.recipients[0].reason == "filtered"


def test_pipelined_rcpt_refusal_after_data_stays_user_unknown():
    body = (
        ">>> DATA\r\n<<< 550 5.1.1 <bob@example.com>... User Unknown\r\n"
        "550 5.1.1 <bob@example.com>... User unknown\r\n"
    )
    r = analyse(plain(body)).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "userunknown")


def test_refusal_after_mail_from_is_a_sender_rejection():
    body = (
        "bob@example.com\r\n  SMTP error from remote mail server after MAIL FROM:<a@b.example>:"
        "\r\n  553 5.1.0 sender domain does not exist\r\n"
    )
    assert analyse(plain(body)).recipients[0].reason == "rejected"


def test_refusal_at_connection_is_a_block():
    body = (
        "bob@example.com\r\n  SMTP error from remote mail server after initial connection:"
        "\r\n  550 Access denied\r\n"
    )
    assert analyse(plain(body)).recipients[0].reason == "blocked"


def test_temporary_dns_failure_is_a_network_error():
    assert classify("4.4.3", "Host not found, try again") == "networkerror"


def test_multi_line_reply_is_unfolded_before_matching():
    body = (
        "<bob@example.com>: host mx.example.com[192.0.2.1] said: 550-5.7.1 Messages with "
        "multiple\r\n550 5.7.1 addresses in From: header are not accepted.\r\n"
    )
    assert analyse(plain(body)).recipients[0].reason == "notcompliantrfc"


def test_postfix_recipient_rejected_names_the_real_cause():
    body = (
        "<bob@example.com>: host mx.example.com[192.0.2.1] said: 554 5.7.0 <bob@example.com>:"
        " Recipient address rejected: No relaying\r\n"
    )
    assert analyse(plain(body)).recipients[0].reason == "norelaying"


def test_text_without_a_status_gets_a_pseudo_status_from_the_reason():
    r = analyse(plain("<bob@example.com>:\r\nRemote host said: 550 No such user here\r\n"))
    assert (r.recipients[0].reason, r.recipients[0].status) == ("userunknown", "5.0.911")


def test_amazon_ses_json_bounce_is_read():
    body = (
        '{"notificationType":"Bounce","bounce":{"bouncedRecipients":[{"emailAddress":'
        '"bob@example.com","action":"failed","status":"5.1.1","diagnosticCode":'
        '"smtp; 550 5.1.1 user unknown"}]},"mail":{"messageId":"abc"}}'
    )
    a = analyse(
        (
            "From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n\r\n" + body
        ).encode()
    )
    assert (a.kind, a.recipients[0].recipient, a.recipients[0].status) == (
        "bounce",
        "bob@example.com",
        "5.1.1",
    )


def test_report_forwarded_as_an_attachment_is_analysed():
    raw = (
        b"From: alice@example.org\r\nSubject: Fwd: bounce\r\n"
        b"Content-Type: multipart/mixed; boundary=F\r\n\r\n--F\r\nContent-Type: text/plain\r\n"
        b"\r\nsee attached\r\n--F\r\nContent-Type: message/rfc822\r\n\r\n"
        + dsn()
        + b"\r\n--F--\r\n"
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].recipient) == ("bounce", "bob@example.com")


def test_header_block_attachment_is_not_read_as_diagnostics():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Delivery failure\r\n"
        b"Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\nContent-Type: text/plain\r\n"
        b"\r\nSMTP Server rejected recipient <bob@example.com>: [550 5.1.1 User unknown]\r\n"
        b"--M\r\nContent-Type: text/plain; name=headers.txt\r\n"
        b"Content-Disposition: attachment\r\n\r\nReceived: from a by b\r\n"
        b"From: carol@example.org\r\nTo: dave@example.org\r\nSubject: x blocked using "
        b"bl.example.net\r\n--M--\r\n"
    )
    r = analyse(raw).recipients
    assert [(x.recipient, x.citation) for x in r] == [("bob@example.com", None)]


def test_broken_boundary_with_dsn_fields_in_the_text_is_still_read():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Returned mail\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="nope"\r\n\r\n'
        b"Your message could not be delivered.\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "mailboxfull")


def test_arf_report_lists_every_original_recipient():
    raw = (
        b"From: fbl@isp.example\r\nSubject: report\r\nContent-Type: multipart/report; "
        b"report-type=feedback-report; boundary=B\r\n\r\n--B\r\nContent-Type: "
        b"message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        b"Original-Rcpt-To: a@isp.example\r\nOriginal-Rcpt-To: b@isp.example\r\n\r\n--B--\r\n"
    )
    assert [r.recipient for r in analyse(raw).recipients] == ["a@isp.example", "b@isp.example"]


def test_uceprotect_level_is_kept():
    c = cite("550 IP 198.51.100.8 listed, see http://www.uceprotect.net/en/rblcheck.php level 2")
    assert c is not None and (c.zone, c.ip) == ("dnsbl-2.uceprotect.net", "198.51.100.8")


def test_yahoo_tss_deferral_cites_the_provider_list():
    c = cite("421 4.7.0 [TSS04] Messages from 198.51.100.9 temporarily deferred")
    assert c is not None and (c.zone, c.ip) == ("yahoo", "198.51.100.9")


def test_barracuda_reference_cites_its_zone():
    c = cite(
        "554 Service unavailable; Client host [198.51.100.10] blocked, see "
        "http://www.barracudacentral.org/rbl/removal-request"
    )
    assert c is not None and (c.zone, c.ip) == ("b.barracudacentral.org", "198.51.100.10")


def test_ip_from_the_returned_original_is_not_cited():
    raw = dsn(status="5.7.1", diag="554 5.7.1 Service unavailable; blocked using zen.spamhaus.org")
    c = analyse(raw).recipients[0].citation
    assert c is not None and (c.zone, c.ip) == ("zen.spamhaus.org", None)


# --- "user unknown" that is really a filter's refusal (Sisimai's ``filtered``) ---


def test_user_unknown_refused_at_rcpt_stays_userunknown_even_with_5_2_1():
    assert (
        classify("5.2.1", "550 5.2.1 <a@example.jp>... User Unknown (in reply to RCPT TO command)")
        == "userunknown"
    )


def test_user_unknown_with_mailbox_disabled_code_and_no_stage_is_filtered():
    assert classify("5.2.1", "550 5.2.1 <a@example.jp>... User Unknown") == "filtered"


def test_user_unknown_with_policy_code_is_filtered():
    assert classify("5.7.1", "550 5.7.1 550 User Unknown: a@example.org") == "filtered"


def test_user_unknown_after_end_of_data_is_filtered():
    text = "550 <a@example.jp>: User unknown (in reply to end of DATA command)"
    assert classify(None, text) == "filtered"


def test_user_unknown_with_an_empty_address_slot_answers_data_and_is_filtered():
    # "550 : User unknown" names no recipient: a reply to DATA, which is for all of them
    assert classify(None, "550: : User unknown") == "filtered"


def test_user_unknown_naming_its_address_without_a_stage_stays_userunknown():
    assert classify(None, "550: <a@example.jp>: User unknown") == "userunknown"


def test_user_unknown_without_code_from_a_filtering_gateway_is_filtered():
    assert classify(None, "550 Unknown user a@example.jp", gateway=True) == "filtered"


def test_user_unknown_with_5_1_1_from_a_filtering_gateway_stays_userunknown():
    assert (
        classify("5.1.1", "550 5.1.1 <a@example.jp>... User unknown", gateway=True) == "userunknown"
    )


def test_report_stamped_by_a_filtering_appliance_counts_as_gateway():
    raw = dsn(status="5.0.0", diag="550 a@example.jp... No such user").replace(
        b"Auto-Submitted:", b"X-NAI-Header: Modified by McAfee Email Gateway\r\nAuto-Submitted:"
    )
    r = analyse(raw).recipients[0]
    assert (r.reason, r.status) == ("filtered", "5.0.0")


def test_same_report_without_gateway_stamp_is_userunknown():
    r = analyse(dsn(status="5.0.0", diag="550 a@example.jp... No such user")).recipients[0]
    assert r.reason == "userunknown"


# --- the reporting MTA's own words about its recipient ---


def test_status_comment_saying_mailbox_disabled_makes_user_unknown_suspend():
    raw = dsn(
        status="5.2.1 (mailbox disabled, not accepting messages)",
        diag="550 5.2.1 <bob@example.com>... User Unknown",
    )
    assert analyse(raw).recipients[0].reason == "suspend"


def test_report_lead_saying_the_account_is_disabled_makes_user_unknown_suspend():
    raw = dsn(
        status="5.0.0",
        diag="550 <bob@example.com>... User unknown",
        text="The user(s) account is disabled.\r\n\r\n<bob@example.com>: 550 user unknown",
    )
    assert analyse(raw).recipients[0].reason == "suspend"


def test_advice_about_a_disabled_account_is_not_a_statement_of_cause():
    raw = dsn(
        status="5.0.0",
        diag="550 <bob@example.com>... User unknown",
        text="If the account is disabled, ask the recipient to re-enable it.",
    )
    assert analyse(raw).recipients[0].reason == "userunknown"


def test_a_report_lead_naming_a_disabled_account_is_not_applied_to_several_recipients():
    second = (
        "Final-Recipient: rfc822; carol@example.com\r\nAction: failed\r\n"
        "Status: 5.0.0\r\nDiagnostic-Code: smtp; 550 <carol@example.com>... User unknown"
        "\r\n\r\n"
    )
    raw = dsn(
        status="5.0.0",
        diag="550 <bob@example.com>... User unknown",
        text="The account is disabled.",
    ).decode()
    i = raw.index("--B\r\nContent-Type: message/rfc822")
    rcpts = analyse((raw[:i] + second + raw[i:]).encode()).recipients
    assert [r.reason for r in rcpts] == ["userunknown", "userunknown"]


def test_rfc3463_wording_of_a_disabled_mailbox_is_not_a_host_taking_no_mail():
    assert classify(None, "mailbox disabled, not accepting messages") == "suspend"


def test_rfc3463_wording_of_a_system_taking_no_mail_is_notaccept():
    assert classify(None, "521 System not accepting network messages") == "notaccept"


def test_software_version_in_a_received_line_is_not_a_status_code():
    from mailrep.bounce.text import find_last_status

    assert find_last_status("by mx.example.net (mta-5.5.0-3) with ESMTP") is None


def test_invalid_recipient_after_data_stays_userunknown():
    text = ">>> DATA\n<<< 550 5.5.0 Invalid recipient. XYZ_416"
    assert classify("5.5.0", text) == "userunknown"


def test_reply_saying_the_user_has_no_account_stays_userunknown_after_data():
    text = ">>> DATA\n<<< 554 delivery error: dd This user doesn't have a example.com account"
    assert classify("5.0.0", text) == "userunknown"


def test_not_listed_in_the_address_book_is_not_a_blocklist():
    assert classify(None, "User not listed in public Name & Address Book") == "userunknown"


def test_orange_spam_code_is_spamdetected():
    assert (
        classify("5.2.0", "550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]") == "spamdetected"
    )


def test_content_presenting_a_security_issue_is_policyviolation():
    text = "552-5.7.0 This message was blocked because its content presents a potential"
    assert classify("5.7.0", text) == "policyviolation"


def test_frozen_mailbox_is_suspend():
    assert (
        classify("5.0.0", "550 Mailbox is frozen. See http://mail.example.net/err/3/") == "suspend"
    )


def test_bounce_with_no_usable_words_or_code_is_onhold():
    assert classify(None, "This message could not be delivered.") == "onhold"


def test_bad_dns_ptr_record_is_requireptr_even_beside_no_smtp_service():
    text = "554-No SMTP service 554-Bad DNS PTR resource record. 554 see the error page"
    assert classify("4.0.0", text) == "requireptr"


def test_ldap_server_unreachable_is_systemerror_not_expired():
    text = (
        "<a@example.net>: Unable to contact LDAP server. (#4.4.3)I'm not going to try "
        "again; this message has been in the queue too long."
    )
    assert classify("4.4.3", text) == "systemerror"


def test_greeting_refusing_connections_is_blocked():
    assert classify(None, "554 mx.example.com ESMTP not accepting connections") == "blocked"


def test_a_host_name_that_does_not_exist_is_hostunknown_not_userunknown():
    assert classify(None, "553 mail.example.com does not exist") == "hostunknown"


def test_an_address_that_does_not_exist_stays_userunknown():
    assert classify(None, "550 <a@mail.example.com> does not exist") == "userunknown"


def test_exim_retry_timeout_gives_a_temporary_pseudo_status():
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        b"  bob@example.com\r\n    retry timeout exceeded\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.reason, r.status) == ("expired", "4.0.947")


def test_warning_with_a_status_line_address_is_a_delay_for_that_address():
    raw = (
        b"From: mailer-daemon@mail.example.com\r\n"
        b"Subject: Mail Delivery Status Notification (Delay)\r\n\r\n"
        b"THIS IS A WARNING MESSAGE ONLY.\r\n\r\n"
        b"----- The following addresses had fatal errors -----\r\n"
        b"[Status: Error, Address: <bob@example.jp>, ResponseCode 421, , Host not "
        b"reachable.]\r\n\r\nMessage will be retried for 4 more day(s)\r\n"
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].recipient, a.recipients[0].reason) == (
        "delay",
        "bob@example.jp",
        "expired",
    )


def test_reply_quoting_the_original_sender_is_not_another_failed_recipient():
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        b"To: alice@example.org\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"This message was created automatically by mail delivery software.\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        b"  bob@example.com\r\n"
        b"    host mx.example.com [192.0.2.1]\r\n"
        b"    SMTP error from remote mail server after end of data:\r\n"
        b"    550 5.2.0 <alice@example.org> From: Domain is invalid.\r\n"
    )
    assert [r.recipient for r in analyse(raw).recipients] == ["bob@example.com"]


def test_recipient_line_ending_in_crlf_is_found():
    from mailrep.bounce.text import recipients

    text = "The following address(es) failed:\r\n\r\n  bob@example.com\r\n    retry timeout\r\n"
    assert [a for a, _ in recipients(text, set())] == ["bob@example.com"]


def test_unreachable_domain_with_permanent_code_is_hostunknown_despite_try_again():
    text = (
        "554 The mail could not be delivered to the recipient because the domain is not "
        "reachable. Please check the domain and try again"
    )
    assert classify("5.5.0", text) == "hostunknown"


def test_sender_address_on_the_receivers_list_is_rejected_not_blocked():
    text = '"Sorry, you are sending to/from an address that has been blacklisted"'
    assert classify(None, text) == "rejected"


def test_unverified_sending_identity_at_the_relay_is_norelaying():
    text = (
        "554 Message rejected: Email address is not verified. The following identities "
        "failed the check in region EU-WEST-1: a@example.org"
    )
    assert classify("5.0.0", text) == "norelaying"


def test_reply_quoting_the_original_sender_belongs_to_the_recipient_above_it():
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        b"To: alice@example.org\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"The following address(es) failed:\r\n\r\n"
        b"  bob@example.com\r\n"
        b"    SMTP error from remote mail server after end of data:\r\n"
        b"    550 5.2.0 <alice@example.org> From: Domain is invalid.\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.status, r.reason) == ("5.2.0", "rejected")


def test_mail_to_oneself_still_names_the_sender_as_the_failed_recipient():
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        b"To: alice@example.org\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"The following address(es) failed:\r\n\r\n"
        b"  alice@example.org\r\n    retry timeout exceeded\r\n"
    )
    assert [r.recipient for r in analyse(raw).recipients] == ["alice@example.org"]


def test_recipient_groups_without_a_blank_line_between_them_are_split():
    from mailrep.bounce.parts import field_blocks

    text = (
        "Final-Recipient: rfc822; a@example.jp\nAction: failed\nStatus: 5.2.2\n"
        "Final-Recipient: rfc822; b@example.jp\nAction: failed\nStatus: 5.1.1\n"
    )
    assert [(b["final-recipient"], b["status"]) for b in field_blocks(text)] == [
        ("rfc822; a@example.jp", "5.2.2"),
        ("rfc822; b@example.jp", "5.1.1"),
    ]


def test_reason_stated_above_a_bare_address_line_is_that_recipients_diagnostic():
    raw = (
        b"From: postmaster@notes.example.com\r\n"
        b"Subject: DELIVERY FAILURE: User bob not listed\r\n\r\n"
        b"------- Failure Reasons  --------\r\n\r\n"
        b"User  not listed in public Name & Address Book\r\n"
        b"bob@example.com\r\n\r\n\r\n------- Returned Message --------\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "userunknown")


def test_delayed_recipient_with_a_named_cause_keeps_the_cause():
    assert (
        classify("4.4.1", "connect to mx.example.com[192.0.2.2]:25: No route to host", "delayed")
        == "networkerror"
    )


def test_delayed_recipient_without_a_named_cause_is_expired():
    assert classify("4.4.7", "Envelope expired", "delayed") == "expired"


def test_qmail_giving_up_on_a_temporary_resource_error_is_expired():
    text = (
        "<a@example.com>: Resources temporarily unavailable, please try again later "
        "[#4.1.9]. /I'm not going to try again; this message has been in the queue too "
        "long."
    )
    assert classify("4.1.9", text) == "expired"


def test_qmail_giving_up_after_a_named_refusal_keeps_the_refusal():
    text = (
        "<a@example.net>: Connected to 192.0.2.112 but my name was rejected. Remote host "
        "said: 501 5.0.0 Invalid domain name I'm not going to try again; this message has "
        "been in the queue too long."
    )
    assert classify("5.0.0", text) == "blocked"


def test_sending_network_refused_by_policy_is_policyviolation_not_networkerror():
    assert (
        classify("5.0.0", "554 Host network not allowed - see the provider's codes")
        == "policyviolation"
    )


def test_apple_mail_unsubscribe_message_is_feedback_not_an_auto_reply():
    raw = (
        b"From: someone@icloud.example\r\nTo: opt-out-1@example.org\r\n"
        b"Subject: unsubscribe\r\nAuto-Submitted: auto-replied\r\n"
        b"X-Apple-Unsubscribe: true\r\n\r\n"
        b"Apple Mail sent this email to unsubscribe from the message.\r\n"
    )
    a = analyse(raw)
    assert (a.kind, a.recipients[0].reason) == ("feedback", "feedback")


def test_sendmail_operating_system_error_is_mailererror():
    assert classify("4.0.0", "451 4.0.0 Operating system error") == "mailererror"


def test_local_program_failure_without_a_named_cause_is_mailererror():
    raw = dsn(status="4.3.0", diag="temporary failure").replace(
        b"Diagnostic-Code: smtp; temporary failure", b"Diagnostic-Code: x-unix; temporary failure"
    )
    assert analyse(raw).recipients[0].reason == "mailererror"


def test_local_program_naming_a_full_mailbox_stays_mailboxfull():
    raw = dsn(status="4.3.0", diag="x").replace(
        b"Diagnostic-Code: smtp; x", b"Diagnostic-Code: x-unix; Quota exceeded for /var/mail/bob"
    )
    assert analyse(raw).recipients[0].reason == "mailboxfull"


def test_local_program_naming_a_permission_fault_is_a_systemerror():
    raw = dsn(status="5.3.0", diag="x").replace(
        b"Diagnostic-Code: smtp; x", b"Diagnostic-Code: x-unix; 550 Insufficient permission"
    )
    assert analyse(raw).recipients[0].reason == "systemerror"


def test_report_words_serve_a_recipient_that_only_the_status_fields_name():
    # old Sendmail, no MIME: its text names a piped address ("|procmail ..."), the status
    # fields below it the mailbox
    body = (
        "   ----- The following addresses had permanent fatal errors -----\r\n"
        '"|exec /usr/bin/procmail || exit 75 #bob"\r\n'
        "   ----- Transcript of session follows -----\r\n"
        '554 "|exec /usr/bin/procmail || exit 75 #bob"... Service unavailable\r\n'
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Final-Recipient: RFC822; bob@example.com\r\n"
        "Action: failed\r\nStatus: 5.5.0\r\n"
    )
    r = analyse(plain(body, "Returned mail: see transcript for details")).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "systemerror")


def test_tcp_connection_refused_is_not_a_block():
    assert classify(None, "bob... Deferred: Connection refused by [192.0.2.1]") == "networkerror"


def test_postfix_report_without_its_log_is_undefined():
    assert classify(None, "The mail system --- Delivery report unavailable ---") == "undefined"


def test_receiver_unable_to_load_its_own_configuration_is_systemerror():
    assert classify("4.0.0", "451 Could not load DRD for domain (example.com)") == "systemerror"


def test_insufficient_permission_beats_quota_words_in_the_transcript():
    text = "(reason: Insufficient permission) maildrop: maildir over quota."
    assert classify("5.0.0", text) == "systemerror"


def test_cox_blocklist_code_is_blocked():
    text = "550 5.1.0 <b@example.com> sender rejected. AUP#CDRBL"
    assert classify("5.1.0", text) == "blocked"


def test_too_many_recipients_in_one_transaction_is_toomanyconn():
    assert (
        classify("5.0.0", "552 Too many recipients (in reply to RCPT TO command)") == "toomanyconn"
    )


def test_not_delivered_within_the_queue_lifetime_is_expired():
    assert classify(None, "Your message was not delivered within 0 days and 1 hours.") == "expired"


def test_rfc5321_transaction_failed_without_a_cause_is_systemerror():
    assert (
        classify("5.0.0", "554 Transaction failed (in reply to MAIL FROM command)") == "systemerror"
    )


def test_delayed_recipient_with_a_reputation_complaint_keeps_badreputation():
    text = "421 4.7.0 [TSS04] Messages temporarily deferred due to user complaints"
    assert classify("4.7.0", text, "delayed") == "badreputation"


def test_reason_above_a_list_heading_is_read_for_a_bare_address():
    raw = (
        b"From: Postmaster@carrier.example\r\n"
        b"Subject: Mail System Error - Returned Mail\r\n\r\n"
        b"Your message was not delivered within 0 days and 1 hours.\r\n"
        b"Remote host is not responding.\r\n\r\n"
        b"The following recipients did not receive this message:\r\n\r\n"
        b"<bob@example.com>\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "expired")


def test_mx_logic_report_is_a_gateway_report_by_its_message_id():
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@relay.example.net>\r\n"
        b"Subject: Mail delivery failed\r\nMessage-ID: <mxl~0000.0000@relay.example.net>\r\n\r\n"
        b"A message that you have sent could not be delivered to one or more\r\n"
        b"recipients.  This is a permanent error.  The following address failed:\r\n\r\n"
        b"  <bob@example.com>: 550 unknown user\r\n"
    )
    assert analyse(raw).recipients[0].reason == "filtered"


def test_refused_by_recipient_preferences_is_filtered_despite_5_1_1():
    text = "550 5.1.1 RCP-P2 Refused due to recipient preferences"
    assert classify("5.1.1", text) == "filtered"


def test_no_mail_exchanger_nor_address_is_notaccept():
    text = "<a@example.net>: Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)"
    assert classify("5.4.4", text) == "notaccept"


def test_551_user_not_local_is_hasmoved():
    assert classify("5.1.1", "(reason: 551 not our customer) 550 5.1.1 User unknown") == "hasmoved"


def test_spectrum_connection_limit_code_is_toomanyconn():
    text = "550 5.1.0 <b@example.com> sender rejected. AUP#In-1310"
    assert classify("5.1.0", text) == "toomanyconn"


def test_words_above_a_details_list_give_the_only_recipients_reason():
    raw = (
        b"From: post_master@carrier.example\r\nSubject: Re: hello\r\n\r\n"
        b"Error: Invalid user address\r\nError message below:\r\n"
        b"550 - Requested action not taken: no such user here\r\n"
        b"Message details:\r\n  Subject: Test message\r\n"
        b"  RCPT TO: bob@example.com\r\n  Size (in bytes): 222\r\n"
    )
    r = analyse(raw).recipients[0]
    assert (r.recipient, r.reason) == ("bob@example.com", "userunknown")


def test_transcript_status_is_the_first_permanent_refusals():
    text = (
        "(reason: 550 5.1.1 user unknown) ----- Transcript of session follows -----\r\n"
        ">>> RCPT To:<bob@example.com>\r\n<<< 550 5.1.1 user unknown\r\n"
        ">>> DATA\r\n<<< 554 5.5.1 no valid recipients\r\n"
    )
    raw = dsn(status="5.1.1", diag="x").replace(
        b"Diagnostic-Code: smtp; x", ("Diagnostic-Code: smtp; " + text).encode()
    )
    assert analyse(raw).recipients[0].status == "5.1.1"


def test_failed_recipient_with_a_permanent_remote_reply_takes_the_remote_status():
    raw = dsn(status="4.5.0", diag="550 5.5.0 Service refused, please try later")
    assert analyse(raw).recipients[0].status == "5.5.0"


FML_NOTICE = (
    b"From: list-admin@example.org\r\nTo: poster@example.net\r\n"
    b"Subject: {subject}\r\nX-MLServer: fml [fml 4.0.3 release]\r\n\r\n{body}\r\n"
)


def fml(subject: bytes, body: bytes) -> bytes:
    return FML_NOTICE.replace(b"{subject}", subject).replace(b"{body}", body)


def test_list_manager_refusing_a_non_member_post_is_a_rejected_bounce():
    a = analyse(
        fml(
            b"You poster@example.net are not member (cats ML)",
            b"You are not a member of this mailing list <cats@example.org>.",
        )
    )
    r = a.recipients[0]
    assert (a.kind, r.recipient, r.reason) == ("bounce", "cats@example.org", "rejected")


def test_list_managers_loop_alert_is_a_systemerror_bounce():
    a = analyse(
        fml(
            b"Loop Alert: Duplicated Message-ID (cats ML)",
            b"Duplicated Message-ID in <cats@example.org>.",
        )
    )
    assert (a.kind, a.recipients[0].reason) == ("bounce", "systemerror")


def test_list_notice_subject_without_the_list_managers_stamp_is_not_a_bounce():
    raw = fml(
        b"You poster@example.net are not member (cats ML)",
        b"You are not a member of this mailing list <cats@example.org>.",
    ).replace(b"X-MLServer: fml [fml 4.0.3 release]\r\n", b"")
    assert analyse(raw).kind == "not-bounce"


def test_opensmtpd_temporary_failure_report_is_a_delay_notice_not_a_bounce():
    raw = (
        b"From: Mailer Daemon <MAILER-DAEMON@mx.example.net>\r\n"
        b"Subject: Delivery status notification: warning\r\n\r\n"
        b"This is the MAILER-DAEMON, please DO NOT REPLY to this email.\r\n\r\n"
        b"bob@example.com: Network error on destination MXs\r\n\r\n"
        b"Please note that this is only a temporary failure report.\r\n"
        b"The message is kept in the queue for up to 4 days.\r\n"
        b"You DO NOT NEED to re-send the message to these recipients.\r\n"
    )
    assert analyse(raw).kind == "delay"


# Sendmail V5: one transcript for several hosts; each recipient's verdict line follows the
# server's reply that caused it, and a host verdict line introduces the next recipient.
SENDMAIL_TRANSCRIPT = (
    "   ----- Transcript of session follows -----\r\n"
    "While talking to mx.example.org:\r\n"
    ">>> MAIL From:<alice@example.jp>\r\n"
    "<<< 501 <alice@example.jp>... no access from mail server [192.0.2.55] which is an"
    " open relay.\r\n"
    "554 <bob@example.org>... Remote protocol error\r\n"
    "550 example.net (smtp)... 550 Host unknown\r\n"
    "554 <carol@example.net>... 550 Host unknown (Authoritative answer from name server)\r\n"
)


def sendmail_transcript_bounce() -> bytes:
    return b"To: alice@example.jp\r\n" + plain(
        SENDMAIL_TRANSCRIPT, "Returned mail: Unable to deliver mail"
    )


def test_host_verdict_after_a_recipient_in_a_transcript_belongs_to_the_next_recipient():
    r = analyse(sendmail_transcript_bounce()).recipients
    assert [(x.recipient, x.reason) for x in r][1] == ("carol@example.net", "hostunknown")
    assert "Host unknown" not in r[0].diagnostic


def test_server_reply_above_a_recipients_verdict_line_is_its_diagnostic():
    r = analyse(sendmail_transcript_bounce()).recipients
    assert (r[0].recipient, r[0].reason) == ("bob@example.org", "blocked")


def test_server_calling_the_sender_an_open_relay_is_a_block():
    assert (
        classify(None, "501 no access from mail server [192.0.2.55] which is an open relay")
        == "blocked"
    )


def test_tonline_bl_code_is_a_block():
    text = (
        "554 IP=192.0.2.254 - A problem occurred. (Ask your postmaster for help or to contact"
        " tosa@rx.t-online.de to clarify.) (BL)"
    )
    assert classify("5.5.0", text) == "blocked"


def test_inactive_address_under_a_5_1_1_code_stays_user_unknown():
    assert classify("5.1.1", "550 5.1.1 <bob@icloud.com>: inactive email address") == "userunknown"


def test_another_hosts_deferral_after_the_only_recipient_is_not_its_cause():
    body = (
        "   ----- Transcript of session follows -----\r\n"
        "While talking to mx.example.org:\r\n>>> MAIL From:<alice@example.jp>\r\n"
        "<<< 550 Sender refused\r\n554 <bob@example.org>... Remote protocol error\r\n"
        "421 example.net (smtp)... Deferred: Connection timed out during user open\r\n"
    )
    raw = b"To: alice@example.jp\r\n" + plain(body, "Returned mail: Unable to deliver mail")
    assert "timed out" not in analyse(raw).recipients[0].diagnostic


def test_insecure_mail_relay_refusal_is_norelaying():
    assert classify(None, "<<< 550 Insecure Mail Relay") == "norelaying"


def test_bare_refusal_with_a_policy_code_is_a_security_refusal_not_a_sender_one():
    assert classify("5.7.1", "550 5.7.1 <bob@example.com>... Access denied") == "securityerror"


def test_bare_refusal_without_a_code_is_taken_as_a_sender_rejection():
    assert classify(None, "550 Access denied") == "rejected"


def test_bare_refusal_with_a_network_code_stays_a_refusal():
    # X.4.1 means "no answer from host", which a refusal contradicts
    assert classify("5.4.1", "541 5.4.1 Mail rejected by destination domain") == "rejected"


def test_sender_id_failure_to_find_the_purported_responsible_address_is_a_sender_rejection():
    assert classify("5.7.1", "550 5.7.1 can't determine Purported Responsible Address") == (
        "rejected"
    )


def test_x_7_1_code_without_words_is_securityerror_like_the_rest_of_its_class():
    assert classify("5.7.1", "550 5.7.1") == "securityerror"


def test_recipient_refused_without_a_cause_is_filtered_not_a_sender_rejection():
    assert (
        classify(None, "Each of the following recipients was rejected by a remote mail server.")
        == "filtered"
    )


def test_postfix_address_verification_saying_deliverable_is_a_success_report():
    a = analyse(dsn(action="deliverable", status="2.1.5", diag="250 2.1.5 Ok"))
    assert (a.kind, a.recipients[0].reason) == ("success", "delivered")


def test_reply_code_is_the_refusal_not_a_greeting_quoted_before_it():
    assert find_replycode("220-mx.example.org 421 4.2.1 Service refused, try later") == "421"


def test_reply_code_followed_by_a_colon_is_found():
    assert find_replycode("<bob@example.com>: 550: : User unknown") == "550"


def test_ipv6_group_is_not_a_reply_code():
    assert find_replycode("[(0) example.com. [2606:2800:220:6d::1]:25: socket error]") is None


def test_refusal_under_security_policies_plural_is_a_policy_violation():
    assert classify(None, "554 email rejected due to security policies") == "policyviolation"
