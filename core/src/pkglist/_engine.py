"""The one listing engine: pages in, normalized packages out, in server order.

It fetches the first page, then either follows ``next`` requests one at a
time, or, when pages are addressable by number, keeps as many page requests
in flight as the concurrency limit allows (:mod:`pkglist._limiter`: pinned by
``concurrency``, else adapting to the server): up to the last page when the
API announces it, speculatively beyond the last page known to exist when it
does not (:mod:`pkglist._pipeline`). Pages are consumed in order, so packages
come out in server order whatever the concurrency; whatever lies past the end
is cancelled and dropped.

The engine only schedules and does the I/O. Whether a listing goes on, the
loop guards, de-duplication, the limit and the end checks are the listing's
state (:mod:`pkglist._state`); whether and when to try a request again is the
retry policy's (:mod:`pkglist._retry`), beside the rate gate every request
passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import warnings
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import attrs
import httpx

from . import items as item_fields
from ._client import Client, logger, origin_text
from ._errors import (
    InvalidItemError,
    InvalidItemWarning,
    NetworkError,
    PkglistError,
    PluginError,
    ProtocolError,
    ProviderError,
    StrictError,
)
from ._http import OriginAuth, error_for_status
from ._limiter import CAP, INITIAL, Adaptive, Fixed, Limit
from ._model import Package, Page
from ._options import ListOptions
from ._paging import BadPageError, InvalidJSONError, derive_request
from ._pipeline import Pipeline
from ._plugins import PluginManager
from ._provider import Connection, Listing, Lookup, Provider
from ._query import Query
from ._retry import RateGate, RetryPolicy, certificate_problem
from ._state import ListingState
from .text import describe_error, one_line, redact

__all__ = ["Call", "Progress", "run"]

#: Packages per batch: a large page is normalized and handed on in slices this size, so
#: that its records are written while still in the CPU cache (a fifth less CPU per package
#: than whole pages of 5000 in the CPU-bound benchmark).
BATCH_SIZE = 256
#: Skipped invalid items reported one by one; the rest are counted in one warning at the end.
SHOWN_INVALID_ITEMS = 5
#: Exceptions a normalizer raises on an item that is not what it expects (bad data).
_DATA_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)

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


async def run(
    call: Call, *, progress: Progress | None = None, budget: asyncio.Semaphore | None = None
) -> AsyncGenerator[list[Package], None]:
    """Batches of new packages (a page's, in slices of at most ``BATCH_SIZE``), in server order.

    Warnings go through :mod:`warnings` as they arise; with ``strict``, a listing
    that warned raises :class:`StrictError` after its last batch. ``budget``, shared
    by several listings run together, bounds their requests in flight as a whole.
    """
    options = call.options
    connection = call.connection
    async with Client(
        base_url=connection.base_url,
        auth=OriginAuth(connection.base_url, connection.headers, connection.auth),
        concurrency=options.concurrency or CAP,
        timeout=options.timeout,
        max_body_bytes=options.max_page_bytes,
        ca_bundle=options.ca_bundle,
        insecure=options.insecure,
        verify=connection.verify,
        secrets=connection.secrets,
        transport=options.transport,
    ) as client:
        runner = _Runner(call, client, progress, budget)
        async with contextlib.aclosing(runner.batches()) as batches:
            async for batch in batches:
                yield batch
        if options.strict and runner.warned:
            raise StrictError(
                f"{call.where}: the listing may be incomplete ({len(runner.warned)} warning(s)); "
                "failing because of --strict",
                tuple(runner.warned),
            )


class _Runner:
    def __init__(
        self, call: Call, client: Client, progress: Progress | None, budget: asyncio.Semaphore | None
    ) -> None:
        self.call = call
        self.budget = budget
        self.where = call.where
        self.client = client
        self.progress = progress
        self.options = options = call.options
        self.page_size = call.page_size
        self.state = ListingState(where=self.where, limit=options.limit, max_pages=options.max_pages)
        self.gate = RateGate(cap=options.max_retry_wait)
        #: Page requests in flight: pinned by ``concurrency``, else following the server.
        self.limit: Limit = Fixed(options.concurrency) if options.concurrency else Adaptive()
        self.policy = RetryPolicy(
            retries=options.retries,
            backoff=options.retry_backoff,
            cap=options.max_retry_wait,
            final=lambda response: call.provider.error_class(response) is not None,
        )
        self.warned: list[str] = []
        self.requests = 0
        #: Sub-request exchanges of expanded pages in flight at once (adaptive: the limiter's start).
        self._slots = asyncio.Semaphore(options.concurrency or INITIAL)
        #: Whether the page just consumed says the listing goes on (decided by the state).
        self.go_on = False
        self.listing_path = "/"
        #: The largest page body seen, to bound what pages fetched ahead may hold.
        self.page_bytes = 0
        self.hook = hook = call.manager.hook
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
        state = self.state
        item_fields.BASE_URL.set(self.call.connection.base_url)  # for normalizers (pkglist.items.base_url)
        try:
            async with contextlib.aclosing(self._pages(await self._first_request())) as pages:
                async for position, page in pages:
                    state.page_started(page, position)
                    self._emit()
                    new = 0
                    listed = page.listed
                    for start in range(0, len(listed), BATCH_SIZE):
                        batch = state.admit(
                            self._packages(listed[start : start + BATCH_SIZE], position, start)
                        )
                        new += len(batch)
                        if batch:
                            yield batch
                        if state.done:
                            return
                        await asyncio.sleep(0)  # let finished requests free their slots for the next
                    self.go_on = state.page_done(page, position, new)
                    if self.progress is not None:
                        self.progress(position, page.last_number, state.listed)
            state.finish()
            self._sum_up_invalid_items()
        except PkglistError as exc:
            _redact_error(exc, self.client.secrets)
            raise
        finally:
            self._emit()

    def _emit(self) -> None:
        for category, message in self.state.notes:
            self.warned.append(message)
            warnings.warn(message, category, stacklevel=4)
        self.state.notes.clear()

    async def _first_request(self) -> httpx.Request:
        call = self.call
        try:
            first = self.hook.pkglist_list_request(
                provider=call.provider,
                listing=call.listing,
                query=call.query,
                base_url=call.connection.base_url,
                page_size=self.page_size,
            )
        except PkglistError:
            raise
        except Exception as exc:
            raise self._plugin_fault("pkglist_list_request", exc) from exc
        if isinstance(first, Lookup):
            first = await self._look_up(first)
        if not isinstance(first, httpx.Request):
            raise self._bad_return("pkglist_list_request", first, "an httpx.Request")
        return first

    async def _look_up(self, lookup: Lookup) -> object:
        """The listing's first request, once ``lookup`` is answered (not counted as a page)."""
        during = f"looking up {lookup.what}"
        response, _ = await self._response(lookup.request, 0, during=during)
        try:
            return lookup.then(response)
        except PkglistError:
            raise
        except Exception as exc:
            if not isinstance(exc, _DATA_ERRORS) or self._foreign(exc):
                raise self._plugin_fault("pkglist_list_request", exc) from exc
            reason = f"unexpected answer ({type(exc).__name__}: {exc})"
            raise self._page_error(ProtocolError, 0, reason, during=during) from exc

    def _packages(self, items: Sequence[Any], position: int, first_index: int) -> list[Package]:
        batch: list[Package] = []
        normalize = self.normalize
        raw_wanted = self.options.raw
        for index, raw in enumerate(items, first_index):
            try:
                package = normalize(raw)
            except InvalidItemError as exc:
                self._invalid_item(position, index, exc)
                continue
            except PkglistError:
                raise
            except Exception as exc:
                if not isinstance(exc, _DATA_ERRORS) or self._foreign(exc):
                    raise self._plugin_fault("pkglist_normalize", exc) from exc
                self._invalid_item(position, index, exc)
                continue
            if type(package) is not Package and not isinstance(package, Package):
                raise self._bad_return("pkglist_normalize", package, "a Package")
            if raw_wanted:
                package = attrs.evolve(package, raw=raw)
            batch.append(package)
        return batch

    def _invalid_item(self, position: int, index: int, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, InvalidItemError) else f"{type(exc).__name__}: {exc}"
        message = f"{self.where}: page {position}, item {index + 1}: invalid item: {reason}"
        if not self.options.skip_invalid:
            raise InvalidItemError(message) from exc
        self.state.skipped += 1
        if self.state.skipped > SHOWN_INVALID_ITEMS:
            return  # counted, and summed up at the end: each message is unique, and warnings keep them all
        self.warned.append(message)
        warnings.warn(message + " (skipped)", InvalidItemWarning, stacklevel=4)

    def _sum_up_invalid_items(self) -> None:
        hidden = self.state.skipped - SHOWN_INVALID_ITEMS
        if hidden > 0:
            message = f"{self.where}: {hidden} more invalid item(s) skipped ({self.state.skipped} in all)"
            self.warned.append(message)
            warnings.warn(message, InvalidItemWarning, stacklevel=4)

    # Plugin faults -----------------------------------------------------------------

    def _foreign(self, exc: BaseException) -> bool:
        """Whether ``exc`` comes from a plugin other than the listing's own provider."""
        culprit = self.call.manager.culprit(exc)
        return culprit is not None and culprit != self.call.manager.plugin_of_provider(self.call.provider)

    def _plugin_fault(self, hook: str, exc: BaseException) -> PluginError:
        manager = self.call.manager
        culprit = manager.culprit(exc) or manager.plugin_of_provider(self.call.provider)
        return PluginError(f"{self.where}: plugin {culprit!r} failed in {hook}: {describe_error(exc)}")

    def _bad_return(self, hook: str, value: object, wanted: str) -> PluginError:
        manager = self.call.manager
        suspects = manager.implementers(hook) or [manager.plugin_of_provider(self.call.provider)]
        named = ", ".join(repr(name) for name in suspects)
        return PluginError(
            f"{self.where}: {hook} returned {one_line(repr(value), 60)} instead of {wanted} "
            f"(implemented by plugin {named})"
        )

    # Pages -------------------------------------------------------------------------

    async def _pages(self, request: httpx.Request) -> AsyncGenerator[tuple[int, Page], None]:
        state = self.state
        self.listing_path = request.url.path  # a rebased link must stay under it
        position = 1
        state.check_link(str(request.url), position)
        page = await self._fetch(request, position)
        yield position, page
        while self.go_on:
            assert page.next is not None
            if page.addressable and self.options.concurrency != 1:
                async with contextlib.aclosing(self._pipeline(page, position)) as pipeline:
                    async for item in pipeline:
                        yield item
                return
            request = self._same_origin(page.next, position)
            position += 1
            state.check_position(position)
            state.check_link(str(request.url), position)
            page = await self._fetch(request, position)
            yield position, page

    def _same_origin(self, request: httpx.Request, position: int) -> httpx.Request:
        """``request`` for the link on page ``position``, kept on the configured origin."""
        base = httpx.URL(self.call.connection.base_url)
        if origin_text(request.url) == origin_text(base):
            return request
        if not self.options.rebase_links:
            raise self._page_error(
                ProtocolError,
                position,
                f"refusing to follow a next link to another origin ({origin_text(request.url)}); credentials "
                "stay with the configured origin (--rebase-links follows it on the configured origin)",
            )
        listing_path = self.listing_path.rstrip("/")
        if request.url.path != listing_path and not request.url.path.startswith(listing_path + "/"):
            raise self._page_error(
                ProtocolError,
                position,
                f"refusing to rebase a next link to another origin ({origin_text(request.url)}): its path "
                f"{request.url.path!r} is not under the listing's {listing_path!r}",
            )
        return derive_request(
            request, request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        )

    async def _pipeline(self, start: Page, position: int) -> AsyncGenerator[tuple[int, Page], None]:
        """Pages after ``start`` by number, fetched ahead (see :mod:`pkglist._pipeline`), in order.

        Only the transfer happens ahead: a page is decoded when its turn comes,
        so pages waiting hold their bytes, not their decoded items.
        """
        assert start.request_for is not None
        assert start.number is not None
        request_for = start.request_for
        first_number, first_position = start.number, position
        requests: dict[int, httpx.Request] = {}

        def position_of(number: int) -> int:
            return first_position + number - first_number

        async def fetch(number: int) -> tuple[httpx.Response, int]:
            request = requests[number] = request_for(number)
            return await self._response(request, position_of(number))

        def bound_after(page: Page, number: int, bound: int | None) -> int | None:
            """The last page to ask for: as announced, or none (speculative) once past it."""
            last = page.last_number if page.last_number is not None else bound
            return last if last is not None and last > number else None

        def cap_of(number: int) -> int:
            return number + self.options.max_pages - position_of(number)

        bound = bound_after(start, first_number, None)
        ahead: Pipeline[tuple[httpx.Response, int]] = Pipeline(
            fetch,
            self.limit,
            after=first_number,
            bound=bound,
            wanted=self.state.wanted_pages(self.page_size),
            cap=cap_of(first_number),
            page_bytes=lambda: self.page_bytes,
        )
        try:
            while (got := await ahead.next()) is not None:
                number, (response, attempt) = got
                position = position_of(number)
                self.state.check_position(position)
                page = await self._complete(requests.pop(number), position, response, attempt)
                yield position, page
                if not self.go_on:
                    return
                bound = bound_after(page, number, bound)
                wanted = self.state.wanted_pages(self.page_size)
                ahead.consumed(number, bound=bound, wanted=wanted, cap=cap_of(number))
            self.state.check_position(position + 1)  # only the page cap stops a listing that goes on
        finally:
            await ahead.aclose()

    async def _fetch(self, request: httpx.Request, position: int) -> Page:
        """One page, fetched and paginated, with retries."""
        response, attempt = await self._response(request, position)
        return await self._complete(request, position, response, attempt)

    async def _response(
        self, request: httpx.Request, position: int, attempt: int = 0, *, during: str | None = None
    ) -> tuple[httpx.Response, int]:
        """A 2xx response for ``request`` and the attempts it took, as the retry policy allows.

        ``position`` names the page in messages, or ``during`` what the request is for.
        """
        while True:
            attempt += 1
            outcome: httpx.Response | Exception
            try:
                outcome = await self._send(request)
            except ProtocolError as exc:
                raise self._page_error(ProtocolError, position, exc.message, during=during) from None
            except httpx.HTTPError as exc:
                outcome = exc
            else:
                if 200 <= outcome.status_code < 300:
                    return outcome, attempt
            wait = self.policy.wait(attempt, outcome)
            if wait is None:
                raise self._failure(outcome, position, attempt, during) from None
            await self._back_off(position, attempt, _describe(outcome), wait, outcome)

    async def _complete(
        self, request: httpx.Request, position: int, response: httpx.Response, attempt: int
    ) -> Page:
        """Paginate a 2xx response; a response that cannot be this page is fetched again.

        Decoding happens here, when the page's turn comes, so pages waiting in the
        pipeline hold their bytes, not their decoded items.
        """
        while True:
            try:
                page = self._paginate(request, response, position)
                self.page_bytes = max(self.page_bytes, len(response.content))
                break
            except BadPageError as exc:
                wait = self.policy.wait(attempt, exc)
                if wait is None:
                    reason = f"gave up after {attempt} attempts: {exc.message}"
                    raise self._page_error(ProtocolError, position, reason) from None
                await self._back_off(position, attempt, exc.message, wait, exc)
                response, attempt = await self._response(request, position, attempt)
        if page.expand:
            page = attrs.evolve(page, expanded=await self._expanded(page.expand, position))
        return page

    # Expansion: a page whose items are the listings of its sub-requests -----------------

    async def _expanded(self, requests: Sequence[httpx.Request], position: int) -> list[Any]:
        """The items of each sub-request's listing, in the order of ``requests``."""
        tasks = [asyncio.ensure_future(self._sub_listing(request, position)) for request in requests]
        try:
            listings = await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [item for items in listings for item in items]

    async def _sub_listing(self, request: httpx.Request, position: int) -> list[Any]:
        """Every item of the listing that starts at ``request``, its pages followed in order
        under the same guards as the listing's own pages (a state of its own)."""
        state = ListingState(
            where=f"{self.where} ({request.url.path})", limit=None, max_pages=self.options.max_pages
        )
        items: list[Any] = []
        number = 0
        while True:
            number += 1
            request = self._same_origin(request, position)
            state.check_position(number)
            state.check_link(str(request.url), number)
            # A slot is held for the exchange only, never while sub-listings of its own run,
            # so nested expansions cannot starve each other.
            async with self._slots:
                response, attempt = await self._response(request, position)
            page = await self._complete(request, position, response, attempt)
            state.page_started(page, number)
            items.extend(page.listed)
            if not state.follows(page, number):
                break
            assert page.next is not None
            request = page.next
        self.state.notes.extend(state.notes)
        return items

    async def _back_off(
        self, position: int, attempt: int, failure: str, delay: float, outcome: object
    ) -> None:
        if isinstance(outcome, httpx.Response) and outcome.status_code == 429:
            self.gate.close_for(delay)
        logger.info("%s: page %d: %s; retry %d in %.2fs", self.where, position, failure, attempt, delay)
        await asyncio.sleep(delay)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        async with self.budget or contextlib.nullcontext():
            await self.gate.wait()
            self.requests += 1
            response = None
            loop = asyncio.get_running_loop()
            token = self.limit.sent(loop.time())
            try:
                response = await self.client.send(request)
                return response
            finally:
                self.gate.settle(response)
                status = None if response is None else response.status_code
                self.limit.answered(
                    token, loop.time(), throttled=status in (429, 503), failed=response is None
                )

    def _failure(
        self, outcome: httpx.Response | Exception, position: int, attempt: int, during: str | None = None
    ) -> ProviderError:
        """The error for the last attempt's outcome."""
        if isinstance(outcome, httpx.Response):
            return self._status_error(outcome, position, attempts=attempt, during=during)
        if isinstance(outcome, httpx.TransportError) and certificate_problem(outcome):
            reason = (
                f"TLS certificate verification failed for {origin_text(outcome.request.url)} "
                f"({_detail(outcome)}); trust its CA with --ca-bundle FILE or SSL_CERT_FILE"
            )
            return self._page_error(NetworkError, position, reason, during=during)
        kind = ProtocolError if isinstance(outcome, httpx.DecodingError) else NetworkError
        reason = f"gave up after {attempt} attempts: {_describe(outcome)}"
        return self._page_error(kind, position, reason, during=during)

    def _status_error(
        self, response: httpx.Response, position: int, attempts: int | None = None, during: str | None = None
    ) -> ProviderError:
        call = self.call
        return error_for_status(
            response,
            kind=call.provider.error_class(response),
            provider=call.provider.name,
            listing=call.listing.name,
            detail=call.provider.error_detail(response),
            page=None if during else position,
            attempts=attempts,
            during=during,
        )

    def _page_error(
        self,
        kind: type[ProviderError],
        position: int,
        reason: str,
        status: int | None = None,
        *,
        during: str | None = None,
    ) -> ProviderError:
        call = self.call
        return kind(
            f"{self.where}: {during or f'page {position}'}: {reason}",
            provider=call.provider.name,
            listing=call.listing.name,
            status=status,
            page=None if during else position,
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
        except BadPageError:
            raise
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(f"response body is not JSON ({exc.msg})") from None
        except ProtocolError as exc:
            raise self._page_error(ProtocolError, position, exc.message, response.status_code) from None
        except PkglistError:
            raise
        except Exception as exc:
            if not isinstance(exc, _DATA_ERRORS) or self._foreign(exc):
                raise self._plugin_fault("pkglist_paginate", exc) from exc
            reason = f"unexpected response body ({type(exc).__name__}: {exc})"
            raise self._page_error(ProtocolError, position, reason, response.status_code) from exc
        if not isinstance(page, Page):
            raise self._bad_return("pkglist_paginate", page, "a Page")
        return page


def _describe(outcome: httpx.Response | BaseException) -> str:
    if isinstance(outcome, httpx.Response):
        return f"HTTP {outcome.status_code}"
    if isinstance(outcome, httpx.DecodingError):
        return f"response body could not be decoded ({_detail(outcome)})"
    if isinstance(outcome, httpx.TimeoutException):
        return f"timed out ({one_line(str(outcome)) or type(outcome).__name__})"
    return f"connection failed ({type(outcome).__name__}: {_detail(outcome)})"


def _redact_error(exc: PkglistError, secrets: set[str]) -> None:
    """No credential in an error, even one a provider quoted back in its error text."""
    message = redact(exc.message, secrets)
    if message != exc.message:
        exc.message = message
        exc.args = (message,)
    if isinstance(exc, ProviderError) and exc.detail:
        exc.detail = redact(exc.detail, secrets)


def _detail(exc: BaseException) -> str:
    return one_line(str(exc)) or "no details"
