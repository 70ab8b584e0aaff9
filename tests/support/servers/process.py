"""Stopping a test server: ask politely, then insist, and never leave a zombie behind."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process(
    proc: subprocess.Popen[bytes] | None, timeout: float = 5.0, group: bool = False
) -> None:
    """SIGTERM (to the whole process group when ``group``), SIGKILL after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
