"""The plugin contract that :func:`mailrep.plugin.runtime.run` owns: -t ends the run whatever
the run is doing, one status line always, exit code 3 for what cannot be judged, and a
command line that means exactly what it says (no abbreviated options)."""

from __future__ import annotations

import time

import nagiosplugin
import pytest
from mailrep.plugin.runtime import PluginParser, RunTimeout, add_common_options, run


class Looping(nagiosplugin.Resource):
    """Does ``n`` small steps, each behind the kind of broad ``except Exception`` that
    per-message code uses so one bad message cannot stop the run."""

    def __init__(self, n: int, step: float) -> None:
        self.n, self.step, self.done = n, step, 0

    def probe(self):
        for _ in range(self.n):
            try:
                time.sleep(self.step)
                self.done += 1
            except Exception:  # the point of the test
                continue
        yield nagiosplugin.Metric("done", self.done, context="done")


def parser() -> PluginParser:
    p = PluginParser(prog="check_test")
    p.add_argument("--password-file")
    add_common_options(p, default_timeout=10)
    return p


def outcome(capsys, build, *argv: str) -> tuple[int, list[str], float]:
    started = time.monotonic()
    with pytest.raises(SystemExit) as ended:
        run("TEST", parser(), build, list(argv))
    elapsed = time.monotonic() - started
    return int(ended.value.code), capsys.readouterr().out.splitlines(), elapsed


def looping_build(resource: Looping):
    from mailrep.plugin.runtime import Outcome

    def build(_args, _ctx):
        return Outcome(nagiosplugin.Check(resource, nagiosplugin.ScalarContext("done")))

    return build


def test_the_timeout_is_not_swallowed_by_a_broad_except_in_the_run(capsys):
    resource = Looping(200, 0.01)
    code, lines, elapsed = outcome(capsys, looping_build(resource), "-t", "0.3")
    assert code == 3
    assert lines[0].startswith("TEST UNKNOWN - timeout")
    assert elapsed < 1.0 and resource.done < 100


def test_the_timeout_cannot_be_caught_as_an_exception():
    assert not issubclass(RunTimeout, Exception)


def test_an_alarm_while_another_failure_is_handled_still_gives_one_status_line(capsys, monkeypatch):
    """The alarm lands after a failure ended the run but before the timer is disarmed (a
    MemoryError from reading /dev/zero, whose unwinding took the last of -t): the second
    exception is reported, never a traceback."""
    from mailrep.plugin import runtime

    disarm, calls = runtime._disarm, []

    def late_disarm() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(0.6)  # the alarm (-t 0.3) fires in here
        disarm()

    monkeypatch.setattr(runtime, "_disarm", late_disarm)

    def build(_args, _ctx):
        raise ValueError("first failure")

    code, lines, elapsed = outcome(capsys, build, "-t", "0.3")
    assert code == 3
    assert len(lines) == 1 and lines[0].startswith("TEST UNKNOWN - timeout")
    assert elapsed < 1.5


def test_out_of_memory_is_named(capsys):
    def build(_args, _ctx):
        raise MemoryError()

    code, lines, _ = outcome(capsys, build)
    assert code == 3
    assert lines[0].startswith("TEST UNKNOWN - out of memory")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e309", "0", "-1", "1e12", "x"])
def test_an_unusable_timeout_is_a_usage_error(capsys, value):
    code, lines, _ = outcome(capsys, looping_build(Looping(0, 0)), "-t", value)
    assert code == 3
    assert lines[0].startswith("TEST UNKNOWN - usage error: argument -t/--timeout")


def test_an_abbreviated_option_is_not_taken_for_a_longer_one(capsys):
    code, lines, _ = outcome(capsys, looping_build(Looping(0, 0)), "--password", "secret")
    assert code == 3
    assert lines[0].startswith("TEST UNKNOWN - usage error: unrecognized arguments")
    assert "secret" not in "\n".join(lines)


def test_an_abbreviated_option_with_equals_is_not_echoed_either(capsys):
    code, lines, _ = outcome(capsys, looping_build(Looping(0, 0)), "--password=secret")
    assert code == 3
    assert "secret" not in "\n".join(lines)
