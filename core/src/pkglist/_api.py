"""The Python API: ``iter_packages`` (sync) and ``aiter_packages`` (async).

Both validate everything before returning (so a bad option raises at the
call, not at the first ``next``) and drive the same async engine; the sync
one runs it on an event loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Any

import attrs

from ._engine import Call, Progress, run
from ._errors import UsageError
from ._filters import Filter, parse_where
from ._model import Package
from ._options import ListOptions
from ._plugins import PluginManager, get_plugin_manager
from ._provider import Connection, Settings
from ._pump import Pump
from ._pushdown import Plan, plan
from ._query import build_query, query_options
from .text import closest

__all__ = ["Prepared", "aiter_packages", "iter_packages", "prepare"]

_OPTION_NAMES = tuple(field.name for field in attrs.fields(ListOptions))


def prepare(
    provider: str,
    listing: str,
    values: Mapping[str, Any],
    *,
    manager: PluginManager | None = None,
    environ: Mapping[str, str] | None = None,
) -> Prepared:
    """Validate a listing call: query, ``where`` conditions, common options and connection.

    ``values`` mixes the listing's query options, the provider's credentials,
    the common options (``base_url``, ``limit``...) and ``where`` (a list of
    ``--where`` expressions); ``None`` means not given. With ``emulate`` the
    connection is resolved when the emulator starts.
    """
    manager = manager or get_plugin_manager()
    environ = os.environ if environ is None else environ
    values = dict(values)
    conditions = parse_where(values.pop("where", None) or ())
    chosen = manager.provider(provider)
    chosen_listing = chosen.listing(listing)
    where = f"{chosen.name} {chosen_listing.name}"
    credential_names = {credential.name for credential in chosen.credentials}
    query_names = {option.name for option in query_options(chosen_listing.query)}
    common: dict[str, Any] = {}
    credentials: dict[str, str | None] = {}
    query_values: dict[str, Any] = {}
    for name, value in values.items():
        if name in _OPTION_NAMES:
            common[name] = value
        elif name in credential_names:
            credentials[name] = value
        elif name in query_names:
            query_values[name] = value
        else:
            known = [*_OPTION_NAMES, *credential_names, *query_names]
            hint = closest(name, known)
            suggestion = f" (did you mean {hint!r}?)" if hint else ""
            raise UsageError(f"{where}: unknown option {name!r}{suggestion}")
    options = ListOptions.from_values(common, where=where)
    if options.page_size is not None and options.page_size > chosen_listing.max_page_size:
        raise UsageError(
            f"{where}: --page-size must be at most {chosen_listing.max_page_size} for this listing, "
            f"got {options.page_size}"
        )
    if options.ca_bundle is not None and not os.path.isfile(options.ca_bundle):
        raise UsageError(f"{where}: --ca-bundle {options.ca_bundle!r} is not a readable file")
    query = build_query(chosen_listing.query, query_values, where=where, environ=environ)
    # Before complete_query: options the connection fills in were not set by the user.
    pushed = plan(chosen_listing, query, conditions, where=where)
    query = pushed.query
    limit = options.limit
    if conditions:
        # A server may ignore a pushed parameter: the engine can neither shrink pages to the
        # limit nor stop at it; the limit counts packages after filtering (in _batches).
        options = attrs.evolve(options, limit=None)
    settings = Settings(
        where=where, base_url=options.base_url, credentials=credentials, environ=environ, query=query
    )
    if options.emulate:
        emulator = chosen.emulator()
        if emulator is None:
            raise UsageError(f"{where}: provider {chosen.name!r} has no emulator (--emulate)")
        placeholder = Connection(base_url="http://127.0.0.1")  # replaced once the emulator runs
        emulated = _EmulatedCall(
            Call(manager, chosen, chosen_listing, query, options, placeholder), settings, emulator
        )
        return Prepared(emulated, pushed, limit)
    connection = chosen.connect(settings)
    query = chosen.complete_query(chosen_listing, query, connection)
    return Prepared(Call(manager, chosen, chosen_listing, query, options, connection), pushed, limit)


@attrs.frozen
class Prepared:
    """A validated listing call, and what happens to its packages on the way out: the
    ``plan``'s filter (every ``where`` condition, pushed or not), then ``limit``."""

    call: Call | _EmulatedCall
    plan: Plan
    limit: int | None

    @property
    def filter(self) -> Filter:
        return self.plan.filter


