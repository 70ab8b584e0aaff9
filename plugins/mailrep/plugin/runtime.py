"""What every plugin shares on the command line and in its output.

The plugin contract (Monitoring Plugins guidelines, Icinga plugin API) is easy to break in
small ways: argparse exits 2 on a typo (CRITICAL to Nagios), a stray exception prints a
traceback, a hung server outlives the monitoring system's own timeout. :func:`run` owns that
contract for all three plugins: usage errors, ``-h`` and ``-V`` exit 3; every failure
becomes one UNKNOWN line; ``-t`` bounds the whole run (an internal deadline leaves time to
report what was learnt, and an alarm is the backstop); output is nagios text, one JSON
document or an OpenMetrics exposition with the same exit code. Between judging and printing,
:func:`mailrep.plugin.aftercheck.finish` remembers the run (since when a listing lasts).

nagiosplugin's own Runtime is not used for printing because it cannot emit JSON and prints
long output only with ``-v``; the Resource/Context/Summary model is used as intended.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

from mailrep import __version__
from mailrep.errors import CannotJudge
from mailrep.plugin import extra_opts
from mailrep.plugin.delivery import bare_exposition, deliver

FORMATS = ("nagios", "json", "openmetrics")
EXIT_UNKNOWN = 3


class UsageError(Exception):
    """Bad command line: reported as UNKNOWN with the usage line."""


class PlainExit(Exception):
    """``-h``/``-V``: print the text and exit 3, as the guidelines say."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class RunTimeout(Exception):
    """The alarm backstop fired: the whole run exceeded ``-t``."""


class PluginParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are UNKNOWN results, not exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise PlainExit(message or "")

    def print_help(self, file: Any = None) -> None:
        raise PlainExit(self.format_help())


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kw: Any) -> None:
        raise PlainExit(f"{parser.prog} {__version__} (mailrep)\n")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


#: What a Nagios range looks like, for the message that refuses one.
RANGE_FORMS = (
    "a range looks like 10 (alert above 10), 10: (below 10), ~:10 (above 10), "
    "10:20 (outside 10-20) or @10:20 (inside 10-20)"
)


def nagios_range(text: str) -> str:
    """Validate a Nagios range with nagiosplugin's own parser (never by hand).

    The parser's own message ("invalid literal for int() with base 10") means nothing to
    the admin who typed ``-c x``: the refusal shows what a range looks like instead.
    """
    from nagiosplugin import Range

    try:
        Range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a Nagios range: {text!r} ({RANGE_FORMS})") from None
    return text


def add_common_options(parser: argparse.ArgumentParser, default_timeout: float) -> None:
    """``-h -V -v -t --format --extra-opts``: the options every plugin has."""
    group = parser.add_argument_group("general options")
    group.add_argument("-h", "--help", action="help", help="show this help and exit (code 3)")
    group.add_argument("-V", "--version", action=_VersionAction, help="print the version and exit")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more detail: -v adds context to the first line and lists clean results, -vv adds "
        "configuration and per-query detail, -vvv everything (up to 3)",
    )
    group.add_argument(
        "-t",
        "--timeout",
        type=positive_float,
        default=default_timeout,
        metavar="SECONDS",
        help=f"bound for the whole run (default {default_timeout:g}); when it is hit the "
        "plugin reports UNKNOWN, or what it learnt so far with unanswered queries as errors",
    )
    group.add_argument(
        "--format",
        choices=FORMATS,
        default="nagios",
        help="output: the Nagios plugin format (default), one JSON document, or the "
        "OpenMetrics text exposition for Prometheus; the exit code is the same in all. json "
        "and openmetrics are for scripts, cron and Prometheus: Nagios and Icinga parse only "
        "the plugin format",
    )
    extra_opts.add_option(group)
    from mailrep.plugin.state_options import add_state_options

    add_state_options(parser)


class RunContext(NamedTuple):
    """What a plugin's builder needs besides its options."""

    started: float
    deadline: float  # time.monotonic() value: finish the real work before this
    verbose: int


class Outcome(NamedTuple):
    """A plugin's evaluated check plus what its JSON document adds."""

    check: Any  # nagiosplugin.Check, already called
    extra: Callable[[], dict[str, Any]] = dict
    facts: Callable[[], Any] | None = None  # mailrep.plugin.facts.Facts: history, exposition


def _perfdata(check: Any) -> list[dict[str, Any]]:
    out = []
    for result in check.results:
        metric = result.metric
        if metric is None:
            continue
        perf = metric.performance()
        if perf is None:
            continue

        def blank(value: Any) -> Any:
            return None if value in (None, "") else value

        out.append(
            {
                "label": perf.label,
                "value": perf.value,
                "uom": perf.uom or "",
                "warn": blank(str(perf.warn) if perf.warn is not None else None),
                "crit": blank(str(perf.crit) if perf.crit is not None else None),
                "min": blank(perf.min),
                "max": blank(perf.max),
            }
        )
    return sorted(out, key=lambda p: p["label"])


def _long_output(check: Any) -> list[str]:
    text = check.verbose_str
    if isinstance(text, list | tuple):
        return [str(t) for t in text]
    return [line for line in str(text).splitlines() if line]


