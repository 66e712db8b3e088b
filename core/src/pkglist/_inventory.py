"""``pkglist inventory``: many sources listed together as one stream.

An inventory is a TOML file (or the same data as a mapping)::

    [defaults]
    page_size = 100
    where = ["state!=deleted"]

    [sources.harness-prod]
    provider = "harness"
    listing = "packages"
    account = "acme"
    package_type = ["DOCKER", "HELM"]
    api_key_env = "HARNESS_KEY_PROD"

    [sources.cf-demo]
    provider = "cloudfoundry"
    listing = "packages"
    emulate = true

A source names its ``provider`` and ``listing``, gives the listing's query
options by their Python keyword names, and may give any common option
(``base_url``, ``page_size``, ``concurrency``, ``timeout``, ``emulate``...)
and ``where`` conditions. ``[defaults]`` holds common options and ``where``
for every source (a source's own value wins; ``where`` lists add up).
Credentials never sit in the file: ``<credential>_env`` names the
environment variable to read (``api_key_env``, ``token_env``), else the
provider's own variables and config files apply; an emulated source uses its
emulator's credentials and reads none. Every problem with the file
is one :class:`UsageError` naming the file, the source and the key, raised
before any request.

Running: every source is listed at once, under one budget of page requests in
flight for the whole run. Records come out source by source in file order,
each source's in server order: the first unfinished source streams, the others
wait in memory up to ``buffer_packages`` packages in all, beyond that in a
temporary file (so memory stays flat however far ahead they get). A source
that fails does not stop the others; the :class:`InventoryReport` says, per
source, how many packages and pages, how long, and its one-line error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import re
import tempfile
import time
import tomllib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from ._api import Prepared, _batches, prepare
from ._errors import PkglistError, UsageError
from ._model import Package
from ._options import ListOptions
from ._plugins import PluginManager, get_plugin_manager
from ._provider import Provider
from ._pump import Pump
from ._query import _coerce, query_options
from .text import closest, describe_error, one_line

__all__ = [
    "AsyncInventory",
    "Inventory",
    "InventoryRecord",
    "InventoryReport",
    "Source",
    "SourceReport",
    "ainventory",
    "default_inventory_path",
    "inventory",
    "load_inventory",
]

#: Packages that may wait in memory, all sources together, before they go to a temporary file.
BUFFER_PACKAGES = 20_000
#: Batches the source being written may have ready before its listing waits for the writer.
_HEAD_BATCHES = 2

_SOURCE_KEYS = ("provider", "listing")
_COMMON_KEYS = tuple(name for name in attrs.fields_dict(ListOptions) if name != "transport")
_BOOLEAN_KEYS = frozenset(
    name for name, field in attrs.fields_dict(ListOptions).items() if field.type in (bool, "bool")
)
_TEXT_KEYS = frozenset(("base_url", "ca_bundle"))
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TABLE_HEADER = re.compile(
    r"""^\s*\[\s*sources\s*\.\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]\s*(?:\#.*)?$"""
)


# Loading ------------------------------------------------------------------------------------


@attrs.frozen
class Source:
    """One validated source of an inventory."""

    name: str
    provider: str
    listing: str
    prepared: Prepared = attrs.field(repr=False)


