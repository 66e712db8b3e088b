"""The six bundled listings, described once for the reliability suites.

Each :class:`Listing` says how to build its emulator with ``n`` packages, the
query that selects them, the ids the listing must yield in server order (the
same expectations as each plugin's ``tests/<provider>/test_contract.py``), a
newest-first variant of the query (for data changing under a listing), its
paging style and envelope (where the items, the page counts and the next link
live) and the item fields the body tests break. Credentials always come from
the emulator's own ``credentials``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

import pkglist
from pkglist.testing import EmulatorServer, Request
from pkglist_cloudfoundry._data import DEMO_APP_GUID
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from pkglist_harness import HarnessEmulator
from pkglist_metabind import MetabindEmulator
from tests.support.plugin_dirs import run_pkglist

__all__ = ["BY_KEY", "LISTINGS", "PROVIDERS", "Listing", "one_per_provider"]

Emulator = Any

#: Environment variables the CLI reads credentials from (so that they never sit on a command line).
CREDENTIAL_ENV = {
    "harness": {"api_key": "HARNESS_PLATFORM_API_KEY"},
    "cloudfoundry": {"token": "CF_ACCESS_TOKEN"},
    "metabind": {"api_key": "METABIND_API_KEY"},
}
#: Variables from the developer's shell that could change what a CLI run does.
_SCRUBBED_ENV = (
    "HARNESS_PLATFORM_API_KEY",
    "HARNESS_API_KEY",
    "HARNESS_ENDPOINT",
    "HARNESS_ACCOUNT_ID",
    "CF_API",
    "CF_ACCESS_TOKEN",
    "CF_HOME",
    "METABIND_API_KEY",
    "METABIND_API_URL",
    "METABIND_ORGANIZATION",
    "METABIND_PROJECT",
    "SSL_CERT_FILE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@attrs.frozen
class Listing:
    """One provider listing, as the reliability suites drive it."""

    provider: str
    name: str
    #: How it pages, in words (for the report and ids).
    paging: str
    #: Dotted path of the item list in a page body.
    items: str
    page_param: str
    size_param: str
    #: The number of the first page (0 or 1).
    first: int
    make: Callable[[int], Emulator]
    route: Callable[[Emulator], str]
    query: Callable[[Emulator], dict[str, Any]]
    expected: Callable[[Emulator], list[str]]
    #: The same listing, newest first (items inserted later appear at its head).
    newest_query: Callable[[Emulator], dict[str, Any]]
    newest_expected: Callable[[Emulator], list[str]]
    #: Dotted paths in the envelope: the page count, the item count, the next link (or None).
    page_count: str | None
    item_count: str | None
    next_link: str | None
    #: Item fields: the one the record's ``id`` comes from, the path of its ``name``,
    #: a timestamp, and an integer count kept in ``extra`` (key), where there is one.
    id_field: str
    name_path: tuple[str, ...]
    time_field: str
    count_field: str | None = None
    count_extra: str | None = None
    #: Whether a page shorter than asked ends the listing.
    short_page_ends: bool = True

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.name}"

    def __str__(self) -> str:
        return self.key

    # Requests --------------------------------------------------------------------

    def position(self, request: Request, emulator: Emulator) -> int | None:
        """The 1-based position of a listing page request (by its page number), else None."""
        if request.path != self.route(emulator):
            return None
        value = request.param(self.page_param)
        return (self.first if value is None else int(value)) - self.first + 1

    def page_requests(self, server: EmulatorServer, emulator: Emulator) -> list[int]:
        """The positions of the listing page requests the server received, in order."""
        positions = []
        for recorded in list(server.requests):
            if recorded.path != self.route(emulator):
                continue
            values = recorded.query.get(self.page_param)
            positions.append((self.first if not values else int(values[0])) - self.first + 1)
        return positions

    # Listing through the Python API ----------------------------------------------------

    def options(
        self, server: EmulatorServer, emulator: Emulator, *, newest: bool = False, **extra: Any
    ) -> dict[str, Any]:
        query = self.newest_query(emulator) if newest else self.query(emulator)
        return {
            "base_url": server.url,
            "retry_backoff": 0.001,
            "max_retry_wait": 0.05,
            "timeout": 5,
            **emulator.credentials,
            **query,
            **extra,
        }

    def list(
        self, server: EmulatorServer, emulator: Emulator, *, newest: bool = False, **extra: Any
    ) -> list[pkglist.Package]:
        options = self.options(server, emulator, newest=newest, **extra)
        return list(pkglist.iter_packages(self.provider, self.name, **options))

    def ids(self, server: EmulatorServer, emulator: Emulator, **extra: Any) -> list[str]:
        return [package.id for package in self.list(server, emulator, **extra)]

    # Listing through the real CLI ------------------------------------------------------

    def cli(
        self, server: EmulatorServer, emulator: Emulator, *extra: str, newest: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run the installed ``pkglist`` console script against ``server`` (credentials in the environment)."""
        query = self.newest_query(emulator) if newest else self.query(emulator)
        env = {name: value for name, value in os.environ.items() if name not in _SCRUBBED_ENV}
        env["CF_HOME"] = os.devnull  # no cf CLI login of the developer's
        for credential, variable in CREDENTIAL_ENV[self.provider].items():
            env[variable] = emulator.credentials[credential]
        args = [self.provider, self.name, "--base-url", server.url, *_flags(query), *extra]
        return _run(args, env)


