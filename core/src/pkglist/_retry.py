"""When to try a request again, and how fast to send requests: the retry policy and the rate gate.

:class:`RetryPolicy` is the one place that decides, from the attempt number and
its outcome (a response or an exception), whether another attempt is worth it
and after how long: full-jitter exponential backoff, or what the server asked
(``Retry-After`` in seconds or as a date, a rate-limit reset header, a body's
``retryAfter``), each capped. :class:`RateGate` paces every request of a run
from the rate-limit headers the server sends, in any of the common spellings.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import ssl
import time
from collections.abc import Callable, Mapping

import attrs
import httpx

from ._paging import BadPageError

__all__ = ["RETRY_STATUSES", "RateGate", "RetryPolicy", "asked_wait", "rate_limit"]

#: Statuses worth another try of an idempotent GET. 501 and 505 will not change.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """``retries`` more attempts after the first, waiting ``backoff`` × 2^(n-1) with full
    jitter (or what the server asked), never longer than ``cap`` seconds.

    ``final`` tells a response that must not be retried whatever its status (a provider's
    ``error_class`` that recognises it).
    """

    retries: int = 5
    backoff: float = 0.25
    cap: float = 60.0
    statuses: frozenset[int] = RETRY_STATUSES
    final: Callable[[httpx.Response], bool] = attrs.field(default=lambda response: False, eq=False)

    def wait(self, attempt: int, outcome: httpx.Response | BaseException) -> float | None:
        """Seconds to wait before another attempt after ``attempt`` (1-based) ended in
        ``outcome``; ``None`` when there must be no other attempt."""
        if not self.retryable(outcome) or attempt > self.retries:
            return None
        asked = asked_wait(outcome) if isinstance(outcome, httpx.Response) else None
        if asked is not None:
            return min(self.cap, asked) + random.uniform(0, 0.1)
        return random.uniform(0, min(self.cap, self.backoff * 2 ** (attempt - 1)))

    def retryable(self, outcome: httpx.Response | BaseException) -> bool:
        if isinstance(outcome, httpx.Response):
            return outcome.status_code in self.statuses and not self.final(outcome)
        if isinstance(outcome, (httpx.TimeoutException, httpx.DecodingError, BadPageError)):
            return True
        return isinstance(outcome, httpx.TransportError) and not certificate_problem(outcome)


def certificate_problem(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a failed TLS certificate verification (no retry can fix it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def asked_wait(response: httpx.Response, *, now: float | None = None) -> float | None:
    """How long the server asks us to wait: ``Retry-After`` (seconds or HTTP date),
    then a rate-limit reset, then a ``retryAfter`` field in a JSON body. ``None``
    when it does not say."""
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
    limits = rate_limit(response.headers, now=now)
    if limits is not None and limits.reset is not None:
        return limits.reset
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


# Rate-limit headers ---------------------------------------------------------------------------


@attrs.frozen
class RateLimit:
    """What a response says about the client's budget: requests ``remaining`` of ``limit``
    in a window that resets in ``reset`` seconds (each ``None`` when not said)."""

    limit: int | None
    remaining: int | None
    reset: float | None


_ITEM = re.compile(r'(?:^|[;,\s])(\w+)=("?)([\w.]+)\2')


def rate_limit(headers: httpx.Headers, *, now: float | None = None) -> RateLimit | None:
    """The budget from ``X-RateLimit-*`` (GitHub, Cloud Foundry), ``RateLimit-*`` (GitLab,
    the IETF draft's early versions) or the structured ``RateLimit`` / ``RateLimit-Policy``
    fields of draft-ietf-httpapi-ratelimit-headers (``limit=10, remaining=5, reset=3`` or
    ``"default";r=5;t=3`` with ``"default";q=10;w=60``); ``None`` when there is none."""
    now = time.time() if now is None else now
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining = _int(headers.get(prefix + "remaining"))
        reset = _reset(headers.get(prefix + "reset"), now)
        if remaining is not None or reset is not None:
            return RateLimit(_int(headers.get(prefix + "limit")), remaining, reset)
    field = headers.get("ratelimit")
    if field is None:
        return None
    values = {name.lower(): value for name, _, value in _ITEM.findall(field)}
    policy = {name.lower(): value for name, _, value in _ITEM.findall(headers.get("ratelimit-policy", ""))}
    remaining = _int(values.get("remaining", values.get("r")))
    reset = _reset(values.get("reset", values.get("t")), now)
    if remaining is None and reset is None:
        return None
    return RateLimit(_int(values.get("limit", policy.get("q"))), remaining, reset)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _reset(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    # Large values are epoch seconds (CF, Metabind, GitHub); small ones a delta (GitLab, IETF).
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)


class RateGate:
    """Shared by every request of a listing so that concurrency slows down to the
    provider's rate limit instead of hammering it.

    It learns from the rate-limit headers (:func:`rate_limit`): each request
    takes one from the window's remaining budget, and what a response reports
    is reduced by the requests still in flight (the server has not counted
    them yet). Once the budget is spent, requests wait for the reset; a new
    window starts from the limit, so waiting requests do not all rush out at
    once. A 429 closes the gate for everyone for the time the server asked
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
        reported = rate_limit(response.headers)
        if reported is None or reported.remaining is None:
            return
        if reported.limit is not None and reported.limit > 0:
            self._limit = reported.limit
        left = reported.remaining - self._in_flight
        reset = reported.reset if reported.reset is not None else 1.0
        reset_at = time.monotonic() + min(reset, self._cap)
        if reset_at > self._reset_at + 0.5:  # a later window than the one we count in
            self._remaining = left
            self._reset_at = reset_at
        elif self._remaining is None or left < self._remaining:
            self._remaining = left
            self._reset_at = max(self._reset_at, reset_at)

    def close_for(self, seconds: float) -> None:
        self._open_at = max(self._open_at, time.monotonic() + min(seconds, self._cap))
