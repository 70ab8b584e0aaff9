"""Write docs/man/check_*.1 from the plugins' own argparse definitions.

One source: the man pages, ``--help`` and docs/options.rst (docs/gen_options.py) all come from
each plugin's ``build_parser()``: its description, option groups, help strings and epilog
("examples:" and "states:" paragraphs). What is not an option -- the environment variables
and default files -- comes from the constants the code itself reads. tests/unit/plugin/
test_man_pages.py fails when a committed page is stale, and renders each with groff and man.

    .venv/bin/python docs/gen_man.py            # rewrite docs/man/*.1
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("check_dnsbl", "check_relay_chain", "check_bounce_rate")
TARGET = ROOT / "docs" / "man"


def esc(text: str) -> str:
    """Text safe for a roff line: backslashes, minus signs (options stay copy-pasteable)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def line(text: str) -> str:
    """One roff text line; a leading dot or quote would read as a request."""
    out = esc(text)
    return "\\&" + out if out[:1] in (".", "'") else out


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    return parser._get_formatter()


def option_label(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """``\\fB\\-H\\fR, \\fB\\-\\-host\\fR \\fIADDRESS\\fR``: the option strings and metavar."""
    names = ", ".join(f"\\fB{esc(s)}\\fR" for s in action.option_strings)
    if action.nargs == 0:
        return names
    fmt = _formatter(parser)
    metavar = fmt._format_args(action, fmt._get_default_metavar_for_optional(action))
    return f"{names} \\fI{esc(metavar)}\\fR"


def help_text(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help string exactly as ``-h`` expands it."""
    return " ".join(_formatter(parser)._expand_help(action).split())


def paragraphs(text: str) -> list[str]:
    return [p for p in (text or "").split("\n\n") if p.strip()]


def epilog_parts(parser: argparse.ArgumentParser) -> tuple[list[str], list[str], list[str]]:
    """(example lines, "states:" text, other paragraphs) of the plugin's epilog."""
    examples: list[str] = []
    states: list[str] = []
    other: list[str] = []
    for para in paragraphs(parser.epilog or ""):
        head, _, rest = para.partition("\n")
        if head.strip() == "examples:":
            examples = [ln[2:] if ln.startswith("  ") else ln for ln in rest.splitlines()]
        elif para.startswith("states:"):
            states.append(" ".join(para.removeprefix("states:").split()))
        else:
            other.append(" ".join(para.split()))
    return examples, states, other


def synopsis(parser: argparse.ArgumentParser) -> Iterator[str]:
    yield f".B {esc(parser.prog)}"
    for action in parser._actions:
        if not action.option_strings:
            continue
        label = f"\\fB{esc(action.option_strings[0])}\\fR"
        if action.nargs != 0:
            fmt = _formatter(parser)
            metavar = fmt._format_args(action, fmt._get_default_metavar_for_optional(action))
            label += f"\\~\\fI{esc(metavar)}\\fR"
        yield f"[{label}]"


def options(parser: argparse.ArgumentParser) -> Iterator[str]:
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings]
        if not actions:
            continue
        yield f'.SS "{esc(group.title or "options")}"'
        for action in actions:
            yield ".TP"
            yield option_label(parser, action)
            yield line(help_text(parser, action))


def environment(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    from mailrep.plugin import extra_opts
    from mailrep.plugin.dnsbl_options import DQS_ENV
    from mailrep.plugin.mailbox_options import IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV

    has = {s for a in parser._actions for s in a.option_strings}
    yield (
        extra_opts.FILE_ENV,
        "the options file --extra-opts reads when it names none (that file and no other).",
    )
    yield (
        extra_opts.PATH_ENV,
        "colon-separated directories searched for plugins.ini, then nagios-plugins.ini, by "
        "--extra-opts when it names no file (after MP_CONFIG_FILE, before the default places).",
    )
    if "--state-dir" in has:
        yield (
            "XDG_STATE_HOME",
            "when set (an absolute path), the history lives in $XDG_STATE_HOME/mailrep unless "
            "--state-dir names a directory.",
        )
        yield (
            "HOME",
            "without XDG_STATE_HOME and a writable /var/lib/mailrep, the history lives in "
            "$HOME/.local/state/mailrep.",
        )
    if "--dqs-key" in has:
        yield DQS_ENV, "the Spamhaus DQS key when neither --dqs-key nor --dqs-key-file is given."
    if "--password-file" in has:
        yield IMAP_PASSWORD_ENV, "the IMAP password when --password-file is not given."
    if "--smtp-password-file" in has:
        yield (
            SMTP_PASSWORD_ENV,
            "the SMTP password when --smtp-password-file is not given (default: the IMAP one).",
        )


def files(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    from mailrep.plugin import extra_opts

    has = {s for a in parser._actions for s in a.option_strings}
    defaults = [*extra_opts.C_FILES, *extra_opts.PERL_FILES]
    for i, path in enumerate(defaults):
        origin = "C Monitoring Plugins" if path in extra_opts.C_FILES else "Monitoring::Plugin"
        yield path, f"--extra-opts default file {i + 1} of {len(defaults)} ({origin})."
    if "--zones-file" in has:
        yield (
            "/etc/nagios-plugins/check_rbl.ini",
            "Debian check_rbl's zone list, read unedited with --zones-file (its dead lists are "
            "skipped and named once).",
        )
    if "--nameserver" in has:
        yield "/etc/resolv.conf", "the nameservers asked when no -n is given."
    if "--state-dir" in has:
        yield (
            "/var/lib/mailrep",
            "the history (one small JSON file per check, and its lock file) when this user can "
            "write it and XDG_STATE_HOME is not set; make it the nagios user's for Nagios and "
            "Icinga.",
        )


def render(name: str) -> str:
    sys.path.insert(0, str(ROOT / "plugins"))
    from mailrep import __version__

    module = importlib.import_module(name)
    parser: argparse.ArgumentParser = module.build_parser()
    summary = (module.__doc__ or "").strip().splitlines()[0].partition(": ")[2]
    examples, states, other = epilog_parts(parser)
    out = [
        f".\\\" Generated by docs/gen_man.py from {name}'s option definitions; do not edit.",
        f'.TH {name.upper()} 1 "" "mailrep {__version__}" "mailrep"',
        '.\\" no hyphenation, ragged right: option names must not break',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{esc(name)} \\- {line(summary)}",
        ".SH SYNOPSIS",
        *synopsis(parser),
        ".SH DESCRIPTION",
        line(" ".join((parser.description or "").split())),
    ]
    for para in other:
        out += [".PP", line(para)]
    out += [".SH OPTIONS", *options(parser), ".SH EXIT STATUS"]
    out += [
        "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, as the Monitoring Plugins define them; "
        "\\fB\\-h\\fR, \\fB\\-V\\fR and usage errors exit 3.",
    ]
    out += [x for s in states for x in (".PP", line(s[:1].upper() + s[1:]))]
    out += [".SH EXAMPLES", ".nf", *(line(x) for x in examples), ".fi"]
    out.append(".SH ENVIRONMENT")
    for var, text in environment(parser):
        out += [".TP", f"\\fB{esc(var)}\\fR", line(text)]
    out.append(".SH FILES")
    for path, text in files(parser):
        out += [".TP", f"\\fI{esc(path)}\\fR", line(text)]
    others = [p for p in PLUGINS if p != name]
    out += [".SH SEE ALSO", ", ".join(f"\\fB{esc(p)}\\fR(1)" for p in others)]
    return "\n".join(out) + "\n"


def pages() -> dict[str, str]:
    return {f"{name}.1": render(name) for name in PLUGINS}


if __name__ == "__main__":
    TARGET.mkdir(exist_ok=True)
    for filename, text in pages().items():
        (TARGET / filename).write_text(text)
        print(f"wrote {TARGET / filename}")
