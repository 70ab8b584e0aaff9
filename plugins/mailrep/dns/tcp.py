"""The TCP retry of a truncated UDP answer (RFC 7766): one blocking exchange.

A truncated answer may lack the very record that says "listed", so it is never used; the
question is asked again over TCP at the server that sent it, and anything short of a whole,
matching answer is an error of the question. Truncation is rare for DNSBL answers, so this
is plain blocking code bounded by the question's own time limit rather than part of the
resolver's event loop.
"""

from __future__ import annotations

import errno
import random
import socket

from mailrep.dns import wire as dnswire

_RNG = random.SystemRandom()


def os_error_text(exc: OSError) -> str:
    """A network failure in a few words, as the plugins print it."""
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"network error: {exc.strerror or exc}"


def ask_over_tcp(
    host: str,
    port: int,
    question: tuple[str, int],
    recursion: bool,
    timeout: float,
) -> dnswire.Response | str:
    """The whole answer to ``question`` (name, type) over TCP, or why there is none."""
    if timeout <= 0:
        return "truncated answer, no time left for the TCP retry"
    name, rdtype = question
    qid = _RNG.randrange(65536)
    wire = dnswire.build_query(qid, name, rdtype, recursion)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(len(wire).to_bytes(2, "big") + wire)
            data = _recv_exact(conn, int.from_bytes(_recv_exact(conn, 2), "big"))
        response = dnswire.parse_response(data, dnswire.question_bytes(wire))
    except OSError as exc:
        return f"truncated answer, TCP retry failed: {os_error_text(exc)}"
    except dnswire.WireError as exc:
        return f"truncated answer, TCP retry gave a malformed answer ({exc})"
    if response.qid != qid or response.truncated:
        return "truncated answer, TCP retry gave no complete answer"
    return response


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf
