"""The lean transport against servers that do what real ones do: reuse, drop, chunk, stall."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from pkglist._http import make_session
from pkglist._transport import LeanTransport

Handler = Callable[[socket.socket, bytes], bool]  # answer one request; False closes the connection


class RawServer:
    """A loopback server that answers with raw bytes, counting connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = connection.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                if not self.handler(connection, head):
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


def ok(body: bytes = b'{"ok":true}') -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


def fetch_all(url: str, count: int, **timeouts: float) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = LeanTransport(tls=lambda: pytest.fail("no TLS here"), max_connections=2)
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, **timeouts)) as client:
            return [await client.get(f"{url}/{n}") for n in range(count)]

    return asyncio.run(run())


@pytest.fixture
def keep_alive() -> Iterator[RawServer]:
    with serve_raw(lambda connection, head: connection.sendall(ok()) is None) as server:
        yield server


def test_connections_are_kept_alive_and_reused(keep_alive: RawServer) -> None:
    responses = fetch_all(keep_alive.url, 5)
    assert [r.json() for r in responses] == [{"ok": True}] * 5
    assert keep_alive.connections == 1
    assert responses[0].elapsed.total_seconds() >= 0


def test_a_keep_alive_connection_the_server_dropped_is_replaced_without_an_error() -> None:
    def answer_then_hang_up(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(ok())  # no "Connection: close": the client believes it can reuse it
        return False

    with serve_raw(answer_then_hang_up) as server:
        assert len(fetch_all(server.url, 4)) == 4
        assert server.connections == 4


def test_chunked_bodies_are_reassembled() -> None:
    def chunked(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"a":\r\n3\r\n[1]\r\n1\r\n}\r\n0\r\n\r\n'
        )
        return True

    with serve_raw(chunked) as server:
        assert fetch_all(server.url, 2)[1].json() == {"a": [1]}


def test_a_response_cut_short_is_a_protocol_error() -> None:
    def cut(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial"')
        return False

    with serve_raw(cut) as server, pytest.raises(httpx.RemoteProtocolError):
        fetch_all(server.url, 1)


def test_garbage_is_a_protocol_error() -> None:
    def garbage(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        return False

    with serve_raw(garbage) as server, pytest.raises(httpx.RemoteProtocolError):
        fetch_all(server.url, 1)


def test_a_silent_server_is_a_read_timeout() -> None:
    silent = serve_raw(lambda connection, head: threading.Event().wait(2) or False)
    with silent as server, pytest.raises(httpx.ReadTimeout):
        fetch_all(server.url, 1, read=0.2)


def test_a_closed_port_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        fetch_all(f"http://127.0.0.1:{port}", 1)


def test_a_proxy_in_the_environment_is_used_except_for_no_proxy_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    auth = httpx.Auth()
    direct = make_session(auth=auth, concurrency=2, timeout=5)
    assert isinstance(direct._transport_for(httpx.URL("https://api.example.org/")), LeanTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.org")
    proxied = make_session(auth=auth, concurrency=2, timeout=5)
    assert isinstance(proxied._transport_for(httpx.URL("https://api.example.org/")), httpx.AsyncHTTPTransport)
    assert isinstance(proxied._transport_for(httpx.URL("https://internal.example.org/")), LeanTransport)
    assert isinstance(proxied._transport_for(httpx.URL("http://api.example.org/")), LeanTransport)


def test_the_session_keeps_no_reference_cycle_so_bodies_are_freed_at_once(keep_alive: RawServer) -> None:
    """httpx's client ties each response to its stream in a cycle; a listing would keep every
    page's body until the cyclic collector ran."""
    import gc
    import weakref

    async def one() -> weakref.ref[httpx.Response]:
        async with make_session(auth=httpx.Auth(), concurrency=1, timeout=5) as session:
            response = await session.send(httpx.Request("GET", keep_alive.url))
            assert response.json() == {"ok": True}
            assert response.elapsed.total_seconds() >= 0
            return weakref.ref(response)

    gc.disable()
    try:
        assert asyncio.run(one())() is None
    finally:
        gc.enable()
