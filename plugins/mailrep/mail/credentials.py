"""Passwords for the mailbox plugins, from a file or the environment, never from argv.

Every local user can read a process's argv (``ps``), and Icinga shows command lines in its
web interface, so a password on the command line is a leaked password. A file (first line)
or an environment variable is what the plugins accept. A world-readable password file is
reported on stderr but still used: refusing it would turn a hygiene problem into an outage
of the monitoring itself.
"""

from __future__ import annotations

import errno
import os
import stat
import sys


def load_password(password_file: str | None, env_var: str | None, default_env: str) -> str | None:
    """The password from ``password_file`` (its first line), else from the environment.

    ``env_var`` names the variable to read; ``None`` means ``default_env``. Returns ``None``
    when neither gives a password, so the caller can say which option is missing. Raises
    ``OSError`` when the file cannot be read, its first line is empty (an empty password is
    a configuration mistake, not "no password") or not UTF-8 (the one encoding the login
    can send a non-ASCII password in).
    """
    if password_file:
        return _from_file(password_file)
    value = os.environ.get(env_var or default_env)
    return value or None


def _from_file(path: str) -> str:
    with open(path, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        first = handle.readline()
    if mode & stat.S_IROTH:
        sys.stderr.write(
            f"warning: password file {path} is readable by every user (chmod o-r {path})\n"
        )
    try:
        line = first.decode("utf-8")
    except UnicodeDecodeError:
        # Said without the decoder's own message: it quotes a byte of the password.
        raise OSError(errno.EILSEQ, f"the first line of {path} is not UTF-8 text") from None
    password = line.rstrip("\r\n")
    if not password:
        raise OSError(errno.ENODATA, f"the first line of {path} is empty")
    return password
