"""The one listing engine: pages in, normalized packages out, in server order.

It fetches the first page, then either follows ``next`` requests one at a
time, or, when pages are addressable by number, keeps up to ``concurrency``
page requests in flight: up to the last page when the API announces it,
speculatively beyond the last page known to exist when it does not. Pages are
consumed in order, so packages come out in server order whatever the
concurrency; whatever lies past the end is cancelled and dropped.

Around that loop: retries with backoff, a rate-limit gate shared by all
requests, de-duplication by id (a sliding window, so memory stays flat), loop
guards (a repeated link, pages that only repeat what was listed, a page cap)
and the early stop on ``limit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import ssl
import warnings
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import attrs
import httpx

from ._client import Client, origin_text
from ._errors import (
    InvalidItemError,
    InvalidItemWarning,
    ListingChangedWarning,
    NetworkError,
    PkglistError,
    PluginError,
    ProtocolError,
    ProviderError,
)
from ._http import (
    RETRY_STATUSES,
    OriginAuth,
    RateGate,
    RetryTiming,
    error_for_status,
    logger,
    retry_after_seconds,
)
from ._model import Package, Page
from ._options import ListOptions
from ._paging import InvalidJSONError
from ._plugins import PluginManager
from ._provider import Connection, Listing, Provider
from ._query import Query
from .text import one_line, redact

__all__ = ["Call", "Progress", "run"]

#: How many recent package ids are remembered to drop duplicates (page shifts).
DEDUP_WINDOW = 20_000
#: Pages fetched ahead of their turn that may wait, undecoded, while requests go on.
_READY_PAGES = 2
#: Consecutive non-empty pages without a single new package before we call it a loop.
REPEATED_PAGES_LIMIT = 3
#: Packages per batch: a large page is normalized and handed on in slices this size, so
#: that its records are written while still in the CPU cache (a fifth less CPU per package
#: than whole pages of 5000 in the CPU-bound benchmark).
BATCH_SIZE = 256

Progress = Callable[[int, int | None, int], None]


@attrs.frozen
class Call:
    """Everything one listing run needs, validated."""

    manager: PluginManager
    provider: Provider
    listing: Listing
    query: Query
    options: ListOptions
    connection: Connection

    @property
    def where(self) -> str:
        return f"{self.provider.name} {self.listing.name}"

    @property
    def page_size(self) -> int:
        size = self.options.page_size or self.listing.page_size
        if self.options.limit is not None:
            size = min(size, self.options.limit)
        return size


async def run(call: Call, *, progress: Progress | None = None) -> AsyncGenerator[list[Package], None]:
    """Batches of new packages (a page's, in slices of at most ``BATCH_SIZE``), in server order."""
    options = call.options
    connection = call.connection
    async with Client(
        base_url=connection.base_url,
        auth=OriginAuth(connection.base_url, connection.headers, connection.auth),
        concurrency=options.concurrency,
        timeout=options.timeout,
        max_body_bytes=options.max_page_bytes,
        ca_bundle=options.ca_bundle,
        insecure=options.insecure,
        verify=connection.verify,
        secrets=connection.secrets,
        transport=options.transport,
    ) as client:
        runner = _Runner(call, client, progress)
        async with contextlib.aclosing(runner.batches()) as batches:
            async for batch in batches:
                yield batch


class _Runner:
    def __init__(self, call: Call, client: Client, progress: Progress | None) -> None:
        self.call = call
        self.where = call.where
        self.client = client
        self.progress = progress
        self.options = call.options
        self.page_size = call.page_size
        self.gate = RateGate(cap=self.options.max_retry_wait)
        self.timing = RetryTiming(base=self.options.retry_backoff, cap=self.options.max_retry_wait)
        self.remaining = self.options.limit
        self.total_items: int | None = None
        self.requests = 0
        self.duplicates = 0
        hook = call.manager.hook
        self.hook = hook
        provider, listing, query = call.provider, call.listing, call.query
        self.normalize: Callable[[Any], Any]
        if call.manager.only_default("pkglist_normalize"):
            self.normalize = functools.partial(provider.normalize, listing, query)
        else:
            self.normalize = lambda raw: hook.pkglist_normalize(
                provider=provider, listing=listing, query=query, raw=raw
            )

    # Packages ----------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[list[Package], None]:
        call = self.call
        first = self.hook.pkglist_list_request(
            provider=call.provider,
            listing=call.listing,
            query=call.query,
            base_url=call.connection.base_url,
            page_size=self.page_size,
        )
        if not isinstance(first, httpx.Request):
            raise PluginError(f"{self.where}: no plugin built the first request (got {first!r:.60})")
        seen: set[str] = set()
        order: deque[str] = deque()
        repeated = 0
        emitted = 0
        try:
            async with contextlib.aclosing(self._pages(first)) as pages:
                async for position, page in pages:
                    self._note_total(page, position)
                    duplicates_before = self.duplicates
                    items = page.items
                    for start in range(0, len(items), BATCH_SIZE):
                        batch = self._packages(
                            items[start : start + BATCH_SIZE], position, start, seen, order
                        )
                        if self.remaining is not None and len(batch) >= self.remaining:
                            del batch[self.remaining :]
                        emitted += len(batch)
                        if self.remaining is not None:
                            self.remaining -= len(batch)
                        if batch:
                            yield batch
                        if self.remaining is not None and self.remaining <= 0:
                            return
                    if items and self.duplicates - duplicates_before == len(items):
                        repeated += 1
                        if repeated >= REPEATED_PAGES_LIMIT:
                            raise ProtocolError(
                                f"{self.where}: pages {position - repeated + 1}-{position} only repeat "
                                "packages already listed; the server's pagination seems to loop"
                            )
                    else:
                        repeated = 0
                    if self.progress is not None:
                        self.progress(position, page.last_number, emitted)
        except PkglistError as exc:
            self.duplicates = 0  # an error explains itself; the drop count would only mislead
            _redact_error(exc, self.client.secrets)
            raise
        except BaseException:
            self.duplicates = 0
            raise
        finally:
            if self.duplicates:
                warnings.warn(
                    f"{self.where}: dropped {self.duplicates} duplicate package(s); "
                    "the listing changed while it ran",
                    ListingChangedWarning,
                    stacklevel=2,
                )

    def _note_total(self, page: Page, position: int) -> None:
        if page.total_items is not None:
            if self.total_items is not None and page.total_items != self.total_items:
                warnings.warn(
                    f"{self.where}: the listing changed while it ran "
                    f"(total went from {self.total_items} to {page.total_items} at page {position})",
                    ListingChangedWarning,
                    stacklevel=2,
                )
            self.total_items = page.total_items

    def _packages(
        self, items: Sequence[Any], position: int, first_index: int, seen: set[str], order: deque[str]
    ) -> list[Package]:
        batch: list[Package] = []
        normalize = self.normalize
        raw_wanted = self.options.raw
        for index, raw in enumerate(items, first_index):
            try:
                package = normalize(raw)
            except (
                InvalidItemError,
                KeyError,
                TypeError,
                ValueError,
                AttributeError,
                IndexError,
                OverflowError,
            ) as exc:
                self._invalid_item(position, index, exc)
                continue
            if type(package) is not Package and not isinstance(package, Package):
                raise PluginError(f"{self.where}: normalizing returned {package!r:.60} instead of a Package")
            key = package.id
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            order.append(key)
            if len(order) > DEDUP_WINDOW:
                seen.discard(order.popleft())
            if raw_wanted:
                package = attrs.evolve(package, raw=raw)
            batch.append(package)
        return batch

    def _invalid_item(self, position: int, index: int, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, InvalidItemError) else f"{type(exc).__name__}: {exc}"
        message = f"{self.where}: page {position}, item {index + 1}: invalid item: {reason}"
        if not self.options.skip_invalid:
            raise InvalidItemError(message) from exc
        warnings.warn(message + " (skipped)", InvalidItemWarning, stacklevel=3)

    # Pages -------------------------------------------------------------------------

    async def _pages(self, request: httpx.Request) -> AsyncGenerator[tuple[int, Page], None]:
        position = 1
        seen_urls = {hash(str(request.url))}
        page = await self._fetch(request, position)
        yield position, page
        while page.next is not None:
            if page.addressable and self.options.concurrency > 1:
                async with contextlib.aclosing(self._pipeline(page, position)) as pipeline:
                    async for item in pipeline:
                        yield item
                return
            request = page.next
            key = hash(str(request.url))
            if key in seen_urls:
                raise ProtocolError(
                    f"{self.where}: the link to page {position + 1} repeats an earlier page "
                    "(the server's pagination loops)"
                )
            seen_urls.add(key)
            position += 1
            self._check_cap(position)
            page = await self._fetch(request, position)
            yield position, page

    async def _pipeline(self, start: Page, position: int) -> AsyncGenerator[tuple[int, Page], None]:
        """Pages after ``start`` by number, ``concurrency`` requests in flight, yielded in order.

        A page that arrives ahead of its turn waits, undecoded, while the window
        stays full; once a few are waiting the consumer is the bottleneck, and
        fetching further ahead would only hold memory. Without the last page
        known every request past the end is wasted, so the window counts waiting
        pages too: at most ``concurrency`` requests go past the end.
        """
        assert start.request_for is not None
        assert start.number is not None
        request_for = start.request_for
        number = start.number
        bound = start.last_number
        next_number = number + 1
        window = self.options.concurrency
        pending: deque[tuple[httpx.Request, asyncio.Task[tuple[httpx.Response, int]]]] = deque()
        try:
            while True:
                wanted = None
                if self.remaining is not None:
                    wanted = number + max(1, math.ceil(self.remaining / self.page_size))
                cap = number + (self.options.max_pages - position) + 1
                in_flight = sum(1 for _, task in pending if not task.done())
                ready = len(pending) - in_flight
                while (
                    in_flight < window
                    and ready < _READY_PAGES
                    and (bound is not None or len(pending) < window)
                    and (bound is None or next_number <= bound)
                    and (wanted is None or next_number <= wanted)
                    and next_number <= cap
                ):
                    request = request_for(next_number)
                    fetch = self._response(request, position + len(pending) + 1)
                    pending.append((request, asyncio.ensure_future(fetch)))
                    next_number += 1
                    in_flight += 1
                if not pending:
                    self._check_cap(position + 1)
                    return
                if not pending[0][1].done():
                    # Wake up for any page, not just the next one, to keep the window full.
                    waiting = [task for _, task in pending if not task.done()]
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    continue
                request, task = pending.popleft()
                position += 1
                self._check_cap(position)
                page = await self._complete(request, position, *task.result())
                number = page.number if page.number is not None else number + 1
                yield position, page
                if page.next is None:
                    return
                if page.last_number is not None:
                    bound = page.last_number
                if bound is not None and number >= bound:
                    bound = None  # the announced last page says there is more: go on speculatively
        finally:
            for _, task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*(task for _, task in pending), return_exceptions=True)

    def _check_cap(self, position: int) -> None:
        if position > self.options.max_pages:
            raise ProtocolError(
                f"{self.where}: stopped after {self.options.max_pages} pages without reaching the end "
                "(raise the cap with --max-pages / max_pages)"
            )

    async def _fetch(self, request: httpx.Request, position: int) -> Page:
        """One page, fetched and paginated, with retries."""
        response, attempt = await self._response(request, position)
        return await self._complete(request, position, response, attempt)

    async def _response(
        self, request: httpx.Request, position: int, attempt: int = 0
    ) -> tuple[httpx.Response, int]:
        """A 2xx response for ``request`` and the attempts it took, retrying what is worth it."""
        while True:
            attempt += 1
            response: httpx.Response | None = None
            asked: float | None = None
            unreadable = False
            try:
                response = await self._send(request)
            except ProtocolError as exc:
                raise self._page_error(ProtocolError, position, exc.message) from None
            except httpx.DecodingError as exc:  # a body its Content-Encoding does not describe
                failure = f"response body could not be decoded ({_detail(exc)})"
                unreadable = True
            except httpx.TimeoutException as exc:
                failure = f"timed out ({one_line(str(exc)) or type(exc).__name__})"
            except httpx.TransportError as exc:
                if _certificate_problem(exc):
                    reason = (
                        f"TLS certificate verification failed for {origin_text(request.url)} ({_detail(exc)}); "
                        "trust its CA with --ca-bundle FILE or SSL_CERT_FILE"
                    )
                    raise self._page_error(NetworkError, position, reason) from None
                failure = f"connection failed ({type(exc).__name__}: {_detail(exc)})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response, attempt
                if status not in RETRY_STATUSES or self.call.provider.error_class(response) is not None:
                    raise self._status_error(response, position)
                asked = retry_after_seconds(response)
                failure = f"HTTP {status}"
            if attempt > self.options.retries:
                if response is not None:
                    raise self._status_error(response, position, attempts=attempt)
                kind = ProtocolError if unreadable else NetworkError
                raise self._page_error(kind, position, f"gave up after {attempt} attempts: {failure}")
            throttled = response is not None and response.status_code == 429
            await self._back_off(position, attempt, failure, asked, throttled=throttled)

    async def _complete(
        self, request: httpx.Request, position: int, response: httpx.Response, attempt: int
    ) -> Page:
        """Paginate a 2xx response; a body that is not JSON (often a truncated one) is fetched again.

        Decoding happens here, when the page's turn comes, so pages waiting in the
        pipeline hold their bytes, not their decoded items.
        """
        while True:
            try:
                return self._paginate(request, response, position)
            except InvalidJSONError as exc:
                if attempt > self.options.retries:
                    reason = f"gave up after {attempt} attempts: {exc.message}"
                    raise self._page_error(ProtocolError, position, reason) from None
                await self._back_off(position, attempt, exc.message, None, throttled=False)
                response, attempt = await self._response(request, position, attempt)

    async def _back_off(
        self, position: int, attempt: int, failure: str, asked: float | None, *, throttled: bool
    ) -> None:
        delay = self.timing.wait(attempt, asked)
        if throttled:
            self.gate.close_for(delay)
        logger.info("%s: page %d: %s; retry %d in %.2fs", self.where, position, failure, attempt, delay)
        await asyncio.sleep(delay)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        await self.gate.wait()
        self.requests += 1
        response = None
        try:
            response = await self.client.send(request)
            return response
        finally:
            self.gate.settle(response)

    def _status_error(
        self, response: httpx.Response, position: int, attempts: int | None = None
    ) -> Exception:
        call = self.call
        return error_for_status(
            response,
            kind=call.provider.error_class(response),
            provider=call.provider.name,
            listing=call.listing.name,
            detail=call.provider.error_detail(response),
            page=position,
            attempts=attempts,
        )

    def _page_error(
        self, kind: type[ProviderError], position: int, reason: str, status: int | None = None
    ) -> ProviderError:
        call = self.call
        return kind(
            f"{self.where}: page {position}: {reason}",
            provider=call.provider.name,
            listing=call.listing.name,
            status=status,
            page=position,
        )

    def _paginate(self, request: httpx.Request, response: httpx.Response, position: int) -> Page:
        call = self.call
        try:
            page = self.hook.pkglist_paginate(
                provider=call.provider,
                listing=call.listing,
                query=call.query,
                request=request,
                response=response,
            )
        except InvalidJSONError:
            raise
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(f"response body is not JSON ({exc.msg})") from None
        except ProtocolError as exc:
            raise self._page_error(ProtocolError, position, exc.message, response.status_code) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            reason = f"unexpected response body ({type(exc).__name__}: {exc})"
            raise self._page_error(ProtocolError, position, reason, response.status_code) from exc
        if not isinstance(page, Page):
            raise PluginError(f"{self.where}: paginating returned {page!r:.60} instead of a Page")
        return page


def _redact_error(exc: PkglistError, secrets: set[str]) -> None:
    """No credential in an error, even one a provider quoted back in its error text."""
    message = redact(exc.message, secrets)
    if message != exc.message:
        exc.message = message
        exc.args = (message,)
    if isinstance(exc, ProviderError) and exc.detail:
        exc.detail = redact(exc.detail, secrets)


def _certificate_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _detail(exc: BaseException) -> str:
    return one_line(str(exc)) or "no details"
