"""--extra-opts: an ini section stands for options placed before the command line's.

The plugins' own parsers are used throughout, so every key a test writes is an option the
plugin really has.
"""

from __future__ import annotations

import os
from pathlib import Path

import check_bounce_rate
import check_dnsbl
import check_relay_chain
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailrep.plugin import extra_opts
from mailrep.plugin.extra_opts import C_FILES, PERL_FILES, ExtraOptsError, expand, find_default
from mailrep.plugin.runtime import UsageError

NO_ENV: dict[str, str] = {}


@pytest.fixture
def dnsbl():
    return check_dnsbl.build_parser()


def ini(tmp_path: Path, text: str, name: str = "plugins.ini") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def parsed(parser, argv, environ=NO_ENV, root=""):
    return parser.parse_args(expand(parser, argv, environ, root))


# --- the spec and the section ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("", ("check_dnsbl", None)),
        ("site", ("site", None)),
        ("@/etc/x.ini", ("check_dnsbl", "/etc/x.ini")),
        ("site@/etc/x.ini", ("site", "/etc/x.ini")),
    ],
)
def test_spec_is_section_then_at_file_with_the_plugin_name_as_default_section(text, spec):
    assert extra_opts.parse_spec(text, "check_dnsbl") == spec


def test_a_spec_with_nothing_after_the_at_sign_is_refused():
    with pytest.raises(ExtraOptsError, match="no file after"):
        extra_opts.parse_spec("site@", "check_dnsbl")


