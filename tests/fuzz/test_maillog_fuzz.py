"""Hostile MTA log lines: the readers never raise, stay linear, and never yield an address
(recipient or cited IP) that is not in the line.

A log line's reply text is written by a remote server (and the recipient by whoever sent the
mail): anyone can put ``status=sent`` or ``blocked using`` into it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.bounce.logsource import read_log
from mailrep.mail import exim_log, postfix_log
from mailrep.mail.maillog import MAX_LINE, Delivery, SyslogClock

FAST = settings(
    max_examples=300,
    deadline=timedelta(milliseconds=800),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_RUN = re.compile(r"[0-9A-Fa-f:.]+")

POSTFIX = (
    "Dec  1 09:18:33 relay postfix/smtp[26870]: E636620D241: to=<{rcpt}>, "
    "relay=mx.example.net[203.0.113.5]:25, delay=0.04, delays=0.01/0/0.01/0.02, dsn={dsn}, "
    "status={status} ({text})"
)
EXIM = (
    "2026-12-01 09:18:33 1rAbCd-000123-Xy {flag} {rcpt} R=dnslookup T=remote_smtp "
    "H=mx.example.net [203.0.113.5]: SMTP error from remote mail server after RCPT "
    "TO:<{rcpt}>: {text}"
)


def ip_in(ip: str, text: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if addr.version == 4 and ip in text:
        return True
    for run in _RUN.findall(text):
        try:
            if ipaddress.ip_address(run.strip(".:")) == addr:
                return True
        except ValueError:
            continue
    return False


def check_line(line: str) -> None:
    events = [
        postfix_log.parse_line(line, SyslogClock(NOW)),
        exim_log.parse_line(line, UTC),
    ]
    found = [e for e in events if isinstance(e, Delivery)]
    for ev in found:
        assert ev.recipient.lower() in line.lower()
        assert ev.queue_id in line
        assert ev.reply in line
    out = read_log(found, None, "fuzz")
    for rec in [*out.summary.records, *out.deferrals]:
        if rec.blocked_ip:
            assert ip_in(rec.blocked_ip, line), (rec.blocked_ip, line)
        assert rec.recipient.recipient in line.lower()


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    max_size=400,
)
_WORDS = st.sampled_from(
    [
        "status=sent",
        "status=bounced (host x[1.2.3.4] said: 554 5.7.1 blocked using zen.spamhaus.org)",
        ", dsn=2.0.0, status=sent (250 ok)",
        "to=<victim@example.org>, relay=x, status=bounced",
        "client [198.51.100.7] blocked using psbl.surriel.com",
        "listed on bl.spamcop.net for 2001:db8::1",
        ") (",
        "<>",
        " ** ",
        " == ",
        "said: ",
    ]
)
_REPLY = st.lists(st.one_of(_TEXT, _WORDS), max_size=8).map("".join)
_RCPT = st.from_regex(r"[a-z0-9.=+_-]{1,20}@[a-z0-9.-]{1,20}", fullmatch=True)


@FAST
@given(rcpt=_RCPT, text=_REPLY, status=st.sampled_from(["sent", "bounced", "deferred", "x"]))
def test_forged_words_in_a_postfix_reply_never_yield_a_foreign_address(rcpt, text, status):
    check_line(POSTFIX.format(rcpt=rcpt, dsn="5.7.1", status=status, text=text))


@FAST
@given(rcpt=_RCPT, text=_REPLY, flag=st.sampled_from(["**", "==", "=>", "->"]))
def test_forged_words_in_an_exim_reply_never_yield_a_foreign_address(rcpt, text, flag):
    check_line(EXIM.format(rcpt=rcpt, flag=flag, text=text))


@FAST
@given(st.binary(max_size=2000))
def test_binary_lines_never_raise(data):
    check_line(data.decode("utf-8", "replace").replace("\n", " "))


@FAST
@given(rcpt=_RCPT, text=_REPLY, cut=st.integers(min_value=0, max_value=400))
def test_truncated_lines_never_raise(rcpt, text, cut):
    line = POSTFIX.format(rcpt=rcpt, dsn="4.7.1", status="deferred", text=text)
    check_line(line[:cut])
    check_line(EXIM.format(rcpt=rcpt, flag="==", text=text)[:cut])


def test_a_huge_line_is_counted_as_unreadable_not_parsed():
    line = POSTFIX.format(
        rcpt="bob@example.net", dsn="5.7.1", status="bounced", text="x" * MAX_LINE
    )
    assert postfix_log.parse_line(line, SyslogClock(NOW)).status == "unparsed"
    huge = EXIM.format(rcpt="bob@example.net", flag="**", text="y" * MAX_LINE)
    assert exim_log.parse_line(huge, UTC).status == "unparsed"
