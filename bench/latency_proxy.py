"""A UDP DNS proxy that adds a fixed delay to every answer (a far-away blocklist on loopback).

Usage: python bench/latency_proxy.py LISTEN_HOST LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_MS

Queries are forwarded at once over one upstream socket (message ids rewritten so clients
cannot collide); each answer is held back DELAY_MS before it goes to its client. A client
that asks everything in parallel pays one delay, a client that asks in batches one per
batch. The proxy itself does no per-query set-up, so bursts are not penalised.
"""

from __future__ import annotations

import itertools
import selectors
import socket
import sys
import time
from collections import deque


def main(host: str, port: int, up_host: str, up_port: int, delay_ms: float) -> None:
    delay = delay_ms / 1000
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind((host, port))
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.connect((up_host, up_port))
    for s in (listen, upstream):
        s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listen, selectors.EVENT_READ, "client")
    sel.register(upstream, selectors.EVENT_READ, "upstream")
    ids = itertools.cycle(range(65536))
    waiting: dict[int, tuple[bytes, tuple]] = {}  # our id -> (client id bytes, client addr)
    held: deque[tuple[float, bytes, tuple]] = deque()  # FIFO: the delay is the same for all
    print("ready", flush=True)
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        for key, _ in sel.select(timeout):
            while True:
                try:
                    data, addr = key.fileobj.recvfrom(65535)  # type: ignore[union-attr]
                except BlockingIOError:
                    break
                if len(data) < 12:
                    continue
                if key.data == "client":
                    our = next(ids)
                    waiting[our] = (data[:2], addr)
                    upstream.send(our.to_bytes(2, "big") + data[2:])
                else:
                    entry = waiting.pop(int.from_bytes(data[:2], "big"), None)
                    if entry is not None:
                        held.append((time.monotonic() + delay, entry[0] + data[2:], entry[1]))
        now = time.monotonic()
        while held and held[0][0] <= now:
            _due, data, addr = held.popleft()
            listen.sendto(data, addr)


if __name__ == "__main__":
    h, p, uh, up, d = sys.argv[1:6]
    main(h, int(p), uh, int(up), float(d))