def emit(
    label: str,
    state: int,
    summary: str,
    *,
    perfdata: Sequence[str] = (),
    details: Sequence[str] = (),
    fmt: str = "nagios",
    extra: dict[str, Any] | None = None,
    json_perfdata: list[dict[str, Any]] | None = None,
    verbose: int = 0,
    checked_at: str | None = None,
    exposition: str = "",
    output: str | None = None,
) -> NoReturn:
    """Print one result in the chosen format (to ``output``, the ``--output`` file, if given)
    and exit with its code.

    All text passes :mod:`mailrep.plugin.output`, which enforces what consumers rely on
    (no control characters, no ``;`` before the ``|``, bounded long output, the JSON
    envelope with version and time); an exposition is :mod:`mailrep.plugin.openmetrics`'s.
    """
    from mailrep.plugin.output import check_time, json_text, nagios_text, status_line

    if fmt == "openmetrics":
        if state == EXIT_UNKNOWN:  # an exposition has no words: say why where logs look
            sys.stderr.write(status_line(label, state, summary) + "\n")
        text = exposition or bare_exposition(label, state)
    elif fmt == "json":
        text = json_text(
            label,
            state,
            summary,
            checked_at=checked_at or check_time(),
            perfdata=json_perfdata,
            details=details,
            extra=extra,
        )
    else:
        text = nagios_text(label, state, summary, perfdata, details, verbose)
    deliver(text, output)
    raise SystemExit(state)


def _wanted_format(argv: Sequence[str]) -> str:
    """The --format of a command line that may not parse (for its usage error)."""
    for i, arg in enumerate(argv):
        value = arg[len("--format=") :] if arg.startswith("--format=") else None
        if arg == "--format":
            value = argv[i + 1] if i + 1 < len(argv) else None
        if value in FORMATS:
            return value
    return "nagios"


def _alarm(_signum: int, _frame: Any) -> None:
    raise RunTimeout()


def _failure(
    exc: BaseException,
    parser: PluginParser,
    timeout: float | None,
    verbose: int,
) -> tuple[str, list[str]]:
    """The UNKNOWN status text (and detail lines) for an exception that ended the run."""
    if isinstance(exc, UsageError):
        return f"usage error: {exc}", [parser.format_usage().strip()]
    if isinstance(exc, RunTimeout):
        return f"timeout: the run did not finish within -t {timeout:g}s", []
    if isinstance(exc, ImportError):
        return f"missing dependency: {exc.name} (reinstall mailrep)", []
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", []
    if isinstance(exc, CannotJudge):
        return str(exc), []
    import traceback

    details = traceback.format_exc().splitlines() if verbose >= 3 else []
    return f"internal error: {type(exc).__name__}: {exc}", details


def _extra(outcome: Outcome | None, defaults: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The plugin's JSON keys: its defaults (every key, empty) under what the run learnt.

    A run that failed part-way still shows what its outcome knows (a relay chain that was
    read before the run ended); an outcome whose own ``extra`` fails adds nothing.
    """
    keys = dict(defaults())
    if outcome is not None:
        # The failure being reported matters more than this detail.
        with contextlib.suppress(Exception):
            keys.update(outcome.extra())
    return keys


def run(
    label: str,
    parser: PluginParser,
    build: Callable[[argparse.Namespace, RunContext], Outcome],
    argv: Sequence[str] | None = None,
    json_defaults: Callable[[], dict[str, Any]] = dict,
) -> NoReturn:
    """Parse, build and evaluate a check, print it, exit; UNKNOWN on anything unexpected.

    ``json_defaults`` gives the plugin's own JSON keys with empty values, so a document has
    the same keys in every state (a usage error too).
    """
    from mailrep.plugin.output import check_time

    argv = list(sys.argv[1:] if argv is None else argv)
    fmt = _wanted_format(argv)
    started = time.monotonic()
    checked_at = check_time()
    timeout: float | None = None
    verbose = 0
    args: argparse.Namespace | None = None
    outcome: Outcome | None = None
    previous = signal.getsignal(signal.SIGALRM)
    try:
        argv = extra_opts.expand(parser, argv)
        fmt = _wanted_format(argv)  # "format = json" in an options file
        args = parser.parse_args(argv)
        fmt = args.format
        from mailrep.plugin.state_options import check_usage

        if problem := check_usage(args):
            raise UsageError(problem)
        timeout, verbose = float(args.timeout), int(args.verbose)
        margin = min(1.0, max(0.2, timeout * 0.1))
        ctx = RunContext(started, started + max(0.1, timeout - margin), verbose)
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        outcome = build(args, ctx)
        check = outcome.check
        check()
        signal.setitimer(signal.ITIMER_REAL, 0)
        summary = check.summary_str.strip()
        details = _long_output(check)
        state = int(check.state.code)
        extra = _extra(outcome, json_defaults)
    except SystemExit:
        raise
    except PlainExit as done:
        sys.stdout.write(done.text)
        sys.stdout.flush()
        raise SystemExit(EXIT_UNKNOWN) from None
    except BaseException as exc:  # the contract: never a traceback, always a status line
        signal.setitimer(signal.ITIMER_REAL, 0)
        text, lines = _failure(exc, parser, timeout, verbose)
        from mailrep.plugin.aftercheck import after_run

        ran = None if isinstance(exc, UsageError) else args  # a usage error is no run
        partial = _extra(outcome, json_defaults) if fmt == "json" else {}
        after = after_run(parser.prog, ran, EXIT_UNKNOWN, None, partial, fmt, started, timeout)
        emit(
            label,
            EXIT_UNKNOWN,
            text,
            details=lines + after.lines,
            fmt=fmt,
            verbose=verbose,
            checked_at=checked_at,
            **after.kw,
        )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    from mailrep.plugin.aftercheck import after_run  # not for -h and -V: they never get here

    after = after_run(parser.prog, args, state, outcome.facts, extra, fmt, started, timeout)
    emit(
        label,
        state,
        summary,
        perfdata=check.perfdata,
        details=details + after.lines,
        fmt=fmt,
        json_perfdata=_perfdata(check),
        verbose=verbose,
        checked_at=checked_at,
        **after.kw,
    )
