"""Finding, loading and vetting plugins (entry-point group ``pkglist``).

Entry points are loaded once, on first need. A plugin that fails to import,
implements an unknown hook, yields an invalid provider or a provider name
that is already taken is reported once (a :class:`PluginWarning` naming the
distribution) and skipped; every other plugin keeps working.

``PKGLIST_LOAD_PLUGINS`` (comma-separated distribution names; empty means
none) and ``PKGLIST_DISABLE_PLUGINS`` select plugins before anything is
imported; ``PKGLIST_TRACE_HOOKS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pluggy

from . import _hookspecs
from ._entry_points import (
    BUILTIN_COMMANDS,
    ENTRY_POINT_GROUP,
    NAME,
    canonical_name,
    distribution,
    name_set,
    offered_names,
)
from ._errors import PkglistWarning, PluginError, UsageError
from ._hookspecs import hookimpl
from ._options import RESERVED_NAMES
from ._provider import Credential, Listing, Provider
from ._query import query_options
from .text import closest, describe_error, shorten

if TYPE_CHECKING:
    from importlib.metadata import EntryPoints

__all__ = ["PluginManager", "PluginRecord", "PluginWarning", "ProviderRecord", "get_plugin_manager"]

Status = Literal["active", "disabled", "failed"]


class PluginWarning(PkglistWarning):
    """A plugin was skipped; the message names the distribution and the reason."""


@attrs.frozen
class PluginRecord:
    """One distribution registered in the ``pkglist`` entry-point group."""

    name: str
    version: str
    entry_point: str
    status: Status
    reason: str | None = None
    providers: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()


@attrs.frozen
class ProviderRecord:
    provider: Provider
    plugin: str
    version: str


class DefaultPlugin:
    """Runs each stage through the provider object's own methods."""

    @hookimpl(trylast=True)
    def pkglist_list_request(
        self, provider: Provider, listing: Listing, query: Any, base_url: str, page_size: int
    ) -> Any:
        return provider.list_request(listing, query, base_url, page_size)

    @hookimpl(trylast=True)
    def pkglist_paginate(
        self, provider: Provider, listing: Listing, query: Any, request: Any, response: Any
    ) -> Any:
        return provider.paginate(listing, query, request, response)

    @hookimpl(trylast=True)
    def pkglist_normalize(self, provider: Provider, listing: Listing, query: Any, raw: Any) -> Any:
        return provider.normalize(listing, query, raw)


DEFAULT_PLUGIN_NAME = "pkglist.default"


