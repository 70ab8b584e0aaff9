"""IMAP and SMTP options shared by check_relay_chain and check_bounce_rate.

Passwords never come from argv alone (every local user can read a process's argv): a file
or an environment variable. TLS is on and verified by default; ``--insecure`` is the one,
loudly named, way to skip verification.
"""

from __future__ import annotations

import argparse
import ipaddress
from typing import Any

from mailrep.errors import CannotJudge
from mailrep.plugin.runtime import UsageError, positive_float

IMAP_PASSWORD_ENV = "MAILREP_IMAP_PASSWORD"
SMTP_PASSWORD_ENV = "MAILREP_SMTP_PASSWORD"


def port_arg(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port out of range: {text!r}")
    return port


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS")
    group.add_argument(
        "--ca-file",
        metavar="FILE",
        help="CA certificates (PEM) to verify IMAP/SMTP servers with, instead of the system's",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify TLS certificates (never in production: anyone on the path can "
        "read the password)",
    )


def add_imap_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    group = parser.add_argument_group("IMAP mailbox (read-only: EXAMINE and BODY.PEEK)")
    group.add_argument("--imap-host", metavar="HOST", required=required, help="IMAP server")
    group.add_argument(
        "--imap-port",
        type=port_arg,
        metavar="PORT",
        help="IMAP port (default 993 with TLS, 143 with STARTTLS or none)",
    )
    group.add_argument("--imap-user", metavar="USER", help="IMAP login name")
    group.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"file whose first line is the IMAP password (or set {IMAP_PASSWORD_ENV})",
    )
    sec = group.add_mutually_exclusive_group()
    sec.add_argument(
        "--imap-tls",
        dest="imap_security",
        action="store_const",
        const="tls",
        help="implicit TLS (IMAPS; the default)",
    )
    sec.add_argument(
        "--imap-starttls",
        dest="imap_security",
        action="store_const",
        const="starttls",
        help="plain connection upgraded with STARTTLS",
    )
    sec.add_argument(
        "--imap-plain",
        dest="imap_security",
        action="store_const",
        const="none",
        help="no TLS at all: the password travels in clear, so only to a loopback address "
        "(127.0.0.0/8, ::1, localhost); any other host is a usage error",
    )
    parser.set_defaults(imap_security="tls")
    group.add_argument(
        "--folder", default="INBOX", metavar="NAME", help="IMAP folder to read (default INBOX)"
    )


def add_smtp_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SMTP (round trip: send a test message)")
    group.add_argument("--smtp-host", metavar="HOST", help="submission server to send through")
    group.add_argument(
        "--smtp-port",
        type=port_arg,
        metavar="PORT",
        help="SMTP port (default 587 with STARTTLS, 465 with TLS, 25 without)",
    )
    group.add_argument("--smtp-user", metavar="USER", help="SMTP AUTH login name")
    group.add_argument(
        "--smtp-password-file",
        metavar="FILE",
        help=f"file whose first line is the SMTP password (or set {SMTP_PASSWORD_ENV}; "
        "default: the IMAP password)",
    )
    sec = group.add_mutually_exclusive_group()
    sec.add_argument(
        "--smtp-starttls",
        dest="smtp_security",
        action="store_const",
        const="starttls",
        help="STARTTLS on the submission port (the default)",
    )
    sec.add_argument(
        "--smtp-tls",
        dest="smtp_security",
        action="store_const",
        const="tls",
        help="implicit TLS (port 465)",
    )
    sec.add_argument(
        "--smtp-plain",
        dest="smtp_security",
        action="store_const",
        const="none",
        help="no TLS at all: the test message travels in clear; with --smtp-user only to a "
        "loopback address (127.0.0.0/8, ::1, localhost), as the password would too",
    )
    parser.set_defaults(smtp_security="starttls")
    group.add_argument(
        "--from",
        dest="mail_from",
        metavar="ADDRESS",
        help="envelope and header sender of the test message",
    )
    group.add_argument(
        "--to",
        dest="mail_to",
        metavar="ADDRESS",
        help="recipient of the test message (the mailbox read over IMAP)",
    )
    group.add_argument(
        "--wait",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the test message to arrive (default 60, bounded by -t)",
    )


def _password(file: str | None, env: str, what: str) -> str | None:
    from mailrep.mail.credentials import load_password

    try:
        return load_password(file, None, env)
    except OSError as exc:
        raise CannotJudge(f"cannot read the {what} password file: {exc.strerror or exc}") from None


def is_loopback(host: str) -> bool:
    """A loopback address literal (127.0.0.0/8, ::1, an IPv4-mapped one) or ``localhost``
    (RFC 6761: always the loopback). Names are not resolved: a name that resolves to
    127.0.0.1 today can point elsewhere tomorrow."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _refuse_plain(option: str, host: str, secure: str) -> None:
    if not is_loopback(host):
        raise UsageError(
            f"{option} sends the password in clear, so only to a loopback address, "
            f"not {host} (use {secure})"
        )


def imap_settings(args: argparse.Namespace, timeout: float, deadline: float | None = None) -> Any:
    """ImapSettings from the options; a missing user or password is UNKNOWN with the fix.

    ``timeout`` caps one network step, ``deadline`` (a ``time.monotonic()`` value, the
    run's) ends the whole IMAP conversation."""
    from mailrep.mail.sources import ImapSettings

    if args.imap_security == "none":
        _refuse_plain("--imap-plain", args.imap_host, "--imap-starttls or --imap-tls")
    if not args.imap_user:
        raise CannotJudge("--imap-user is required with --imap-host")
    password = _password(args.password_file, IMAP_PASSWORD_ENV, "IMAP")
    if password is None:
        raise CannotJudge(f"no IMAP password: give --password-file FILE or set {IMAP_PASSWORD_ENV}")
    security = args.imap_security
    return ImapSettings(
        host=args.imap_host,
        port=args.imap_port,  # None: ImapSettings.effective_port
        user=args.imap_user,
        password=password,
        security=security,
        folder=args.folder,
        ca_file=args.ca_file,
        insecure=args.insecure,
        timeout=timeout,
        deadline=deadline,
    )


def smtp_settings(args: argparse.Namespace, timeout: float, imap_password: str | None) -> Any:
    from mailrep.mail.roundtrip import SmtpSettings

    if args.smtp_security == "none" and args.smtp_user:
        _refuse_plain("--smtp-plain with --smtp-user", args.smtp_host, "--smtp-starttls")
    password = None
    if args.smtp_user:
        password = _password(args.smtp_password_file, SMTP_PASSWORD_ENV, "SMTP") or imap_password
        if password is None:
            raise CannotJudge(
                f"no SMTP password: give --smtp-password-file FILE or set {SMTP_PASSWORD_ENV}"
            )
    security = args.smtp_security
    return SmtpSettings(
        host=args.smtp_host,
        port=args.smtp_port,  # None: SmtpSettings.effective_port
        user=args.smtp_user,
        password=password,
        security=security,
        ca_file=args.ca_file,
        insecure=args.insecure,
        timeout=timeout,
    )
