"""HTTP plumbing: origin-bound credentials, retry timing, rate-limit pacing and
turning error responses into pkglist errors."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import attrs
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

__all__ = [
    "OriginAuth",
    "RateGate",
    "RetryTiming",
    "error_detail",
    "error_for_status",
    "retry_after_seconds",
]

logger = logging.getLogger("pkglist")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
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
            return _clean(f"{error}: {message}" if isinstance(message, str) else error)
        return _one_error(body)
    if isinstance(body, str):
        return _clean(body)
    return None


def _one_error(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return _clean(str(error)) if error else None
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
    return _clean(text) or None


def _text_detail(content: bytes) -> str | None:
    text = content[:2000].decode("utf-8", "replace")
    lowered = text.lower()
    if "<html" in lowered or "<!doctype" in lowered:
        start = lowered.find("<title>")
        end = lowered.find("</title>")
        if start != -1 and end > start:
            return _clean("HTML page: " + text[start + 7 : end])
        return "HTML page"
    return _clean(text)


def _clean(text: str, limit: int = 300) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_class(status: int) -> type[ProviderError]:
    if status in (401, 403):
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
) -> ProviderError:
    status = response.status_code
    reason = response.reason_phrase or ""
    where = f"{provider} {listing}"
    text = f"HTTP {status} {reason}".rstrip()
    if 300 <= status < 400:
        text += " (unexpected redirect)"
    if detail:
        text += f": {detail}"
    if page is not None:
        text += f" (page {page}"
        text += f", gave up after {attempts} attempts)" if attempts and attempts > 1 else ")"
    return (kind or error_class(status))(
        f"{where}: {text}",
        provider=provider,
        listing=listing,
        status=status,
        detail=detail,
        page=page,
    )


# Waiting ------------------------------------------------------------------------------


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """How long the server asks us to wait: ``Retry-After`` (seconds or HTTP date),
    then a rate-limit reset header (epoch seconds or seconds from now), then a
    ``retryAfter`` field in a JSON body. ``None`` when it does not say."""
    now = time.time() if now is None else now
    header = response.headers.get("retry-after")
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, when.timestamp() - now)
    reset = _reset_seconds(response.headers, now)
    if reset is not None:
        return reset
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, Mapping):
        error = body.get("error")
        details = error.get("details") if isinstance(error, Mapping) else None
        for holder in (body, error, details):
            if isinstance(holder, Mapping):
                value = holder.get("retryAfter")
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                    return float(value)
    return None


def _reset_seconds(headers: httpx.Headers, now: float) -> float | None:
    value = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    # Large values are epoch seconds (CF, Metabind); small ones a delta (IETF draft).
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)


@attrs.frozen
class RetryTiming:
    """Exponential backoff with full jitter, and the cap on any single wait."""

    base: float = 0.25
    cap: float = 60.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))

    def wait(self, attempt: int, asked: float | None) -> float:
        if asked is None:
            return self.backoff(attempt)
        return min(self.cap, asked) + random.uniform(0, 0.1)


class RateGate:
    """Shared by every request of a listing so that concurrency slows down to the
    provider's rate limit instead of hammering it.

    It learns from ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``: each
    request takes one from the window's remaining budget, and what a response
    reports is reduced by the requests still in flight (the server has not
    counted them yet). Once the budget is spent, requests wait for the reset; a
    new window starts from the limit, so waiting requests do not all rush out
    at once. A 429 closes the gate for everyone for the time the server asked
    (capped).
    """

    def __init__(self, cap: float) -> None:
        self._cap = cap
        self._open_at = 0.0
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._in_flight = 0

    async def wait(self) -> None:
        """Wait for permission to send one request; pair it with :meth:`settle`."""
        while True:
            now = time.monotonic()
            if now < self._open_at:
                await asyncio.sleep(self._open_at - now)
                continue
            if self._remaining is not None:
                if self._remaining <= 0:
                    if now < self._reset_at:
                        await asyncio.sleep(min(self._reset_at - now, self._cap))
                        continue
                    # A new window: its budget is the limit (unknown without one).
                    self._remaining = None if self._limit is None else self._limit - self._in_flight
                    self._reset_at = now + 1.0
                    continue
                self._remaining -= 1
            self._in_flight += 1
            return

    def settle(self, response: httpx.Response | None) -> None:
        """The request admitted by :meth:`wait` is over (``None``: it failed before a response)."""
        self._in_flight -= 1
        if response is None:
            return
        headers = response.headers
        reported = _header_int(headers, "x-ratelimit-remaining")
        if reported is None:
            return
        limit = _header_int(headers, "x-ratelimit-limit")
        if limit is not None and limit > 0:
            self._limit = limit
        left = reported - self._in_flight
        reset = _reset_seconds(headers, time.time())
        reset_at = time.monotonic() + min(reset if reset is not None else 1.0, self._cap)
        if reset_at > self._reset_at + 0.5:  # a later window than the one we count in
            self._remaining = left
            self._reset_at = reset_at
        elif self._remaining is None or left < self._remaining:
            self._remaining = left
            self._reset_at = max(self._reset_at, reset_at)

    def close_for(self, seconds: float) -> None:
        self._open_at = max(self._open_at, time.monotonic() + min(seconds, self._cap))


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
