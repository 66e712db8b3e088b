"""Origin-bound credentials, and error responses turned into pkglist errors."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import httpx

from ._client import origin_text
from ._errors import (
    AuthError,
    BadRequestError,
    NotFoundError,
    ProtocolError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from ._urls import origin_of
from .text import one_line

__all__ = ["OriginAuth", "error_detail", "error_for_status"]

_DETAIL = 300  # characters of a provider's error text kept in a message

USER_AGENT = "pkglist"


class OriginAuth(httpx.Auth):
    """Attach credential headers to requests for one origin only.

    A request for any other origin is refused before it is sent, so a
    credential can never leave the origin the user configured.
    """

    def __init__(self, origin_url: str, headers: Mapping[str, str], inner: httpx.Auth | None = None):
        self.origin = origin_of(origin_url)
        self._headers = dict(headers)
        self._inner = inner
        self.requires_response_body = bool(inner and inner.requires_response_body)

    def __repr__(self) -> str:
        return f"OriginAuth(origin={self.origin!r}, headers=<redacted>)"

    def _check(self, request: httpx.Request) -> None:
        if origin_of(request.url) != self.origin:
            raise ProtocolError(
                f"refusing to send a request to {origin_text(request.url)}: "
                "credentials are only sent to the configured origin"
            )

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._check(request)
        request.headers.update(self._headers)
        if self._inner is None:
            yield request
        else:
            yield from self._inner.sync_auth_flow(request)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._check(request)
        request.headers.update(self._headers)
        if self._inner is None:
            yield request
            return
        flow = self._inner.async_auth_flow(request)
        response = yield await flow.__anext__()
        while True:
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return
            response = yield outgoing


# Error responses ----------------------------------------------------------------------


def error_detail(response: httpx.Response) -> str | None:
    """The provider's own error text, from any error body shape we know,
    whatever the content type says; plain text and HTML are summarized."""
    content = response.content
    if not content.strip():
        return None
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return _text_detail(content)
    return _json_detail(body)


def _json_detail(body: Any) -> str | None:
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = [_one_error(error) for error in errors[:3]]
            return "; ".join(part for part in parts if part) or None
        error = body.get("error")
        if isinstance(error, Mapping):
            return _one_error(error)
        if isinstance(error, str):
            message = body.get("message") or body.get("error_description")
            return one_line(f"{error}: {message}" if isinstance(message, str) else error, _DETAIL)
        return _one_error(body)
    if isinstance(body, str):
        return one_line(body, _DETAIL)
    return None


def _one_error(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return one_line(str(error), _DETAIL) if error else None
    title = error.get("title") or error.get("type")
    message = error.get("detail") or error.get("message") or error.get("error_description")
    code = error.get("code")
    parts = [str(part) for part in (title, message) if isinstance(part, (str, int)) and part != ""]
    if not parts and isinstance(code, (str, int)):
        parts = [str(code)]
    param = error.get("param")
    text = ": ".join(parts)
    if isinstance(param, str) and param:
        text += f" (parameter {param})"
    return one_line(text, _DETAIL) or None


def _text_detail(content: bytes) -> str | None:
    text = content[:2000].decode("utf-8", "replace")
    lowered = text.lower()
    if "<html" in lowered or "<!doctype" in lowered:
        start = lowered.find("<title>")
        end = lowered.find("</title>")
        if start != -1 and end > start:
            return one_line("HTML page: " + text[start + 7 : end], _DETAIL)
        return "HTML page"
    return one_line(text, _DETAIL)


def error_class(status: int) -> type[ProviderError]:
    if status in (401, 403, 407):
        return AuthError
    if status == 404:
        return NotFoundError
    if status in (400, 409, 422):
        return BadRequestError
    if status == 429:
        return RateLimitedError
    if 300 <= status < 400:
        return ProtocolError
    return ServerError


def error_for_status(
    response: httpx.Response,
    *,
    kind: type[ProviderError] | None = None,
    provider: str,
    listing: str,
    detail: str | None,
    page: int | None,
    attempts: int | None = None,
    during: str | None = None,
) -> ProviderError:
    status = response.status_code
    reason = response.reason_phrase or ""
    where = f"{provider} {listing}: {during}" if during else f"{provider} {listing}"
    text = f"HTTP {status} {reason}".rstrip()
    if 300 <= status < 400:
        text += " (a redirect without a usable Location)"
    if status == 407:
        text += " from the proxy: give its user and password in the proxy URL (HTTPS_PROXY / ALL_PROXY)"
        detail = None  # the proxy's page, not the provider's words
    if detail:
        text += f": {detail}"
    if page is not None:
        text += f" (page {page}"
        text += f", gave up after {attempts} attempts)" if attempts and attempts > 1 else ")"
    elif attempts and attempts > 1:
        text += f" (gave up after {attempts} attempts)"
    return (kind or error_class(status))(
        f"{where}: {text}",
        provider=provider,
        listing=listing,
        status=status,
        detail=detail,
        page=page,
    )
