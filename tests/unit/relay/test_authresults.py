"""Authentication-Results parsing (RFC 8601) and which headers the receiving side wrote."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from mailrep.relay import authresults as ar

GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=Ab12Cd;\r\n"
    "       spf=pass (google.com: domain of a@example.com designates 185.56.87.12 as permitted "
    "sender) smtp.mailfrom=a@example.com;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com"
)
OPENDMARC = "mx.recipient.example; dmarc=fail (p=none dis=none) header.from=example.com"
RSPAMD = (
    'mx.recipient.example; dkim=fail reason="signature verification failed" '
    "header.d=example.com header.s=s1 header.b=xyz; spf=softfail (mx.recipient.example: "
    "domain of a@example.com does not designate 185.56.87.12 as permitted sender) "
    "smtp.mailfrom=a@example.com"
)


def test_authserv_id_is_the_first_token_lower_cased():
    assert ar.parse("MX.Google.COM; spf=pass smtp.mailfrom=a@b.example").authserv_id == (
        "mx.google.com"
    )


def test_gmail_header_gives_all_three_methods_with_properties():
    parsed = ar.parse(GMAIL)
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[0].prop("header.i") == "@example.com"
    assert parsed.results[1].prop("smtp.mailfrom") == "a@example.com"


def test_comments_do_not_leak_into_results():
    parsed = ar.parse(GMAIL)
    assert parsed.results[2].prop("header.from") == "example.com"
    assert all("google.com:" not in v for r in parsed.results for _k, v in r.properties)


def test_quoted_reason_with_spaces_is_one_value():
    dkim = ar.parse(RSPAMD).results[0]
    assert dkim.reason == "signature verification failed"
    assert dkim.prop("header.d") == "example.com"


def test_none_means_no_results():
    assert ar.parse("mx.example.net; none").results == ()


def test_version_after_authserv_id_is_ignored():
    parsed = ar.parse("mx.example.net 1; spf=pass smtp.mailfrom=example.com")
    assert parsed.authserv_id == "mx.example.net"
    assert parsed.results[0].result == "pass"


def test_method_version_is_dropped_from_the_method_name():
    assert ar.parse("mx.example.net; dkim/1=pass header.d=example.com").results[0].method == (
        "dkim"
    )


def test_fail_softfail_and_permerror_are_failures_neutral_and_none_are_not():
    parsed = ar.parse(
        "mx.example.net; spf=softfail; dkim=permerror; dmarc=fail; arc=none; x=neutral"
    )
    assert [r.failed for r in parsed.results] == [True, True, True, False, False]


def test_value_that_is_not_an_authentication_results_header_yields_none():
    assert ar.parse("") is None
    assert ar.parse("   (just a comment)  ") is None


@given(st.text(max_size=400))
def test_arbitrary_values_never_raise(value):
    ar.parse(value)


# --- which headers are the receiver's --------------------------------------------------------

MESSAGE = (
    "Authentication-Results: mx.recipient.example; dmarc=pass header.from=example.com\n"
    "Received: from av1.provider.example (av1.provider.example [185.56.87.12])\n"
    "\tby mx.recipient.example (Postfix) with ESMTPS id 4F1;\n"
    "\tSat, 28 Nov 2026 14:00:05 +0000\n"
    f"Authentication-Results: {RSPAMD}\n"
    "Received: from smtp.example.com (smtp.example.com [198.51.100.25])\n"
    "\tby av1.provider.example (Postfix) with ESMTP id 77A;\n"
    "\tSat, 28 Nov 2026 14:00:02 +0000\n"
    "Authentication-Results: forged.example; spf=pass; dkim=pass; dmarc=pass\n"
    "Subject: test\n"
    "\n"
    "Authentication-Results: body.example; spf=fail\n"
)


def test_header_fields_are_unfolded_and_stop_at_the_body():
    fields = ar.header_fields(MESSAGE)
    assert [n for n, _v in fields].count("authentication-results") == 3
    assert fields[1][1].startswith("from av1.provider.example") and "\n" not in fields[1][1]


def test_headers_below_the_first_sender_received_line_are_not_believed():
    headers = ar.receiver_results(ar.header_fields(MESSAGE), sender_received_index=1)
    assert [h.authserv_id for h in headers] == ["mx.recipient.example", "mx.recipient.example"]


def test_without_sender_received_line_every_header_counts():
    headers = ar.receiver_results(ar.header_fields(MESSAGE), sender_received_index=None)
    assert "forged.example" in [h.authserv_id for h in headers]


def test_summary_takes_each_method_from_the_topmost_header_that_has_it():
    headers = ar.receiver_results(ar.header_fields(MESSAGE), sender_received_index=1)
    summary = ar.summarise(headers)
    assert {m: r.result for m, r in summary.verdicts.items()} == {
        "dmarc": "pass",
        "dkim": "fail",
        "spf": "softfail",
    }
    assert [r.method for r in summary.failures] == ["spf", "dkim"]


def test_one_passing_dkim_signature_outweighs_a_failing_one():
    header = ar.parse(
        "mx.example.net; dkim=fail header.d=old.example; dkim=pass header.d=x.example"
    )
    assert ar.summarise([header]).verdicts["dkim"].prop("header.d") == "x.example"


def test_summary_description_names_methods_and_domains():
    summary = ar.summarise([ar.parse(GMAIL)])
    assert summary.describe() == (
        "spf=pass (a@example.com), dkim=pass (@example.com), dmarc=pass (example.com)"
    )


def test_summary_of_nothing_says_so():
    assert ar.summarise([]).describe() == "no SPF/DKIM/DMARC results"