class PluginManager:
    """pluggy's manager plus the vetting and bookkeeping pkglist needs.

    >>> manager = PluginManager.for_testing()
    >>> sorted(manager.providers())
    []
    """

    def __init__(
        self,
        *,
        entry_points: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._entry_points = entry_points
        self._loaded = False
        self._pm = pluggy.PluginManager(_hookspecs.PROJECT)
        self._pm.add_hookspecs(_hookspecs)
        self._default = DefaultPlugin()
        self._pm.register(self._default, name=DEFAULT_PLUGIN_NAME)
        self._providers: dict[str, ProviderRecord] = {}
        self._records: list[PluginRecord] = []
        self._seen: set[str] = set()  # distributions whose entry point was handled
        self._found: EntryPoints | None = None
        self.tracing = bool(self._environ.get("PKGLIST_TRACE_HOOKS"))
        if self.tracing:
            self._pm.add_hookcall_monitoring(_trace_before, _trace_after)

    @classmethod
    def for_testing(cls, *plugins: object) -> PluginManager:
        """A manager without installed plugins, with ``plugins`` registered (for tests and docs)."""
        manager = cls(entry_points=False, environ={})
        for plugin in plugins:
            manager.register(plugin)
        return manager

    # Loading ---------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._entry_points:
            self._load_entry_points()

    def _load_entry_points(self, only: str | None = None) -> None:
        from importlib.metadata import entry_points

        selected = self._environ.get("PKGLIST_LOAD_PLUGINS")
        allowed = None if selected is None else name_set(selected)
        blocked = name_set(self._environ.get("PKGLIST_DISABLE_PLUGINS", ""))
        if self._found is None:  # one scan of the installed distributions, however many loads
            self._found = entry_points(group=ENTRY_POINT_GROUP)
        found = self._found if only is None else self._found.select(name=only)
        # Sorted by distribution (stable, so sys.path order decides between two copies of one):
        # which of two clashing plugins wins must not depend on where they were installed.
        described = [(distribution(entry_point), entry_point) for entry_point in found]
        for (name, version), entry_point in sorted(described, key=lambda item: canonical_name(item[0][0])):
            key = canonical_name(name)
            if key in self._seen:  # the same distribution twice on sys.path: the first one wins
                continue
            self._seen.add(key)
            spec = f"{entry_point.name} = {entry_point.value}"
            if (allowed is not None and key not in allowed) or key in blocked:
                self._records.append(PluginRecord(name, version, spec, "disabled"))
                continue
            try:
                plugin = entry_point.load()
            except Exception as exc:  # noqa: BLE001 - any import failure disables only this plugin
                self._fail(name, version, spec, f"import failed: {describe_error(exc)}")
                continue
            self._add(plugin, name=name, version=version, spec=spec)

    def load_named(self, entry_point_name: str) -> None:
        """Load only the installed plugins whose entry point is called ``entry_point_name``
        (by convention, the name of the provider they add), leaving the others unimported
        until a query needs them all: help for one provider imports its plugin alone."""
        if not self._loaded and self._entry_points:
            self._load_entry_points(only=entry_point_name)

    def loaded_provider(self, name: str) -> Provider | None:
        """The provider called ``name`` if a plugin loaded so far provides it (loads nothing)."""
        record = self._providers.get(name)
        return None if record is None else record.provider

    def command_names(self) -> list[str]:
        """The provider names to offer before loading plugins: those already registered and,
        until the installed plugins are loaded, their entry points' names, read from metadata
        without importing them (a plugin's entry point is, by convention, its provider's name)."""
        names = set(self._providers)
        if self._entry_points and not self._loaded:
            names.update(offered_names(self._environ))
        return sorted(names)

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object or module directly (tests, embedding applications).

        Unlike an installed plugin, a broken one raises :class:`PluginError`.
        """
        self._ensure_loaded()
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        before = len(self._records)
        self._add(plugin, name=name, version="", spec="(registered)")
        record = self._records[before]
        if record.status == "failed":
            raise PluginError(f"plugin {name!r} rejected: {record.reason}")

    def _add(self, plugin: object, *, name: str, version: str, spec: str) -> None:
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._fail(name, version, spec, describe_error(exc))
            return
        try:
            hooks = self._check_hooks(plugin)
            providers = self._collect_providers(plugin, name)
        except PluginError as exc:
            self._pm.unregister(plugin)
            self._fail(name, version, spec, exc.message)
            return
        for provider in providers:
            self._providers[provider.name] = ProviderRecord(provider, name, version)
        self._records.append(
            PluginRecord(
                name,
                version,
                spec,
                "active",
                providers=tuple(provider.name for provider in providers),
                hooks=hooks,
            )
        )

    def _check_hooks(self, plugin: object) -> tuple[str, ...]:
        names = []
        for caller in self._pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                raise PluginError(f"implements unknown hook {caller.name!r}")
            names.append(caller.name)
        return tuple(sorted(names))

    def _collect_providers(self, plugin: object, plugin_name: str) -> list[Provider]:
        impls = [impl for impl in self._pm.hook.pkglist_providers.get_hookimpls() if impl.plugin is plugin]
        providers: list[Provider] = []
        for impl in impls:
            try:
                result: Iterable[Provider] | None = impl.function()  # type: ignore[assignment]
                found = list(result or ())
            except Exception as exc:  # noqa: BLE001 - a failing plugin must not take others down
                raise PluginError(f"pkglist_providers failed: {describe_error(exc)}") from None
            providers.extend(found)
        names: set[str] = set()
        for provider in providers:
            _check_provider(provider)
            if provider.name in names:
                raise PluginError(f"yields provider {provider.name!r} twice")
            names.add(provider.name)
            taken = self._providers.get(provider.name)
            if taken is not None:
                raise PluginError(f"provider {provider.name!r} is already provided by {taken.plugin!r}")
        return providers

    def _fail(self, name: str, version: str, spec: str, reason: str) -> None:
        self._records.append(PluginRecord(name, version, spec, "failed", reason=reason))
        warnings.warn(f"plugin {name!r} skipped: {reason}", PluginWarning, stacklevel=2)

    # Queries -----------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the installed plugins have been loaded (by any query) in this process."""
        return self._loaded and self._entry_points

    @property
    def hook(self) -> Any:
        self._ensure_loaded()
        return self._pm.hook

    def providers(self) -> Mapping[str, ProviderRecord]:
        self._ensure_loaded()
        return dict(sorted(self._providers.items()))

    def provider(self, name: str) -> Provider:
        self._ensure_loaded()
        record = self._providers.get(name)
        if record is not None:
            return record.provider

        hint = closest(name, self._providers)
        if hint:
            raise UsageError(f"unknown provider {name!r}; did you mean {hint!r}?")
        available = ", ".join(sorted(self._providers)) or "none installed"
        raise UsageError(f"unknown provider {name!r} (available: {available})")

    def plugins(self) -> list[PluginRecord]:
        self._ensure_loaded()
        return list(self._records)

    def plugin_of_provider(self, provider: Provider) -> str:
        """The name of the plugin (its distribution) that provides ``provider``."""
        record = self.providers().get(provider.name)
        return record.plugin if record is not None else type(provider).__module__.split(".")[0]

    def implementers(self, hook_name: str) -> list[str]:
        """The plugins other than the core's default that implement ``hook_name``."""
        impls = getattr(self.hook, hook_name).get_hookimpls()
        return [impl.plugin_name for impl in impls if impl.plugin is not self._default]

    def culprit(self, exc: BaseException) -> str | None:
        """The plugin whose code raised ``exc``: the innermost frame of its traceback that
        belongs to a registered plugin's package (core, library and stdlib frames are skipped).
        ``None`` when no plugin code is on the traceback."""
        packages: dict[str, str] = {}
        for name, plugin in self._pm.list_name_plugin():
            if plugin is not self._default and name is not None:
                packages.setdefault(_package_of(plugin), name)
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame)
            tb = tb.tb_next
        for frame in reversed(frames):
            module = frame.f_globals.get("__name__") or ""
            owners = [key for key in packages if module == key or module.startswith(key + ".")]
            if owners:
                return packages[max(owners, key=len)]
        return None

    def only_default(self, hook_name: str) -> bool:
        """True when no plugin but the core's default implements ``hook_name`` (fast path)."""
        impls = getattr(self.hook, hook_name).get_hookimpls()
        return not self.tracing and len(impls) == 1 and impls[0].plugin is self._default


