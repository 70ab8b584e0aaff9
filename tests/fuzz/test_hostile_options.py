"""Hostile option values never break the plugin contract: whatever the numbers (huge, inf,
nan, negative), the zone names, the targets, and the bytes of the files the options name
(zones file, password file, Postfix log, messages: not UTF-8, NUL, nothing), each plugin
prints one status line ``LABEL STATE - text``, exits 0-3, and never says "internal error"
or shows a traceback. Nothing here reaches the network: the nameserver is a closed port on
loopback, and so is the IMAP server.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.in_process import run_main

STATUS = re.compile(r"^(DNSBL|RELAY CHAIN|BOUNCES) (OK|WARNING|CRITICAL|UNKNOWN) - \S")

NUMBERS = st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "NaN", "1e309", "1e308", "-0", "0", "0.0001"]),
    st.sampled_from(["99999999999", "9" * 30, "1e-320", "0x10", "1_000", " 5 ", "", "٣"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
DURATIONS = st.one_of(
    st.sampled_from(["99999999999d", "9" * 40 + "w", "1e5d", "0h", "-1h", "all", "24h", ""]),
    st.tuples(st.integers(min_value=0, max_value=10**15), st.sampled_from("smhdwx")).map(
        lambda t: f"{t[0]}{t[1]}"
    ),
)
NAMES = st.one_of(
    st.sampled_from(["", ".", "..", "a b", "a..b", "-x", "x" * 64 + ".org", "zen.spamhaus.org."]),
    st.sampled_from(["\udcff", "é.example", "a\x00b", "*.example", "_x.example", "1.2.3.4"]),
    st.text(max_size=30),
)
TARGETS = st.one_of(
    st.sampled_from(["192.0.2.1", "2001:db8::1", "198.51.100.0/30", "mail.example.com"]),
    NAMES,
)
RANGES = st.one_of(
    st.sampled_from(["@", "~", ":", "10:5", "1e400", "inf", "@inf:", "~:-inf", "-1", "nan"]),
    st.text(alphabet="0123456789:~@-.e", max_size=12),
)
FILE_BYTES = st.one_of(
    st.sampled_from([b"", b"\xff\xfe\x00", b'[[zone]]\nname = "\xff"\n', b"server=\xff\n"]),
    st.sampled_from([b"From x\n\xff\n", b"Received: from \xff\n\n", b"\x00" * 100]),
    st.binary(max_size=300),
)


def assert_contract(code: int, out: str) -> None:
    first = out.splitlines()[0] if out else ""
    assert code in (0, 1, 2, 3), (code, out)
    assert STATUS.match(first), out
    assert "internal error" not in out and "Traceback" not in out, out


def a_file(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hostile(data, options: dict[str, st.SearchStrategy]) -> list[str]:
    """At most two of ``options``, each with a hostile value; the rest keep their defaults,
    so most runs get past the parser and into the code that uses the values."""
    chosen = data.draw(st.lists(st.sampled_from(sorted(options)), max_size=2, unique=True))
    return [f"{name}={data.draw(options[name], label=name)}" for name in chosen]


COMMON = {"-t": NUMBERS}


@FAST
@given(data=st.data(), target=TARGETS, zones_file=st.none() | FILE_BYTES)
def test_check_dnsbl_keeps_the_contract(data, target, zones_file):
    options = {
        **COMMON,
        "--query-timeout": NUMBERS,
        "--concurrency": NUMBERS,
        "--max-addresses": NUMBERS,
        "-z": NAMES,
        "--exclude-zone": NAMES,
        "--critical": RANGES,
        "--errors-warning": RANGES,
        "--dqs-key": NAMES,
        "-n": NAMES,
    }
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["-n", "127.0.0.1:9", f"-H={target}", "--allow-nonglobal", "-t", "5"]
        argv += hostile(data, options)
        if zones_file is not None:
            argv += ["--zones-file", a_file(Path(tmp), "zones.toml", zones_file)]
        assert_contract(*run_main("check_dnsbl", argv))


@FAST
@given(data=st.data(), messages=st.lists(FILE_BYTES, max_size=3), log=st.none() | FILE_BYTES)
def test_check_bounce_rate_keeps_the_contract(data, messages, log):
    options = {
        **COMMON,
        "--since": DURATIONS,
        "--max-messages": NUMBERS,
        "-w": RANGES,
        "--hard-critical": RANGES,
        "--blocked-warning": RANGES,
        "--verify-zone": NAMES,
    }
    if log is None:
        options["--sent"] = NUMBERS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dir"
        folder.mkdir()
        for i, raw in enumerate(messages):
            a_file(folder, f"{i}.eml", raw)
        argv = ["--dir", str(folder), "-t", "5", *hostile(data, options)]
        if log is not None:
            argv += ["--postfix-log", a_file(Path(tmp), "mail.log", log)]
        assert_contract(*run_main("check_bounce_rate", argv))


@FAST
@given(data=st.data(), password=FILE_BYTES, user=NAMES)
def test_check_bounce_rate_over_imap_keeps_the_contract(data, password, user):
    options = {**COMMON, "--imap-port": NUMBERS, "--folder": NAMES, "--since": DURATIONS}
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--imap-host", "127.0.0.1", "--imap-port", "9", f"--imap-user={user}"]
        argv += ["--imap-plain", "-t", "5", *hostile(data, options)]
        argv += ["--password-file", a_file(Path(tmp), "pw", password)]
        assert_contract(*run_main("check_bounce_rate", argv))


@FAST
@given(data=st.data(), message=FILE_BYTES)
def test_check_relay_chain_keeps_the_contract(data, message):
    options = {
        **COMMON,
        "--receiver": NAMES,
        "--wait": NUMBERS,
        "--listed-critical": RANGES,
        "--query-timeout": NUMBERS,
        "-z": NAMES,
        "--since": DURATIONS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--file", a_file(Path(tmp), "m.eml", message), "-n", "127.0.0.1:9", "-t", "5"]
        argv += ["--allow-nonglobal", *hostile(data, options)]
        assert_contract(*run_main("check_relay_chain", argv))
