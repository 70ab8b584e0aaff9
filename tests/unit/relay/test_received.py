"""Received values as each MTA writes them -> Hop fields (RFC 5737 / RFC 3849 addresses)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from mailrep.relay.chain import hop_delays
from mailrep.relay.received import Hop, normalise_ip, parse_chain, parse_received


def parse(value: str) -> Hop:
    hop = parse_received(value)
    assert hop is not None
    return hop


POSTFIX = (
    "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net (Postfix) "
    "with ESMTPS id 4AbC1x2yZ3 for <alice@example.net>; Tue, 29 Aug 2023 16:20:12 +0000 (UTC)"
)


def test_postfix_client_ip_comes_from_the_bracket_in_the_comment():
    assert parse(POSTFIX).ip == "192.0.2.10"


def test_postfix_from_name_is_the_helo_and_comment_name_is_the_reverse_name():
    hop = parse(
        "from helo.example.org (rdns.example.org [192.0.2.10]) by mx.example.net "
        "(Postfix) with ESMTP id 1; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert (hop.helo, hop.rdns, hop.from_name) == (
        "helo.example.org",
        "rdns.example.org",
        "helo.example.org",
    )


def test_postfix_unknown_reverse_name_is_none():
    hop = parse(
        "from helo.example.org (unknown [192.0.2.11]) by mx.example.net (Postfix) "
        "with ESMTP id 1; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.rdns is None
    assert hop.ip == "192.0.2.11"


def test_postfix_fields_by_protocol_id_for():
    hop = parse(POSTFIX)
    assert (hop.by, hop.protocol, hop.id, hop.envelope_for) == (
        "mx.example.net",
        "ESMTPS",
        "4AbC1x2yZ3",
        "alice@example.net",
    )


def test_timestamp_is_aware_and_taken_after_the_last_semicolon():
    assert parse(POSTFIX).timestamp == datetime(2023, 8, 29, 16, 20, 12, tzinfo=UTC)


def test_timestamp_keeps_the_written_offset():
    hop = parse(
        "from a.example.org ([192.0.2.1]) by b.example.net with SMTP id 1; "
        "Mon, 28 Aug 2023 02:21:37 -0700 (PDT)"
    )
    assert hop.timestamp is not None
    assert hop.timestamp.utcoffset() == timedelta(hours=-7)


def test_minus_zero_zone_is_read_as_utc():
    hop = parse("from a.example.org ([192.0.2.1]) by b.example.net; 29 Apr 2009 00:00:00 -0000")
    assert hop.timestamp == datetime(2009, 4, 29, tzinfo=UTC)


def test_postfix_ipv6_literal_drops_the_ipv6_prefix():
    hop = parse(
        "from a.example.org (a.example.org [IPv6:2001:db8::25]) by mx.example.net "
        "(Postfix) with ESMTPS id 1; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.ip == "2001:db8::25"


def test_postfix_authenticated_submission_is_authenticated():
    hop = parse(
        "from [192.0.2.50] (unknown [192.0.2.50]) (Authenticated sender: alice) "
        "by smtp.example.net (Postfix) with ESMTPSA id 2; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.authenticated


def test_plain_esmtp_is_not_authenticated():
    assert not parse(POSTFIX).authenticated


def test_sendmail_may_be_forged_sets_forged_hint():
    hop = parse(
        "from helo.example.org (alice@rdns.example.com [192.0.2.20] (may be forged)) "
        "by mx.example.net (8.17.1/8.17.1) with ESMTP id 3; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.forged_hint
    assert hop.ip == "192.0.2.20"


def test_sendmail_ident_is_removed_from_the_reverse_name():
    hop = parse(
        "from helo.example.org (alice@rdns.example.com [192.0.2.20]) by mx.example.net "
        "(8.17.1/8.17.1) with ESMTP id 3; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.rdns == "rdns.example.com"


def test_sendmail_authenticated_bits_comment_is_authenticated():
    hop = parse(
        "from [192.0.2.43] (c1.example.com [192.0.2.78]) (authenticated bits=0) by "
        "mx.example.net (8.17.1/8.17.1) with ESMTP id t91; Thu, 1 Oct 2015 23:12:15 +0900"
    )
    assert hop.authenticated
    assert hop.ip == "192.0.2.78"


def test_sendmail_helo_literal_loses_to_the_address_in_the_comment():
    hop = parse(
        "from [192.0.2.43] (c1.example.com [192.0.2.78]) by mx.example.net "
        "(8.17.1/8.17.1) with ESMTP id t91; Thu, 1 Oct 2015 23:12:15 +0900"
    )
    assert hop.ip == "192.0.2.78"


def test_exim_from_name_is_the_reverse_name_and_helo_is_given_separately():
    hop = parse(
        "from rdns.example.org ([192.0.2.30]:45123 helo=helo.example.org) by "
        "mx.example.net with esmtps (TLS1.3) (Exim 4.96) (envelope-from <a@example.org>) "
        "id 1qbXyz-000123-AB; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert (hop.ip, hop.rdns, hop.helo) == ("192.0.2.30", "rdns.example.org", "helo.example.org")


def test_exim_unverified_client_literal_is_the_ip_not_the_helo_literal():
    hop = parse(
        "from [192.0.2.135] (port=51580 helo=[192.0.2.203]) by smtp.example.net with "
        "esmtpa (envelope-from <a@example.org>) id 1Xs; Sun, 23 Nov 2014 19:51:25 +0300"
    )
    assert hop.ip == "192.0.2.135"
    assert hop.authenticated


def test_exim_ipv6_with_port():
    hop = parse(
        "from a.example.org ([2001:db8::30]:45123 helo=a.example.org) by mx.example.net "
        "with esmtp (Exim 4.96) id 1q; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.ip == "2001:db8::30"


def test_qmail_network_line_has_a_timestamp_but_no_client():
    hop = parse("(qmail 12345 invoked from network); 29 Apr 2013 04:00:00 -0000")
    assert hop.ip is None
    assert hop.timestamp == datetime(2013, 4, 29, 4, tzinfo=UTC)


def test_qmail_uid_line_has_no_client_ip():
    assert parse("(qmail 1234 invoked by uid 0); 29 Apr 2013 04:00:00 -0000").ip is None


def test_qmail_bare_address_in_parentheses_is_the_client():
    hop = parse(
        "from rdns.example.org (HELO helo.example.org) (192.0.2.4) by mx.example.net "
        "with SMTP; 29 Apr 2009 00:00:00 -0000"
    )
    assert (hop.ip, hop.rdns, hop.helo) == ("192.0.2.4", "rdns.example.org", "helo.example.org")


def test_qmail_user_at_address_is_the_client():
    hop = parse(
        "from unknown (HELO helo.example.org) (alice@[192.0.2.70]) by mx.example.net "
        "with SMTP; 29 Apr 2009 00:00:00 -0000"
    )
    assert hop.ip == "192.0.2.70"
    assert hop.rdns is None


def test_yahoo_client_is_the_second_bracket_not_the_ehlo_literal():
    hop = parse(
        "from p1.example.jp (EHLO [192.0.2.225]) ([198.51.100.225]) by smtp4.mail.example"
        ".com (Oath Hermes SMTP Server) with ESMTPA ID 50; Mon, 21 May 2018 05:27:46 +0000"
    )
    assert hop.ip == "198.51.100.225"
    assert hop.helo == "[192.0.2.225]"


def test_yahoo_loopback_from_name_is_not_a_reverse_name():
    hop = parse(
        "from 127.0.0.1  (EHLO out.example.com) (192.0.2.189) by mta4.mail.example.com "
        "with SMTPS; Mon, 21 May 2018 12:25:59 +0000"
    )
    assert (hop.ip, hop.rdns, hop.helo) == ("192.0.2.189", None, "out.example.com")


def test_exchange_bare_ipv6_and_frontend_transport():
    hop = parse(
        "from DM6PR01MB1.namprd01.prod.outlook.com (2001:db8:5:1c0::21) by "
        "BN6PR01MB2.namprd01.prod.outlook.com (2001:db8:405:52::23) with Microsoft SMTP "
        "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
        "15.20.1234.5 via Frontend Transport; Mon, 29 Oct 2018 11:17:19 +0100"
    )
    assert hop.ip == "2001:db8:5:1c0::21"
    assert hop.by == "BN6PR01MB2.namprd01.prod.outlook.com"


def test_exchange_mapi_is_authenticated():
    hop = parse(
        "from DM6PR01MB1.namprd01.prod.outlook.com ([fe80::1234:5678:9abc:def0%4]) by "
        "DM6PR01MB1.namprd01.prod.outlook.com ([fe80::1234:5678:9abc:def0%4]) with mapi "
        "id 15.20.1234.5; Mon, 29 Oct 2018 11:17:19 +0000"
    )
    assert hop.protocol == "mapi"
    assert hop.authenticated


def test_zone_id_is_stripped():
    hop = parse(
        "from a.example.org ([fe80::1%eth0]) by b.example.net with SMTP; "
        "Mon, 29 Oct 2018 11:17:19 +0000"
    )
    assert hop.ip == "fe80::1"


def test_mapped_ipv4_becomes_ipv4():
    hop = parse(
        "from EX1.example.org (::ffff:192.0.2.5) by EX2.example.org (::ffff:192.0.2.6) "
        "with Microsoft SMTP Server (TLS) id 14.3.123.3; Mon, 29 Oct 2018 11:17:19 +0000"
    )
    assert hop.ip == "192.0.2.5"


def test_gmail_reverse_name_loses_its_trailing_dot():
    hop = parse(
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [198.51.100.41]) by "
        "mx.google.com with SMTPS id a1sor123 for <bob@example.net> (Google Transport "
        "Security); Tue, 29 Aug 2023 16:20:12 -0700 (PDT)"
    )
    assert (hop.ip, hop.rdns, hop.envelope_for) == (
        "198.51.100.41",
        "mail-sor-f41.google.com",
        "bob@example.net",
    )


def test_gmail_internal_hop_has_an_address_as_by_and_no_client():
    hop = parse(
        "by 2001:db8:651c:1614::34 with SMTP id f20mr2834317ljq.0; "
        "Thu, 26 Feb 2023 18:30:56 -0800 (PST)"
    )
    assert (hop.by, hop.ip) == ("2001:db8:651c:1614::34", None)


def test_amazon_ses_outbound_is_a_postfix_style_line():
    hop = parse(
        "from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [192.0.2.30]) "
        "by mx.example.net (Postfix) with ESMTPS id 4Ab; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert (hop.ip, hop.rdns) == ("192.0.2.30", "a8-30.smtp-out.amazonses.com")


def test_dovecot_lmtp_line_has_no_client_ip():
    hop = parse(
        "from mail.example.net by mail.example.net with LMTP id AbCdEf (envelope-from "
        "<a@example.org>) for <b@example.net>; Tue, 29 Aug 2023 16:20:13 +0000"
    )
    assert (hop.ip, hop.protocol, hop.from_name) == (None, "LMTP", "mail.example.net")


def test_cyrus_lmtpa_is_authenticated_and_unix_socket_is_no_ip():
    hop = parse(
        "from mail.example.net ([unix socket]) by mail.example.net (Cyrus 3.6) with "
        "LMTPA; Tue, 29 Aug 2023 16:20:13 +0000"
    )
    assert hop.authenticated
    assert hop.ip is None


def test_amavis_by_comment_address_is_not_the_client():
    hop = parse(
        "from mx.example.net ([127.0.0.1]) by localhost (mx.example.net [127.0.0.1]) "
        "(amavisd-new, port 10024) with LMTP id x1; Tue, 29 Aug 2023 16:20:13 +0000"
    )
    assert hop.ip == "127.0.0.1"
    assert hop.by == "localhost"


def test_amavis_reinjection_by_is_the_mail_host():
    hop = parse(
        "from localhost (localhost [127.0.0.1]) by mx.example.net (Postfix) with ESMTP "
        "id 4Ab for <b@example.net>; Tue, 29 Aug 2023 16:20:14 +0000"
    )
    assert (hop.ip, hop.by) == ("127.0.0.1", "mx.example.net")


def test_proofpoint_filter_line():
    hop = parse(
        "from pps.filterd (m0001.ppops.net [127.0.0.1]) by mx0a-001.pphosted.com "
        "(8.16.0.42/8.16.0.42) with SMTP id 3abc; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert (hop.ip, hop.rdns, hop.helo) == ("127.0.0.1", "m0001.ppops.net", "pps.filterd")


def test_mimecast_using_tls_comment_between_from_and_by():
    hop = parse(
        "from mail.example.org (mail.example.org [192.0.2.60]) (Using TLS) by "
        "relay.mimecast.com with ESMTP id us-mta-1-abc-1; Tue, 29 Aug 2023 16:20:12 -0400"
    )
    assert (hop.ip, hop.by, hop.id) == ("192.0.2.60", "relay.mimecast.com", "us-mta-1-abc-1")


def test_barracuda_comment_after_id_does_not_disturb_for():
    hop = parse(
        "from mail.example.org (mail.example.org [192.0.2.61]) by mx.barracuda.example "
        "with ESMTP id AbC123 (version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256"
        " verify=NO) for <b@example.net>; Tue, 29 Aug 2023 16:20:12 -0400"
    )
    assert (hop.ip, hop.id, hop.envelope_for) == ("192.0.2.61", "AbC123", "b@example.net")


def test_zmailer_quoted_ehlo_and_port():
    hop = parse(
        'from rdns.example.org ([192.0.2.34]:10000 "EHLO helo.example.org" ident: '
        '"NO-IDENT-SERVICE") by mx.example.net with ESMTP id <12345-1>; '
        "Thu, 29 Apr 2007 23:34:45 +0000"
    )
    assert (hop.ip, hop.helo, hop.id) == ("192.0.2.34", "helo.example.org", "12345-1")


def test_dotted_port_suffix_is_dropped():
    hop = parse(
        "from a.example.org (a.example.org [192.0.2.10.107]) by mx.example.net "
        "(Postfix) with ESMTP id 1; Thu, 15 Oct 2015 15:22:22 +0900"
    )
    assert hop.ip == "192.0.2.10"


def test_only_the_first_from_keyword_starts_the_from_clause():
    hop = parse(
        "from infodrom.example.org by mx.example.net via smail from stdin id <m1@x> "
        "for a@example.net; Thu, 18 May 2006 18:28:08 +0200"
    )
    assert (hop.from_name, hop.by, hop.envelope_for) == (
        "infodrom.example.org",
        "mx.example.net",
        "a@example.net",
    )


def test_nested_parentheses_do_not_leak_into_clauses():
    hop = parse(
        "from a.example.org (a.example.org [192.0.2.9]) (using TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519) by mx.example.net "
        "(Postfix) with ESMTPS id 9; Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert (hop.by, hop.protocol) == ("mx.example.net", "ESMTPS")


def test_protocol_drops_the_tls_suffix():
    hop = parse(
        "from unknown (HELO a.example.org) (192.0.2.9) by mx.example.net with "
        "ESMTP/TLS/DHE-RSA-AES256-GCM-SHA384; 02 Sep 2023 04:24:06 +0200"
    )
    assert hop.protocol == "ESMTP"


def test_folded_value_is_unfolded():
    hop = parse(
        "from a.example.org (a.example.org [192.0.2.9])\r\n\tby mx.example.net with "
        "ESMTP id 9;\r\n\tTue, 29 Aug 2023 16:20:12 +0000"
    )
    assert "\n" not in hop.raw
    assert hop.by == "mx.example.net"


def test_text_with_nothing_usable_is_none():
    assert parse_received("   ") is None
    assert parse_received("(just a comment)") is None


def test_an_address_that_is_not_an_address_is_not_reported():
    hop = parse(
        "from a.example.org (a.example.org [999.0.2.9]) by mx.example.net with ESMTP; "
        "Tue, 29 Aug 2023 16:20:12 +0000"
    )
    assert hop.ip is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IPv6:2001:db8::1", "2001:db8::1"),
        ("[192.0.2.1]", "192.0.2.1"),
        ("192.0.2.1:25", "192.0.2.1"),
        ("192.0.2.1.25", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("unix socket", None),
        ("01.2.3.4", None),
    ],
)
def test_normalise_ip(text, expected):
    assert normalise_ip(text) == expected


def test_parse_chain_returns_origin_first_and_drops_unusable_values():
    newest = "from b.example.net ([192.0.2.2]) by c.example.net; Tue, 29 Aug 2023 16:20:20 +0000"
    oldest = "from a.example.org ([192.0.2.1]) by b.example.net; Tue, 29 Aug 2023 16:20:12 +0000"
    hops = parse_chain([newest, "(nothing)", oldest])
    assert [h.ip for h in hops] == ["192.0.2.1", "192.0.2.2"]


def test_hop_delays_are_seconds_between_consecutive_hops():
    t0 = datetime(2023, 8, 29, 16, 20, 12, tzinfo=UTC)
    later = t0.astimezone(timezone(timedelta(hours=2))) + timedelta(seconds=8)
    hops = [
        parse(f"from a.example.org by b.example.net; {t0:%a, %d %b %Y %H:%M:%S +0000}"),
        parse(f"from b.example.net by c.example.net; {later:%a, %d %b %Y %H:%M:%S +0200}"),
        parse("from c.example.net by d.example.net"),
    ]
    assert hop_delays(hops) == [8.0, None]


def test_a_bare_line_break_never_joins_two_words_into_an_address():
    hop = parse(
        "from a.example.org (a.example.org [19\n2.0.2.111]) by mx.example.net with ESMTP; "
        "Thu, 29 Apr 2014 23:34:45 +0900"
    )
    assert hop.ip != "192.0.2.111"


def test_from_clause_written_inside_a_leading_comment():
    hop = parse(
        "(from localhost [192.0.2.80]) by gw.example.net (NAVGW 2.5.2.12) with SMTP id M1;"
        " Mon, 05 Jun 2006 03:48:47 +0100"
    )
    assert (hop.from_name, hop.ip, hop.by) == ("localhost", "192.0.2.80", "gw.example.net")


def test_smap_address_with_helo_in_one_comment():
    hop = parse(
        "from smtp.example.org(192.0.2.51, HELO smtp.example.com) by x.example.net via "
        "smap (V1.3) id xma002908; Fri, 27 Feb 04 14:16:56 -0800"
    )
    assert (hop.ip, hop.helo) == ("192.0.2.51", "smtp.example.com")


def test_two_digit_year_is_read_in_the_2000s():
    hop = parse("from a.example.org ([192.0.2.1]) by b.example.net; Fri, 27 Feb 04 14:16:56 -0800")
    assert hop.timestamp is not None
    assert hop.timestamp.year == 2004
