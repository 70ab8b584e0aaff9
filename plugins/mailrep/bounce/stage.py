"""The SMTP stage a refusal answered: the same words mean different things at RCPT TO and
after DATA (RFC 5321 section 4.2: replies answer one command each).
"""

from __future__ import annotations

import re

_DATA_STAGE = re.compile(
    r"end of data|after data|data command|final data|in reply to end of|"
    # a reply that leaves its address slot empty ("550 : User unknown")
    # names no recipient: it answers DATA, which is for all of them
    # (au/EZweb refuses so; Sendmail transcripts of the same reply
    # show ">>> DATA")
    r"\b[45]\d\d:? : |"
    # qmail-remote's words for a refusal of the message itself; 1&1/GMX name the message
    # text "TEXT" ("SMTP error from remote server for TEXT command")
    r"failed after i sent the message|for text command"
)
_CONN_STAGE = re.compile(
    r"after (?:initial connection|ehlo|helo)|in reply to (?:ehlo|helo)|"
    r"greeting"
)
_SENDER_STAGE = re.compile(
    r"after mail from|in reply to mail from|mail from command|does not like sender|"
    r"for mail command"
)
# Words that place a refusal at RCPT TO: Postfix "(in reply to RCPT TO command)" and
# "Recipient address rejected", Exim "after RCPT TO", GMX "after RCPT command", Yahoo's
# "[RCPT_TO]" tag, qmail-remote's "<host> does not like recipient" (its words for a
# refused RCPT, as "does not like sender" for MAIL and "failed after I sent the message"
# for DATA).
_RCPT_STAGE = re.compile(
    r"after rcpt|in reply to rcpt|rcpt to command|rcpt command|"
    r"\[rcpt_to\]|recipient address rejected|does not like recipient"
)
_FIRST_ERROR = re.compile(r"^<<< ?[45]\d\d", re.M)
_COMMANDS = re.compile(r"^>>> ?([A-Za-z]+)", re.M)


def smtp_stage(text: str) -> str | None:
    """Which SMTP command the rejection answered: the same words mean different things."""
    # In a transcript (">>> RCPT To:..." / "<<< 550 ..."), the command before the first
    # error reply is the one refused; a later ">>> DATA" only follows it.
    first_error = _FIRST_ERROR.search(text) if "<<<" in text else None
    if first_error:
        commands = _COMMANDS.findall(text[: first_error.start()])
        if commands:
            cmd = commands[-1].upper()
            return {"MAIL": "MAIL", "DATA": "DATA", ".": "DATA"}.get(cmd, cmd)
    low = text.lower()
    if _RCPT_STAGE.search(low):
        return "RCPT"
    if _CONN_STAGE.search(low):
        return "CONN"
    if _SENDER_STAGE.search(low):
        return "MAIL"
    if _DATA_STAGE.search(low):
        return "DATA"
    return None