def default_inventory_path(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """``pkglist.toml`` in the current directory, else ``$XDG_CONFIG_HOME/pkglist/inventory.toml``."""
    environ = os.environ if environ is None else environ
    local = (cwd or Path.cwd()) / "pkglist.toml"
    if local.is_file():
        return local
    config = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    found = Path(config) / "pkglist" / "inventory.toml"
    if found.is_file():
        return found
    raise UsageError(f"no inventory file: give one, or create ./pkglist.toml or {found}")


def load_inventory(
    path_or_mapping: str | os.PathLike[str] | Mapping[str, Any],
    *,
    where: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
    manager: PluginManager | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Source, ...]:
    """Read and validate an inventory; ``where`` is added to every source's conditions and
    ``overrides`` (common options, e.g. ``{"emulate": True}``) replace the file's values."""
    environ = os.environ if environ is None else environ
    manager = manager or get_plugin_manager()
    if isinstance(path_or_mapping, Mapping):
        label, data = "<inventory>", dict(path_or_mapping)
    else:
        label = os.fspath(path_or_mapping)
        data = _read(Path(label))
    unknown = [key for key in data if key not in ("sources", "defaults")]
    if unknown:
        raise UsageError(
            f"{label}: {unknown[0]}: unknown table (an inventory has [sources.NAME] and [defaults])"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise UsageError(f"{label}: defaults: expected a table")
    for key, value in defaults.items():
        _check_default(label, key, value)
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        raise UsageError(f"{label}: sources: no sources; add a [sources.NAME] table for each")
    loaded = []
    for name, table in sources.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UsageError(f"{label}: sources.{name}: a source name is letters, digits, '.', '_' and '-'")
        if not isinstance(table, Mapping):
            raise UsageError(f"{label}: sources.{name}: expected a table")
        loaded.append(
            _source(label, name, table, defaults, list(where), dict(overrides or {}), manager, environ)
        )
    return tuple(loaded)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"{path}: cannot read the inventory: {reason}") from None
    _check_duplicates(path, text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {one_line(str(exc))}") from None


def _check_duplicates(path: Path, text: str) -> None:
    """TOML refuses a table declared twice; name the source instead of quoting the parser."""
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_HEADER.match(line)
        if header is None:
            continue
        name = next(group for group in header.groups() if group is not None)
        if name in seen:
            raise UsageError(
                f"{path}: sources.{name}: duplicate source name (line {number}; first at line {seen[name]})"
            )
        seen[name] = number


def _check_default(label: str, key: str, value: Any) -> None:
    where = f"{label}: defaults.{key}"
    if key == "where":
        _conditions(where, value)
    elif key in _COMMON_KEYS:
        _check_common(where, key, value)
    else:
        hint = _hint(key, (*_COMMON_KEYS, "where"))
        raise UsageError(
            f"{where}: not a common option{hint}; query options and credentials go in each source"
        )


def _source(
    label: str,
    name: str,
    table: Mapping[str, Any],
    defaults: Mapping[str, Any],
    where: list[str],
    overrides: dict[str, Any],
    manager: PluginManager,
    environ: Mapping[str, str],
) -> Source:
    prefix = f"{label}: sources.{name}"
    for key in _SOURCE_KEYS:
        if not isinstance(table.get(key), str):
            problem = "missing" if key not in table else "expected a string"
            raise UsageError(f"{prefix}.{key}: {problem} (a source names its provider and listing)")
    try:
        provider = manager.provider(table["provider"])
    except UsageError as exc:
        raise UsageError(f"{prefix}.provider: {exc}") from None
    try:
        listing = provider.listing(table["listing"])
    except UsageError as exc:
        raise UsageError(f"{prefix}.listing: {exc}") from None
    credentials = {credential.name: credential for credential in provider.credentials}
    options = {opt.name: opt for opt in query_options(listing.query)}
    values: dict[str, Any] = {key: value for key, value in defaults.items() if key != "where"}
    variables: dict[str, tuple[str, str]] = {}  # credential -> (where, the environment variable)
    conditions = [*_conditions(f"{label}: defaults.where", defaults.get("where", [])), *where]
    for key, value in table.items():
        at = f"{prefix}.{key}"
        if key in _SOURCE_KEYS:
            continue
        if key == "where":
            conditions.extend(_conditions(at, value))
        elif key in credentials:
            raise UsageError(
                f"{at}: credentials do not go in the file; name the environment variable to read "
                f'with {key}_env = "..."'
            )
        elif key.endswith("_env") and key[: -len("_env")] in credentials:
            if not isinstance(value, str) or not value:
                raise UsageError(f"{at}: expected the name of an environment variable")
            variables[key[: -len("_env")]] = (at, value)
        elif key in _COMMON_KEYS:
            _check_common(at, key, value)
            values[key] = value
        elif key in options:
            _coerce(options[key], value, at)
            values[key] = value
        else:
            known = (*_SOURCE_KEYS, *options, *_COMMON_KEYS, *(f"{c}_env" for c in credentials), "where")
            raise UsageError(f"{at}: unknown key{_hint(key, known)} ({provider.name} {listing.name})")
    for opt in options.values():
        if opt.required and opt.name not in values and not (opt.envvar and environ.get(opt.envvar)):
            env = f" (or set {opt.envvar})" if opt.envvar else ""
            raise UsageError(f"{prefix}.{opt.name}: missing; {provider.name} {listing.name} needs it{env}")
    values.update(overrides)
    values["where"] = conditions
    if not values.get("emulate"):  # an emulator takes its own credentials
        _read_credentials(prefix, provider, variables, values, environ)
    try:
        prepared = prepare(provider.name, listing.name, values, manager=manager, environ=environ)
    except UsageError as exc:
        raise UsageError(f"{prefix}: {exc}") from None
    return Source(name, provider.name, listing.name, prepared)


def _read_credentials(
    prefix: str,
    provider: Provider,
    variables: Mapping[str, tuple[str, str]],
    values: dict[str, Any],
    environ: Mapping[str, str],
) -> None:
    for credential in provider.credentials:
        if credential.name in variables:
            at, variable = variables[credential.name]
            found = environ.get(variable)
            if not found:
                raise UsageError(f"{at}: the environment variable {variable} is not set")
            values[credential.name] = found
        elif credential.required and not any(environ.get(name) for name in credential.envvars):
            env = f", or set {' / '.join(credential.envvars)}" if credential.envvars else ""
            raise UsageError(
                f"{prefix}.{credential.name}_env: missing; {provider.name} needs a credential: "
                f"name the environment variable that holds it{env}"
            )


def _check_common(where: str, key: str, value: Any) -> None:
    if key in _BOOLEAN_KEYS:
        if not isinstance(value, bool):
            raise UsageError(f"{where}: expected true or false, got {value!r}")
    elif key in _TEXT_KEYS:
        if not isinstance(value, str):
            raise UsageError(f"{where}: expected a string, got {value!r}")
    else:
        ListOptions.from_values({key: value}, where=where)


def _conditions(where: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise UsageError(f'{where}: expected a list of conditions such as ["state!=deleted"]')
    from ._filters import parse_where

    try:
        parse_where(items)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    return list(items)


def _hint(key: str, known: Sequence[str]) -> str:
    found = closest(key, known)
    return f" (did you mean {found!r}?)" if found else ""


# Reports ------------------------------------------------------------------------------------


@attrs.frozen
class SourceReport:
    """How one source went: packages it gave (after ``where``), pages read, seconds, and its
    one-line ``error`` (``None`` when it was listed whole)."""

    name: str
    provider: str
    listing: str
    packages: int
    pages: int
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """``prod (harness packages): 120 packages, 3 pages, 0.4s, ok``"""
        status = "ok" if self.error is None else f"error: {self.error}"
        return (
            f"{self.name} ({self.provider} {self.listing}): {self.packages} packages, "
            f"{self.pages} pages, {self.seconds:.1f}s, {status}"
        )


@attrs.frozen
class InventoryReport:
    """Every source's :class:`SourceReport`, in file order. ``spilled`` counts the packages that
    waited in the temporary file, ``peak_buffered`` the most that waited in memory at once."""

    sources: tuple[SourceReport, ...]
    spilled: int = 0
    peak_buffered: int = 0

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(source for source in self.sources if not source.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


@attrs.frozen
class InventoryRecord:
    """A package and the name of the inventory source it came from."""

    source: str
    package: Package


# Running ------------------------------------------------------------------------------------

#: ``on_state(source, state)``: ``"listing"`` when a source starts, then ``"done"`` or ``"failed"``.
OnState = Callable[[str, str], None]


class _Buffer:
    """What the sources that wait for their turn hold in memory, all together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.peak = 0
        self.spilled = 0

    def hold(self, count: int) -> None:
        self.held += count
        self.peak = max(self.peak, self.held)


class _Channel:
    """One source's batches on their way to the writer, in order.

    Until its turn, batches wait in memory while the shared :class:`_Buffer` has
    room, then in a temporary file (pickled, read back in order). On its turn,
    at most ``_HEAD_BATCHES`` wait and the listing waits for the writer.
    """

    def __init__(self, buffer: _Buffer) -> None:
        self._buffer = buffer
        self._held: deque[list[Package]] = deque()
        self._file: IO[bytes] | None = None
        self._read_at = 0
        self._written_to = 0
        self._turn = False
        self.done = False
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()

    async def put(self, batch: list[Package]) -> None:
        while self._turn and self._file is None and len(self._held) >= _HEAD_BATCHES:
            self._room.clear()
            await self._room.wait()
        if self._file is None and (self._turn or self._buffer.held + len(batch) <= self._buffer.limit):
            self._held.append(batch)
            self._buffer.hold(len(batch))
        else:
            self._spill(batch)
        self._arrived.set()

    def _spill(self, batch: list[Package]) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="pkglist-inventory-")  # noqa: SIM115 - closed by close()
            self._read_at = self._written_to = 0
        self._file.seek(self._written_to)
        pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._written_to = self._file.tell()
        self._buffer.spilled += len(batch)

    def finish(self) -> None:
        self.done = True
        self._arrived.set()

    def _take(self) -> list[Package] | None:
        if self._held:
            batch = self._held.popleft()
            self._buffer.held -= len(batch)
            self._room.set()
            return batch
        if self._file is not None:
            if self._read_at < self._written_to:
                self._file.seek(self._read_at)
                spilled: list[Package] = pickle.load(self._file)  # our own temporary file
                self._read_at = self._file.tell()
                return spilled
            self.close()
        return None

    async def drain(self) -> AsyncGenerator[list[Package], None]:
        """Every batch, in order, until the source is done (its turn has come)."""
        self._turn = True
        while True:
            batch = self._take()
            if batch is not None:
                yield batch
                continue
            if self.done:
                return
            self._arrived.clear()
            await self._arrived.wait()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Run:
    """One run of an inventory: a task per source, their batches merged in file order."""

    def __init__(
        self, sources: Sequence[Source], concurrency: int, buffer_packages: int, on_state: OnState | None
    ) -> None:
        self.sources = tuple(sources)
        self.concurrency = concurrency
        self.buffer = _Buffer(buffer_packages)
        self.on_state = on_state
        self.reports: dict[str, SourceReport] = {}

    def report(self) -> InventoryReport:
        unfinished = [
            SourceReport(source.name, source.provider, source.listing, 0, 0, 0.0, "not finished")
            for source in self.sources
            if source.name not in self.reports
        ]
        finished = {**{report.name: report for report in unfinished}, **self.reports}
        return InventoryReport(
            tuple(finished[source.name] for source in self.sources),
            spilled=self.buffer.spilled,
            peak_buffered=self.buffer.peak,
        )

    async def batches(self) -> AsyncGenerator[tuple[str, list[Package]], None]:
        budget = asyncio.Semaphore(self.concurrency)
        channels = [_Channel(self.buffer) for _ in self.sources]
        tasks = [
            asyncio.create_task(self._list(source, channel, budget), name=f"pkglist-source-{source.name}")
            for source, channel in zip(self.sources, channels, strict=True)
        ]
        try:
            for source, channel in zip(self.sources, channels, strict=True):
                async for batch in channel.drain():
                    yield source.name, batch
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for channel in channels:
                channel.close()

    async def _list(self, source: Source, channel: _Channel, budget: asyncio.Semaphore) -> None:
        started = time.monotonic()
        pages = packages = 0
        error: str | None = None

        def progress(position: int, last: int | None, emitted: int) -> None:
            nonlocal pages
            pages += 1

        self._state(source.name, "listing")
        try:
            listed = _batches(source.prepared, progress, budget, source=source.name)
            async with contextlib.aclosing(listed) as batches:
                async for batch in batches:
                    packages += len(batch)
                    await channel.put(batch)
        except asyncio.CancelledError:
            error = "cancelled before the end"
            raise
        except PkglistError as exc:
            error = one_line(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in one source's plugin must not stop the others
            error = f"internal error: {describe_error(exc)}"
        finally:
            seconds = time.monotonic() - started
            self.reports[source.name] = SourceReport(
                source.name, source.provider, source.listing, packages, pages, seconds, error
            )
            channel.finish()
        self._state(source.name, "done" if error is None else "failed")

    def _state(self, name: str, state: str) -> None:
        if self.on_state is not None:
            self.on_state(name, state)


# The Python API -----------------------------------------------------------------------------


def _start(
    path_or_mapping: str | os.PathLike[str] | Mapping[str, Any] | None,
    common: Mapping[str, Any],
) -> _Run:
    options = dict(common)
    where = options.pop("where", None) or ()
    concurrency = _given(options.pop("concurrency", None), 8)
    buffer_packages = _given(options.pop("buffer_packages", None), BUFFER_PACKAGES)
    on_state = options.pop("on_state", None)
    manager = options.pop("manager", None)
    environ = options.pop("environ", None)
    overrides = {name: value for name, value in options.items() if value is not None}
    for name in overrides:
        if name not in _COMMON_KEYS:
            raise UsageError(f"inventory: unknown option {name!r}{_hint(name, _COMMON_KEYS)}")
    ListOptions.from_values({"concurrency": concurrency}, where="inventory")
    if isinstance(buffer_packages, bool) or not isinstance(buffer_packages, int) or buffer_packages < 1:
        raise UsageError(f"inventory: buffer_packages must be a positive integer, got {buffer_packages!r}")
    if isinstance(where, str):
        where = [where]
    sources = load_inventory(
        default_inventory_path(environ) if path_or_mapping is None else path_or_mapping,
        where=list(where),
        overrides=overrides,
        manager=manager,
        environ=environ,
    )
    return _Run(sources, concurrency, buffer_packages, on_state)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


class AsyncInventory:
    """The records of an inventory run, as an async iterator of :class:`InventoryRecord`;
    ``report`` is the :class:`InventoryReport` once the iteration has ended (else ``None``)."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        self.sources = tuple(source.name for source in run.sources)
        self.report: InventoryReport | None = None
        self._records = self._iterate()

    async def _iterate(self) -> AsyncGenerator[InventoryRecord, None]:
        try:
            async with contextlib.aclosing(self._run.batches()) as batches:
                async for name, batch in batches:
                    for package in batch:
                        yield InventoryRecord(name, package)
        finally:
            self.report = self._run.report()

    def explain(self) -> list[str]:
        """What ``--explain`` prints: per source, which conditions go to the server."""
        from ._pushdown import explain

        return [
            f"{source.name}: {line}" for source in self._run.sources for line in explain(source.prepared.plan)
        ]

    def batches(self) -> AsyncGenerator[tuple[str, list[Package]], None]:
        """``(source, packages)`` batches instead of records (what the CLI writes); the report
        is filled all the same. Use either this or the iteration, not both."""
        return _reported(self, self._run.batches())

    def __aiter__(self) -> AsyncIterator[InventoryRecord]:
        return self._records

    async def __anext__(self) -> InventoryRecord:
        return await self._records.__anext__()

    async def aclose(self) -> None:
        await self._records.aclose()


async def _reported(
    owner: AsyncInventory, batches: AsyncGenerator[tuple[str, list[Package]], None]
) -> AsyncGenerator[tuple[str, list[Package]], None]:
    try:
        async with contextlib.aclosing(batches):
            async for item in batches:
                yield item
    finally:
        owner.report = owner._run.report()


class Inventory:
    """The records of an inventory run, as an iterator of :class:`InventoryRecord`; ``report`` is
    the :class:`InventoryReport` once the iteration has ended (else ``None``). ``close()`` (or
    leaving the ``for`` loop early and dropping it) cancels what is in flight."""

    def __init__(self, run: _Run) -> None:
        self._inner = AsyncInventory(run)
        self.sources = self._inner.sources
        self._records = self._iterate()

    @property
    def report(self) -> InventoryReport | None:
        return self._inner.report

    def _iterate(self) -> Generator[InventoryRecord, None, None]:
        pump: Pump[InventoryRecord] = Pump(_listed(self._inner))
        try:
            while (records := pump.get()) is not None:
                yield from records
        finally:
            pump.close()

    def __iter__(self) -> Iterator[InventoryRecord]:
        return self._records

    def __next__(self) -> InventoryRecord:
        return next(self._records)

    def close(self) -> None:
        self._records.close()


async def _listed(inner: AsyncInventory) -> AsyncGenerator[list[InventoryRecord], None]:
    async with contextlib.aclosing(inner.batches()) as batches:
        async for name, batch in batches:
            yield [InventoryRecord(name, package) for package in batch]


def inventory(
    path_or_mapping: str | os.PathLike[str] | Mapping[str, Any] | None = None, /, **common: Any
) -> Inventory:
    """List every source of an inventory; records come tagged with their source::

        run = pkglist.inventory("inventory.toml", where=["state!=deleted"])
        for record in run:
            print(record.source, record.package.name)
        for source in run.report.failed:
            print(source.line())

    ``path_or_mapping`` is a TOML file (default: ``./pkglist.toml``, else
    ``$XDG_CONFIG_HOME/pkglist/inventory.toml``) or the same data as a mapping.
    Keyword arguments: ``where`` (conditions added to every source's),
    ``concurrency`` (page requests in flight for the whole run, default 8),
    ``buffer_packages`` (packages waiting in memory before a temporary file
    takes them), ``on_state`` (called with a source's name and ``"listing"``,
    ``"done"`` or ``"failed"``), ``manager``, and common options that replace
    every source's (``strict``, ``emulate``, ``timeout``...). A bad inventory
    raises :class:`~pkglist.UsageError` here, before any request; a source that
    fails does not raise: the report says so.
    """
    return Inventory(_start(path_or_mapping, common))


def ainventory(
    path_or_mapping: str | os.PathLike[str] | Mapping[str, Any] | None = None, /, **common: Any
) -> AsyncInventory:
    """:func:`inventory` for ``async for``; the same arguments."""
    return AsyncInventory(_start(path_or_mapping, common))
