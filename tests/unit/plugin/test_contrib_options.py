"""The Icinga CheckCommands in contrib/icinga/mailrep.conf reach every option of every plugin.

A CheckCommand is a second copy of a plugin's command line, and copies drift: an option added
to a plugin and forgotten here cannot be used from Icinga, and an argument whose option was
renamed turns every check into a usage error (UNKNOWN). So the options come from each plugin's
own argparse parser (``build_parser()``) and are compared with the arguments of its
CheckCommand, templates included.

The configuration is read by :func:`read_check_commands`, a reader for the part of the Icinga
DSL these files use; tests/integration/test_contrib_icinga.py checks that it sees the same
arguments as ``icinga2`` itself.
"""

from __future__ import annotations

import argparse
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mailrep.plugin.dnsbl_options import DQS_ENV
from mailrep.plugin.mailbox_options import IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV

REPO = Path(__file__).resolve().parents[3]
COMMANDS_CONF = REPO / "contrib" / "icinga" / "mailrep.conf"

#: CheckCommand name -> plugin module (in plugins/). All three must exist: a missing plugin
#: is a failure here, never a skip.
PLUGINS = {
    "dnsbl": "check_dnsbl",
    "relay_chain": "check_relay_chain",
    "bounce_rate": "check_bounce_rate",
}

#: Options that do not run a check, so a CheckCommand has no use for them.
NOT_CHECK_OPTIONS = {
    "-h": "prints the help text and exits 3",
    "-V": "prints the version and exits 3",
    "--list-zones": "prints the zone catalogue and exits; nothing is checked",
}

#: Options a CheckCommand must not offer: Icinga reads the Nagios plugin format only, so any
#: other output would become one unreadable status line (they are for cron and scripts).
NOT_FOR_ICINGA = {
    "--format": "JSON/OpenMetrics output breaks Icinga's parsing of the result",
    "--only-changes": "a silent exit 0 is not a check result",
    "--output": "the result would go to a file and Icinga would see nothing",
}

#: Options whose value is a secret: reached through the plugin's environment, because every
#: local user can read a process's argv (and Icinga shows command lines).
SECRET_OPTIONS = {"--dqs-key": DQS_ENV}

#: Password options do not exist on purpose; the plugins read these variables instead.
PASSWORD_ENV = {"--password-file": IMAP_PASSWORD_ENV, "--smtp-password-file": SMTP_PASSWORD_ENV}

SHARED_PREFIX = "mailrep_"


# --- a reader for the CheckCommand part of the Icinga 2 DSL ---------------------------------


@dataclass(frozen=True)
class Argument:
    """One entry of a CheckCommand's ``arguments`` dictionary."""

    key: str
    attributes: dict[str, str]  # attribute name -> its source text

    def flag(self, name: str) -> bool:
        return self.attributes.get(name, "").strip() == "true"

    @property
    def macros(self) -> set[str]:
        """Every ``$var$`` the argument reads (in value, set_if and their lambdas)."""
        return {m for text in self.attributes.values() for m in re.findall(r"\$(\w+)\$", text)}


@dataclass
class CommandDef:
    """A ``template`` or ``object CheckCommand`` as written, before imports are applied."""

    name: str
    is_template: bool
    imports: list[str] = field(default_factory=list)
    arguments: dict[str, Argument] = field(default_factory=dict)
    replaces_arguments: bool = False  # ``arguments =`` (replace) rather than ``arguments +=``
    env: dict[str, str] = field(default_factory=dict)
    command: str = ""
    vars: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None


def _strip_comments(text: str) -> str:
    """Blank ``/* */``, ``//`` and ``#`` comments (outside strings), keeping offsets."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text.startswith("/*", i):
            end = text.index("*/", i) + 2
            for j in range(i, end):
                out[j] = "\n" if text[j] == "\n" else " "
            i = end
        elif text.startswith("//", i) or ch == "#":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        else:
            i += 1
    return "".join(out)


def _string_end(text: str, quote: int) -> int:
    """Index of the ``"`` that closes the string opening at ``quote``."""
    i = quote + 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i


