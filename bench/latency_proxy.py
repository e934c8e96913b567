"""A TCP proxy that adds a fixed round-trip latency: PostgreSQL "on another machine", on loopback.

Each chunk read from one side is written to the other ``delay / 2`` later, in order, in both
directions, so every round trip through the proxy takes ``delay`` longer. It runs as its own
process (``python bench/latency_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS``) and
touches nothing but the sockets it opens: the database server's network is left alone.

Threads rather than an event loop: epoll and libuv wait in whole milliseconds, which would turn
half a millisecond into one or nothing; ``time.sleep`` keeps the delay to within ~0.1 ms.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import sys
import threading
import time


def _forward(src: socket.socket, dst: socket.socket, half: float) -> None:
    pending: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def deliver() -> None:
        while True:
            due, chunk = pending.get()
            if not chunk:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(chunk)
            except OSError:
                break
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=deliver, daemon=True)
    sender.start()
    while True:
        try:
            chunk = src.recv(65536)
        except OSError:
            chunk = b""
        pending.put((time.monotonic() + half, chunk))
        if not chunk:
            break
    sender.join()


def _connection(client: socket.socket, target: tuple[str, int], half: float) -> None:
    try:
        server = socket.create_connection(target)
    except OSError:
        client.close()
        return
    for sock in (client, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_forward, args=(server, client, half), daemon=True)
    back.start()
    _forward(client, server, half)
    back.join()
    client.close()
    server.close()


def serve(listen_port: int, host: str, port: int, delay_ms: float) -> None:
    half = delay_ms / 2000
    listener = socket.create_server(("127.0.0.1", listen_port), backlog=512)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_connection, args=(client, (host, port), half), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