@attrs.frozen
class _EmulatedCall:
    """A call whose connection points at the provider's emulator, started on demand."""

    call: Call
    settings: Settings
    emulator: Any


async def _batches(
    prepared: Prepared,
    progress: Progress | None = None,
    budget: asyncio.Semaphore | None = None,
    source: str | None = None,
) -> AsyncGenerator[list[Package], None]:
    """The call's packages in batches, filtered (``source`` names an inventory's source for
    conditions on ``source``) and cut at the limit."""
    listed = _listed(prepared.call, progress, budget)
    chosen = prepared.filter
    if not chosen:  # the engine applied the limit itself
        async with contextlib.aclosing(listed) as batches:
            async for batch in batches:
                yield batch
        return
    left = prepared.limit
    async with contextlib.aclosing(listed) as batches:
        async for batch in batches:
            kept = chosen.select(batch, source)
            if left is not None:
                kept = kept[:left]
                left -= len(kept)
            if kept:
                yield kept
            if left == 0:
                return


async def _listed(
    prepared: Call | _EmulatedCall,
    progress: Progress | None,
    budget: asyncio.Semaphore | None,
) -> AsyncGenerator[list[Package], None]:
    if isinstance(prepared, Call):
        async with contextlib.aclosing(run(prepared, progress=progress, budget=budget)) as batches:
            async for batch in batches:
                yield batch
        return
    from .testing import serve

    call, emulator = prepared.call, prepared.emulator
    with serve(emulator) as server:
        settings = attrs.evolve(
            prepared.settings,
            base_url=server.url,
            credentials={**emulator.credentials, **_given(prepared.settings.credentials)},
            environ={},
        )
        connection = call.provider.connect(settings)
        query = call.provider.complete_query(call.listing, call.query, connection)
        live = attrs.evolve(call, connection=connection, query=query)
        async with contextlib.aclosing(run(live, progress=progress, budget=budget)) as batches:
            async for batch in batches:
                yield batch


def _given(credentials: Mapping[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in credentials.items() if value}


def aiter_packages(
    provider: str,
    listing: str,
    /,
    *,
    manager: PluginManager | None = None,
    **options: Any,
) -> AsyncGenerator[Package, None]:
    """List packages asynchronously::

        async for package in pkglist.aiter_packages("harness", "packages", account="acme"):
            ...

    Keyword arguments are the listing's query options, the provider's
    credentials (``api_key=``, ``token=``...) and the common options:
    ``base_url``, ``limit``, ``page_size``, ``concurrency``, ``timeout``,
    ``retries``, ``max_retry_wait``, ``max_pages``, ``raw``, ``skip_invalid``,
    ``emulate``, ``ca_bundle``, ``insecure``; and ``where``, a list of
    conditions all packages must meet (``["state!=deleted", "updated_at<30d"]``,
    the CLI's ``--where``), sent to the server where the listing can express
    them and checked locally in any case (``limit`` counts what passes). Invalid
    ones raise :class:`~pkglist.UsageError` right away.
    """
    prepared = prepare(provider, listing, options, manager=manager)
    return _flatten(_batches(prepared))


async def _flatten(batches: AsyncGenerator[list[Package], None]) -> AsyncGenerator[Package, None]:
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for package in batch:
                yield package


def iter_packages(
    provider: str,
    listing: str,
    /,
    *,
    manager: PluginManager | None = None,
    **options: Any,
) -> Iterator[Package]:
    """List packages; the same arguments as :func:`aiter_packages`::

        for package in pkglist.iter_packages("cloudfoundry", "packages", space_guid=[...]):
            print(package.name, package.version)

    Pages are still fetched concurrently; close the iterator (or leave the
    ``for`` loop) to cancel what is in flight.
    """
    prepared = prepare(provider, listing, options, manager=manager)
    return _drive(_batches(prepared))


def _drive(batches: AsyncGenerator[list[Package], None]) -> Iterator[Package]:
    """Run the engine on an event loop in a thread of its own (see :class:`Pump`) and hand
    its batches over. The same path serves a caller whose thread already runs a loop (a
    notebook)."""
    pump: Pump[Package] = Pump(batches)
    try:
        while (batch := pump.get()) is not None:
            yield from batch
    finally:
        pump.close()
