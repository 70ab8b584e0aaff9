"""Replace a file so that a reader sees the old content or the new, never a part.

node_exporter's textfile collector reads ``*.prom`` files whenever it is scraped, and the
state files are read by the next run (maybe a concurrent one): both must never see a file
half written. The way is a temporary file in the *same directory* (``rename`` is atomic only
within one file system, which ``/tmp`` often is not), flushed to disk, then renamed over the
target. The temporary name starts with a dot and does not end in ``.prom``, so the collector
skips it, and it is unpredictable (random bytes from the kernel) and created exclusively,
so nobody can plant it in advance. (``tempfile.mkstemp`` does the same, but importing
:mod:`tempfile` costs a plugin run ~15 ms.)
"""

from __future__ import annotations

import contextlib
import os


def write_atomically(path: str, data: str, mode: int = 0o644) -> None:
    """Write ``data`` (UTF-8) to ``path`` by temp file + rename; ``mode`` is the file's.

    The temporary file is created readable by its owner only; a ``.prom`` file must be
    readable by node_exporter's own user, hence the explicit mode (the state files pass
    0o600). Raises :class:`OSError` when the directory cannot be written; the temporary file
    is removed then.
    """
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp = _create_temporary(directory, name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.tmp`` in ``directory``, opened for writing, mode 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _attempt in range(100):
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")
