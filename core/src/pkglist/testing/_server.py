"""Serve an emulator on a real loopback socket, with latency, limited capacity and faults.

The server is threaded (one thread per connection), speaks HTTP/1.1 with
keep-alive and sets ``TCP_NODELAY``, so a latency added per response is the
latency a client measures. With a capacity, requests beyond it wait their turn
in arrival order, as they do at a real server with a fixed pool of workers.
"""

from __future__ import annotations

import random
import socket
import ssl
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from ._emulator import Emulator, Request, Response

__all__ = ["EmulatorServer", "Faults", "RecordedRequest", "serve"]


@attrs.frozen
class Faults:
    """Faults injected in front of an emulator, each with its own probability.

    ``statuses`` maps an HTTP status (503, 429, ...) to the chance a request
    gets it instead of the emulator's answer (429 and 503 carry
    ``Retry-After: retry_after``). ``drop_before`` closes the connection
    without a response, ``drop_mid_body`` after half the body, ``truncate``
    sends half the body with a matching ``Content-Length`` (a truncated JSON
    document), ``slow`` delays the response by ``slow_seconds``. Only requests
    whose path contains ``only_paths`` (if given) are affected. The same
    ``seed`` gives the same sequence of decisions.
    """

    statuses: Mapping[int, float] = attrs.field(factory=dict)
    retry_after: str | None = "0"
    drop_before: float = 0.0
    drop_mid_body: float = 0.0
    truncate: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    only_paths: str | None = None
    seed: int = 0


@attrs.frozen
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]