def test_the_section_defaults_to_the_plugins_name(dnsbl, tmp_path):
    path = ini(tmp_path, "[other]\nmax-addresses = 1\n[check_dnsbl]\nmax-addresses = 7\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).max_addresses == 7
    assert parsed(dnsbl, [f"--extra-opts=other@{path}"]).max_addresses == 1


def test_the_value_may_follow_as_the_next_word_as_argparse_reads_it(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nmax-addresses = 7\n")
    assert parsed(dnsbl, ["--extra-opts", f"@{path}", "-H", "192.0.2.1"]).max_addresses == 7


def test_without_a_value_the_default_section_of_the_default_file_is_read(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nmax-addresses = 9\n")
    args = parsed(dnsbl, ["--extra-opts", "-H", "192.0.2.1"], {"MP_CONFIG_FILE": path})
    assert (args.max_addresses, args.host) == (9, ["192.0.2.1"])


def test_several_extra_opts_are_read_in_order(dnsbl, tmp_path):
    path = ini(tmp_path, "[a]\nzone = a.test\n[b]\nzone = b.test\n")
    assert parsed(dnsbl, [f"--extra-opts=a@{path}", f"--extra-opts=b@{path}"]).zones == [
        "a.test",
        "b.test",
    ]


def test_argv_without_extra_opts_comes_back_unchanged(dnsbl):
    argv = ["-H", "192.0.2.1", "-z", "x.test", "-vv"]
    assert expand(dnsbl, argv, NO_ENV) == argv


# --- keys -----------------------------------------------------------------------------------


def test_a_repeated_key_is_a_repeated_option_and_aliases_work(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nzone = a.test\nserver = b.test\nzone=c.test\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).zones == ["a.test", "b.test", "c.test"]


@pytest.mark.parametrize("line", ["allow-nonglobal", "allow-nonglobal =", "allow-nonglobal = yes"])
def test_a_flag_is_a_key_without_value_or_with_an_empty_or_true_one(dnsbl, tmp_path, line):
    path = ini(tmp_path, f"[check_dnsbl]\n{line}\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).allow_nonglobal is True


def test_a_flag_said_no_stays_unset(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nallow-nonglobal = no\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).allow_nonglobal is False


def test_verbose_takes_a_count(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nverbose = 2\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).verbose == 2


def test_a_flag_with_another_value_is_refused_naming_file_line_and_key(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\n\nallow-nonglobal = maybe\n")
    with pytest.raises(ExtraOptsError, match=rf"{path}:3 \[check_dnsbl\].*allow-nonglobal"):
        expand(dnsbl, [f"--extra-opts=@{path}"], NO_ENV)


def test_values_are_kept_whole_even_when_they_start_with_a_dash_or_hold_equals(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nwarning = ~:10\ncritical = @1:2\nzones-file = a=b\n")
    args = parsed(dnsbl, [f"--extra-opts=@{path}"])
    assert (args.warning, args.critical, args.zones_file) == ("~:10", "@1:2", "a=b")


def test_comments_and_keys_before_any_section_are_ignored(dnsbl, tmp_path):
    path = ini(tmp_path, "zone = no.test\n; a comment\n# another\n[check_dnsbl]\nzone = x.test\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}"]).zones == ["x.test"]


def test_an_unknown_key_is_refused_naming_it(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nzones = x.test\n")
    with pytest.raises(ExtraOptsError, match="unknown option 'zones'"):
        expand(dnsbl, [f"--extra-opts=@{path}"], NO_ENV)


def test_a_valued_option_without_a_value_is_refused(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nzone\n")
    with pytest.raises(ExtraOptsError, match="'zone' needs a value"):
        expand(dnsbl, [f"--extra-opts=@{path}"], NO_ENV)


@pytest.mark.parametrize("key", ["password", "imap-password", "smtp-password"])
def test_a_password_key_is_refused_and_the_message_names_the_file_option(tmp_path, key):
    parser = check_relay_chain.build_parser()
    path = ini(tmp_path, f"[check_relay_chain]\n{key} = s3cret\n")
    with pytest.raises(ExtraOptsError, match="password-file = FILE") as caught:
        expand(parser, [f"--extra-opts=@{path}"], NO_ENV)
    assert "s3cret" not in str(caught.value)


def test_password_file_and_dqs_key_file_are_the_keys_for_secrets(tmp_path):
    parser = check_relay_chain.build_parser()
    path = ini(tmp_path, "[check_relay_chain]\npassword-file = /p\ndqs-key-file = /k\n")
    args = parsed(parser, [f"--extra-opts=@{path}"])
    assert (args.password_file, args.dqs_key_file) == ("/p", "/k")


def test_extra_opts_inside_an_options_file_is_refused(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nextra-opts = other\n")
    with pytest.raises(ExtraOptsError, match="cannot be used inside"):
        expand(dnsbl, [f"--extra-opts=@{path}"], NO_ENV)


def test_an_abbreviated_extra_opts_is_a_usage_error(dnsbl):
    """No option is matched by a prefix (allow_abbrev=False): --extra is not --extra-opts."""
    with pytest.raises(UsageError, match="unrecognized arguments: --extra "):
        dnsbl.parse_args(expand(dnsbl, ["--extra=@/x"], NO_ENV))


# --- the command line overrides the file ----------------------------------------------------


def test_a_single_valued_option_on_the_command_line_wins(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\ntimeout = 5\nmax-addresses = 3\n")
    args = parsed(dnsbl, ["-t", "8", f"--extra-opts=@{path}"])
    assert (args.timeout, args.max_addresses) == (8.0, 3)


def test_a_repeatable_option_on_the_command_line_replaces_the_files_list(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nzone = a.test\nzone = b.test\nnameserver = 127.0.0.1\n")
    args = parsed(dnsbl, [f"--extra-opts=@{path}", "-s", "c.test"])
    assert args.zones == ["c.test"] and len(args.nameserver) == 1


def test_a_choice_of_a_mutually_exclusive_group_on_the_command_line_wins(tmp_path):
    parser = check_bounce_rate.build_parser()
    path = ini(tmp_path, "[check_bounce_rate]\nimap-plain\npostfix-log = /var/log/mail.log\n")
    args = parsed(parser, [f"--extra-opts=@{path}", "--imap-starttls", "--sent", "10"])
    assert (args.imap_security, args.sent, args.postfix_log) == ("starttls", 10, None)


def test_the_file_may_give_what_the_command_line_lacks_without_a_usage_error(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_dnsbl]\nhost = 192.0.2.1\n")
    assert parsed(dnsbl, [f"--extra-opts=@{path}", "-t", "3"]).host == ["192.0.2.1"]


# --- files that are not there -----------------------------------------------------------


def test_a_missing_file_is_refused_naming_it(dnsbl, tmp_path):
    with pytest.raises(ExtraOptsError, match=f"cannot read {tmp_path}/nope.ini"):
        expand(dnsbl, [f"--extra-opts=@{tmp_path}/nope.ini"], NO_ENV)


def test_a_missing_section_is_refused_naming_section_and_file(dnsbl, tmp_path):
    path = ini(tmp_path, "[check_relay_chain]\nverbose\n")
    with pytest.raises(ExtraOptsError, match=rf"no section \[check_dnsbl\] in {path}"):
        expand(dnsbl, [f"--extra-opts=@{path}"], NO_ENV)


def test_a_missing_mp_config_file_is_refused_naming_it_without_searching_on(dnsbl, tmp_path):
    (tmp_path / "etc").mkdir()
    ini(tmp_path / "etc", "[check_dnsbl]\n", "monitoring-plugins.ini")
    with pytest.raises(ExtraOptsError, match=r"/nowhere\.ini"):
        expand(dnsbl, ["--extra-opts"], {"MP_CONFIG_FILE": "/nowhere.ini"}, str(tmp_path))


def test_no_default_file_at_all_is_refused_saying_how_to_name_one(dnsbl, tmp_path):
    with pytest.raises(ExtraOptsError, match="--extra-opts=@FILE"):
        expand(dnsbl, ["--extra-opts"], NO_ENV, str(tmp_path))


# --- the default files, in the documented order ---------------------------------------------

DEFAULTS = [*C_FILES, *PERL_FILES]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(present=st.sets(st.sampled_from(DEFAULTS), min_size=1))
def test_the_first_existing_default_file_in_the_documented_order_is_read(tmp_path_factory, present):
    root = tmp_path_factory.mktemp("root")
    for path in present:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"[check_dnsbl]\nzones-file = {path}\n")
    expected = next(p for p in DEFAULTS if p in present)
    assert find_default(NO_ENV, str(root)) == expected
    args = parsed(check_dnsbl.build_parser(), ["--extra-opts"], NO_ENV, str(root))
    assert args.zones_file == expected


def test_the_c_plugins_places_come_before_perls_and_local_before_etc():
    assert DEFAULTS.index("/usr/local/etc/monitoring-plugins/monitoring-plugins.ini") == 0
    assert DEFAULTS.index("/etc/monitoring-plugins.ini") < DEFAULTS.index("/etc/nagios/plugins.ini")


def test_nagios_config_path_directories_come_first_plugins_ini_before_nagios_plugins_ini(
    tmp_path,
):
    for d in ("one", "two"):
        (tmp_path / d).mkdir()
    ini(tmp_path / "two", "[check_dnsbl]\n", "plugins.ini")
    ini(tmp_path / "two", "[check_dnsbl]\n", "nagios-plugins.ini")
    env = {"NAGIOS_CONFIG_PATH": f"{tmp_path}/one:{tmp_path}/two"}
    assert find_default(env) == f"{tmp_path}/two/plugins.ini"
    os.remove(tmp_path / "two" / "plugins.ini")
    assert find_default(env) == f"{tmp_path}/two/nagios-plugins.ini"


# --- a class of inputs: the file says what the command line would ---------------------------

#: (key, values a user might write) for options of check_dnsbl.
VALUED = {
    "zone": st.lists(st.sampled_from(["a.test", "b.test", "psbl.surriel.com"]), max_size=3),
    "exclude-zone": st.lists(st.sampled_from(["x.test", "y.test"]), max_size=2),
    "max-addresses": st.lists(st.integers(1, 999).map(str), max_size=1),
    "timeout": st.lists(st.sampled_from(["1", "2.5", "30"]), max_size=1),
    "warning": st.lists(st.sampled_from(["0", "~:3", "@1:2", "5:"]), max_size=1),
    "host": st.lists(st.sampled_from(["192.0.2.1", "2001:db8::1", "198.51.100.0/30"]), max_size=2),
}
FLAGS = ["allow-nonglobal", "no-self-test", "list-zones"]


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.fixed_dictionaries(VALUED),
    flags=st.sets(st.sampled_from(FLAGS)),
    verbose=st.integers(0, 3),
)
def test_an_options_file_means_what_the_same_options_on_the_command_line_mean(
    tmp_path_factory, values, flags, verbose
):
    parser = check_dnsbl.build_parser()
    lines, argv = ["[check_dnsbl]"], []
    for key, items in values.items():
        for item in items:
            lines.append(f"{key} = {item}")
            argv.append(f"--{key}={item}")
    for flag in sorted(flags):
        lines.append(flag)
        argv.append(f"--{flag}")
    if verbose:
        lines.append(f"verbose = {verbose}")
        argv += ["-v"] * verbose
    path = tmp_path_factory.mktemp("ini") / "x.ini"
    path.write_text("\n".join(lines) + "\n")
    assert parsed(parser, [f"--extra-opts=@{path}"]) == parser.parse_args(argv)


def test_parsing_without_expanding_keeps_the_values_and_reads_nothing(dnsbl):
    """What a test harness or a CheckCommand check does with a recorded command line."""
    args = dnsbl.parse_args(["--extra-opts=a@/nonexistent.ini", "--extra-opts", "-H", "192.0.2.1"])
    assert args.extra_opts == ["a@/nonexistent.ini", ""]
