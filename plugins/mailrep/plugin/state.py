"""Where a check's history lives, and reading and writing it safely.

One small JSON file per *check identity*: the plugin and the options that decide what is
checked and how it is judged (not ``-v``, ``-t``, the output format or how servers are
reached), hashed. Two services that check different hosts never share a file; a run with
``-v`` added shares the history of the same check without it.

Runs of one check may overlap (a slow run and the next, a manual run beside the scheduled
one), so an update is read-merge-write under an exclusive ``flock`` of a lock file beside the
state file, and the write itself is temp file + rename: a reader never sees half a file.
Waiting for the lock is bounded by what is left of ``-t``.

Nothing here may change a verdict: a missing, corrupt, unreadable or unwritable file, a
missing directory or a busy lock each become a note, and the check's result stands.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from mailrep.plugin.atomic import write_atomically

SYSTEM_DIR = "/var/lib/mailrep"

#: Options that do not change what is checked or how it is judged: presentation, run time,
#: where state and output go, how servers are reached, and secrets (which must never be
#: hashed into a file name anyone can list).
RUN_OPTIONS = frozenset(
    {
        "verbose",
        "timeout",
        "format",
        "state_dir",
        "only_changes",
        "output",
        "extra_opts",
        "list_zones",
        "nameserver",
        "query_timeout",
        "concurrency",
        "wait",
        "ca_file",
        "insecure",
        "imap_port",
        "imap_security",
        "password_file",
        "smtp_port",
        "smtp_security",
        "smtp_password_file",
        "dqs_key",
        "dqs_key_file",
    }
)

T = TypeVar("T")


def identity(prog: str, options: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit name for the check: the plugin and its judged options.

    FNV-1a (64 bits) rather than hashlib: loading OpenSSL for hashlib costs a run ~10 ms,
    and the name needs no cryptographic strength (the options are the admin's own; two
    configurations of one host colliding is a 2**-64 chance)."""
    judged = {k: v for k, v in sorted(options.items()) if k not in RUN_OPTIONS}
    text = json.dumps({"plugin": prog, "options": judged}, sort_keys=True, default=str)
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def _usable(directory: str) -> bool:
    """The directory exists and can be written, or it can be created."""
    if os.path.isdir(directory):
        return os.access(directory, os.W_OK | os.X_OK)
    parent = os.path.dirname(directory.rstrip("/")) or "/"
    return os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)


def default_dir(env: Mapping[str, str], system_dir: str | None = None) -> str | None:
    """``$XDG_STATE_HOME/mailrep`` when that variable is set; else the system directory when
    this user can write it (the nagios or icinga user, once an admin made it theirs); else
    ``$HOME/.local/state/mailrep`` (the XDG default); else None (no home, as under a
    monitoring daemon's clean environment)."""
    xdg = env.get("XDG_STATE_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, "mailrep")
    system_dir = system_dir or SYSTEM_DIR
    if _usable(system_dir):
        return system_dir
    home = env.get("HOME", "")
    if os.path.isabs(home) and home != "/":
        return os.path.join(home, ".local", "state", "mailrep")
    return None


def state_file(directory: str, prog: str, ident: str) -> str:
    return os.path.join(os.path.abspath(directory), f"{prog}-{ident}.json")


class Update(NamedTuple):
    """What :func:`update` returns: the merge's result (None when the history could not be
    read), whether the new document was saved, and the notes for the long output."""

    result: Any
    saved: bool
    notes: list[str]
    first: bool = False  # there was no file: everything this run remembers starts now


@contextlib.contextmanager
def _locked(path: str, wait: float) -> Iterator[str]:
    """Hold an exclusive lock on ``path + ".lock"``; yields "" or why there is no lock."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        yield f"cannot lock ({exc.strerror or exc})"
        return
    try:
        give_up = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > give_up:
                    yield "busy: another run of this check holds its lock"
                    return
                time.sleep(0.01)
        yield ""
    finally:
        os.close(fd)  # closing releases the lock


def _read(path: str) -> tuple[Any, str, bool]:
    """(document or None, note, whether writing a new one is allowed)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), "", True
    except FileNotFoundError:
        return None, "", True
    except (PermissionError, IsADirectoryError) as exc:
        return None, f"state: cannot read {path} ({exc.strerror}): not kept this run", False
    except (OSError, ValueError) as exc:
        return None, f"state: {path} was unreadable ({exc}): started afresh", True


def update(
    path: str,
    merge: Callable[[Any], tuple[dict[str, Any], T]],
    wait: float = 2.0,
) -> Update:
    """Read the document at ``path``, ``merge`` this run into it, write the result back.

    ``merge`` raises ValueError for a document it does not understand (corrupt): it is then
    called again with None, and the fresh document replaces the bad one.
    """
    notes: list[str] = []
    with _locked(path, wait) as no_lock:
        doc, note, writable = _read(path)
        first = doc is None and not note  # no file at all (damage has a note)
        if note:
            notes.append(note)
        if not writable:
            return Update(None, False, notes)
        try:
            new_doc, result = merge(doc)
        except ValueError as exc:
            notes.append(f"state: {path} was not a state file ({exc}): started afresh")
            new_doc, result = merge(None)
        if no_lock:
            notes.append(f"state: {path} not updated: {no_lock}")
            return Update(result, False, notes, first)
        try:
            write_atomically(path, json.dumps(new_doc, indent=1) + "\n", 0o600)
        except OSError as exc:
            notes.append(f"state: cannot save {path} ({exc.strerror or exc}): not kept")
            return Update(result, False, notes, first)
    return Update(result, True, notes, first)
