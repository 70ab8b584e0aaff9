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
from mailrep.plugin.delivery import FORMATS, emit
from mailrep.plugin.delivery import wanted_format as _wanted_format
from mailrep.plugin.values import MAX_TIMEOUT, timeout_seconds, unrecognized
from mailrep.plugin.values import nagios_range as nagios_range
from mailrep.plugin.values import positive_float as positive_float
from mailrep.plugin.values import positive_int as positive_int

EXIT_UNKNOWN = 3


class UsageError(Exception):
    """Bad command line: reported as UNKNOWN with the usage line."""


class PlainExit(Exception):
    """``-h``/``-V``: print the text and exit 3, as the guidelines say."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class RunTimeout(BaseException):
    """The alarm backstop fired: the whole run exceeded ``-t``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` can
    swallow it: per-message code catches broadly so one bad message cannot end a run, and
    an alarm it caught would let the run go on past ``-t`` (measured: ``-t 1`` over 8,000
    messages ran 4.9 s and lost the message the alarm hit).
    """


class PluginParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are UNKNOWN results, not exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs["add_help"] = False
        # No prefix matching: "--password x" must not become "--password-file x" (and read
        # a file named like the password), and a new option must not change what an
        # abbreviation in someone's configuration means.
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """As argparse's, but an unrecognised word is never echoed: it may be a secret
        given to an option that does not exist (``--password hunter2``)."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            raise UsageError(unrecognized(extra))
        return parsed

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise PlainExit(message or "")

    def print_help(self, file: Any = None) -> None:
        raise PlainExit(self.format_help())


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kw: Any) -> None:
        raise PlainExit(f"{parser.prog} {__version__} (mailrep)\n")


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
        type=timeout_seconds,
        default=default_timeout,
        metavar="SECONDS",
        help=f"bound for the whole run (default {default_timeout:g}, at most "
        f"{MAX_TIMEOUT:g}); network steps end a little before it, and when it is hit the "
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


def _alarm(_signum: int, _frame: Any) -> None:
    raise RunTimeout()


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


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
    if isinstance(exc, MemoryError):
        return "out of memory: the input is larger than this process may hold", []
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


class _Run:
    """What the handlers of a failed run need from the part that got this far."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt  # one of FORMATS
        self.timeout: float | None = None
        self.verbose = 0
        self.outcome: Outcome | None = None
        self.started = time.monotonic()
        self.args: argparse.Namespace | None = None  # once parsed; None again for usage errors


class _Report(NamedTuple):
    """What :func:`emit` prints at the end of a run."""

    state: int
    summary: str
    perfdata: Sequence[str] = ()
    details: Sequence[str] = ()
    extra: dict[str, Any] | None = None
    json_perfdata: list[dict[str, Any]] | None = None
    facts: Callable[[], Any] | None = None


def _evaluate(
    parser: PluginParser,
    build: Callable[[argparse.Namespace, RunContext], Outcome],
    argv: Sequence[str],
    json_defaults: Callable[[], dict[str, Any]],
    state: _Run,
) -> _Report:
    started = state.started
    argv = extra_opts.expand(parser, argv)
    state.fmt = _wanted_format(argv)  # "format = json" in an options file
    args = parser.parse_args(argv)
    state.fmt, state.args = args.format, args
    from mailrep.plugin.state_options import check_usage

    if problem := check_usage(args):
        raise UsageError(problem)
    state.timeout, state.verbose = float(args.timeout), int(args.verbose)
    margin = min(1.0, max(0.2, state.timeout * 0.1))
    ctx = RunContext(started, started + max(0.1, state.timeout - margin), state.verbose)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, state.timeout)
    state.outcome = build(args, ctx)
    check = state.outcome.check
    check()
    _disarm()
    return _Report(
        int(check.state.code),
        check.summary_str.strip(),
        check.perfdata,
        _long_output(check),
        _extra(state.outcome, json_defaults),
        _perfdata(check),
        state.outcome.facts,
    )


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

    The alarm is one-shot, so it can interrupt at most one thing: the run, or the handling
    of an exception that ended the run (a MemoryError whose unwinding took the last of
    ``-t``). The outer handler catches that second exception, and nothing is left to
    interrupt it: whatever happens, one status line and an exit code 0-3.
    """
    from mailrep.plugin.output import check_time

    argv = list(sys.argv[1:] if argv is None else argv)
    checked_at = check_time()
    state = _Run(_wanted_format(argv))
    previous = signal.getsignal(signal.SIGALRM)

    def failed(exc: BaseException) -> _Report:
        _disarm()
        text, lines = _failure(exc, parser, state.timeout, state.verbose)
        if isinstance(exc, UsageError):
            state.args = None  # a usage error is no run of the check: nothing to remember
        extra = _extra(state.outcome, json_defaults) if state.fmt == "json" else None
        return _Report(EXIT_UNKNOWN, text, details=lines, extra=extra)

    try:
        try:
            report = _evaluate(parser, build, argv, json_defaults, state)
        except (SystemExit, PlainExit):
            raise
        except BaseException as exc:  # the contract: never a traceback, always a status line
            report = failed(exc)
    except SystemExit:
        raise
    except PlainExit as done:
        sys.stdout.write(done.text)
        sys.stdout.flush()
        raise SystemExit(EXIT_UNKNOWN) from None
    except BaseException as late:  # the alarm (or another failure) while handling the first
        report = failed(late)
    finally:
        _disarm()
        signal.signal(signal.SIGALRM, previous)
    from mailrep.plugin.aftercheck import after_run  # not for -h and -V: they never get here

    after = after_run(
        parser.prog,
        state.args,
        report.state,
        report.facts,
        report.extra or {},
        state.fmt,
        state.started,
        state.timeout,
    )
    emit(
        label,
        report.state,
        report.summary,
        perfdata=report.perfdata,
        details=[*report.details, *after.lines],
        fmt=state.fmt,
        json_perfdata=report.json_perfdata,
        verbose=state.verbose,
        checked_at=checked_at,
        **after.kw,
    )