def _package_of(plugin: object) -> str:
    """Where a plugin's code lives: a module plugin's top-level package (a distribution's
    code), or the module of a plugin object's class."""
    if isinstance(plugin, type(sys)):
        return plugin.__name__.split(".")[0]
    return type(plugin).__module__


def _check_provider(provider: object) -> None:
    if not isinstance(provider, Provider):
        raise PluginError(f"yields {provider!r}, which is not a pkglist.Provider")
    name = getattr(provider, "name", None)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(f"yields a provider with an invalid name {name!r}")
    if name in BUILTIN_COMMANDS:
        raise PluginError(f"provider name {name!r} clashes with a built-in command")
    if not provider.listings:
        raise PluginError(f"provider {name!r} has no listings")
    credential_names = set()
    for credential in provider.credentials:
        if not isinstance(credential, Credential):
            raise PluginError(f"provider {name!r}: {credential!r} is not a pkglist.Credential")
        credential_names.add(credential.name)
    if credential_names & RESERVED_NAMES:
        raise PluginError(f"provider {name!r}: credential name clashes with a common option")
    seen: set[str] = set()
    for listing in provider.listings:
        if not isinstance(listing, Listing):
            raise PluginError(f"provider {name!r}: {listing!r} is not a pkglist.Listing")
        if not NAME.fullmatch(listing.name) or listing.name in seen:
            raise PluginError(f"provider {name!r}: invalid or repeated listing name {listing.name!r}")
        seen.add(listing.name)
        if listing.max_page_size < 1 or not 1 <= listing.page_size <= listing.max_page_size:
            raise PluginError(f"provider {name!r} listing {listing.name!r}: invalid page sizes")
        option_names = {option.name for option in query_options(listing.query)}
        clash = option_names & (RESERVED_NAMES | credential_names)
        if clash:
            raise PluginError(
                f"provider {name!r} listing {listing.name!r}: option {sorted(clash)[0]!r} "
                "clashes with a common option or credential"
            )
        if listing.pushdown:
            from ._pushdown import pushdown_problem

            problem = pushdown_problem(listing)
            if problem is not None:
                raise PluginError(f"provider {name!r} listing {listing.name!r}: {problem}")


def _trace_before(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
    args = ", ".join(f"{key}={_short(value)}" for key, value in kwargs.items())
    impls = ", ".join(impl.plugin_name for impl in reversed(hook_impls))
    print(f"pkglist: hook {hook_name}({args}) -> [{impls}]", file=sys.stderr)


def _trace_after(
    outcome: pluggy.Result[Any],
    hook_name: str,
    hook_impls: Sequence[pluggy.HookImpl],
    kwargs: Mapping[str, Any],
) -> None:
    exc = outcome.exception
    shown = f"raised {describe_error(exc)}" if exc is not None else _short(outcome.get_result())
    print(f"pkglist: hook {hook_name} = {shown}", file=sys.stderr)


def _short(value: object) -> str:
    if isinstance(value, Provider):
        return value.name
    if isinstance(value, Listing):
        return value.name
    return shorten(repr(value), 120)


_default_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide manager (installed plugins, loaded on first use)."""
    global _default_manager
    if _default_manager is None:
        _default_manager = PluginManager()
    return _default_manager


def set_plugin_manager(manager: PluginManager | None) -> None:
    """Replace the process-wide manager (the CLI's ``--no-plugins``; tests)."""
    global _default_manager
    _default_manager = manager