def _top_level(block: str) -> str:
    """``block`` (which starts with ``{``) with the insides of nested blocks and strings
    blanked: regexes run on this find only the block's own statements, at offsets valid in
    ``block``."""
    out = list(block)
    depth, i = 0, 0
    while i < len(block):
        ch = block[i]
        if ch == '"':
            end = _string_end(block, i)
            if depth > 1:
                out[i : end + 1] = " " * (end + 1 - i)
            i = end + 1
            continue
        if ch == "{":
            depth += 1
        nested_brace = ch in "{}" and depth == 2  # kept: a nested block's own braces
        if depth > 1 and ch != "\n" and not nested_brace:
            out[i] = " "
        if ch == "}":
            depth -= 1
        i += 1
    return "".join(out)


def _block_end(text: str, open_brace: int) -> int:
    """Index of the ``}`` that closes the ``{`` at ``open_brace`` (strings respected)."""
    depth, i = 0, open_brace
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _string_end(text, i)
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced brace at offset {open_brace}")


def _statement_value(body: str, start: int) -> str:
    """Source text of the value at ``start``: a string, a balanced block, a list, or the
    rest of the statement (up to a newline, ``;`` or the closing ``}``)."""
    while body[start] in " \t":
        start += 1
    first = body[start]
    if first == '"':
        return body[start : _string_end(body, start) + 1]
    if first == "{":
        return body[start : _block_end(body, start) + 1]
    if first == "[":
        return body[start : body.index("]", start) + 1]
    return re.split(r"[\n;}]", body[start:], maxsplit=1)[0].strip()


#: A statement starts a line, or follows ``;`` or the block's ``{``.
_STATEMENT = r"(?:^|;|\{)\s*"


def _arguments(block: str) -> dict[str, Argument]:
    found: dict[str, Argument] = {}
    for m in re.finditer(_STATEMENT + r'"([^"]+)"\s*=\s*\{', _top_level(block), re.M):
        entry = block[m.end() - 1 : _block_end(block, m.end() - 1) + 1]
        attrs = {
            a.group(1): _statement_value(entry, a.end())
            for a in re.finditer(_STATEMENT + r"(\w+)\s*=", _top_level(entry), re.M)
        }
        found[m.group(1)] = Argument(m.group(1), attrs)
    return found


def read_check_commands(text: str) -> dict[str, CommandDef]:
    """The CheckCommand templates and objects of an Icinga 2 configuration text."""
    text = _strip_comments(text)
    defs: dict[str, CommandDef] = {}
    head = re.compile(r'(?m)^\s*(object|template)\s+CheckCommand\s+"([^"]+)"\s*\{')
    for m in head.finditer(text):
        open_brace = m.end() - 1
        body = text[open_brace : _block_end(text, open_brace) + 1]
        flat = _top_level(body)

        def statements(pattern: str, flat: str = flat) -> list[re.Match[str]]:
            return list(re.finditer(_STATEMENT + pattern, flat, re.M))

        cmd = CommandDef(m.group(2), m.group(1) == "template")
        cmd.imports = [s.group(1) for s in statements(r'import\s+"([^"]+)"')]
        for s in statements(r"arguments\s*(\+?=)\s*\{"):
            block = body[s.end() - 1 : _block_end(body, s.end() - 1) + 1]
            cmd.replaces_arguments = s.group(1) == "="
            cmd.arguments.update(_arguments(block))
        for s in statements(r"env\.(\w+)\s*="):
            cmd.env[s.group(1)] = _statement_value(body, s.end()).strip('"')
        for s in statements(r"vars\.(\w+)\s*="):
            cmd.vars[s.group(1)] = _statement_value(body, s.end()).strip('"')
        for s in statements(r"command\s*="):
            cmd.command = _statement_value(body, s.end())
        for s in statements(r"timeout\s*=\s*(\d+)"):
            cmd.timeout = float(s.group(1))
        defs[cmd.name] = cmd
    return defs


def resolved_arguments(defs: dict[str, CommandDef], name: str) -> dict[str, Argument]:
    """The arguments ``name`` ends up with: its imports' (in order) then its own."""
    cmd = defs[name]
    merged: dict[str, Argument] = {}
    for parent in cmd.imports:
        if parent in defs:  # ITL templates (ipv4-or-ipv6) add no arguments
            merged.update(resolved_arguments(defs, parent))
    if cmd.replaces_arguments:
        merged = {}
    merged.update(cmd.arguments)
    return merged


def resolved_env(defs: dict[str, CommandDef], name: str) -> dict[str, str]:
    cmd = defs[name]
    merged: dict[str, str] = {}
    for parent in cmd.imports:
        if parent in defs:
            merged.update(resolved_env(defs, parent))
    merged.update(cmd.env)
    return merged


