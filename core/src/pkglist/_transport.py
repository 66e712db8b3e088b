"""How requests leave: a lean HTTP/1.1 transport and the session that drives it.

httpx's default async stack (``AsyncClient`` over httpcore on anyio) spent
about 0.6 ms of CPU per request on pool bookkeeping and backend abstraction,
a quarter of a CPU-bound listing of 100-item pages, and its client ties each
response to its stream in a reference cycle, so every page's body waited for
the cyclic garbage collector. pkglist only needs HTTP/1.1 keep-alive GETs (and
a token POST) to one or two origins, so :class:`LeanTransport` does just that
(a small pool of keep-alive connections per origin, bodies read whole,
httpx's exceptions and timeouts) and :class:`Session` sends httpx requests
through it, running an ``httpx.Auth`` flow (every exchange logged with
credentials redacted), without redirects or cookies.
Behind a proxy from the environment it uses httpx's own transport instead.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import timedelta

import h11
import httpx

from ._http import header_secrets, log_exchange

__all__ = ["LeanTransport", "Session"]

_READ_SIZE = 256 * 1024
Origin = tuple[bytes, bytes, int]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof() and self.h11.our_state is h11.IDLE

    def close(self) -> None:
        self.writer.close()


class LeanTransport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 over asyncio; ``max_connections`` per transport."""

    def __init__(self, *, tls: Callable[[], ssl.SSLContext], max_connections: int) -> None:
        self._tls = tls  # built on the first https connection: loading CA certificates takes time
        self._ssl: ssl.SSLContext | None = None
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: defaultdict[Origin, deque[_Connection]] = defaultdict(deque)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection slot free in time", request=request) from None
        try:
            for attempt in range(2):
                connection, reused = await self._connection(origin, request, timeouts)
                try:
                    response = await self._exchange(connection, request, timeouts)
                except _StaleConnection:
                    connection.close()
                    if reused and attempt == 0:
                        continue  # the server dropped an idle keep-alive connection: one fresh try
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response.", request=request
                    ) from None
                except BaseException:
                    connection.close()
                    raise
                if connection.h11.our_state is h11.DONE and connection.h11.their_state is h11.DONE:
                    connection.h11.start_next_cycle()
                    self._idle[origin].append(connection)
                else:
                    connection.close()
                return response
            raise AssertionError("unreachable")
        finally:
            self._slots.release()

    async def _connection(
        self, origin: Origin, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> tuple[_Connection, bool]:
        idle = self._idle[origin]
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection, True
            connection.close()
        scheme, host, port = origin
        secure = scheme == b"https"
        hostname = host.decode("ascii")
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    hostname,
                    port,
                    ssl=self._context() if secure else None,
                    server_hostname=hostname if secure else None,
                    limit=_READ_SIZE,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {hostname}:{port} timed out", request=request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return _Connection(reader, writer), False

    async def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        conversation = connection.h11
        body = request.content
        outgoing = conversation.send(
            h11.Request(method=request.method, target=request.url.raw_path, headers=_headers(request, body))
        )
        if body:
            outgoing += conversation.send(h11.Data(data=body))
        outgoing += conversation.send(h11.EndOfMessage())
        try:
            connection.writer.write(outgoing)
            async with asyncio.timeout(timeouts.get("write")):
                await connection.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("sending the request timed out", request=request) from None
        except OSError as exc:
            raise _StaleConnection from exc
        head: h11.Response | None = None
        chunks: list[bytes] = []
        read_timeout = timeouts.get("read")
        while True:
            try:
                event = conversation.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            if event is h11.NEED_DATA:
                try:
                    async with asyncio.timeout(read_timeout):
                        data = await connection.reader.read(_READ_SIZE)
                except TimeoutError:
                    raise httpx.ReadTimeout("reading the response timed out", request=request) from None
                except OSError as exc:
                    if head is None and not chunks:
                        raise _StaleConnection from exc
                    raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
                if not data and head is None:
                    raise _StaleConnection
                try:
                    conversation.receive_data(data)
                except h11.RemoteProtocolError as exc:
                    raise httpx.RemoteProtocolError(str(exc), request=request) from None
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body", request=request
                )
        assert head is not None
        return httpx.Response(
            head.status_code,
            headers=head.headers,
            stream=httpx.ByteStream(b"".join(chunks)),  # a stream, so that httpx times the exchange
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = self._tls()
        return self._ssl

    async def aclose(self) -> None:
        for connections in self._idle.values():
            while connections:
                connections.pop().close()


class _StaleConnection(Exception):
    """The connection died before the response started."""


def _headers(request: httpx.Request, body: bytes) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = list(request.headers.raw)
    names = {name.lower() for name, _ in headers}
    if body and b"content-length" not in names and b"transfer-encoding" not in names:
        headers.append((b"Content-Length", str(len(body)).encode()))
    return headers


class Session:
    """Sends httpx requests through a transport: default headers, timeouts, an auth flow.

    No redirects are followed and no cookies kept: an API listing wants neither.
    Use it as an async context manager.
    """

    def __init__(
        self,
        *,
        auth: httpx.Auth,
        timeout: float,
        headers: dict[str, str],
        tls: Callable[[], ssl.SSLContext],
        max_connections: int,
        secrets: Iterable[str] = (),
    ) -> None:
        self._auth = auth
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._headers = headers
        self._lean = LeanTransport(tls=tls, max_connections=max_connections)
        self._tls = tls
        self._max_connections = max_connections
        self._proxies: dict[str, httpx.AsyncBaseTransport] = {}
        #: Every credential value sent so far (a refreshed token included), for redaction.
        self.secrets: set[str] = set(secrets)
        proxies = urllib.request.getproxies_environment()
        self._proxy_urls = {scheme: proxies[scheme] for scheme in ("http", "https") if proxies.get(scheme)}

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._lean.aclose()
        for transport in self._proxies.values():
            await transport.aclose()

    def _transport_for(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        proxy = self._proxy_urls.get(url.scheme)
        # proxy_bypass_environment applies NO_PROXY (CPython has it everywhere; typeshed lacks it)
        if proxy is None or urllib.request.proxy_bypass_environment(url.host):  # type: ignore[attr-defined]
            return self._lean
        transport = self._proxies.get(url.scheme)
        if transport is None:
            limits = httpx.Limits(max_connections=self._max_connections)
            transport = httpx.AsyncHTTPTransport(verify=self._tls(), proxy=httpx.Proxy(proxy), limits=limits)
            self._proxies[url.scheme] = transport
        return transport

    async def send(self, request: httpx.Request) -> httpx.Response:
        for name, value in self._headers.items():
            request.headers.setdefault(name, value)
        flow = self._auth.async_auth_flow(request)
        outgoing = await flow.__anext__()
        while True:
            self.secrets |= header_secrets(outgoing)
            response = await self._exchange(outgoing)
            log_exchange(outgoing, response, self.secrets)
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return response

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        request.extensions = {**request.extensions, "timeout": self._timeout}
        started = time.perf_counter()
        response = await self._transport_for(request.url).handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        response.request = request
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        return response
