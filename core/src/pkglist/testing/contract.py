"""The contract suite every provider runs, bundled or third-party.

Subclass :class:`ProviderContract` in a test module (its name must start with
``Test`` for pytest to collect it), say which provider and listing it checks,
and how to build an emulator holding ``size`` packages::

    from pkglist.testing.contract import ProviderContract

    class TestToyPackages(ProviderContract):
        provider = "toy"
        listing = "packages"

        def make_emulator(self, size):
            return ToyEmulator(packages=size)

        def query(self, emulator):
            return {"team": "core"}

        def expected_ids(self, emulator):
            return [item["id"] for item in emulator.items]

        def missing_query(self, emulator):
            return {"team": "no-such-team"}

Every test talks to the emulator over real loopback HTTP. The data sets are
empty, one package, exactly one page, one page plus one, and many pages; the
suite checks that every package arrives exactly once and in server order,
limits, that concurrency 1 and 8 give identical output, that sync and async
agree, that injected faults are survived, that a wrong credential is an
:class:`~pkglist.AuthError` and a missing scope a :class:`~pkglist.NotFoundError`,
and that every record is valid. Every listing runs ``strict``: a provider whose
signals disagree or whose announced total is not what was listed fails. It
also checks what is asked: the page size reaches the server under the
strategy's ``size_param``, and no page is asked for past the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar, Generic, TypeVar

import pytest

from .._api import aiter_packages, iter_packages
from .._convert import package_to_dict
from .._errors import AuthError, NotFoundError
from .._model import Package
from .._plugins import PluginManager
from ._emulator import Emulator
from ._server import EmulatorServer, Faults, serve
from ._validate import validate_package

__all__ = ["ProviderContract"]

#: The faults every provider must survive with the default retry budget raised a little.
CONTRACT_FAULTS = Faults(
    statuses={503: 0.08, 502: 0.04, 504: 0.04, 429: 0.05},
    drop_before=0.04,
    drop_mid_body=0.03,
    truncate=0.02,
    seed=20261122,
)


E = TypeVar("E", bound=Emulator)


class ProviderContract(Generic[E]):
    """Base class of a provider's contract tests (see the module docstring).

    Parametrize it with your emulator class (``ProviderContract[ShelfEmulator]``)
    so that the methods you implement receive it typed.
    """

    provider: ClassVar[str]
    listing: ClassVar[str]
    #: A small page size, so that modest data sets span many pages.
    page_size: ClassVar[int] = 3
    #: The size of the "many pages" data set.
    many: ClassVar[int] = 25
    #: Whether each item the pages list is one package (false when a page expands into
    #: sub-listings): then the number of pages follows from the number of packages.
    one_package_per_item: ClassVar[bool] = True
    #: The plugin manager to list through; ``None`` means the installed plugins.
    manager: ClassVar[PluginManager | None] = None

    # What a provider's test class implements -------------------------------------

    def make_emulator(self, size: int) -> E:
        """An emulator whose listing (with :meth:`query`) holds ``size`` packages."""
        raise NotImplementedError

    def query(self, emulator: E) -> dict[str, Any]:
        """The listing's query options that select the emulator's packages."""
        raise NotImplementedError

    def expected_ids(self, emulator: E) -> list[str]:
        """The ids the listing must yield, in server order."""
        raise NotImplementedError

    def missing_query(self, emulator: E) -> dict[str, Any] | None:
        """Query options naming a scope that does not exist (404), or ``None`` to skip."""
        return None

    def options(self) -> dict[str, Any]:
        """Extra options for every call (credentials are taken from the emulator)."""
        return {}

    # Helpers ---------------------------------------------------------------------

    def call_options(self, server: EmulatorServer, emulator: E, **extra: Any) -> dict[str, Any]:
        return {
            "base_url": server.url,
            "page_size": self.page_size,
            "retry_backoff": 0.001,
            # A listing that warns (signals that disagree, a total that is not what was listed)
            # fails: a provider reading its signals wrong must not pass as one that works.
            "strict": True,
            **emulator.credentials,
            **self.query(emulator),
            **self.options(),
            **extra,
        }

    def list_packages(self, server: EmulatorServer, emulator: E, **extra: Any) -> list[Package]:
        options = self.call_options(server, emulator, **extra)
        return list(iter_packages(self.provider, self.listing, manager=self.manager, **options))

    def sizes(self) -> dict[str, int]:
        return {
            "empty": 0,
            "one": 1,
            "one-page": self.page_size,
            "one-page-plus-one": self.page_size + 1,
            "many-pages": self.many,
        }

    @pytest.fixture(params=["empty", "one", "one-page", "one-page-plus-one", "many-pages"])
    def world(self, request: pytest.FixtureRequest) -> Iterator[tuple[EmulatorServer, E]]:
        emulator = self.make_emulator(self.sizes()[request.param])
        with serve(emulator) as server:
            yield server, emulator

    @pytest.fixture
    def many_world(self) -> Iterator[tuple[EmulatorServer, E]]:
        emulator = self.make_emulator(self.many)
        with serve(emulator) as server:
            yield server, emulator

    # The contract ----------------------------------------------------------------

    def test_every_package_once_in_order(self, world: tuple[EmulatorServer, E]) -> None:
        server, emulator = world
        ids = [package.id for package in self.list_packages(server, emulator)]
        expected = self.expected_ids(emulator)
        assert len(set(ids)) == len(ids), "a package was listed twice"
        assert ids == expected

    def test_records_are_valid(self, world: tuple[EmulatorServer, E]) -> None:
        server, emulator = world
        for package in self.list_packages(server, emulator):
            validate_package(package, provider=self.provider, listing=self.listing)
            assert package.raw is None

    def test_concurrency_does_not_change_output(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        one = self.list_packages(server, emulator, concurrency=1)
        eight = self.list_packages(server, emulator, concurrency=8)
        assert [package_to_dict(p) for p in one] == [package_to_dict(p) for p in eight]
        assert len(one) == self.many

    def test_async_matches_sync(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        options = self.call_options(server, emulator)

        async def collect() -> list[Package]:
            return [
                p async for p in aiter_packages(self.provider, self.listing, manager=self.manager, **options)
            ]

        assert asyncio.run(collect()) == self.list_packages(server, emulator)

    @pytest.mark.parametrize("limit", [1, 2, 4, 7])
    def test_limit(self, many_world: tuple[EmulatorServer, E], limit: int) -> None:
        server, emulator = many_world
        ids = [package.id for package in self.list_packages(server, emulator, limit=limit)]
        assert ids == self.expected_ids(emulator)[:limit]

    def test_survives_faults(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        server.set_faults(CONTRACT_FAULTS)
        try:
            ids = [package.id for package in self.list_packages(server, emulator, retries=12, timeout=5)]
        finally:
            server.set_faults(None)
        assert ids == self.expected_ids(emulator)
        assert sum(server.injected.values()) > 0, "no fault was injected; the test proves nothing"

    def test_wrong_credential_is_auth_error(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        if not emulator.credentials:
            pytest.skip("this provider takes no credentials")
        wrong = {name: "wrong-" + value for name, value in emulator.credentials.items()}
        with pytest.raises(AuthError) as caught:
            self.list_packages(server, emulator, **wrong)
        assert self.provider in str(caught.value)
        for value in wrong.values():
            assert value not in str(caught.value)
            assert value not in repr(caught.value)

    def test_missing_scope_is_not_found(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        missing = self.missing_query(emulator)
        if missing is None:
            pytest.skip("no missing scope to ask for")
        with pytest.raises(NotFoundError) as caught:
            self.list_packages(server, emulator, **missing)
        # The class is what matters: real servers answer a missing scope with 400 or 500 too.
        assert caught.value.status is not None
        assert 400 <= caught.value.status < 600

    # What is asked, not only what comes out -----------------------------------------

    def page_requests(self, server: EmulatorServer) -> list[dict[str, list[str]]]:
        """The queries of the listing's page requests: those that carry the strategy's size parameter."""
        size_param = getattr(self._listing().paging, "size_param", None)
        if size_param is None:
            pytest.skip("the listing's paging strategy sends no page size")
        return [dict(request.query) for request in list(server.requests) if size_param in request.query]

    def _listing(self) -> Any:
        from .._plugins import get_plugin_manager

        return (self.manager or get_plugin_manager()).provider(self.provider).listing(self.listing)

    @pytest.mark.parametrize("page_size", [2, 5])
    def test_the_page_size_asked_for_is_sent(
        self, many_world: tuple[EmulatorServer, E], page_size: int
    ) -> None:
        server, emulator = many_world
        self.list_packages(server, emulator, page_size=page_size, concurrency=1)
        size_param = self._listing().paging.size_param
        asked = self.page_requests(server)
        assert asked, f"no request carried the page size parameter {size_param!r}"
        assert {tuple(query[size_param]) for query in asked} == {(str(page_size),)}

    @pytest.mark.parametrize("page_size", [2, 5])
    def test_no_page_is_asked_for_past_the_end(
        self, many_world: tuple[EmulatorServer, E], page_size: int
    ) -> None:
        if not self.one_package_per_item:
            pytest.skip("the listing's pages expand: their count does not follow from the packages'")
        server, emulator = many_world
        self.list_packages(server, emulator, page_size=page_size, concurrency=1)
        asked = self.page_requests(server)
        pages = -(-self.many // page_size)
        # Distinct pages: an auth flow may send a request twice (a 401 challenge, then the token).
        distinct = {tuple(sorted((key, tuple(values)) for key, values in query.items())) for query in asked}
        assert pages <= len(distinct) <= pages + 1, f"{len(distinct)} pages asked for, {pages} exist"

    def test_raw_keeps_the_provider_item(self, many_world: tuple[EmulatorServer, E]) -> None:
        server, emulator = many_world
        packages = self.list_packages(server, emulator, raw=True, limit=3)
        assert packages
        assert all(isinstance(package.raw, dict) for package in packages)