class EmulatorServer:
    """A running loopback server; use as a context manager (see :func:`serve`).

    ``url`` is where to reach it, ``requests`` what it received (most recent
    last; header values as sent, for assertions on credentials), ``injected``
    a count of the faults it injected by kind (``"throttled"`` for the 429s of
    ``throttle_above``), ``max_in_flight`` the most requests it was handling at
    once (``in_flight`` now), ``max_queued`` the most waiting for a place
    (``queued`` now). ``latency`` and ``faults`` can be changed while it runs.

    ``capacity`` handles at most that many requests at once (the emulator's
    answer and the latency); the rest wait in arrival order, so latency grows
    with the queue. ``throttle_above`` answers 429, with ``Retry-After:
    throttle_retry_after``, to a request that arrives while that many are
    already at the server (handled and waiting).
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
        external_url: str | None = None,
        record: int = 10_000,
        certificate: tuple[str, str] | None = None,
        capacity: int | None = None,
        throttle_above: int | None = None,
        throttle_retry_after: str = "1",
    ) -> None:
        for name, value in (("capacity", capacity), ("throttle_above", throttle_above)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        self.emulator = emulator
        self.latency = latency
        self.faults = faults
        self.capacity = capacity
        self.throttle_above = throttle_above
        self.throttle_retry_after = throttle_retry_after
        self.requests: deque[RecordedRequest] = deque(maxlen=record)
        self.injected: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_queued = 0
        #: Requests waiting for a place, first come first in.
        self._waiting: deque[threading.Event] = deque()
        self._lock = threading.Lock()
        self._random = random.Random(faults.seed if faults else 0)
        self._httpd = _Server((host, port), _handler_for(self))
        scheme = "http"
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"{scheme}://{_url_host(str(bound_host))}:{bound_port}"
        self.external_url = (external_url or self.url).rstrip("/")
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> int:
        """Requests waiting for a place now (with a ``capacity``)."""
        return len(self._waiting)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (``pkglist emulate``)."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, faults: Faults | None) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed if faults else 0)

    def _arrive(self) -> bool:
        """Wait for a place to handle the request in; ``False`` if it is throttled instead."""
        with self._lock:
            if self.throttle_above is not None and self.in_flight + len(self._waiting) >= self.throttle_above:
                self.injected["throttled"] += 1
                return False
            if self.capacity is None or (self.in_flight < self.capacity and not self._waiting):
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                return True
            turn = threading.Event()
            self._waiting.append(turn)
            self.max_queued = max(self.max_queued, len(self._waiting))
        turn.wait()  # the request that leaves hands its place on
        return True

    def _leave(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self.in_flight -= 1

    def _decide(self, path: str) -> str | None:
        faults = self.faults
        if faults is None or (faults.only_paths is not None and faults.only_paths not in path):
            return None
        with self._lock:
            roll = self._random.random()
        for kind, chance in (
            *((str(status), rate) for status, rate in faults.statuses.items()),
            ("drop_before", faults.drop_before),
            ("drop_mid_body", faults.drop_mid_body),
            ("truncate", faults.truncate),
            ("slow", faults.slow),
        ):
            if roll < chance:
                with self._lock:
                    self.injected[kind] += 1
                return kind
            roll -= chance
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, cancelled page) leaves a broken pipe: not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _handler_for(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "pkglist-emulator"
        sys_version = ""

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            request = Request.from_target(self.command, self.path, headers, body, server.external_url)
            server.requests.append(
                RecordedRequest(request.method, request.path, request.query, request.headers)
            )
            if not server._arrive():
                self._write(_throttled_response(server), None)
                return
            try:
                fault, response = self._handle(request)
            finally:
                server._leave()  # before writing: the place is free once the answer is ready
            if response is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._write(response, fault)

        def _handle(self, request: Request) -> tuple[str | None, Response | None]:
            """The fault decided for the request and the answer to it (``None``: drop the connection)."""
            fault = server._decide(request.path)
            if fault == "drop_before":
                return fault, None
            if fault is not None and fault.isdigit():
                response = _fault_response(int(fault), server.faults)
            else:
                try:
                    response = server.emulator.handle(request)
                except Exception as exc:  # noqa: BLE001 - an emulator bug is a 500, not a hung client
                    response = Response.json({"message": f"emulator error: {exc!r}"}, status=500)
            delay = server.latency + (server.faults.slow_seconds if fault == "slow" and server.faults else 0)
            if delay:
                time.sleep(delay)
            return fault, response

        def _write(self, response: Response, fault: str | None) -> None:
            payload = response.body
            if fault == "truncate" and payload:
                payload = payload[: len(payload) // 2]
            self.send_response(response.status)
            for key, value in response.headers:
                self.send_header(key, value)
            self.send_header(
                "Content-Length", str(len(response.body if fault == "drop_mid_body" else payload))
            )
            self.end_headers()
            if fault == "drop_mid_body":
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler


def _throttled_response(server: EmulatorServer) -> Response:
    return Response.json(
        {"message": f"too many requests at once (more than {server.throttle_above})"},
        status=429,
        headers={"Retry-After": server.throttle_retry_after},
    )


def _fault_response(status: int, faults: Faults | None) -> Response:
    headers = {}
    if status in (429, 503) and faults is not None and faults.retry_after is not None:
        headers["Retry-After"] = faults.retry_after
    return Response.json({"message": f"injected fault {status}"}, status=status, headers=headers)


def serve(
    emulator: Emulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    latency: float = 0.0,
    faults: Faults | None = None,
    external_url: str | None = None,
    certificate: tuple[str, str] | None = None,
    capacity: int | None = None,
    throttle_above: int | None = None,
    throttle_retry_after: str = "1",
) -> EmulatorServer:
    """Start ``emulator`` on a loopback port in a background thread.

    ``certificate`` (a certificate chain file and its key file) serves HTTPS.
    ``capacity`` and ``throttle_above`` limit how many requests it takes at
    once (see :class:`EmulatorServer`).

    >>> from pkglist.testing import Response
    >>> class Hello:
    ...     credentials = {}
    ...     def handle(self, request):
    ...         return Response.json({"hello": request.param("name")})
    >>> import httpx
    >>> with serve(Hello()) as server:
    ...     httpx.get(server.url + "/?name=world").json()
    {'hello': 'world'}
    """
    return EmulatorServer(
        emulator,
        host=host,
        port=port,
        latency=latency,
        faults=faults,
        external_url=external_url,
        certificate=certificate,
        capacity=capacity,
        throttle_above=throttle_above,
        throttle_retry_after=throttle_retry_after,
    ).start()