def _run(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    # run_pkglist merges os.environ back in; scrubbed variables must stay out, so pass them empty.
    cleared = {name: "" for name in _SCRUBBED_ENV if name not in env}
    return run_pkglist(*args, env={**env, **cleared}, timeout=60)


def _flags(query: Mapping[str, Any]) -> list[str]:
    flags: list[str] = []
    for name, value in query.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif isinstance(value, (list, tuple)):
            for one in value:
                flags += [flag, str(one)]
        else:
            flags += [flag, str(value)]
    return flags


# Harness ----------------------------------------------------------------------------------


def _harness_main(emulator: HarnessEmulator) -> list[Any]:
    return [emulator.catalog.main(i) for i in range(emulator.catalog.size)]


def _harness_uuids(emulator: HarnessEmulator) -> list[str]:
    return [package.uuid for package in _harness_main(emulator)]


def _harness_latest(emulator: HarnessEmulator) -> list[str]:
    return [f"{package.uuid}@{package.versions[-1]}" for package in _harness_main(emulator)]


def _harness_packages_query(emulator: HarnessEmulator) -> dict[str, Any]:
    return {
        "account": "acme",
        "org": "platform",
        "project": "payments",
        "registry_id": [emulator.main_registry.uuid],
        "deleted": "include",
    }


def _harness_space_query(emulator: HarnessEmulator) -> dict[str, Any]:
    return {
        "space_ref": "acme/platform/payments",
        "registry": [emulator.main_registry.identifier],
        "latest_only": True,
    }


_V1_NEWEST = {"sort_field": "lastModified", "sort_order": "DESC"}

HARNESS_PACKAGES = Listing(
    provider="harness",
    name="packages",
    paging="page numbers from 0, hasMore (no count, no next link)",
    items="items",
    page_param="page",
    size_param="size",
    first=0,
    make=lambda n: HarnessEmulator(packages=n),
    route=lambda emulator: "/har/api/v3/packages",
    query=_harness_packages_query,
    expected=_harness_uuids,
    newest_query=lambda emulator: {**_harness_packages_query(emulator), "sort": "modifiedAt:desc"},
    newest_expected=lambda emulator: _harness_uuids(emulator)[::-1],
    page_count=None,
    item_count=None,
    next_link=None,
    id_field="id",
    name_path=("name",),
    time_field="modifiedAt",
    count_field="downloadCount",
    count_extra="download_count",
)
HARNESS_REGISTRY_ARTIFACTS = Listing(
    provider="harness",
    name="registry-artifacts",
    paging="page numbers from 0, pageCount and itemCount (no next link)",
    items="data.artifacts",
    page_param="page",
    size_param="size",
    first=0,
    make=lambda n: HarnessEmulator(packages=n),
    route=lambda emulator: f"/har/api/v1/registry/{emulator.main_registry.path}/+/artifacts",
    query=lambda emulator: {"registry_ref": emulator.main_registry.path},
    expected=_harness_uuids,
    newest_query=lambda emulator: {"registry_ref": emulator.main_registry.path, **_V1_NEWEST},
    newest_expected=lambda emulator: _harness_uuids(emulator)[::-1],
    page_count="data.pageCount",
    item_count="data.itemCount",
    next_link=None,
    id_field="uuid",
    name_path=("name",),
    time_field="lastModified",
    count_field="downloadsCount",
    count_extra="download_count",
)
HARNESS_SPACE_ARTIFACTS = Listing(
    provider="harness",
    name="space-artifacts",
    paging="page numbers from 0, pageCount and itemCount counting versions (no next link)",
    items="data.artifacts",
    page_param="page",
    size_param="size",
    first=0,
    make=lambda n: HarnessEmulator(packages=n),
    route=lambda emulator: "/har/api/v1/spaces/acme/platform/payments/+/artifacts",
    query=_harness_space_query,
    expected=_harness_latest,
    newest_query=lambda emulator: {**_harness_space_query(emulator), **_V1_NEWEST},
    newest_expected=lambda emulator: _harness_latest(emulator)[::-1],
    page_count="data.pageCount",
    item_count="data.itemCount",
    next_link=None,
    id_field="uuid",
    name_path=("name",),
    time_field="lastModified",
    count_field="downloadsCount",
    count_extra="download_count",
)

# Cloud Foundry -----------------------------------------------------------------------------

_CF_NEWEST = {"order_by": "-created_at"}


def _cf_guids(emulator: CloudFoundryEmulator) -> list[str]:
    return list(emulator.package_guids(DEMO_APP_GUID))


CF_APP_PACKAGES = Listing(
    provider="cloudfoundry",
    name="app-packages",
    paging="page numbers from 1, total_pages and total_results, absolute next link",
    items="resources",
    page_param="page",
    size_param="per_page",
    first=1,
    make=lambda n: CloudFoundryEmulator(packages=n, seed=7),
    route=lambda emulator: f"/v3/apps/{DEMO_APP_GUID}/packages",
    query=lambda emulator: {"app": DEMO_APP_GUID},
    expected=_cf_guids,
    newest_query=lambda emulator: {"app": DEMO_APP_GUID, **_CF_NEWEST},
    newest_expected=lambda emulator: _cf_guids(emulator)[::-1],
    page_count="pagination.total_pages",
    item_count="pagination.total_results",
    next_link="pagination.next.href",
    id_field="guid",
    name_path=("relationships", "app", "data", "guid"),
    time_field="created_at",
)
CF_PACKAGES = Listing(
    provider="cloudfoundry",
    name="packages",
    paging="page numbers from 1, total_pages and total_results, absolute next link",
    items="resources",
    page_param="page",
    size_param="per_page",
    first=1,
    make=lambda n: CloudFoundryEmulator(packages=n, seed=7),
    route=lambda emulator: "/v3/packages",
    query=lambda emulator: {"app_guid": [DEMO_APP_GUID]},
    expected=_cf_guids,
    newest_query=lambda emulator: {"app_guid": [DEMO_APP_GUID], **_CF_NEWEST},
    newest_expected=lambda emulator: _cf_guids(emulator)[::-1],
    page_count="pagination.total_pages",
    item_count="pagination.total_results",
    next_link="pagination.next.href",
    id_field="guid",
    name_path=("relationships", "app", "data", "guid"),
    time_field="created_at",
)

# Metabind ------------------------------------------------------------------------------------

_METABIND_QUERY = {"organization": "org123", "project": "proj123"}

METABIND_PACKAGES = Listing(
    provider="metabind",
    name="packages",
    paging="page numbers from 1, pages and total, newest first (a lastKey cursor when sent)",
    items="data",
    page_param="page",
    size_param="limit",
    first=1,
    make=lambda n: MetabindEmulator(packages=n, seed=7),
    route=lambda emulator: "/v1/organizations/org123/projects/proj123/packages",
    query=lambda emulator: dict(_METABIND_QUERY),
    expected=lambda emulator: emulator.package_ids(),
    newest_query=lambda emulator: dict(_METABIND_QUERY),  # it is newest first already
    newest_expected=lambda emulator: emulator.package_ids(),
    page_count="pagination.pages",
    item_count="pagination.total",
    next_link=None,
    id_field="id",
    name_path=("projectId",),
    time_field="createdAt",
    count_field=None,
    short_page_ends=False,
)

LISTINGS: tuple[Listing, ...] = (
    HARNESS_PACKAGES,
    HARNESS_REGISTRY_ARTIFACTS,
    HARNESS_SPACE_ARTIFACTS,
    CF_APP_PACKAGES,
    CF_PACKAGES,
    METABIND_PACKAGES,
)
BY_KEY = {listing.key: listing for listing in LISTINGS}
PROVIDERS = ("harness", "cloudfoundry", "metabind")


def one_per_provider() -> tuple[Listing, ...]:
    """The first listing of each provider (for the slower CLI cases)."""
    return tuple(next(listing for listing in LISTINGS if listing.provider == p) for p in PROVIDERS)
