"""The HTTP client at the edges of the network, over real loopback sockets: bodies framed and
encoded every way HTTP allows, big heads, dropped keep-alive connections, deadlines, caps, and
the sync API keeping I/O running while its caller works."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
import zlib
from typing import Any

import httpx
import pytest

import pkglist
from pkglist._client import Client
from pkglist.testing import serve
from tests.support.rawserver import RawServer, response, serve_emulator_raw, serve_raw

from .toy import TOY_KEY, ToyEmulator, manager

MANAGER = manager()
BODY = {"ok": True, "items": list(range(50))}


def send(server: RawServer, count: int = 1, **options: Any) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        settings: dict[str, Any] = {"timeout": 5.0, "max_body_bytes": 1 << 20, **options}
        async with Client(base_url=server.url, auth=httpx.Auth(), concurrency=2, **settings) as client:
            return [await client.send(httpx.Request("GET", f"{server.url}/{n}")) for n in range(count)]

    return asyncio.run(run())


def toy(server: Any, style: str = "numbered", **options: Any) -> list[pkglist.Package]:
    options = {"base_url": server.url, "api_key": TOY_KEY, "team": "core", "retry_backoff": 0.001, **options}
    return list(pkglist.iter_packages("toy", style, manager=MANAGER, **options))


def answer(payload: bytes) -> Any:
    def handle(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(payload)
        return True

    return handle


# Framing and encoding ---------------------------------------------------------------------------


def test_compression_is_asked_for_and_decoded() -> None:
    heads: list[bytes] = []
    packed = gzip.compress(json.dumps(BODY).encode())

    def handle(connection: socket.socket, head: bytes) -> bool:
        heads.append(head.lower())
        connection.sendall(response(packed, headers=("Content-Encoding: gzip",)))
        return True

    with serve_raw(handle) as server:
        [got] = send(server)
    assert got.json() == BODY
    assert b"accept-encoding: gzip, deflate, br, zstd" in heads[0]
    assert "content-encoding" not in got.headers  # the page holds the decoded body


@pytest.mark.parametrize(
    ("encoding", "pack"), [("gzip", gzip.compress), ("deflate", zlib.compress)], ids=["gzip", "deflate"]
)
def test_compressed_bodies_sent_unasked_are_decoded(encoding: str, pack: Any) -> None:
    payload = response(pack(json.dumps(BODY).encode()), headers=(f"Content-Encoding: {encoding}",))
    with serve_raw(answer(payload)) as server:
        assert [r.json() for r in send(server, 2)] == [BODY, BODY]


def test_chunked_bodies_with_trailers_are_reassembled() -> None:
    payload = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        b'5\r\n{"a":\r\n3\r\n[1]\r\n1\r\n}\r\n0\r\nX-Checksum: abc\r\n\r\n'
    )
    with serve_raw(answer(payload)) as server:
        responses = send(server, 3)
    assert [r.json() for r in responses] == [{"a": [1]}] * 3
    assert server.connections == 1  # the connection stayed usable after the trailer


def test_informational_responses_before_the_answer_are_skipped() -> None:
    payload = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + response(
        b'{"ok":true}'
    )
    with serve_raw(answer(payload)) as server:
        assert [r.json() for r in send(server, 2)] == [{"ok": True}] * 2


def test_an_http_1_0_body_ends_at_close() -> None:
    def handle(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps(BODY).encode()
        )
        return False

    with serve_raw(handle) as server:
        responses = send(server, 2)
    assert [r.json() for r in responses] == [BODY, BODY]
    assert server.connections == 2


@pytest.mark.parametrize("size", [20 * 1024, 64 * 1024])
def test_a_big_response_head_in_small_segments_is_read(size: int) -> None:
    cookie = "Set-Cookie: " + "c" * (size - 100)
    payload = response(b'{"ok":true}', headers=(cookie,))

    def handle(connection: socket.socket, head: bytes) -> bool:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(payload), 1400):
            connection.sendall(payload[start : start + 1400])
            time.sleep(0.001)
        return True

    with serve_raw(handle) as server:
        [got] = send(server)
    assert got.json() == {"ok": True}
    assert len(got.headers["set-cookie"]) == size - 100


# Keep-alive ------------------------------------------------------------------------------------


def test_connections_are_kept_alive_and_reused() -> None:
    with serve_raw(answer(response(b'{"ok":true}'))) as server:
        responses = send(server, 5)
    assert server.connections == 1
    assert all(r.elapsed.total_seconds() >= 0 for r in responses)


def test_a_server_closing_each_connection_after_3_requests_loses_nothing_without_retries() -> None:
    emulator = ToyEmulator(packages=200)
    with serve_emulator_raw(emulator, close_after=3) as server:
        packages = toy(server, page_size=5, concurrency=8, retries=0)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items]
    assert server.connections >= 40 // 3
    assert server.requests == 40


# Deadlines and caps ------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_dripping_body_fails_each_attempt_at_the_deadline() -> None:
    def drip(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        for _ in range(1000):
            connection.sendall(b" ")
            time.sleep(0.5)
        return False

    with serve_raw(drip) as server, pytest.raises(pkglist.NetworkError) as caught:
        toy(server, timeout=1, retries=1)
    message = str(caught.value)
    assert "gave up after 2 attempts" in message
    assert "no complete response within the 1s deadline" in message
    assert server.requests == 2


@pytest.mark.timeout(30)
def test_an_endless_body_stops_at_the_cap() -> None:
    def endless(connection: socket.socket, head: bytes) -> bool:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
        while True:
            connection.sendall(chunk)

    with serve_raw(endless) as server, pytest.raises(pkglist.ProtocolError) as caught:
        toy(server, max_page_bytes=1 << 20)
    assert "response body larger than 1048576 bytes" in str(caught.value)
    assert "--max-page-bytes" in str(caught.value)
    assert server.requests == 1  # a body over the cap is not worth another try


def test_a_cap_below_the_page_is_the_only_problem_reported() -> None:
    emulator = ToyEmulator(packages=30)
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="larger than 100 bytes"):
        toy(server, max_page_bytes=100)


# The sync API ----------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_slow_sync_consumer_does_not_make_requests_time_out() -> None:
    """The event loop runs on its own thread: requests in flight finish while the caller works."""
    emulator = ToyEmulator(packages=40)
    with serve(emulator, latency=0.1) as server:
        listed: list[str] = []
        iterator = pkglist.iter_packages(
            "toy",
            "numbered",
            manager=MANAGER,
            base_url=server.url,
            api_key=TOY_KEY,
            team="core",
            page_size=5,
            concurrency=4,
            timeout=0.5,
            retries=0,
        )
        for index, package in enumerate(iterator):
            listed.append(package.id)
            if index % 5 == 0:
                time.sleep(0.75)  # longer than the timeout, once per page
    assert listed == [item["id"] for item in emulator.items]
    assert len([r for r in server.requests if "/teams/" in r.path]) == 8


def test_leaving_the_loop_early_stops_the_engine_thread_and_closes_connections() -> None:
    emulator = ToyEmulator(packages=200)
    before = {thread.ident for thread in threading.enumerate()}
    with serve(emulator, latency=0.02) as server:
        iterator = pkglist.iter_packages(
            "toy", "numbered", manager=MANAGER, base_url=server.url, api_key=TOY_KEY, team="core", page_size=5
        )
        first = next(iterator)
        iterator.close()
        requests_at_close = len(server.requests)
        time.sleep(0.2)
        assert len(server.requests) == requests_at_close  # nothing more went out
    assert first.id == emulator.items[0]["id"]
    assert {thread.ident for thread in threading.enumerate()} <= before | {None}


def test_an_engine_error_arrives_on_the_callers_thread_with_its_traceback() -> None:
    emulator = ToyEmulator(packages=10, team="other")
    with serve(emulator) as server, pytest.raises(pkglist.NotFoundError) as caught:
        toy(server)
    frames = [frame.name for frame in caught.traceback]
    assert "_response" in frames or "_fetch" in frames  # the engine's frames came along


def test_no_reference_cycle_keeps_a_page_alive() -> None:
    """httpx ties a streamed response to its stream in a cycle; the client cuts it, so a page's
    bytes go as soon as the page is done with, without the cyclic collector."""
    import gc
    import weakref

    streamed: list[weakref.ref[httpx.Response]] = []
    handed_on: list[weakref.ref[httpx.Response]] = []

    async def remember(response: httpx.Response) -> None:
        streamed.append(weakref.ref(response))

    async def run(url: str) -> None:
        async with Client(
            base_url=url, auth=httpx.Auth(), concurrency=1, timeout=5, max_body_bytes=1 << 20
        ) as client:
            client._pools[0].event_hooks["response"].append(remember)
            for _ in range(3):
                page = await client.send(httpx.Request("GET", url))
                assert page.json() == BODY
                handed_on.append(weakref.ref(page))
                del page

    with serve_raw(answer(response(json.dumps(BODY).encode()))) as server:
        gc.collect()
        gc.disable()
        try:
            asyncio.run(run(server.url))
            alive = [ref for ref in streamed + handed_on if ref() is not None]
        finally:
            gc.enable()
    assert len(streamed) == len(handed_on) == 3
    assert alive == []
