"""The Received header values of a raw message, read within fixed bounds.

A hostile message may carry megabytes of headers or thousands of Received lines; reading
stops at :data:`MAX_HEADER_BYTES` and :data:`MAX_HOPS`, so it costs no more than a normal one.
"""

from __future__ import annotations

from mailrep.relay.received import unfold

#: How much of a message's header block :func:`received_headers` reads.
MAX_HEADER_BYTES = 256 * 1024
#: How many Received values :func:`received_headers` returns (RFC 5321 loop limit is ~100).
MAX_HOPS = 100


def received_headers(message: bytes | str) -> list[str]:
    """Received values (unfolded, top first) from a raw message or header block.

    Reads at most :data:`MAX_HEADER_BYTES` of headers and returns at most :data:`MAX_HOPS`
    values, so a hostile message costs no more than a normal one.
    """
    if isinstance(message, bytes | bytearray):
        text = bytes(message[:MAX_HEADER_BYTES]).decode("utf-8", errors="replace")
    else:
        text = str(message)[:MAX_HEADER_BYTES]
    values: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.strip():
            break  # end of the header block
        if line[0] in " \t":
            if current is not None:
                current.append(line)
            continue
        if current is not None:
            values.append(unfold("\n".join(current)))
            current = None
            if len(values) >= MAX_HOPS:
                return values
        name, colon, rest = line.partition(":")
        if colon and name.strip().lower() == "received":
            current = [rest]
    if current is not None and len(values) < MAX_HOPS:
        values.append(unfold("\n".join(current)))
    return values
