"""``--extra-opts[=[SECTION][@FILE]]``: options from an ini file, the Monitoring Plugins way.

Mail admins coming from the C Monitoring Plugins or from Perl's Monitoring::Plugin (which
check_rbl uses) keep site defaults -- nameserver, zones, thresholds, a password file -- in an
ini file instead of repeating them on every command line. Both define the same option and
file format, and this module follows them:

- ``SECTION`` defaults to the plugin's name (``check_dnsbl``); ``@FILE`` names the file.
- A key is a long option name without the dashes (``nameserver = 127.0.0.1``); a key repeats
  for a repeatable option (``zone = ...`` twice); a flag is a key without a value, with an
  empty one (``allow-nonglobal =``), or with yes/true/on/1 (no/false/off/0 leave it unset).
  ``verbose = 2`` is ``-vv``. Lines starting with ``;`` or ``#`` are comments.
- The file's options come first and the command line's override them: an option the command
  line gives drops the file's values of it (for a repeatable option too: the command line's
  list replaces the file's), and so does another option of its mutually exclusive group.
- Without ``@FILE`` the first file found is read, in this order: ``$MP_CONFIG_FILE`` (the C
  plugins' variable: when set, that file and no other); ``plugins.ini`` then
  ``nagios-plugins.ini`` in each directory of ``$NAGIOS_CONFIG_PATH`` (Perl's, colon-separated);
  the C plugins' places (:data:`C_FILES`); Monitoring::Plugin::Config's (:data:`PERL_FILES`).
- A file that cannot be read, a missing section, an unknown key are UNKNOWN, naming it.

Secrets stay off argv either way: the file is read in-process. A ``password`` key is refused,
because no option takes a password: ``password-file`` (and ``smtp-password-file``,
``dqs-key-file``) name files that hold them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from mailrep.errors import CannotJudge

OPTION = "--extra-opts"

#: The C Monitoring Plugins' places (their extra-opts README), in their order.
C_FILES = (
    "/usr/local/etc/monitoring-plugins/monitoring-plugins.ini",
    "/usr/local/etc/monitoring-plugins.ini",
    "/etc/monitoring-plugins/monitoring-plugins.ini",
    "/etc/monitoring-plugins.ini",
)
#: Monitoring::Plugin::Config's places (Perl; check_rbl reads its options this way).
PERL_FILES = (
    "/etc/nagios/plugins.ini",
    "/usr/local/nagios/etc/plugins.ini",
    "/usr/local/etc/nagios/plugins.ini",
    "/etc/opt/nagios/plugins.ini",
    "/etc/nagios-plugins.ini",
    "/usr/local/etc/nagios-plugins.ini",
    "/etc/opt/nagios-plugins.ini",
)
FILE_ENV = "MP_CONFIG_FILE"
PATH_ENV = "NAGIOS_CONFIG_PATH"
PATH_NAMES = ("plugins.ini", "nagios-plugins.ini")

#: Keys that would put a secret in the file's place of an option that does not exist.
PASSWORD_KEYS = {
    "password": "password-file",
    "imap-password": "password-file",
    "smtp-password": "smtp-password-file",
}
_TRUE = {"", "1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


class ExtraOptsError(CannotJudge):
    """An options file, section or key that cannot be used (UNKNOWN, naming it)."""


class Entry(NamedTuple):
    key: str
    value: str | None  # None: a key without "="
    line: int


class Spec(NamedTuple):
    """One ``--extra-opts`` value: the section to read and the file (None: search)."""

    section: str
    file: str | None


class _ExtraOptsAction(argparse.Action):
    """Documents the option in ``-h`` and keeps its values; :func:`expand` has read the files
    before argparse runs (a command line parsed without expanding reads nothing)."""

    def __call__(self, _parser: Any, namespace: argparse.Namespace, values: Any, *_: Any) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), values or ""])


def _refuse_abbreviation(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """An abbreviation argparse would take for ``--extra-opts`` is never read: refuse it."""
    if not parser.allow_abbrev:
        return
    for arg in argv:
        head = arg.split("=", 1)[0]
        if len(head) <= 2 or head == OPTION or not OPTION.startswith(head):
            continue
        if [o for o in parser._option_string_actions if o.startswith(head)] == [OPTION]:
            parser.error(f"write {OPTION} in full, not {head}")


def add_option(group: Any) -> None:
    """Add ``--extra-opts`` to an argparse group (the general options)."""
    group.add_argument(
        OPTION,
        action=_ExtraOptsAction,
        nargs="?",
        metavar="[SECTION][@FILE]",
        help="read options from SECTION (default: the plugin's name) of the ini file FILE "
        f"(default: the first of ${FILE_ENV}, plugins.ini in ${PATH_ENV}, "
        "/etc/monitoring-plugins.ini, /etc/nagios/plugins.ini and the other places of the "
        "Monitoring Plugins; see FILES in the man page). Keys are long option names, "
        "repeated for repeatable options; the command line overrides the file (repeatable)",
    )


def parse_spec(text: str, prog: str) -> Spec:
    section, at, file = text.partition("@")
    if at and not file:
        raise ExtraOptsError(f"{OPTION}={text}: no file after '@'")
    return Spec(section.strip() or prog, file if at else None)


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the ``--extra-opts`` values in order, the rest of argv)."""
    specs: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg.startswith(OPTION + "="):
            specs.append(arg[len(OPTION) + 1 :])
        elif arg == OPTION:
            following = argv[i + 1] if i + 1 < len(argv) else "-"
            # as argparse reads nargs="?": a next word that is not an option is the value
            takes = not following.startswith("-")
            specs.append(following if takes else "")
            i += takes
        else:
            rest.append(arg)
        i += 1
    return specs, rest


def candidates(environ: Mapping[str, str]) -> list[str]:
    """The default files in the order they are tried."""
    if environ.get(FILE_ENV):
        return [environ[FILE_ENV]]
    found = [
        os.path.join(directory, name)
        for directory in environ.get(PATH_ENV, "").split(":")
        if directory
        for name in PATH_NAMES
    ]
    return [*found, *C_FILES, *PERL_FILES]


def find_default(environ: Mapping[str, str], root: str = "") -> str:
    """The first default file that exists (``root`` prefixes every path, for tests)."""
    tried = candidates(environ)
    if environ.get(FILE_ENV):
        return tried[0]  # the one the admin named: missing is an error naming it
    for path in tried:
        if os.path.isfile(_rooted(root, path)):
            return path
    raise ExtraOptsError(
        f"{OPTION}: no options file in the default places ({FILE_ENV}, {PATH_ENV}, "
        f"{C_FILES[-1]}, {PERL_FILES[0]}, ...); name one with {OPTION}=@FILE"
    )


def _rooted(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/")) if root and os.path.isabs(path) else path


def read_ini(text: str, origin: str) -> dict[str, list[Entry]]:
    """Sections of an ini text; repeated keys are kept in order (Config::Tiny-like)."""
    sections: dict[str, list[Entry]] = {}
    current: list[Entry] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            if not line.endswith("]") or not line[1:-1].strip():
                raise ExtraOptsError(f"{origin}:{number}: bad section line {line!r}")
            current = sections.setdefault(line[1:-1].strip(), [])
            continue
        key, eq, value = line.partition("=")
        if current is not None:  # keys before the first section belong to no plugin
            current.append(Entry(key.strip(), value.strip() if eq else None, number))
    return sections


def _flag_count(action: argparse.Action, entry: Entry, where: str) -> int:
    value = (entry.value or "").lower()
    if isinstance(action, argparse._CountAction) and value.isdigit():
        return int(value)
    if value in _TRUE:
        return 1
    if value in _FALSE:
        return 0
    raise ExtraOptsError(f"{where}: '{entry.key}' is a flag: leave it empty or say yes or no")


def _tokens(parser: argparse.ArgumentParser, entry: Entry, where: str) -> list[str]:
    """The command-line words one key stands for."""
    if entry.key in PASSWORD_KEYS:
        raise ExtraOptsError(
            f"{where}: '{entry.key}' refused: a password is never read from an options file; "
            f"put it in a file of its own and give {PASSWORD_KEYS[entry.key]} = FILE"
        )
    if entry.key == OPTION[2:]:
        raise ExtraOptsError(f"{where}: '{entry.key}' cannot be used inside an options file")
    action = parser._option_string_actions.get("--" + entry.key)
    if action is None:
        raise ExtraOptsError(f"{where}: unknown option '{entry.key}'")
    if action.nargs == 0:
        return ["--" + entry.key] * _flag_count(action, entry, where)
    if entry.value is None:
        raise ExtraOptsError(f"{where}: '{entry.key}' needs a value ({entry.key} = ...)")
    return [f"--{entry.key}={entry.value}"]


def _read(spec: Spec, environ: Mapping[str, str], root: str) -> tuple[str, list[Entry]]:
    path = spec.file or find_default(environ, root)
    try:
        with open(_rooted(root, path), encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ExtraOptsError(f"{OPTION}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ExtraOptsError(f"{OPTION}: {path} is not UTF-8 text") from None
    sections = read_ini(text, path)
    if spec.section not in sections:
        raise ExtraOptsError(f"{OPTION}: no section [{spec.section}] in {path}")
    return path, sections[spec.section]


def given_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The dests the command line sets, plus those of their mutually exclusive partners.

    The command line is parsed on its own into a namespace where every dest already exists
    (as None), so argparse fills in no default and whatever is not None was given. Required
    options are relaxed for this pass only: the file may be what provides them.
    """
    names = {a.dest for a in parser._actions if a.dest != argparse.SUPPRESS}
    namespace = argparse.Namespace(**dict.fromkeys(names | set(parser._defaults)))
    required = [a for a in parser._actions if a.required]
    for action in required:
        action.required = False
    try:
        parser.parse_args(list(argv), namespace)
    finally:
        for action in required:
            action.required = True
    given = {dest for dest, value in vars(namespace).items() if value is not None}
    for group in parser._mutually_exclusive_groups:
        dests = {a.dest for a in group._group_actions}
        if dests & given:
            given |= dests
    return given


def expand(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    root: str = "",
) -> list[str]:
    """argv with every ``--extra-opts`` replaced by its options, placed first, minus the
    ones the command line overrides. argv without ``--extra-opts`` comes back unchanged."""
    specs, rest = split_argv(argv)
    _refuse_abbreviation(parser, rest)
    if not specs:
        return list(argv)
    env = os.environ if environ is None else environ
    from_files: list[tuple[str, list[str]]] = []  # (dest, words) in file order
    for text in specs:
        spec = parse_spec(text, parser.prog)
        path, entries = _read(spec, env, root)
        for entry in entries:
            where = f"{path}:{entry.line} [{spec.section}]"
            words = _tokens(parser, entry, where)
            from_files.append((parser._option_string_actions["--" + entry.key].dest, words))
    overridden = given_dests(parser, rest)
    kept = [w for dest, words in from_files if dest not in overridden for w in words]
    return [*kept, *rest]
