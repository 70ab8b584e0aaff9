"""Option values are checked before any query is sent, and a refusal never echoes a secret.

A zone name that no server can hold (``-z ""``, ``-z .``, ``-z "a b"``) is a usage error; a
malformed Spamhaus DQS key (a trailing dot, ``..``, an over-long label) is refused without
being shown, on the command line and in the environment; and a secret given to an option
that does not exist (``--password x``) is never quoted back.
"""

from __future__ import annotations

import argparse
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailrep.plugin.dnsbl_options import dqs_key_arg, zone_arg

from tests.support.in_process import run_main


@pytest.mark.parametrize(
    "text", ["", " ", ".", "..", "a b", "a..b", "zen.spamhaus.org..", "-x.org"]
)
def test_a_name_no_dns_server_can_hold_is_not_a_zone(text):
    with pytest.raises(argparse.ArgumentTypeError, match="not a zone name"):
        zone_arg(text)


def test_a_label_longer_than_63_characters_is_not_a_zone():
    with pytest.raises(argparse.ArgumentTypeError):
        zone_arg("x" * 64 + ".example.test")


@pytest.mark.parametrize(
    ("text", "name"),
    [("zen.spamhaus.org", "zen.spamhaus.org"), ("PSBL.Surriel.COM.", "psbl.surriel.com")],
)
def test_a_zone_is_kept_in_lower_case_without_its_final_dot(text, name):
    assert zone_arg(text) == name


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_check_dnsbl_refuses_a_zone_that_is_empty_or_only_dots(value):
    code, out = run_main("check_dnsbl", ["-H", "192.0.2.1", "-z", value, "-n", "127.0.0.1:9"])
    assert code == 3 and out.startswith("DNSBL UNKNOWN - usage error: argument -z/--zone")


MALFORMED_KEYS = [
    "s3cr3tkey.",
    "s3cr3t..key",
    "s3cr3t.key",
    "s3cr3t key",
    "s3cr3tkey-",
    "x" * 64 + "s3cr3t",
]


@pytest.mark.parametrize("key", MALFORMED_KEYS)
def test_a_malformed_dqs_key_is_refused_without_being_shown(key):
    code, out = run_main("check_dnsbl", ["-H", "192.0.2.1", "--dqs-key", key, "-n", "127.0.0.1:9"])
    assert code == 3 and "not a DQS key" in out
    assert "s3cr3t" not in out and "x" * 20 not in out


@pytest.mark.parametrize("key", MALFORMED_KEYS)
def test_a_malformed_dqs_key_in_the_environment_is_refused_without_being_shown(key):
    code, out = run_main(
        "check_dnsbl",
        ["-H", "192.0.2.1", "--allow-nonglobal", "-n", "127.0.0.1:9", "-t", "2"],
        env={"MAILREP_DQS_KEY": key},
    )
    assert code == 3 and "MAILREP_DQS_KEY holds no DQS key" in out
    assert "s3cr3t" not in out and "x" * 20 not in out


@pytest.mark.parametrize("key", MALFORMED_KEYS)
def test_a_malformed_dqs_key_in_its_file_is_refused_without_being_shown(key, tmp_path):
    path = tmp_path / "dqs.key"
    path.write_text(key + "\n")
    path.chmod(0o600)
    code, out = run_main(
        "check_dnsbl",
        ["-H", "192.0.2.1", "--allow-nonglobal", "-n", "127.0.0.1:9", "--dqs-key-file", str(path)],
    )
    assert code == 3 and "--dqs-key-file holds no DQS key" in out
    assert "s3cr3t" not in out and "x" * 20 not in out


def test_a_good_dqs_key_is_accepted():
    assert dqs_key_arg("abcdefghijklmnopqrstuvwxyz") == "abcdefghijklmnopqrstuvwxyz"


SECRET = st.text(string.ascii_letters + string.digits + ".-_ /", min_size=1, max_size=80)
PLUGINS = [
    ("check_dnsbl", ["-H", "192.0.2.1", "-n", "127.0.0.1:9"]),
    ("check_relay_chain", ["--file", "/dev/null"]),
    ("check_bounce_rate", ["--dir", "/nonexistent"]),
]
PASSWORDISH = ["--password", "--imap-password", "--smtp-password", "--pass", "--dqs", "--key"]


@settings(max_examples=60, deadline=None)
@given(
    secret=SECRET,
    plugin=st.sampled_from(PLUGINS),
    option=st.sampled_from(PASSWORDISH),
    joined=st.booleans(),
)
def test_a_usage_error_never_echoes_a_secret_given_to_a_password_option(
    secret, plugin, option, joined
):
    marked = f"SECRET{secret}"
    module, base = plugin
    words = [f"{option}={marked}"] if joined else [option, marked]
    code, out = run_main(module, [*base, *words])
    assert code == 3 and "usage error" in out.splitlines()[0]
    assert "SECRET" not in out


@settings(max_examples=60, deadline=None)
@given(key=st.text(min_size=1, max_size=90).filter(lambda k: not k.startswith("-")))
def test_a_dqs_key_is_either_one_dns_label_or_refused_unseen(key):
    code, out = run_main("check_dnsbl", ["-H", "192.0.2.1", "--dqs-key", key, "-n", "127.0.0.1:9"])
    label = all(c in string.ascii_letters + string.digits + "-" for c in key) and len(key) <= 63
    if not (label and key[0] != "-" and key[-1] != "-"):
        assert code == 3 and "not a DQS key" in out
        if len(key) >= 4:
            assert key not in out
