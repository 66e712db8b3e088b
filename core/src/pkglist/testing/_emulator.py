"""The small request/response model emulators are written against.

An emulator is any object with a ``handle(request) -> Response`` method and a
``credentials`` mapping (what a client must pass, by credential name, to be
let in). It never sees sockets: :func:`pkglist.testing.serve` puts it behind a
real loopback HTTP server, :func:`emulator_transport` behind an in-process
``httpx`` transport for narrow unit tests.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = ["Emulator", "Request", "Response", "emulator_transport"]


@attrs.frozen
class Request:
    """One HTTP request as an emulator sees it.

    ``path`` is the path exactly as sent (still percent-encoded); ``query``
    maps each key to all its values; header names are lower-case;
    ``base_url`` is the URL clients reach the server at (for absolute links).
    """

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    base_url: str = "http://127.0.0.1"

    @classmethod
    def from_target(
        cls, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str
    ) -> Request:
        path, _, query = target.partition("?")
        return cls(
            method=method.upper(),
            path=path,
            query=urllib.parse.parse_qs(query, keep_blank_values=True),
            headers={key.lower(): value for key, value in headers.items()},
            body=body,
            base_url=base_url.rstrip("/"),
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, ()))

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in urllib.parse.parse_qs(self.body.decode()).items()}


@attrs.frozen
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls.raw(body, status, headers, content_type)

    @classmethod
    def text(cls, text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls.raw(text.encode(), status, headers, "text/plain; charset=utf-8")

    @classmethod
    def raw(
        cls,
        body: bytes,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        merged = {"Content-Type": content_type, **(headers or {})}
        return cls(status=status, body=body, headers=tuple(merged.items()))


class Emulator(Protocol):
    """What :func:`pkglist.testing.serve` needs from an emulator."""

    @property
    def credentials(self) -> Mapping[str, str]:
        """Credential values a client must send, by credential name (``{"api_key": "..."}``)."""
        ...

    def handle(self, request: Request) -> Response: ...


def emulator_transport(emulator: Emulator, base_url: str = "http://emulator.test") -> httpx.MockTransport:
    """An in-process ``httpx`` transport in front of ``emulator`` (unit tests only:
    the real proof is :func:`pkglist.testing.serve` over loopback)."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        incoming = Request.from_target(
            request.method, target, dict(request.headers), request.content, base_url
        )
        answer = emulator.handle(incoming)
        return httpx.Response(answer.status, content=answer.body, headers=list(answer.headers))

    return httpx.MockTransport(handler)