def resolved_vars(defs: dict[str, CommandDef], name: str) -> dict[str, str]:
    cmd = defs[name]
    merged: dict[str, str] = {}
    for parent in cmd.imports:
        if parent in defs:
            merged.update(resolved_vars(defs, parent))
    merged.update(cmd.vars)
    return merged


# --- what the plugins accept ----------------------------------------------------------------


def plugin_parser(command: str) -> argparse.ArgumentParser:
    """The plugin's own parser. A missing plugin fails the test: never a skip."""
    try:
        module = importlib.import_module(PLUGINS[command])
    except ModuleNotFoundError as exc:
        pytest.fail(f"plugin {PLUGINS[command]} is missing ({exc}): its CheckCommand is untested")
    return module.build_parser()


def check_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options that shape a check: all but the NOT_CHECK_OPTIONS and NOT_FOR_ICINGA."""
    left_out = NOT_CHECK_OPTIONS.keys() | NOT_FOR_ICINGA.keys()
    return [a for a in parser._actions if a.option_strings and not set(a.option_strings) & left_out]


def takes_no_value(action: argparse.Action) -> bool:
    return action.nargs == 0


@pytest.fixture(scope="module")
def defs() -> dict[str, CommandDef]:
    return read_check_commands(COMMANDS_CONF.read_text())


def argument_for(action: argparse.Action, arguments: dict[str, Argument]) -> Argument | None:
    hits = [arguments[s] for s in action.option_strings if s in arguments]
    assert len(hits) <= 1, f"{action.option_strings} mapped twice: {[h.key for h in hits]}"
    return hits[0] if hits else None


# --- the comparison -------------------------------------------------------------------------

commands = pytest.mark.parametrize("command", sorted(PLUGINS))


@commands
def test_each_plugin_has_a_checkcommand_object(defs, command):
    assert command in defs
    assert not defs[command].is_template


@commands
def test_every_check_option_of_the_plugin_is_an_argument_or_an_environment_variable(defs, command):
    arguments = resolved_arguments(defs, command)
    env = resolved_env(defs, command)
    missing = []
    for action in check_options(plugin_parser(command)):
        secret = next((SECRET_OPTIONS[s] for s in action.option_strings if s in SECRET_OPTIONS), "")
        reached = secret in env if secret else argument_for(action, arguments) is not None
        if not reached:
            missing.append("/".join(action.option_strings))
    assert missing == [], f"options of check_{command} not reachable from CheckCommand {command}"


@commands
def test_every_argument_is_an_option_the_plugin_accepts(defs, command):
    accepted = {s for a in plugin_parser(command)._actions for s in a.option_strings}
    stale = sorted(set(resolved_arguments(defs, command)) - accepted)
    assert stale == [], f"arguments check_{command} would reject as a usage error"


@commands
def test_no_argument_is_an_option_that_runs_no_check(defs, command):
    assert not set(resolved_arguments(defs, command)) & NOT_CHECK_OPTIONS.keys()


@commands
def test_no_argument_is_an_output_format_icinga_cannot_parse(defs, command):
    assert not set(resolved_arguments(defs, command)) & NOT_FOR_ICINGA.keys()


@commands
def test_secret_options_are_never_arguments(defs, command):
    arguments = resolved_arguments(defs, command)
    assert not set(arguments) & SECRET_OPTIONS.keys()
    leaked = sorted(
        a.key
        for a in arguments.values()
        for macro in a.macros
        if re.search(r"pass(word)?(?!.*_file)|dqs_key(?!_file)", macro)
    )
    assert leaked == []


@commands
def test_password_variables_reach_the_plugin_as_its_environment(defs, command):
    options = {s for a in plugin_parser(command)._actions for s in a.option_strings}
    env = resolved_env(defs, command)
    for option, variable in PASSWORD_ENV.items():
        if option in options:
            assert re.fullmatch(rf"\${command}_\w*password\$", env.get(variable, "")), variable


@commands
def test_flags_are_set_with_set_if_and_valued_options_with_value(defs, command):
    arguments = resolved_arguments(defs, command)
    wrong = []
    for action in check_options(plugin_parser(command)):
        arg = argument_for(action, arguments)
        if arg is None:
            continue  # reached through the environment
        if takes_no_value(action):
            # a counted flag (-v) renders its own "-vv" value and skips the key
            ok = "set_if" in arg.attributes and (
                "value" not in arg.attributes or arg.flag("skip_key")
            )
        else:
            ok = "value" in arg.attributes and "set_if" not in arg.attributes
        if not ok:
            wrong.append(arg.key)
    assert wrong == []


@commands
def test_repeatable_options_repeat_their_key(defs, command):
    arguments = resolved_arguments(defs, command)
    wrong = []
    for action in check_options(plugin_parser(command)):
        arg = argument_for(action, arguments)
        repeatable = isinstance(action, argparse._AppendAction)
        if arg is not None and repeatable and not arg.flag("repeat_key"):
            wrong.append(arg.key)
    assert wrong == []


@commands
def test_command_runs_the_plugin_from_the_configurable_plugin_dir(defs, command):
    prog = plugin_parser(command).prog
    assert defs[command].command == f'[ "$mailrep_plugin_dir$/{prog}" ]'
    assert resolved_vars(defs, command)["mailrep_plugin_dir"] == "MailrepPluginDir"


@commands
def test_icinga_waits_longer_than_the_plugins_own_default_timeout(defs, command):
    """Killed by Icinga, a plugin says nothing; at its own -t it reports what it learnt."""
    timeout = next(a for a in plugin_parser(command)._actions if "-t" in a.option_strings)
    icinga_timeout = defs[command].timeout or 60.0  # Icinga's default command timeout
    assert icinga_timeout > float(timeout.default)


def test_every_argument_of_every_command_and_template_has_a_description(defs):
    undocumented = [
        f"{cmd.name} {arg.key}"
        for cmd in defs.values()
        for arg in cmd.arguments.values()
        if not arg.attributes.get("description", "").strip('"')
    ]
    assert undocumented == []


def test_variables_carry_their_commands_prefix_or_the_shared_one(defs):
    def allowed(cmd: CommandDef) -> tuple[str, ...]:
        return (SHARED_PREFIX,) if cmd.is_template else (SHARED_PREFIX, f"{cmd.name}_")

    wrong = [
        f"{cmd.name} {arg.key} ${macro}$"
        for cmd in defs.values()
        for arg in cmd.arguments.values()
        for macro in arg.macros
        if not macro.startswith(allowed(cmd))
    ]
    assert wrong == []


def test_dnsbl_checks_the_hosts_ipv4_or_ipv6_address_by_default(defs):
    assert "ipv4-or-ipv6" in defs["dnsbl"].imports
    assert defs["dnsbl"].vars["dnsbl_address"] == "$check_address$"
    assert resolved_arguments(defs, "dnsbl")["-H"].attributes["value"] == '"$dnsbl_address$"'


def test_the_excluded_options_exist_in_some_plugin():
    """Keeps NOT_CHECK_OPTIONS honest: an entry no plugin has would hide nothing but itself."""
    every = {s for c in PLUGINS for a in plugin_parser(c)._actions for s in a.option_strings}
    assert set(NOT_CHECK_OPTIONS) | set(SECRET_OPTIONS) | set(NOT_FOR_ICINGA) <= every


# --- the reader itself ----------------------------------------------------------------------

SAMPLE = """
/* a comment with "quotes" and { braces } */
template CheckCommand "base" {
	arguments = {
		"-t" = { value = "$base_t$"  // trailing comment }
			description = "a } brace in a string" }
		"-x" = {
			set_if = {{ macro("$base_x$") == "a" }}
			description = "x"
		}
	}
	env.SECRET = "$base_secret$"
}
object CheckCommand "child" {
	import "base"
	import "not-here"
	arguments += {
		"-y" = { value = "$child_y$"; repeat_key = true; description = "y" }
	}
}
object CheckCommand "fresh" {
	import "base"
	arguments = { "-z" = { value = "$fresh_z$" } }
}
"""


def test_reader_merges_imported_arguments_with_plus_equals():
    defs = read_check_commands(SAMPLE)
    assert sorted(resolved_arguments(defs, "child")) == ["-t", "-x", "-y"]
    assert resolved_env(defs, "child") == {"SECRET": "$base_secret$"}


def test_reader_lets_plain_assignment_replace_imported_arguments():
    assert sorted(resolved_arguments(read_check_commands(SAMPLE), "fresh")) == ["-z"]


def test_reader_ignores_braces_in_strings_and_comments_and_reads_lambda_macros():
    base = read_check_commands(SAMPLE)["base"]
    assert base.arguments["-t"].attributes["description"] == '"a } brace in a string"'
    assert base.arguments["-x"].macros == {"base_x"}
