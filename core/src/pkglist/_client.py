"""How requests leave: one ``httpx.AsyncClient`` per listing run.

httpx brings the connection pool, proxies from the environment (``HTTP(S)_PROXY``,
``ALL_PROXY``, ``NO_PROXY``), TLS, compression and the auth flow. On top of it,
:class:`Client` adds what a listing needs at the edges of a real network:

* one deadline for a whole exchange (connect, send, head and body, redirects
  included), so a body that drips or never ends fails the attempt in time;
* a cap on a page body's decoded size, so an endless body cannot fill memory;
* same-origin redirects for ``GET``/``HEAD`` (at most :data:`MAX_REDIRECTS`), and a
  clear refusal of any redirect to another origin, before anything is sent there;
* every credential value sent remembered (``secrets``), so errors and debug logs
  can redact it.

Each page is read whole and handed on as a fresh :class:`httpx.Response` over a
plain byte stream. The streamed response httpx returned references its stream
and the stream references it back; that cycle is cut once the body is read, so a
page's bytes are freed as soon as the page is done with, without waiting for the
cyclic garbage collector.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import ssl
import time
import warnings
from collections.abc import Iterable

import httpx

from ._errors import PkglistWarning, ProtocolError, UsageError
from ._urls import origin_of

__all__ = ["MAX_REDIRECTS", "Client", "InsecureWarning", "origin_text"]

logger = logging.getLogger("pkglist")

USER_AGENT = "pkglist"
MAX_REDIRECTS = 5
#: Connections per httpx pool (see Client.__init__).
POOL_CONNECTIONS = 8
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "proxy-authorization", "cookie"})
#: Headers that describe the bytes on the wire, not the decoded body a page holds.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class InsecureWarning(PkglistWarning):
    """TLS verification was turned off."""


class BodyTooLargeError(ProtocolError):
    """A response body grew past the configured cap."""


class Client:
    """Sends one listing run's requests; use it as an async context manager.

    ``timeout`` bounds each exchange as a whole; ``max_body_bytes`` bounds a
    decoded body. TLS is verified by default against ``ca_bundle``, else
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, else certifi's store; ``insecure``
    (or ``verify=False`` from a provider's connection) turns it off, with a
    warning. ``transport`` replaces the network (``httpx.MockTransport`` in
    unit tests); without one, proxies come from the environment.
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        concurrency: int,
        timeout: float,
        max_body_bytes: int,
        ca_bundle: str | None = None,
        insecure: bool = False,
        verify: bool = True,
        secrets: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        verifying = verify and not insecure
        if not verifying:
            warnings.warn("TLS certificate verification is disabled", InsecureWarning, stacklevel=2)
        self._base_url = httpx.URL(base_url)
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        #: Every credential value sent so far (a refreshed token included), for redaction.
        self.secrets: set[str] = {secret for secret in secrets if secret}
        # httpx's pool scans all its connections for every request it places, so its CPU per
        # request grows with the pool: many requests in flight go to a few small pools instead
        # (each request to the least busy one), as many as the concurrency needs.
        pools = 1 if transport is not None else -(-concurrency // POOL_CONNECTIONS)
        size = min(concurrency, POOL_CONNECTIONS) if pools > 1 else concurrency
        context = ssl_context(ca_bundle if verifying else None, verifying)
        self._pools = [
            httpx.AsyncClient(
                auth=auth,
                headers={"user-agent": USER_AGENT, "accept": "application/json"},
                timeout=timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                verify=context,
                transport=transport,
                follow_redirects=False,
                event_hooks={"request": [self._on_request], "response": [self._on_response]},
            )
            for _ in range(pools)
        ]
        self._busy = [0] * pools
        # httpx applies its default headers (Accept-Encoding among them) when it
        # builds a request; providers build their own, so they are added in send().
        self._headers = list(self._pools[0].headers.items())
        self._timeouts = httpx.Timeout(timeout).as_dict()

    async def __aenter__(self) -> Client:
        for pool in self._pools:
            await pool.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for pool in self._pools:
            await pool.aclose()

    async def send(self, request: httpx.Request) -> httpx.Response:
        """The response to ``request`` with its body read and decoded, redirects followed.

        Raises ``httpx.TimeoutException`` past the deadline, :class:`ProtocolError`
        for a refused redirect or a body over the cap, and httpx's transport errors.
        """
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(request)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"no complete response within the {self.timeout:g}s deadline", request=request
            ) from None

    async def _follow(self, request: httpx.Request) -> httpx.Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._exchange(request)
            location = response.headers.get("location")
            if (
                response.status_code not in _REDIRECTS
                or request.method not in ("GET", "HEAD")
                or not location
            ):
                return response
            request = self._redirected(request, response, location)
        raise ProtocolError(f"more than {MAX_REDIRECTS} redirects, the last to {_shown(request.url)}")

    def _redirected(self, request: httpx.Request, response: httpx.Response, location: str) -> httpx.Request:
        try:
            target = request.url.join(location)
        except httpx.InvalidURL:
            raise ProtocolError(
                f"HTTP {response.status_code} redirect to an invalid Location {location!r:.100}"
            ) from None
        if origin_of(target) != origin_of(request.url):
            text = (
                f"HTTP {response.status_code} redirect to {_shown(target)} refused: "
                "it leaves the configured origin, and credentials are only sent there"
            )
            if request.url.scheme == "http" and target.scheme == "https" and target.host == request.url.host:
                https_base = self._base_url.copy_with(scheme="https", port=target.port)
                text += f"; the server wants https: use --base-url {str(https_base).rstrip('/')}"
            raise ProtocolError(text)
        headers = httpx.Headers(request.headers)
        headers.pop("host", None)  # set again for the new URL (same origin, so the same value)
        return httpx.Request(request.method, target, headers=headers, extensions=request.extensions)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        for name, value in self._headers:
            request.headers.setdefault(name, value)
        request.extensions.setdefault("timeout", self._timeouts)
        started = time.perf_counter()
        index = self._busy.index(min(self._busy))  # the least busy pool, until the body is read
        self._busy[index] += 1
        try:
            streamed = await self._pools[index].send(request, stream=True)
            chunks = await self._body(streamed)
        finally:
            self._busy[index] -= 1
        headers = [
            (name, value) for name, value in streamed.headers.multi_items() if name not in _WIRE_HEADERS
        ]
        response = httpx.Response(
            streamed.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=streamed.request,
            extensions={
                key: value
                for key, value in streamed.extensions.items()
                if key in ("http_version", "reason_phrase")
            },
        )
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
        return response

    async def _body(self, streamed: httpx.Response) -> list[bytes]:
        """The decoded body, read whole under the cap; the response is closed after."""
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in streamed.aiter_bytes():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise BodyTooLargeError(
                        f"response body larger than {self.max_body_bytes} bytes "
                        "(raise the cap with --max-page-bytes / max_page_bytes)"
                    )
                chunks.append(chunk)
        finally:
            await streamed.aclose()
            streamed.stream = httpx.ByteStream(b"")  # cut the response <-> stream cycle
        return chunks

    # Every exchange passes these hooks, those of an auth flow (a token refresh) included.

    async def _on_request(self, request: httpx.Request) -> None:
        self.secrets |= header_secrets(request)
        request.extensions["pkglist.sent"] = time.perf_counter()

    async def _on_response(self, response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            sent = response.request.extensions.get("pkglist.sent", time.perf_counter())
            log_exchange(response.request, response.status_code, time.perf_counter() - sent, self.secrets)


@functools.cache
def _certifi_store() -> str:
    import certifi

    return certifi.where()


def ssl_context(ca_bundle: str | None, verify: bool) -> ssl.SSLContext:
    import os

    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    cafile = ca_bundle or os.environ.get("SSL_CERT_FILE")
    capath = None if ca_bundle else os.environ.get("SSL_CERT_DIR")
    if not cafile and not capath:
        cafile = _certifi_store()
    try:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    except (OSError, ssl.SSLError) as exc:
        source = "--ca-bundle" if ca_bundle else "SSL_CERT_FILE/SSL_CERT_DIR"
        raise UsageError(f"cannot load CA certificates from {source}: {exc.strerror or exc}") from None


def origin_text(url: httpx.URL) -> str:
    scheme, host, port = origin_of(url)
    return f"{scheme}://{host}:{port}"


def _shown(url: httpx.URL) -> str:
    """A URL for a message: no user info, query or fragment (they may hold secrets)."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


# Secrets and debug logging ----------------------------------------------------------------


def header_secrets(request: httpx.Request) -> set[str]:
    """The credential values a request carries (``bearer <token>`` yields the token too)."""
    found = set()
    for name in _SECRET_HEADERS:
        value = request.headers.get(name)
        if value:
            found.add(value)
            _, _, rest = value.partition(" ")
            if rest.strip():
                found.add(rest.strip())
    return found


def log_exchange(request: httpx.Request, status: int, seconds: float, secrets: Iterable[str]) -> None:
    """One debug line per exchange: the request (credentials redacted), the status and the
    time to the response's head."""
    from .text import redact

    known = tuple(secrets)
    headers = {
        key: "[redacted]" if key.lower() in _SECRET_HEADERS else redact(value, known)
        for key, value in request.headers.items()
    }
    logger.debug(
        "%s %s %s -> %d in %.3fs", request.method, redact(str(request.url), known), headers, status, seconds
    )
