"""Reason classification: diagnostic text and RFC 3463 status -> Sisimai's reason names.

Text wins over the status code: MTAs send 5.7.1 or 5.0.0 for causes as different as a
blocklisted IP and a full mailbox, and only the words tell which. The status code decides
when the words say nothing we recognise. The rules are ours, written from RFC 3463, the
reason names Sisimai documents and the published wording of the common MTAs and providers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The receiving server failed on its own side, in words that name the fault: a cause even
# when a delivery program reported it (see bounces._recipient).
SYSTEM_FAULT = r"could not load|insufficient permission"
names_system_fault = re.compile(SYSTEM_FAULT, re.IGNORECASE).search

# Not a reason: the marker of a bare refusal ("Access denied"), which the status code decides.
_BARE_REFUSAL = "bare refusal"

# (reason, pattern); first match wins, so specific causes come before broad ones.
_TEXT_RULES: list[tuple[str, str]] = [
    # Postfix writes this when the per-recipient log is gone: nothing says what happened
    ("undefined", r"delivery report unavailable"),
    # the receiving server failed on its own side: could not read its configuration, or
    # (Sendmail EX_NOPERM) had no permission to deliver; not the mailbox's fault
    ("systemerror", SYSTEM_FAULT),
    # the recipient's own settings refuse this sender (Facebook RCP-P2)
    ("filtered", r"recipient preferences"),
    # RFC 5321's 551 "User not local; please try <forward-path>": the mailbox is elsewhere
    ("hasmoved", r"user not local|\b551 not our customer"),
    # qmail: the domain has neither MX nor address records, so it takes no mail at all
    ("notaccept", r"couldn.t find a mail exchanger or ip address"),
    # Cox's published code for a client on its own DNS blocklist
    ("blocked", r"aup#cdrbl"),
    # Spectrum/Charter AUP#In-13xx: connection and rate limits of its filter (Cloudmark)
    ("toomanyconn", r"aup#in-13\d\d"),
    (
        "spamdetected",
        r"rejected due to spam|spam classification|classified as spam|"
        # Orange/Wanadoo's published code for a message its filter judged to be spam
        r"\bofr_506\b",
    ),
    # Gmail: "blocked because its content presents a potential security issue"; Mimecast:
    # the sending network is not allowed by the recipient's policy
    ("policyviolation", r"content presents a potential|host network not allowed"),
    (
        "requireptr",
        r"mismatches client ip|unverifi?y?able sending ip|bad dns ptr|"
        r"ptr resource record",
    ),
    # qmail-ldap: the MTA could not reach its own directory
    ("systemerror", r"unable to contact ldap"),
    # Sendmail names the delivery program's exit code EX_OSERR this way
    ("mailererror", r"operating system error"),
    # a 554 greeting: the server refuses this client before any command
    ("blocked", r"esmtp not accepting connections"),
    # more recipients than one transaction may carry: a per-session limit, like connections
    (
        "toomanyconn",
        r"connection rate limit|too many (?:connections|sessions|concurrent|"
        r"recipients)",
    ),
    ("badreputation", r"unexpected volume or user complaints|user complaints"),
    ("mesgtoobig", r"(?:mail|message) size limit exceeded|line limit exceeded"),
    ("mailboxfull", r"mailbox exceeds"),
    ("systemfull", r"insufficient disk space|insufficient system storage|disk full"),
    (
        "authfailure",
        r"unauthenticated email|authentication information|"
        r"fails? to pass authentication",
    ),
    ("speeding", r"receiving mail at a rate|receivingrate"),
    # RFC 3463 X.3.2 "System not accepting network messages"; X.2.1's "Mailbox disabled,
    # not accepting messages" is a disabled mailbox, not a host taking no mail
    ("notaccept", r"no smtp service|null mx|not accepting network messages"),
    ("syntaxerror", r"malformed address"),
    ("policyviolation", r"protocol violation"),
    (
        "blocked",
        r"invalid ip for sending|my name was rejected|helo .{0,40}rejected|"
        # the sending server itself is judged (or listed as) an open relay
        r"\bopen[- ]relay\b",
    ),
    (
        "rejected",
        r"groups\.google\.com|permission to post|not allowed to post|"
        # the sender's address (not the client IP) is on the receiver's own list
        r"an address that has been blacklisted",
    ),
    # Amazon SES: the sending identity is not verified, so SES will not relay for it
    ("norelaying", r"identities failed the check"),
    (
        "notcompliantrfc",
        r"multiple addresses in from|not rfc ?\d{4}[- ]compliant|"
        r"rfc ?5322|duplicate (?:header|message-id)|missing (?:a )?(?:valid )?"
        r"(?:date|message-id|from) header",
    ),
    (
        "rejected",
        r"sender address rejected|sender (?:domain|address) (?:is )?(?:invalid|"
        r"unknown|not allowed)|domain of sender .* does not exist|sender verify failed|"
        r"from: domain is invalid|invalid sender|sender rejected|not a member",
    ),
    ("virusdetected", r"virus|malware detected|infected"),
    (
        "requireptr",
        r"reverse dns|no ptr|ptr record|rdns|reverse (?:lookup|hostname)|"
        r"cannot find your hostname|not have a reverse|client host rejected: cannot find|"
        r"reverse address|dns pointer|unresolvable address|ip name lookup failed",
    ),
    ("authfailure", r"\bspf\b|dmarc|\bdkim\b|sender policy framework|5\.7\.2[3-7]\b"),
    ("securityerror", r"not authenticated|authentication (?:failed|required)|unauthenticated"),
    ("badreputation", r"reputation|bulk mail policy|poor (?:sender|ip)"),
    (
        "blocked",
        r"blocked using|blacklist|block ?list|\bdnsbl\b|\brbl\b|spamhaus|spamcop|"
        r"barracudacentral|uceprotect|psbl\.|mailspike|listed(?<!not listed) (?:at|in|on|by)|"
        r"\bs3150\b|5\.7\.6[0-4]\d|banned sending ip|\btss0[49]\b|access denied.*ip|"
        r"client host .*(?:rejected|blocked)|ip address .*(?:blocked|rejected|denied)|"
        r"your ip|sender ip|has been blocked|dynamic ip|dial-?up|"
        r"residential|bad ip|\bcbl\b|\bsorbs\b|not allowed to send|host .* refused to talk|"
        r"sending host .* (?:rejected|blocked)|mail server ip|"
        r"messages from \d{1,3}(?:\.\d{1,3}){3}|service refused|service refuse|"
        # T-Online: "554 IP=192.0.2.1 - A problem occurred. (...) (BL)", BL for a blocklisted IP
        r"\bip=[0-9a-f.:]+ - .*\(bl\)",
    ),
    (
        "spamdetected",
        r"content rejected|\bUBE\b|\bspam\b|junk mail|unsolicited|"
        r"bulk e?-?mail|content .* rejected|"
        r"message .* (?:looks|appears|seems) .*spam|spam ?assassin|scored as",
    ),
    ("hasmoved", r"has moved|no longer at this address|address has changed"),
    # qmail gives up: unless the last reply named a cause above, the message expired
    ("expired", r"in the queue too long"),
    (
        "suspend",
        r"suspended|disabled|mailbox (?:is )?frozen|deactivated|inactive|not active|"
        r"account .*(?:locked|"
        r"expired|frozen|closed)|mailbox .*(?:locked|disabled|inactive)|is not available|"
        r"temporarily (?:disabled|unavailable)",
    ),
    (
        "mailboxfull",
        r"mailbox (?:is )?full|over ?quota|quota exceeded|exceed(?:s|ed)? .*quota|"
        r"insufficient (?:disk|storage)|mailbox .*(?:exceeded|size limit)|too much mail|"
        r"storage|mail ?box .* full|mailfolder is full|user.s? (?:disk )?quota|full mailbox",
    ),
    (
        "mesgtoobig",
        r"message (?:is )?too (?:big|large)|size exceeds|exceeds? .*size|"
        r"message size|too large|maximum .* size",
    ),
    ("exceedlimit", r"exceeds? (?:the )?(?:local )?limit|recipient limit"),
    (
        "hostunknown",
        r"host (?:or domain )?(?:name )?(?:not found|unknown)|unknown host|"
        r"domain is not reachable|"
        r"domain (?:not found|does not exist|name not found)|no such domain|name or service|"
        r"nxdomain|unrouteable mail domain|unrouteable address|no mx|host not found|unknown domain|"
        r"domain .* (?:does not|doesn.t) exist|illegal host|unroutable domain|"
        r"mail exchanger .* not found|dns lookup failed|no route to host .* domain",
    ),
    (
        "userunknown",
        r"user unknown|unknown user|no such (?:user|mailbox|recipient|account|"
        r"address|person)|user (?:does not|doesn.t) exist|does not exist|doesn.t exist|"
        r"not exist|unknown (?:recipient|address|mailbox|local|e-?mail)|invalid (?:recipient|"
        r"mailbox|address|user)|mailbox unavailable|"
        r"mailbox not found|no mailbox|user not found|not a valid|"
        r"unknown or illegal|no valid recipients|not our customer|"
        r"addressee unknown|couldn.t be found|could not be found|bad destination mailbox|"
        r"not listed in|account (?:does not|not) (?:exist|found)|not a registered|"
        r"no such local user|"
        r"mailbox is unavailable|recipient not found|unknown account|user is unknown|"
        r"rejected: user|is not a valid mailbox|invalid mailbox|invalid (?:final delivery )?userid|"
        r"doesn.t have an? .{0,40}account|no account|unknown local[- ]part|address unknown",
    ),
    (
        "expired",
        r"did not accept our requests to connect|failed \d+ attempts|"
        r"not delivered within|"
        r"delivery attempts? (?:failed|exceeded)",
    ),
    (
        "networkerror",
        r"malformed or unexpected name server reply|name server failure|"
        r"socket error",
    ),
    (
        "norelaying",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed|"
        r"prohibited)|unable to relay|not permitted to relay|we do not relay|no relaying|"
        r"relay not permitted|relaying denied|not a gateway|"
        # older MTAs' refusal to relay for a client they do not serve
        r"insecure mail relay",
    ),
    (
        "toomanyconn",
        r"too many (?:connections|sessions|concurrent)|connection limit|"
        r"too many simultaneous",
    ),
    (
        "speeding",
        r"rate limit|too many (?:messages|emails|recipients)|sending rate|"
        r"throttl|try again later .* rate|exceeded .* rate|too fast",
    ),
    (
        "networkerror",
        r"unable to establish|establish an smtp connection|host name lookup failure|"
        r"no route to host",
    ),
    (
        "expired",
        r"retry timeout exceeded|could not be delivered for|message expired|"
        r"delivery time expired|retry time|time ?out|timed out|undeliverable for \d|"
        r"for more than \d+ (?:hours|days)|has been delayed|gave up|giving up|queue too long|"
        r"expired|no longer trying",
    ),
    # a TCP connection refused ("Deferred: Connection refused by [192.0.2.1]") is the
    # network's answer, not the server's verdict on this client
    (
        "networkerror",
        r"connection (?:reset|closed|lost|dropped|refused)|network|lost connection|"
        r"no route to host|unreachable|loops? (?:back|detected)|mail loop|too many hops|"
        r"hop count|routing loop|mail for .* loops",
    ),
    (
        "notaccept",
        r"does not accept mail|not accept(?:ing)? (?:any )?mail|null mx|"
        r"accepts no mail|no mail accepted",
    ),
    (
        "syntaxerror",
        r"syntax error|command unrecognized|unrecognized command|"
        r"bad sequence|invalid command",
    ),
    (
        "securityerror",
        r"tls|starttls|encryption required|certificate|insecure|"
        r"authentication mechanism",
    ),
    (
        "policyviolation",
        r"header error|security (?:issue|risk)|polic(?:y|ies)|prohibited|"
        r"not allowed|not permitted|forbidden",
    ),
    ("systemfull", r"system (?:is )?full|disk full|out of disk|insufficient system storage"),
    ("onhold", r"on hold|onhold"),
    (
        "systemerror",
        r"system error|internal error|server error|local error|"
        r"temporary failure|configuration error|mail system error|processing error|"
        # RFC 5321's own text for a 554 that names no cause
        r"transaction failed|"
        r"lookup error|unavailable|try again",
    ),
    ("contenterror", r"invalid (?:charset|mime)|content (?:error|rejected)"),
    ("mailererror", r"mailer error|mailer failure|command failed|exit status|procmail"),
    # Postfix names the real cause after this prefix; only when nothing else matched
    ("userunknown", r"recipient (?:address )?rejected|address rejected"),
    # the recipient, not the sender, was refused and no cause is given: the receiving
    # side's own filter (Sisimai's "rejected" is a refusal of the sender)
    ("filtered", r"recipients? (?:was|were|has been|have been) rejected"),
    # RFC 4407 (Sender ID): the Purported Responsible Address is the sender's identity
    (
        "rejected",
        r"sender .*rejected|rejected .*sender|sender address|envelope sender|"
        r"from address|domain of sender|sender domain|mail from|sender verify|"
        r"return-path|purported responsible address",
    ),
    # a refusal naming neither a cause nor whom it refuses (see _classify)
    (_BARE_REFUSAL, r"rejected|refused|denied|not accepted"),
    ("filtered", r"filter|blocked by|not authorized"),
]


class _HostDoesNotExist:
    """ "<host name> does not exist" (not "<address> does not exist"): a domain unknown.

    A literal search then a look at the word before it: a regex starting with a character
    class would be tried at every position of every diagnostic.
    """

    _HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")

    def search(self, text: str) -> bool:
        i = text.find(" does not exist")
        while i >= 0:
            words = text[:i].rsplit(None, 1)
            if words and "@" not in words[-1] and self._HOST.fullmatch(words[-1].strip("<>")):
                return True
            i = text.find(" does not exist", i + 1)
        return False


# Texts are lower-cased once and matched case-sensitively: several times faster than
# IGNORECASE over thirty patterns per recipient.
_COMPILED: list = [(name, re.compile(p.lower())) for name, p in _TEXT_RULES]
# before the first rule that knows "does not exist" as a user unknown
_COMPILED.insert(
    next(i for i, (n, _) in enumerate(_COMPILED) if n == "hostunknown"),
    ("hostunknown", _HostDoesNotExist()),
)

# RFC 3463 detail codes with a single meaning, independent of the text.
_STATUS_REASON: dict[str, str] = {
    "1.1": "userunknown",
    "1.0": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.10": "notaccept",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "exceedlimit",
    "2.4": "systemerror",
    "3.0": "systemerror",
    "3.1": "systemfull",
    "3.2": "notaccept",
    "3.3": "systemerror",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.0": "networkerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "systemerror",
    "4.4": "hostunknown",
    "4.5": "networkerror",
    "4.6": "networkerror",
    "4.7": "expired",
    "5.0": "syntaxerror",
    "5.1": "syntaxerror",
    "5.2": "syntaxerror",
    "5.3": "exceedlimit",
    "5.4": "syntaxerror",
    "6.0": "contenterror",
    "6.1": "contenterror",
    "6.9": "contenterror",
    "7.0": "securityerror",
    "7.1": "securityerror",
    "7.2": "authfailure",
    "7.5": "securityerror",
    "7.6": "securityerror",
    "7.7": "securityerror",
    "7.9": "securityerror",
    "7.13": "suspend",
    "7.23": "authfailure",
    "7.24": "authfailure",
    "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "notaccept",
}

# Sisimai-compatible pseudo status for bounces whose text carries no RFC 3463 code: the
# reason encoded as X.0.9NN so the numbers stay comparable with Sisimai's output.
PSEUDO_STATUS: dict[str, int] = {
    "undefined": 900,
    "onhold": 901,
    "syntaxerror": 902,
    "norelaying": 909,
    "filtered": 910,
    "userunknown": 911,
    "hostunknown": 912,
    "rejected": 918,
    "suspend": 921,
    "mailboxfull": 922,
    "systemerror": 930,
    "notaccept": 932,
    "mesgtoobig": 934,
    "networkerror": 944,
    "expired": 947,
    "blocked": 971,
    "requireptr": 973,
    "securityerror": 970,
    "spamdetected": 980,
    "virusdetected": 981,
    "policyviolation": 972,
    "exceedlimit": 923,
    "toomanyconn": 945,
    "speeding": 946,
    "systemfull": 931,
    "authfailure": 974,
    "badreputation": 975,
    "contenterror": 960,
    "hasmoved": 916,
    "mailererror": 950,
}

HARD = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
CAUSE: dict[str, str] = {
    "userunknown": "hard",
    "hostunknown": "hard",
    "hasmoved": "hard",
    "notaccept": "hard",
    "suspend": "hard",
    "blocked": "block",
    "badreputation": "block",
    "requireptr": "block",
    "spamdetected": "block",
    "policyviolation": "block",
    "authfailure": "block",
    "rejected": "block",
    # refused by the receiver's security or virus policy: no retry gets through unchanged
    "securityerror": "block",
    "virusdetected": "block",
    "toomanyconn": "throttle",
    "speeding": "throttle",
    "exceedlimit": "throttle",
    "delivered": "ignore",
    "feedback": "ignore",
    "vacation": "ignore",
    "onhold": "soft",
}


def reason_from_text(text: str) -> str | None:
    text = text.lower()
    for name, rx in _COMPILED:
        if rx.search(text):
            return name
    return None


def reason_from_status(status: str | None) -> str | None:
    if not status:
        return None
    parts = status.split(".")
    if len(parts) != 3:
        return None
    if parts[0] == "2":
        return "delivered"
    return _STATUS_REASON.get(f"{parts[1]}.{parts[2]}")


_DATA_STAGE = re.compile(
    r"end of data|after data|data command|final data|in reply to end of|"
    # a reply that leaves its address slot empty ("550 : User unknown")
    # names no recipient: it answers DATA, which is for all of them
    # (au/EZweb refuses so; Sendmail transcripts of the same reply
    # show ">>> DATA")
    r"\b[45]\d\d:? : "
)
_CONN_STAGE = re.compile(
    r"after (?:initial connection|ehlo|helo)|in reply to (?:ehlo|helo)|"
    r"greeting"
)
_SENDER_STAGE = re.compile(r"after mail from|in reply to mail from|mail from command")
# Words that place a refusal at RCPT TO: Postfix "(in reply to RCPT TO command)" and
# "Recipient address rejected", Exim "after RCPT TO", GMX "after RCPT command", Yahoo's
# "[RCPT_TO]" tag.
_RCPT_STAGE = re.compile(
    r"after rcpt|in reply to rcpt|rcpt to command|rcpt command|"
    r"\[rcpt_to\]|recipient address rejected"
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


# Replies that state the address itself is invalid or has no account: a user-unknown
# wherever in the dialogue they come (Yahoo and Orange refuse unknown users after DATA).
_NAMED_INVALID = re.compile(r"invalid recipient|doesn.t have an? .{0,40}account")


Gateway = bool | Callable[[], bool]


def _filtered_not_unknown(
    status: str | None, stage: str | None, gateway: Gateway, text: str = ""
) -> bool:
    """Is a "user unknown" reply really a filter's refusal (Sisimai's ``filtered``)?

    A mailbox that does not exist is refused at RCPT TO with 5.1.1. The same words count as
    a filter's verdict when they come after DATA, when the code is X.2.0/X.2.1 (RFC 3463:
    mailbox exists but refuses this message, the code mobile carriers and spam filters use
    for per-recipient rejection rules) or 5.7.x (policy), or when a content-filtering
    gateway reports them without a recipient-class code: the gateway accepted the message
    and only then learnt that the inside refused it.
    """
    code = status or ""
    if code.endswith(".1.1") or stage == "RCPT" or _NAMED_INVALID.search(text.lower()):
        return False
    if stage == "DATA":
        return True
    detail = code.split(".", 1)[1] if "." in code else ""
    if detail in ("2.0", "2.1") or code.startswith("5.7."):
        return True
    if code and detail != "0.0" and not detail.startswith("0.9"):
        return False
    return gateway() if callable(gateway) else gateway


# The reporting MTA's own statement that the account or mailbox is disabled: RFC 3463's name
# for X.2.1 in a Status comment ("5.2.1 (mailbox disabled, not accepting messages)"), or a
# report's lead ("The user(s) account is disabled."). Not a conditional ("if the account is
# disabled, ...") in advice text.
_DISABLED = re.compile(
    r"(?:account|mailbox)\W+(?:(?:is|has been|was)\s+)?"
    r"(?:disabled|suspended|deactivated)"
)
_CONDITIONAL = re.compile(r"\b(?:if|whether|unless|may|might|could)\b")


def reporter_says_disabled(words: str) -> bool:
    """Does the report itself say the recipient's account or mailbox is disabled?

    A disabled account is commonly answered "user unknown" at RCPT, so as not to tell a
    stranger it exists; the reporting MTA, often the provider hosting the mailbox, knows
    which it is. Its statement then names the cause (Sisimai's ``suspend``) where the
    remote reply only refused the recipient ("unknown", or unknown read as a filter's
    refusal).
    """
    low = words.lower()
    for m in _DISABLED.finditer(low):
        if not _CONDITIONAL.search(low[max(0, m.start() - 30) : m.start()]):
            return True
    return False


# Reasons that the SMTP stage can change (below); for the others it is not searched for.
_STAGE_MATTERS = frozenset(
    {
        "userunknown",
        "hostunknown",
        "undefined",
        "onhold",
        "rejected",
        "policyviolation",
        "filtered",
        "securityerror",
        "systemerror",
    }
)


def classify(
    status: str | None,
    text: str,
    action: str | None = None,
    context: str = "",
    gateway: Gateway = False,
) -> str:
    """The reason for one failed recipient, adjusted for the SMTP stage it failed at.

    ``gateway`` says the report comes from a content-filtering gateway (see
    ``_filtered_not_unknown``); a callable is asked only when the answer matters.
    """
    reason = _classify(status, text, action)
    if reason not in _STAGE_MATTERS:  # the stage search costs; most reasons never need it
        return reason
    stage = smtp_stage(text + "\n" + context)
    # With pipelining a RCPT refusal (5.1.1) can arrive after ">>> DATA": not a filter.
    if reason == "userunknown" and _filtered_not_unknown(status, stage, gateway, text):
        return "filtered"
    if stage == "CONN" and reason in (
        "rejected",
        "undefined",
        "onhold",
        "policyviolation",
        "filtered",
        "securityerror",
        "systemerror",
    ):
        return "blocked"
    # a name lookup that failed for now; "try again" after a permanent 5.x code is advice
    code = status or ""
    if reason == "hostunknown" and (
        code.startswith("4")
        or re.search(r"temporar", text, re.I)
        or (not code.startswith("5") and re.search(r"try again", text, re.I))
    ):
        return "networkerror"
    if stage == "MAIL" and reason in ("userunknown", "hostunknown", "undefined", "onhold"):
        return "rejected"
    return reason


_DELAY_CAUSES = frozenset(
    {
        "mailboxfull",
        "networkerror",
        "hostunknown",
        "systemfull",
        "systemerror",
        "blocked",
        "badreputation",
        "requireptr",
        "toomanyconn",
        "speeding",
    }
)


def _classify(status: str | None, text: str, action: str | None = None) -> str:
    if action and action.lower() in ("delivered", "relayed", "expanded"):
        return "delivered"
    # Codes whose meaning is exact beat loose words.
    if status:
        detail = ".".join(status.split(".")[1:])
        if detail in (
            "1.1",
            "2.2",
            "1.2",
            "1.6",
            "7.25",
            "7.26",
            "7.23",
            "2.3",
            "3.4",
            "1.7",
            "1.8",
        ):
            r = reason_from_status(status)
            # only a 5.1.1's words can overrule its code, and only with a cause of another
            # kind: "5.1.1 inactive email address" (iCloud) is still an address not served
            if detail == "1.1":
                by_text = reason_from_text(text)
                if by_text in ("mailboxfull", "blocked", "filtered", "hasmoved"):
                    return by_text
            if r:
                return r
    r = reason_from_text(text)
    if r == _BARE_REFUSAL:
        # "rejected", "denied": the words name neither a cause nor whom was refused, so a
        # security or policy code (X.7.x) says more ("550 5.7.1 <rcpt>... Access denied" is a
        # security refusal); other codes cannot explain a refusal (X.4.1 is "no answer from
        # host"), and without one a refusal is taken as of the sender (Sisimai's "rejected")
        policy = status.split(".")[1:2] == ["7"] if status else False
        r = (reason_from_status(status) if policy else None) or "rejected"
    if action and action.lower() == "delayed":
        # still queued: a named cause (full mailbox, no route) beats the generic "expired"
        return r if r in _DELAY_CAUSES else "expired"
    if r:
        return r
    # Sisimai's "onhold": a bounce whose words and code are too thin to judge.
    return reason_from_status(status) or "onhold"


def pseudo_status(reason: str, temporary: bool) -> str:
    code = PSEUDO_STATUS.get(reason, 900)
    return f"{4 if temporary else 5}.0.{code}"


def cause_of(reason: str, status: str | None) -> str:
    if reason in CAUSE:
        return CAUSE[reason]
    if status and status.startswith("4"):
        return "soft"
    return "soft"


def is_hard(reason: str, status: str | None, replycode: str | None) -> bool:
    if reason not in HARD:
        return False
    if status and status.startswith("4"):
        return False
    return not (replycode and replycode.startswith("4"))
