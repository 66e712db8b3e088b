"""pkglist: list packages from many platforms as the same normalized records.

    >>> import pkglist
    >>> for package in pkglist.iter_packages("harness", "packages", account="acme"):  # doctest: +SKIP
    ...     print(package.name, package.version)

Public names live in private modules and are re-exported here. They are
imported on first use (PEP 562) so that ``pkglist --help`` and plugin
discovery stay fast: importing the engine pulls in ``httpx`` and ``asyncio``.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # Python API
    "iter_packages": "_api",
    "aiter_packages": "_api",
    "inventory": "_inventory",
    "ainventory": "_inventory",
    "Inventory": "_inventory",
    "AsyncInventory": "_inventory",
    "InventoryRecord": "_inventory",
    "InventoryReport": "_inventory",
    "SourceReport": "_inventory",
    "ListOptions": "_options",
    # records
    "Package": "_model",
    "Page": "_model",
    "PACKAGE_FIELDS": "_model",
    "converter": "_convert",
    "package_to_dict": "_convert",
    "format_datetime": "_model",
    "parse_timestamp": "items",
    # writing providers
    "Provider": "_provider",
    "Listing": "_provider",
    "Lookup": "_provider",
    "Credential": "_provider",
    "Connection": "_provider",
    "Settings": "_provider",
    "Pushdown": "_pushdown",
    "Query": "_query",
    "option": "_query",
    "query_options": "_query",
    "PageNumber": "_paging",
    "NextLink": "_paging",
    "Cursor": "_paging",
    "LinkHeader": "_paging",
    "ROOT": "_paging",
    "Paging": "_paging",
    "BadPageError": "_paging",
    "WrongPageError": "_paging",
    "decode_json": "_paging",
    "derive_request": "_paging",
    "join_url": "_urls",
    "quote_segment": "_urls",
    "check_base_url": "_urls",
    "origin_of": "_urls",
    # plugins
    "hookimpl": "_hookspecs",
    "hookspec": "_hookspecs",
    "PluginManager": "_plugins",
    "PluginRecord": "_plugins",
    "ProviderRecord": "_plugins",
    "PluginWarning": "_plugins",
    "get_plugin_manager": "_plugins",
    # errors and warnings
    "PkglistError": "_errors",
    "UsageError": "_errors",
    "PluginError": "_errors",
    "ProviderError": "_errors",
    "AuthError": "_errors",
    "NotFoundError": "_errors",
    "BadRequestError": "_errors",
    "RateLimitedError": "_errors",
    "ServerError": "_errors",
    "NetworkError": "_errors",
    "ProtocolError": "_errors",
    "InvalidItemError": "_errors",
    "PkglistWarning": "_errors",
    "ListingChangedWarning": "_errors",
    "InvalidItemWarning": "_errors",
    "CompletenessWarning": "_errors",
    "StrictError": "_errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pkglist' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from ._api import (
        aiter_packages as aiter_packages,
        iter_packages as iter_packages,
    )
    from ._convert import converter as converter, package_to_dict as package_to_dict
    from ._errors import (
        AuthError as AuthError,
        BadRequestError as BadRequestError,
        CompletenessWarning as CompletenessWarning,
        InvalidItemError as InvalidItemError,
        InvalidItemWarning as InvalidItemWarning,
        ListingChangedWarning as ListingChangedWarning,
        NetworkError as NetworkError,
        NotFoundError as NotFoundError,
        PkglistError as PkglistError,
        PkglistWarning as PkglistWarning,
        PluginError as PluginError,
        ProtocolError as ProtocolError,
        ProviderError as ProviderError,
        RateLimitedError as RateLimitedError,
        ServerError as ServerError,
        StrictError as StrictError,
        UsageError as UsageError,
    )
    from ._hookspecs import (
        hookimpl as hookimpl,
        hookspec as hookspec,
    )
    from ._inventory import (
        AsyncInventory as AsyncInventory,
        Inventory as Inventory,
        InventoryRecord as InventoryRecord,
        InventoryReport as InventoryReport,
        SourceReport as SourceReport,
        ainventory as ainventory,
        inventory as inventory,
    )
    from ._model import (
        PACKAGE_FIELDS as PACKAGE_FIELDS,
        Package as Package,
        Page as Page,
        format_datetime as format_datetime,
    )
    from ._options import (
        ListOptions as ListOptions,
    )
    from ._paging import (
        ROOT as ROOT,
        BadPageError as BadPageError,
        Cursor as Cursor,
        LinkHeader as LinkHeader,
        NextLink as NextLink,
        PageNumber as PageNumber,
        Paging as Paging,
        WrongPageError as WrongPageError,
        decode_json as decode_json,
        derive_request as derive_request,
    )
    from ._plugins import (
        PluginManager as PluginManager,
        PluginRecord as PluginRecord,
        PluginWarning as PluginWarning,
        ProviderRecord as ProviderRecord,
        get_plugin_manager as get_plugin_manager,
    )
    from ._provider import (
        Connection as Connection,
        Credential as Credential,
        Listing as Listing,
        Lookup as Lookup,
        Provider as Provider,
        Settings as Settings,
    )
    from ._pushdown import (
        Pushdown as Pushdown,
    )
    from ._query import (
        Query as Query,
        option as option,
        query_options as query_options,
    )
    from ._urls import (
        check_base_url as check_base_url,
        join_url as join_url,
        origin_of as origin_of,
        quote_segment as quote_segment,
    )
    from .items import (
        parse_timestamp as parse_timestamp,
    )
