"""A loopback server that answers with raw bytes, for what a polite HTTP server never sends."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

from pkglist.testing import Emulator, Request

#: Answer one request (its head, up to the blank line); False closes the connection.
Handler = Callable[[socket.socket, bytes], bool]


class RawServer:
    """Serves each connection on a thread; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = connection.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                with self._lock:
                    self.requests += 1
                try:
                    if not self.handler(connection, head):
                        return
                except OSError:
                    return

    def close(self) -> None:
        self.listener.close()


@contextlib.contextmanager
def serve_raw(handler: Handler) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.close()


def response(body: bytes, *, status: str = "200 OK", headers: tuple[str, ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.contextmanager
def serve_emulator_raw(
    emulator: Emulator,
    *,
    close_after: int | None = None,
    answer_twice: Callable[[Request], bool] | None = None,
) -> Iterator[RawServer]:
    """``emulator`` on a raw server. ``close_after``: each connection is closed after that many
    requests, the last answer saying ``Connection: close`` (nginx's ``keepalive_requests``).
    ``answer_twice``: requests it selects are answered twice on their connection, so the
    next request there gets the stale copy (a gateway that desynchronised the connection)."""
    per_connection = threading.local()  # each connection has a thread of its own
    urls: list[str] = []

    def handle(connection: socket.socket, head: bytes) -> bool:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in header_lines)}
        request = Request.from_target(method, target, headers, b"", urls[0])
        answer = emulator.handle(request)
        served = per_connection.served = getattr(per_connection, "served", 0) + 1
        closing = close_after is not None and served >= close_after
        extra = [f"{name}: {value}" for name, value in answer.headers if name.lower() != "content-length"]
        if closing:
            extra.append("Connection: close")
        payload = response(answer.body, status=f"{answer.status} X", headers=tuple(extra))
        if answer_twice is not None and answer_twice(request):
            payload += payload
        connection.sendall(payload)
        return not closing

    server = RawServer(handle)
    urls.append(server.url)
    try:
        yield server
    finally:
        server.close()
