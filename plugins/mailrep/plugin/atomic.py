"""Replace a file so that a reader sees the old content or the new, never a part.

node_exporter's textfile collector reads ``*.prom`` files whenever it is scraped, and the
state files are read by the next run (maybe a concurrent one): both must never see a file
half written. The way is a temporary file in the *same directory* (``rename`` is atomic only
within one file system, which ``/tmp`` often is not), flushed to disk, then renamed over the
target. The temporary name starts with a dot and does not end in ``.prom``, so the collector
skips it, and it is unpredictable (``mkstemp``), so nobody can plant it in advance.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomically(path: str, data: str, mode: int = 0o644) -> None:
    """Write ``data`` (UTF-8) to ``path`` by temp file + rename; ``mode`` is the file's.

    ``mkstemp`` creates files readable by their owner only; a ``.prom`` file must be readable
    by node_exporter's own user, hence the explicit mode (the state files pass 0o600).
    Raises :class:`OSError` when the directory cannot be written; the temporary file is
    removed then.
    """
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
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
